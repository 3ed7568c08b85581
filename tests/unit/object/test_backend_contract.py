"""One contract, every object storage backend (``ObjectDevice``): disk and memory."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from onestack.object.backend import ObjectDevice
from onestack.object.backends.disk import DiskDevice
from onestack.object.backends.memory import MemoryDevice

HASH = "0123456789abcdef0123456789abcdef"
OTHER = "fedcba9876543210fedcba9876543210"


@dataclass
class Backend:
    device: ObjectDevice
    #: the disk is gone (missing directory, failed memory device)
    fail: Callable[[], None]
    #: an empty disk takes its place
    replace: Callable[[], None]


def _disk(tmp_path: Path) -> Backend:
    root = tmp_path / "d0"
    root.mkdir()
    return Backend(DiskDevice("d0", root), lambda: shutil.rmtree(root), root.mkdir)


def _memory(tmp_path: Path) -> Backend:
    device = MemoryDevice("d0")
    return Backend(device, device.fail, device.replace)


@pytest.fixture(params=[_disk, _memory], ids=["disk", "memory"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    yield request.param(tmp_path)


def _write(device: ObjectDevice, ts: str, data: bytes, name_hash: str = HASH) -> None:
    writer = device.writer(5, name_hash)
    for start in range(0, len(data), 7):
        writer.write(data[start : start + 7])
    writer.commit(ts, {"etag": "e", "length": len(data), "name": "/a/c/o"})


def _read(device: ObjectDevice, ts: str, name_hash: str = HASH) -> bytes:
    opened = device.open_data(5, name_hash, ts)
    with opened.handle as handle:
        return handle.read(opened.length)[: opened.length]


def test_a_committed_version_reads_back(backend: Backend) -> None:
    device = backend.device
    assert device.available and device.state(5, HASH) is None
    _write(device, "0000000001.00000", b"hello, replica")
    state = device.state(5, HASH)
    assert state is not None
    assert (state.device, state.timestamp, state.deleted, state.meta_timestamp) == (
        "d0",
        "0000000001.00000",
        False,
        None,
    )
    opened = device.open_data(5, HASH, "0000000001.00000")
    opened.handle.close()
    assert opened.length == 14 and opened.metadata["etag"] == "e"
    assert _read(device, "0000000001.00000") == b"hello, replica"
    assert device.partitions() == [5] and device.hashes(5) == [HASH]


def test_nothing_is_visible_before_commit_or_after_abort(backend: Backend) -> None:
    device = backend.device
    writer = device.writer(5, HASH)
    writer.write(b"half")
    assert device.state(5, HASH) is None
    writer.abort()
    writer.abort()  # idempotent
    assert device.state(5, HASH) is None
    assert device.partitions() == []


def test_a_newer_version_replaces_the_older(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000001.00000", b"old")
    _write(device, "0000000002.00000", b"new")
    state = device.state(5, HASH)
    assert state is not None and state.timestamp == "0000000002.00000"
    assert _read(device, "0000000002.00000") == b"new"
    with pytest.raises(FileNotFoundError):
        device.open_data(5, HASH, "0000000001.00000")


def test_an_older_version_arriving_late_does_not_win(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000002.00000", b"new")
    _write(device, "0000000001.00000", b"old")
    state = device.state(5, HASH)
    assert state is not None and state.timestamp == "0000000002.00000"
    assert _read(device, "0000000002.00000") == b"new"


def test_meta_newer_than_the_data_counts_and_older_is_ignored(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000002.00000", b"data")
    device.put_document(5, HASH, "meta", "0000000001.00000", {"headers": {"x": "old"}})
    state = device.state(5, HASH)
    assert state is not None and state.meta_timestamp is None
    device.put_document(5, HASH, "meta", "0000000003.00000", {"headers": {"x": "new"}})
    state = device.state(5, HASH)
    assert state is not None and state.meta_timestamp == "0000000003.00000"
    assert state.newest == "0000000003.00000"
    meta = device.read_document(5, HASH, "meta", "0000000003.00000")
    assert meta == {"headers": {"x": "new"}}
    assert device.read_document(5, HASH, "meta", "0000000009.00000") == {}


def test_a_tombstone_deletes_and_hides_metadata(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000001.00000", b"data")
    device.put_document(5, HASH, "meta", "0000000002.00000", {"headers": {}})
    device.put_document(5, HASH, "ts", "0000000003.00000", {"name": "/a/c/o"})
    state = device.state(5, HASH)
    assert state is not None and state.deleted and state.meta_timestamp is None
    assert device.read_document(5, HASH, "ts", "0000000003.00000") == {"name": "/a/c/o"}
    with pytest.raises(FileNotFoundError):
        device.open_data(5, HASH, "0000000001.00000")


def test_remove_and_quarantine_forget_one_object(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000001.00000", b"one")
    _write(device, "0000000001.00000", b"two", OTHER)
    assert sorted(device.hashes(5)) == sorted([HASH, OTHER])
    device.quarantine(5, HASH)
    assert device.state(5, HASH) is None and device.hashes(5) == [OTHER]
    device.remove(5, OTHER)
    assert device.state(5, OTHER) is None and device.partitions() == []


def test_an_unavailable_device_refuses_writes(backend: Backend) -> None:
    device = backend.device
    _write(device, "0000000001.00000", b"lost")
    backend.fail()
    assert not device.available
    assert device.state(5, HASH) is None and device.partitions() == []
    with pytest.raises(OSError):
        device.writer(5, HASH)
    with pytest.raises(OSError):
        device.put_document(5, HASH, "ts", "0000000002.00000", {})
    backend.replace()
    assert device.available and device.state(5, HASH) is None
    _write(device, "0000000003.00000", b"back")
    assert _read(device, "0000000003.00000") == b"back"


def test_capabilities_are_typed(backend: Backend) -> None:
    assert isinstance(backend.device.capabilities.durable, bool)
