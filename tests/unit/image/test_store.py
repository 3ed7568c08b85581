"""The filesystem store: atomic commits, and zero blocks written as holes."""

from __future__ import annotations

import os
from pathlib import Path

from onestack.image.store import SPARSE_BLOCK, FilesystemStore


def _write(store: FilesystemStore, key: str, chunks: list[bytes]) -> Path:
    writer = store.writer(key)
    for chunk in chunks:
        writer.write(chunk)
    return store.local_path(writer.commit())


def test_zero_blocks_become_holes_and_read_back_as_zeros(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    data = os.urandom(SPARSE_BLOCK) + bytes(40 * SPARSE_BLOCK) + b"tail" + bytes(100)
    # chunks that do not line up with the blocks, and a file that ends in zeros
    chunks = [data[i : i + 100_000] for i in range(0, len(data), 100_000)]
    path = _write(store, "sparse", chunks)
    assert path.read_bytes() == data
    assert path.stat().st_size == len(data)
    assert path.stat().st_blocks * 512 < len(data) // 4  # most of it is holes


def test_an_all_zero_blob_keeps_its_size(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    path = _write(store, "zeros", [bytes(3 * SPARSE_BLOCK + 7)])
    assert path.stat().st_size == 3 * SPARSE_BLOCK + 7
    assert path.read_bytes() == bytes(3 * SPARSE_BLOCK + 7)


def test_abort_leaves_nothing(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path)
    writer = store.writer("gone")
    writer.write(b"partial")
    writer.abort()
    assert list(store.incoming.iterdir()) == []
    assert not (tmp_path / "gone").exists()
