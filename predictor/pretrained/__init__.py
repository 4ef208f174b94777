"""The predictor shipped with perfloop (package data, built by ``perfloop pretrain``).

``artifact/`` is an ordinary artifact directory (:mod:`predictor.artifact`), meta-trained on the
measured graph-zoo corpus and the published latency tables (:mod:`predictor.training.pretrain`).
It is read with :mod:`importlib.resources`, so an installed wheel works outside a checkout.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

ARTIFACT = "artifact"
METADATA_FILE = "metadata.json"


def _artifact() -> Traversable:
    return resources.files(__name__).joinpath(ARTIFACT)


def shipped_version() -> str | None:
    """Version of the shipped artifact, or None when this build ships none."""
    meta = _artifact().joinpath(METADATA_FILE)
    if not meta.is_file():
        return None
    return str(json.loads(meta.read_text(encoding="utf-8"))["version"])


def copy_shipped(dest: Path) -> Path:
    """Copy the shipped artifact's files into ``dest`` (created; existing files are replaced).

    Raises:
        FileNotFoundError: this build ships no artifact.
    """
    source = _artifact()
    if not source.joinpath(METADATA_FILE).is_file():
        raise FileNotFoundError("this perfloop build ships no pretrained predictor")
    dest.mkdir(parents=True, exist_ok=True)
    for item in source.iterdir():
        if item.is_file():
            with item.open("rb") as src, (dest / item.name).open("wb") as out:
                shutil.copyfileobj(src, out)
    return dest
