"""Searchable positions of an architecture string: the op choice at each position.

NAS-Bench-201 strings ``|op~0|+|op~0|op~1|+...`` give one token per edge; other spaces (FBNet's
digit strings) give one token per character.
"""

from __future__ import annotations

import re

_NB201_TOKEN = re.compile(r"\|([^|~+]+)~\d+")


def position_tokens(arch: str) -> list[str]:
    """The op choice at each searchable position of ``arch``."""
    tokens = _NB201_TOKEN.findall(arch)
    return tokens if tokens else list(arch)
