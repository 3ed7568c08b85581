"""Durability on the ring: lost devices, damaged replicas, handoffs, rebalancing.

These tests change the devices of the package's cloud and always put them
back (``restore_devices``); the passes run from this process on the state
directory, exactly as ``onestack ring replicate``/``audit`` run them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import swiftclient

from onestack.object.auditor import audit_once
from onestack.object.backends.disk import DiskDevice, DiskDevices
from onestack.object.replicator import replicate_once
from onestack.object.store import ObjectStore
from tests.support.errors import swift_error
from tests.support.names import unique
from tests.support.server import RunningCloud


@pytest.fixture()
def root(cloud: RunningCloud) -> Iterator[Path]:
    """The cloud's object directory; every device directory exists again afterwards."""
    path = cloud.state_dir / "object"
    yield path
    store = ObjectStore(path, DiskDevices(path))
    for dev in store.ring.devices:
        (path / "devices" / dev.name).mkdir(exist_ok=True)
    replicate_once(ObjectStore(path, DiskDevices(path)))


def account_of(swift: Any) -> str:
    return str(swift.get_auth()[0].rsplit("/", 1)[1])


def fill(swift: Any, container: str, count: int) -> dict[str, bytes]:
    objects = {f"obj-{i}": os.urandom(2000 + i) for i in range(count)}
    for name, data in objects.items():
        swift.put_object(container, name, data)
    return objects


def copies(root: Path, account: str, container: str, name: str) -> list[str]:
    return ObjectStore(root, DiskDevices(root)).copies(account, container, name)


def test_every_write_has_three_fsynced_replicas(swift: Any, container: str, root: Path) -> None:
    objects = fill(swift, container, 5)
    account = account_of(swift)
    store = ObjectStore(root, DiskDevices(root))
    for name in objects:
        loc = store.locate(account, container, name)
        assert sorted(copies(root, account, container, name)) == sorted(
            d.name for d in loc.primaries
        )


def test_lost_device_reads_then_replication_restores(
    swift: Any, container: str, root: Path
) -> None:
    objects = fill(swift, container, 20)
    account = account_of(swift)
    victim = root / "devices" / "d0"
    shutil.rmtree(victim)
    for name, data in objects.items():
        assert swift.get_object(container, name)[1] == data
    below = [n for n in objects if len(copies(root, account, container, n)) < 3]
    assert below, "d0 held no replica of 20 objects: the ring is not spreading data"
    stats = replicate_once(ObjectStore(root, DiskDevices(root)))
    assert stats.pushed >= len(below)
    for name in objects:
        assert len(copies(root, account, container, name)) == 3
    # A write while d0 is gone goes to a handoff and still has three copies.
    swift.put_object(container, "while-down", b"handoff")
    assert len(copies(root, account, container, "while-down")) == 3
    # The disk comes back empty: replication fills it and drops the handoff copies.
    victim.mkdir()
    replicate_once(ObjectStore(root, DiskDevices(root)))
    store = ObjectStore(root, DiskDevices(root))
    for name in [*objects, "while-down"]:
        loc = store.locate(account, container, name)
        assert sorted(copies(root, account, container, name)) == sorted(
            d.name for d in loc.primaries
        )
    for name, data in objects.items():
        assert swift.get_object(container, name)[1] == data


def test_damaged_replica_is_quarantined_and_repaired(
    swift: Any, container: str, root: Path
) -> None:
    data = os.urandom(10_000)
    swift.put_object(container, "fragile", data)
    account = account_of(swift)
    store = ObjectStore(root, DiskDevices(root))
    loc = store.locate(account, container, "fragile")
    device = loc.primaries[0]
    assert isinstance(device, DiskDevice)
    state = device.state(loc.part, loc.name_hash)
    assert state is not None and not state.deleted
    with open(device.data_file(loc.part, loc.name_hash, state.timestamp), "r+b") as handle:
        handle.seek(1234)
        byte = handle.read(1)
        handle.seek(1234)
        handle.write(bytes([byte[0] ^ 0xFF]))
    stats = audit_once(ObjectStore(root, DiskDevices(root)))
    assert f"{device.name}/{loc.name_hash}" in stats.quarantined
    assert (device.root / "quarantined" / "objects" / loc.name_hash).is_dir()
    assert len(copies(root, account, container, "fragile")) == 2
    assert swift.get_object(container, "fragile")[1] == data
    replicate_once(ObjectStore(root, DiskDevices(root)))
    assert len(copies(root, account, container, "fragile")) == 3
    repaired = device.state(loc.part, loc.name_hash)
    assert repaired is not None and repaired.timestamp == state.timestamp
    body = device.data_file(loc.part, loc.name_hash, state.timestamp).read_bytes()[: len(data)]
    assert hashlib.md5(body).hexdigest() == hashlib.md5(data).hexdigest()
    assert audit_once(ObjectStore(root, DiskDevices(root))).quarantined == []


def test_write_without_quorum_is_503_and_leaves_nothing(
    swift: Any, container: str, root: Path
) -> None:
    store = ObjectStore(root, DiskDevices(root))
    account = account_of(swift)
    loc = store.locate(account, container, "no-quorum")
    keep = loc.primaries[0]
    for dev in store.ring.devices:
        if dev.name != keep.name:
            shutil.rmtree(root / "devices" / dev.name)
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(container, "no-quorum", b"lost?")
    swift_error(info.value, 503, "Could not write to a quorum of devices (1 of 2).")
    assert copies(root, account, container, "no-quorum") == []
    assert swift.get_container(container)[1] == []


def test_ring_add_device_and_rebalance(
    cloud: RunningCloud, swift: Any, container: str, root: Path
) -> None:
    objects = fill(swift, container, 10)
    account = account_of(swift)
    name = unique("dev")

    def ring(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "onestack", "ring", *args, "--state-dir", str(cloud.state_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        return result.stdout

    assert "4 devices" in ring("show")
    ring("add-device", name, "--zone", "9")
    out = ring("rebalance")
    assert "rebalanced" in out
    shown = ring("show")
    assert name in shown
    new_parts = next(line for line in shown.splitlines() if f" {name} " in line).split()
    assert int(new_parts[4]) > 0
    assert "replicated" in ring("replicate")
    store = ObjectStore(root, DiskDevices(root))
    for obj, data in objects.items():
        loc = store.locate(account, container, obj)
        assert sorted(copies(root, account, container, obj)) == sorted(
            d.name for d in loc.primaries
        )
        assert swift.get_object(container, obj)[1] == data
    assert "audited" in ring("audit")
