"""The volume manager on its own: its own database (volume tables only), an
in-process bus, its agent on the fake backend, and a fake image service as its
only neighbour.  No server, no other service, no root.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from onestack.common.bus import InProcessBus
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.exceptions import NotSupported, PolicyNotAuthorized
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.image.interface import DataLocation, ImageRecord
from onestack.neighbours import NeighbourMissing, Neighbours
from onestack.volume import policies
from onestack.volume.agent import VolumeAgent
from onestack.volume.backends import open_backend
from onestack.volume.backends.fake import FakeVolumeBackend
from onestack.volume.backups.directory import DirectoryBackupStore
from onestack.volume.backups.engine import BackupEngine
from onestack.volume.client import SERVICE_TOPIC, VolumeServiceClient, VolumeServiceEndpoint
from onestack.volume.conf import VolumeSettings
from onestack.volume.exceptions import VolumeNotFound
from onestack.volume.manager import VolumeService
from onestack.volume.rpcapi import AGENT_TOPIC
from onestack.volume.voltypes import ensure_default_type

GiB = 1024**3
HOST = "node1"
MEMBER = RequestContext(
    request_id="req-manager-test", user_id="u1", project_id="p1", roles=("member", "reader")
)
OTHER = RequestContext(request_id="req-other", user_id="u2", project_id="p2", roles=("member",))


@dataclass
class FakeImages:
    """An ImageService with one active raw image and a record of uploads."""

    path: Path
    #: (name, first 4 KiB) of each image made from a file
    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    #: data_path answers a file that does not exist (a broken image store)
    broken: bool = False

    def _record(self, image_id: str, name: str | None, size: int) -> ImageRecord:
        return ImageRecord(
            id=image_id,
            name=name,
            status="active",
            disk_format="raw",
            container_format="bare",
            size=size,
            min_disk=0,
            min_ram=0,
            owner="p1",
            visibility="public",
            protected=False,
            checksum=None,
        )

    def get_image(self, ctx: RequestContext, image_id: str) -> ImageRecord:
        return self._record(image_id, "cirros", self.path.stat().st_size)

    def data_path(self, ctx: RequestContext, image_id: str) -> Path:
        return self.path.with_name("missing.raw") if self.broken else self.path

    def data_locations(self, ctx: RequestContext, image_id: str) -> list[DataLocation]:
        return [DataLocation("file", f"file://{self.path}")]

    def create_from_file(
        self, ctx: RequestContext, name: str, path: Path, **kwargs: Any
    ) -> ImageRecord:
        with open(path, "rb") as handle:
            self.uploads.append((name, handle.read(4096)))
        return self._record(f"uploaded-{len(self.uploads)}", name, path.stat().st_size)


@dataclass
class Stack:
    db: Database
    service: VolumeService
    images: FakeImages | None
    agent: VolumeAgent
    run: Callable[[Callable[[], Any]], Any]


def _build(tmp_path: Path, neighbours: dict[str, object]) -> Iterator[Stack]:
    db = Database(f"sqlite:///{tmp_path / 'volume.db'}")
    upgrade(db, ["onestack.volume"])
    settings = VolumeSettings(backend="fake", host=HOST, heartbeat_interval=3600)
    ensure_default_type(db, settings.default_volume_type)
    enforcer = Enforcer(policies.RULES)
    images = neighbours.get("image")
    assert images is None or isinstance(images, FakeImages)
    loop = asyncio.new_event_loop()
    bus = InProcessBus(drain_timeout=2.0)
    typed = Neighbours.of(neighbours)
    service = VolumeService(db, enforcer, settings, bus, typed)
    backend = open_backend(settings, tmp_path / "volume")
    engine = BackupEngine(DirectoryBackupStore(tmp_path / "backups"), 65536)
    agent = VolumeAgent(db, HOST, backend, engine, typed)

    async def start() -> None:
        await bus.start()
        await bus.serve(AGENT_TOPIC, agent, server=HOST)
        await bus.serve(SERVICE_TOPIC, VolumeServiceEndpoint(service))

    loop.run_until_complete(start())
    service.bridge.loop = loop
    service.services.register(HOST, agent.info())

    def run(work: Callable[[], Any]) -> Any:
        return loop.run_until_complete(asyncio.to_thread(work))

    try:
        yield Stack(db, service, images, agent, run)
    finally:
        loop.run_until_complete(bus.stop())
        loop.close()
        db.dispose()


@pytest.fixture()
def image(tmp_path: Path) -> Path:
    path = tmp_path / "image.raw"
    path.write_bytes(os.urandom(1024 * 1024))
    return path


@pytest.fixture()
def stack(tmp_path: Path, image: Path) -> Iterator[Stack]:
    yield from _build(tmp_path, {"image": FakeImages(image)})


def test_the_manager_needs_only_its_own_tables(stack: Stack) -> None:
    tables = set(inspect(stack.db.engine).get_table_names())
    assert {"volume_volumes", "volume_snapshots", "volume_attachments"} <= tables
    others = {
        t for t in tables if not t.startswith(("volume_", "quota_", "alembic_", "injected_faults"))
    }
    assert others == set()
    assert isinstance(stack.agent.backend, FakeVolumeBackend)


def test_boot_from_volume_through_the_interface_over_the_bus(stack: Stack, image: Path) -> None:
    """What a compute agent on another host does, with the fake backend's bytes."""

    def boot() -> tuple[Any, ...]:
        client = VolumeServiceClient(stack.service.core.agents.bus, stack.service.bridge)
        volume = client.create_from_image(MEMBER, "img-1", 1, name="root", timeout=30)
        attachment = client.reserve(MEMBER, volume.id, "inst-1")
        connection = client.connect(MEMBER, attachment.id, "compute-1", "/dev/vda")
        client.complete(MEMBER, attachment.id)
        with open(connection.device_path, "rb") as handle:
            data = handle.read(image.stat().st_size)
        size = Path(connection.device_path).stat().st_size
        attached = client.get_volume(MEMBER, volume.id)
        listed = client.attachments_of(MEMBER, "inst-1")
        client.detach(MEMBER, attachment.id)
        detached = client.get_volume(MEMBER, volume.id)
        client.delete_volume(MEMBER, volume.id)
        return volume, connection, (data, size), attached, listed, detached

    volume, connection, (data, size), attached, listed, detached = stack.run(boot)
    assert (volume.status, volume.bootable, volume.size) == ("available", True, 1)
    assert volume.host == f"{HOST}@fake#fake"
    # the fake backend says what it exports: the volume's file, not a block device
    assert connection.driver_volume_type == "file"
    assert Path(connection.device_path).name == f"volume-{volume.id}"
    assert data == image.read_bytes() and size == GiB
    assert (attached.status, attached.attach_status) == ("in-use", "attached")
    assert [a.status for a in listed] == ["attached"]
    assert (detached.status, detached.attach_status) == ("available", "detached")
    _wait_gone(stack, volume.id)


def _wait(what: str, done: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} within {timeout} seconds")


def _gone(stack: Stack, volume_id: str) -> bool:
    try:
        stack.service.get_volume(MEMBER, volume_id)
    except VolumeNotFound:
        return not stack.agent.backend.volume_path(volume_id).exists()
    return False


def _wait_gone(stack: Stack, volume_id: str) -> None:
    _wait(f"volume {volume_id} deleted", lambda: _gone(stack, volume_id))


def _available(stack: Stack, volume_id: str) -> None:
    def done() -> bool:
        volume = stack.service.volumes.get(MEMBER, volume_id)
        assert volume.status != "error", volume.fail_reason
        return volume.status == "available"

    _wait(f"volume {volume_id} available", done)


def test_other_projects_see_not_found_and_members_may_not_set_quotas(stack: Stack) -> None:
    def work() -> None:
        volume = stack.service.volumes.create(MEMBER, {"size": 1, "name": "private"})
        _available(stack, volume.id)
        with pytest.raises(VolumeNotFound) as hidden:
            stack.service.get_volume(OTHER, volume.id)
        assert hidden.value.message == f"Volume {volume.id} could not be found."
        with pytest.raises(PolicyNotAuthorized) as refused:
            stack.service.quota_sets.update(MEMBER, "p1", {"volumes": 100})
        assert refused.value.code == 403
        used = stack.service.quota_sets.usage(MEMBER, "p1")
        assert (used["volumes"].in_use, used["gigabytes"].in_use) == (1, 1)
        stack.service.delete_volume(MEMBER, volume.id)
        _wait_gone(stack, volume.id)

    stack.run(work)


def test_an_operation_the_backend_cannot_do_is_501_before_it_is_sent(stack: Stack) -> None:
    def work() -> tuple[str, str]:
        volume = stack.service.volumes.create(MEMBER, {"size": 1})
        _available(stack, volume.id)
        snapshot = stack.service.snapshots.create(MEMBER, {"volume_id": volume.id}, False)
        _wait(
            "snapshot available",
            lambda: stack.service.snapshots.get(MEMBER, snapshot.id).status == "available",
        )
        info = stack.agent.info()
        caps = replace(stack.agent.backend.info().capabilities, revert_to_snapshot=False)
        stack.service.services.register(HOST, {**info, "capabilities": asdict(caps)})
        with pytest.raises(NotSupported) as refused:
            stack.service.actions.revert(MEMBER, volume.id, snapshot.id)
        assert refused.value.code == 501
        after = stack.service.volumes.get(MEMBER, volume.id).status
        snap_after = stack.service.snapshots.get(MEMBER, snapshot.id).status
        stack.service.services.register(HOST, info)
        stack.service.snapshots.delete(MEMBER, snapshot.id)
        return after, snap_after

    assert stack.run(work) == ("available", "available")


def test_upload_to_image_hands_the_bytes_to_the_image_neighbour(stack: Stack) -> None:
    def work() -> tuple[str, bytes]:
        volume = stack.service.volumes.create(MEMBER, {"size": 1})
        _available(stack, volume.id)
        with open(stack.agent.backend.volume_path(volume.id), "r+b") as handle:
            handle.write(b"volume bytes")
        _, image_id, _ = stack.service.actions.upload_to_image(
            MEMBER, volume.id, {"image_name": "up"}
        )
        assert stack.images is not None
        return image_id, stack.images.uploads[0][1][:12]

    assert stack.run(work) == ("uploaded-1", b"volume bytes")


@pytest.fixture()
def alone(tmp_path: Path) -> Iterator[Stack]:
    """The manager with no neighbour at all."""
    yield from _build(tmp_path, {})


def test_without_the_image_service_a_volume_from_an_image_is_503(alone: Stack) -> None:
    def work() -> None:
        with pytest.raises(NeighbourMissing) as missing:
            alone.service.volumes.create(MEMBER, {"size": 1, "imageRef": "img-1"})
        assert missing.value.code == 503
        assert missing.value.message == "The image service is not running in this cloud."
        blank = alone.service.volumes.create(MEMBER, {"size": 1})
        _available(alone, blank.id)
        assert [v.id for v in alone.service.volumes.list(MEMBER, [])] == [blank.id]

    alone.run(work)


def test_an_agent_failure_is_logged_with_traceback_and_request_id(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    assert stack.images is not None
    stack.images.broken = True  # the image's bytes are gone: the copy fails on the agent

    def work() -> Any:
        volume = stack.service.volumes.create(MEMBER, {"size": 1, "imageRef": "img-1"})
        _wait(
            "the volume in error",
            lambda: stack.service.volumes.get(MEMBER, volume.id).status == "error",
        )
        return stack.service.volumes.get(MEMBER, volume.id)

    with caplog.at_level("ERROR", logger="onestack.volume.agent"):
        failed = stack.run(work)
    assert failed.fail_reason and "missing.raw" in failed.fail_reason
    assert not stack.agent.backend.volume_path(failed.id).exists()
    records = [r for r in caplog.records if failed.id in r.getMessage()]
    assert records and records[0].exc_info is not None
    assert "req-manager-test" in records[0].getMessage()
