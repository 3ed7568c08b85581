"""The object manager alone: memory devices, a database with the object tables only,
and a fake identity neighbour for the S3 credential look-ups."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import ServiceUnavailable, Unauthorized
from onestack.common.migrations import upgrade
from onestack.common.pipeline import TokenValidator
from onestack.neighbours import NeighbourMissing, Neighbours
from onestack.object.acl import Caller, account_for
from onestack.object.backends.memory import MemoryDevices
from onestack.object.conf import ObjectSettings
from onestack.object.exceptions import ContainerNotFound, ObjectNotFound
from onestack.object.manager import ObjectManager
from onestack.object.upload import UploadSpec

PROJECT = "p-owner"
ACCOUNT = account_for(PROJECT)
OWNER = Caller(
    RequestContext(request_id="req-1", user_id="u1", project_id=PROJECT, roles=("member",))
)


@dataclass(frozen=True)
class Secret:
    access: str
    secret: str
    user_id: str
    project_id: str | None


class FakeIdentity:
    """The identity service as the object service sees it (its Protocol)."""

    def __init__(self) -> None:
        self.credentials = {"AKIA": Secret("AKIA", "s3cret", "u1", PROJECT)}

    @property
    def tokens(self) -> TokenValidator:
        raise AssertionError("the object manager never validates tokens itself")

    def lookup_ec2(self, access: str) -> Secret | None:
        return self.credentials.get(access)

    def context_for(self, user_id: str, project_id: str, request_id: str = "") -> RequestContext:
        if user_id != "u1":
            raise Unauthorized("unknown user")
        return RequestContext(
            request_id=request_id, user_id=user_id, project_id=project_id, roles=("member",)
        )


@pytest.fixture()
def devices() -> MemoryDevices:
    return MemoryDevices()


@pytest.fixture()
def manager(tmp_path: Path, devices: MemoryDevices) -> Iterator[ObjectManager]:
    db = Database(f"sqlite:///{tmp_path / 'object.db'}")
    upgrade(db, ["onestack.object"])
    conf = ObjectSettings(part_power=4, storage_backend="memory")
    neighbours = Neighbours.of({"identity": FakeIdentity()})
    manager = ObjectManager(tmp_path, conf, db, neighbours, devices)
    manager.prepare()
    try:
        yield manager
    finally:
        db.dispose()


def _put(manager: ObjectManager, container: str, name: str, data: bytes) -> None:
    manager.objects.write_object(OWNER, ACCOUNT, container, name, UploadSpec(), [data])


def _get(manager: ObjectManager, container: str, name: str) -> bytes:
    opened = manager.core.store.open(ACCOUNT, container, name)
    assert opened is not None
    stored, handle = opened
    with handle:
        return handle.read(stored.length)


def test_the_database_holds_only_the_object_service_and_the_framework(
    manager: ObjectManager, tmp_path: Path
) -> None:
    with manager.core.listings.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {
        t for t in tables if not t.startswith(("object_", "quota_", "alembic_", "injected_faults"))
    } == set()
    assert not (tmp_path / "object" / "devices").exists(), "memory devices need no directories"


def test_objects_round_trip_over_memory_devices(
    manager: ObjectManager, devices: MemoryDevices
) -> None:
    assert manager.containers.put_container(OWNER, ACCOUNT, "c", {}) is True
    _put(manager, "c", "o", b"in memory")
    assert _get(manager, "c", "o") == b"in memory"
    copies = manager.core.store.copies(ACCOUNT, "c", "o")
    assert len(copies) == 3
    assert all(devices(name).state is not None for name in copies)
    _, usage, listing = manager.containers.list_objects(OWNER, ACCOUNT, "c", {})
    assert (usage.count, usage.bytes) == (1, 9)
    assert [getattr(e, "name", None) for e in listing] == ["o"]
    manager.objects.delete_object(OWNER, ACCOUNT, "c", "o")
    with pytest.raises(ObjectNotFound):
        manager.objects.head_object(OWNER, ACCOUNT, "c", "o")
    with pytest.raises(ContainerNotFound):
        _put(manager, "missing", "o", b"x")


def test_versioning_archives_through_the_plain_writer(manager: ObjectManager) -> None:
    manager.containers.put_container(OWNER, ACCOUNT, "archive", {})
    manager.containers.put_container(OWNER, ACCOUNT, "docs", {"versions": ("archive", "stack")})
    _put(manager, "docs", "doc", b"v1")
    _put(manager, "docs", "doc", b"v2")
    _, _, archived = manager.containers.list_objects(OWNER, ACCOUNT, "archive", {})
    assert [getattr(e, "name", "").startswith("003doc/") for e in archived] == [True]
    manager.objects.delete_object(OWNER, ACCOUNT, "docs", "doc")
    assert _get(manager, "docs", "doc") == b"v1"


def test_a_failed_device_is_refilled_by_the_replicator(
    manager: ObjectManager, devices: MemoryDevices
) -> None:
    manager.containers.put_container(OWNER, ACCOUNT, "c", {})
    names = [f"o{i}" for i in range(12)]
    for name in names:
        _put(manager, "c", name, name.encode())
    victim = devices("d0")
    held = [n for n in names if "d0" in manager.core.store.copies(ACCOUNT, "c", n)]
    assert held, "d0 holds no replica of 12 objects: the ring does not spread them"
    victim.fail()
    for name in names:
        assert _get(manager, "c", name) == name.encode()  # read fallover
    stats = manager.passes.replicate_once()
    assert stats.errors == 0 and stats.pushed >= len(held)
    assert all(len(manager.core.store.copies(ACCOUNT, "c", n)) == 3 for n in names)
    victim.replace()
    manager.passes.replicate_once()
    for name in names:
        loc = manager.core.store.locate(ACCOUNT, "c", name)
        assert sorted(manager.core.store.copies(ACCOUNT, "c", name)) == sorted(
            d.name for d in loc.primaries
        )


def test_the_auditor_quarantines_a_damaged_memory_replica(
    manager: ObjectManager, devices: MemoryDevices
) -> None:
    manager.containers.put_container(OWNER, ACCOUNT, "c", {})
    _put(manager, "c", "fragile", b"precious bytes")
    loc = manager.core.store.locate(ACCOUNT, "c", "fragile")
    device = devices(loc.primaries[0].name)
    versions = device.objects[(loc.part, loc.name_hash)]
    (timestamp, (data, metadata)) = next(iter(versions.data.items()))
    versions.data[timestamp] = (b"X" + data[1:], metadata)
    stats = manager.passes.audit_once()
    assert stats.quarantined == [f"{device.name}/{loc.name_hash}"]
    assert _get(manager, "c", "fragile") == b"precious bytes"
    manager.passes.replicate_once()
    assert len(manager.core.store.copies(ACCOUNT, "c", "fragile")) == 3
    assert manager.passes.audit_once().quarantined == []


def test_no_quorum_is_503_and_leaves_nothing(
    manager: ObjectManager, devices: MemoryDevices
) -> None:
    manager.containers.put_container(OWNER, ACCOUNT, "c", {})
    for device in manager.core.store.devices()[1:]:
        devices(device.name).fail()
    with pytest.raises(ServiceUnavailable) as info:
        _put(manager, "c", "lost", b"x")
    assert info.value.message == "Could not write to a quorum of devices (1 of 2)."
    assert manager.core.store.copies(ACCOUNT, "c", "lost") == []
    assert manager.containers.list_objects(OWNER, ACCOUNT, "c", {})[2] == []


def test_s3_credentials_come_from_the_identity_neighbour(manager: ObjectManager) -> None:
    secret = manager.ec2_credential("AKIA")
    assert secret is not None and secret.project_id == PROJECT
    assert manager.ec2_credential("nope") is None
    ctx = manager.acting_as("u1", PROJECT, "req-s3")
    assert (ctx.project_id, ctx.request_id) == (PROJECT, "req-s3")
    with pytest.raises(Unauthorized):
        manager.acting_as("someone-else", PROJECT, "req-s3")


def test_without_identity_s3_answers_503(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'alone.db'}")
    try:
        upgrade(db, ["onestack.object"])
        conf = ObjectSettings(storage_backend="memory")
        alone = ObjectManager(tmp_path, conf, db, Neighbours.of({}), MemoryDevices())
        with pytest.raises(NeighbourMissing) as info:
            alone.ec2_credential("AKIA")
        assert info.value.code == 503
        assert info.value.message == "The identity service is not running in this cloud."
    finally:
        db.dispose()
