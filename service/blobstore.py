"""Content-addressed store of ONNX files under the data directory.

The path of a blob is derived from its sha256 only (``ab/cd/abcd....onnx``), so a name can
never escape the store and identical uploads share one file.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def sha256_hex(data: bytes) -> str:
    """Hex sha256 of ``data`` (the id of a model)."""
    return hashlib.sha256(data).hexdigest()


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lowercase hex sha256."""
    return bool(_SHA256.match(value))


class BlobStore:
    """ONNX bytes stored by their sha256."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        """Where the blob ``digest`` lives.

        Raises:
            ValueError: ``digest`` is not a sha256 hex string.
        """
        if not is_sha256(digest):
            raise ValueError(f"not a sha256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest[2:4] / f"{digest}.onnx"

    def put(self, data: bytes) -> str:
        """Store ``data`` (atomically, once) and return its sha256."""
        digest = sha256_hex(data)
        path = self.path_for(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def get(self, digest: str) -> bytes:
        """The bytes of blob ``digest``.

        Raises:
            FileNotFoundError: no such blob.
        """
        return self.path_for(digest).read_bytes()

    def exists(self, digest: str) -> bool:
        """Whether blob ``digest`` is stored."""
        return self.path_for(digest).exists()
