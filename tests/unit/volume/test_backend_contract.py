"""The volume backend contract (backends/base.py), once for every backend:
fake, file on a plain-directory pool, and file on the loop-mounted XFS reflink
pool (root: mkfs, mount, loop devices; never skipped on CI).

Every test leaves the backend's directory empty and no loop device behind; the
fixture checks that, also when a test fails.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from onestack.volume.backends import loop
from onestack.volume.backends._files import FileBackedBackend
from onestack.volume.backends.base import BackendCapabilities
from onestack.volume.backends.fake import FakeVolumeBackend
from onestack.volume.backends.file import FileVolumeBackend
from onestack.volume.backends.pool import open_pool
from onestack.volume.exceptions import InvalidInput

MiB = 1024 * 1024
ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(
    not ROOT and not os.environ.get("CI"), reason="needs root (mkfs, mount, loop devices)"
)

#: what each backend claims (BackendInfo.capabilities)
EXPECTED = {
    "fake": BackendCapabilities(revert_to_snapshot=True),
    "file-directory": BackendCapabilities(block_devices=True, revert_to_snapshot=True),
    "file-xfs": BackendCapabilities(reflink=True, block_devices=True, revert_to_snapshot=True),
}


def _leftovers(backend: FileBackedBackend) -> list[str]:
    return sorted(p.name for p in backend.directory.iterdir() if not p.name.startswith("."))


@pytest.fixture(
    params=[
        "fake",
        "file-directory",
        pytest.param("file-xfs", marks=[pytest.mark.root, needs_root]),
    ]
)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
def backend(kind: str, tmp_path: Path) -> Iterator[FileBackedBackend]:
    made: FileBackedBackend
    if kind == "fake":
        made = FakeVolumeBackend(tmp_path / "fake")
    else:
        pool = open_pool(tmp_path, kind.removeprefix("file-"), 1)
        assert pool.filesystem == kind.removeprefix("file-"), pool.notes
        made = FileVolumeBackend(pool)
    try:
        yield made
    finally:
        left = _leftovers(made)
        for name in left:  # release what a failed test left, then report it
            prefix, _, record = name.partition("-")
            if prefix == "volume":
                made.delete_volume(record.removesuffix(".part"))
            else:
                made.delete_snapshot(record)
        made.close()
        if isinstance(made, FileVolumeBackend) and made.pool.image is not None:
            mounts = Path("/proc/self/mounts").read_text()
            assert str(made.pool.path.resolve()) not in mounts
    assert left == [], f"left behind: {left}"


def _write(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def _read(path: Path | str, offset: int, length: int) -> bytes:
    with open(path, "rb") as handle:
        handle.seek(offset)
        return handle.read(length)


def test_capabilities_are_claimed_not_assumed(kind: str, backend: FileBackedBackend) -> None:
    assert asdict(BackendCapabilities()) == dict.fromkeys(asdict(BackendCapabilities()), False)
    info = backend.info()
    assert info.capabilities == EXPECTED[kind]
    assert 0 < info.free_bytes <= info.total_bytes
    if isinstance(backend, FakeVolumeBackend):
        assert "not a block device" in info.notes


def test_a_blank_volume_is_sparse_zeros_of_its_size(backend: FileBackedBackend) -> None:
    backend.create_volume("v1", 64 * MiB)
    path = backend.volume_path("v1")
    assert path.stat().st_size == 64 * MiB
    assert path.stat().st_blocks * 512 < MiB
    assert _read(path, 0, MiB) == bytes(MiB) and _read(path, 63 * MiB, MiB) == bytes(MiB)
    backend.delete_volume("v1")
    assert not path.exists()


def test_snapshots_are_point_in_time_and_copies_grow(backend: FileBackedBackend) -> None:
    backend.create_volume("v1", 4 * MiB)
    data = os.urandom(MiB)
    _write(backend.volume_path("v1"), 0, data)
    backend.create_snapshot("s1", "v1")
    _write(backend.volume_path("v1"), 0, b"changed")
    assert _read(backend.snapshot_path("s1"), 0, MiB) == data
    backend.create_from_snapshot("v2", "s1", 8 * MiB)
    assert _read(backend.volume_path("v2"), 0, MiB) == data
    assert backend.volume_path("v2").stat().st_size == 8 * MiB
    backend.clone_volume("v3", "v1", 4 * MiB)
    assert _read(backend.volume_path("v3"), 0, 7) == b"changed"
    _write(backend.volume_path("v3"), 0, b"clone")
    assert _read(backend.volume_path("v1"), 0, 7) == b"changed"
    backend.extend_volume("v3", 6 * MiB)
    assert backend.volume_path("v3").stat().st_size == 6 * MiB
    for volume in ("v1", "v2", "v3"):
        backend.delete_volume(volume)
    backend.delete_snapshot("s1")


def test_revert_restores_the_snapshot_and_keeps_the_size(backend: FileBackedBackend) -> None:
    backend.create_volume("v1", 2 * MiB)
    _write(backend.volume_path("v1"), MiB, b"before")
    backend.create_snapshot("s1", "v1")
    _write(backend.volume_path("v1"), MiB, b"after!")
    backend.revert_to_snapshot("v1", "s1")
    assert _read(backend.volume_path("v1"), MiB, 6) == b"before"
    assert backend.volume_path("v1").stat().st_size == 2 * MiB
    backend.delete_snapshot("s1")
    backend.delete_volume("v1")


@pytest.mark.parametrize("fmt", ["raw", "qcow2"])
def test_volumes_from_images_hold_the_image_bytes(
    backend: FileBackedBackend, tmp_path: Path, fmt: str
) -> None:
    raw = tmp_path / "image.raw"
    raw.write_bytes(os.urandom(2 * MiB))
    source = raw
    if fmt == "qcow2":
        source = tmp_path / "image.qcow2"
        subprocess.run(
            ["qemu-img", "convert", "-f", "raw", "-O", "qcow2", str(raw), str(source)], check=True
        )
    backend.create_from_file("v1", source, fmt, 4 * MiB)
    assert _read(backend.volume_path("v1"), 0, 2 * MiB) == raw.read_bytes()
    assert backend.volume_path("v1").stat().st_size == 4 * MiB
    backend.delete_volume("v1")


def test_failed_creates_leave_nothing_behind(backend: FileBackedBackend, tmp_path: Path) -> None:
    image = tmp_path / "image.raw"
    image.write_bytes(os.urandom(2 * MiB))
    with pytest.raises(InvalidInput, match="doesn't fit in a volume"):
        backend.create_from_file("v1", image, "raw", MiB)
    with pytest.raises(InvalidInput, match="snapshot-missing does not exist"):
        backend.create_from_snapshot("v2", "missing", MiB)
    with pytest.raises(InvalidInput, match="volume-missing does not exist"):
        backend.clone_volume("v3", "missing", MiB)
    assert _leftovers(backend) == []


def test_deleting_what_is_absent_succeeds(backend: FileBackedBackend) -> None:
    backend.delete_volume("never-made")
    backend.delete_snapshot("never-made")
    backend.unexport(str(backend.volume_path("never-made")))


def _needs_root_for_devices(backend: FileBackedBackend) -> None:
    if backend.info().capabilities.block_devices and not ROOT and not os.environ.get("CI"):
        pytest.skip("exporting as a block device needs root (loop devices)")


def test_an_export_reads_and_writes_the_volume(backend: FileBackedBackend) -> None:
    _needs_root_for_devices(backend)
    backend.create_volume("v1", 4 * MiB)
    device = backend.export("v1", readonly=False)
    try:
        block = backend.info().capabilities.block_devices
        assert device.startswith("/dev/loop") == block
        data = os.urandom(4096)
        with open(device, "r+b") as handle:
            handle.seek(MiB)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        backend.extend_volume("v1", 8 * MiB)
        if block:
            assert loop.size_of(device) == 8 * MiB
    finally:
        backend.unexport(device)
    assert _read(backend.volume_path("v1"), MiB, 4096) == data
    if backend.info().capabilities.block_devices:
        assert loop.devices_of(backend.volume_path("v1")) == []
    backend.delete_volume("v1")


def test_deleting_an_exported_volume_releases_the_export(backend: FileBackedBackend) -> None:
    _needs_root_for_devices(backend)
    backend.create_volume("v1", MiB)
    device = backend.export("v1", readonly=True)
    if backend.info().capabilities.block_devices:
        with pytest.raises(OSError), open(device, "r+b", buffering=0) as handle:
            handle.write(b"refused")
    backend.delete_volume("v1")
    assert not backend.volume_path("v1").exists()
    if device.startswith("/dev/loop"):  # released (or reused by someone else's file)
        assert loop.backing_file(device) != backend.volume_path("v1")
