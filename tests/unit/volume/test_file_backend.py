"""The file backend on a plain-directory pool (no root): copies, sizes, clean-up."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from onestack.volume.backends.file import FileVolumeBackend
from onestack.volume.backends.pool import open_pool
from onestack.volume.exceptions import InvalidInput

MiB = 1024 * 1024


@pytest.fixture()
def backend(tmp_path: Path) -> FileVolumeBackend:
    return FileVolumeBackend(open_pool(tmp_path, "directory", 1))


def test_blank_volume_is_sparse(backend: FileVolumeBackend) -> None:
    backend.create_volume("v1", 64 * MiB)
    path = backend.volume_path("v1")
    assert path.stat().st_size == 64 * MiB and path.stat().st_blocks == 0
    assert not backend.info().reflink and backend.info().filesystem == "directory"


def test_snapshot_clone_extend_delete(backend: FileVolumeBackend) -> None:
    backend.create_volume("v1", 4 * MiB)
    data = os.urandom(MiB)
    with open(backend.volume_path("v1"), "r+b") as handle:
        handle.write(data)
    backend.create_snapshot("s1", "v1")
    with open(backend.volume_path("v1"), "r+b") as handle:
        handle.write(b"changed")
    backend.create_from_snapshot("v2", "s1", 8 * MiB)
    assert backend.volume_path("v2").read_bytes()[:MiB] == data
    assert backend.volume_path("v2").stat().st_size == 8 * MiB
    backend.clone_volume("v3", "v1", 4 * MiB)
    assert backend.volume_path("v3").read_bytes()[:7] == b"changed"
    backend.extend_volume("v3", 6 * MiB)
    assert backend.volume_path("v3").stat().st_size == 6 * MiB
    for volume in ("v1", "v2", "v3"):
        backend.delete_volume(volume)
    backend.delete_snapshot("s1")
    assert list(backend.pool.path.iterdir()) == []


def test_image_larger_than_volume_is_refused(backend: FileVolumeBackend, tmp_path: Path) -> None:
    image = tmp_path / "image.raw"
    image.write_bytes(os.urandom(2 * MiB))
    with pytest.raises(InvalidInput):
        backend.create_from_file("v1", image, "raw", MiB)
    assert not backend.volume_path("v1").exists()
    backend.create_from_file("v2", image, "raw", 4 * MiB)
    assert backend.volume_path("v2").read_bytes()[: 2 * MiB] == image.read_bytes()
