"""The content-addressed blob store."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.blobstore import BlobStore, is_sha256, sha256_hex


def test_put_get_dedup(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    digest = store.put(b"abc")
    assert digest == sha256_hex(b"abc") and is_sha256(digest)
    assert store.put(b"abc") == digest
    assert store.get(digest) == b"abc"
    path = store.path_for(digest)
    assert path.relative_to(tmp_path).parts == (digest[:2], digest[2:4], f"{digest}.onnx")
    assert len(list(tmp_path.rglob("*.onnx"))) == 1


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ABC", "a" * 63, "g" * 64])
def test_path_is_derived_from_hash_only(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="sha256"):
        BlobStore(tmp_path).path_for(bad)


def test_missing_blob(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        BlobStore(tmp_path).get("0" * 64)
