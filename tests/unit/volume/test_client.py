"""The volume interface over the bus: what an agent on another host calls.

A recording ``VolumeService`` stands behind the endpoint; the client runs in a
worker thread (as in an agent) and must see the same results and the same
errors as a caller of the manager in process.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from onestack.common.bus import InProcessBus, MessagingTimeout
from onestack.common.context import RequestContext
from onestack.volume.client import SERVICE_TOPIC, VolumeServiceClient, VolumeServiceEndpoint
from onestack.volume.exceptions import InvalidVolume, VolumeNotFound
from onestack.volume.interface import AttachmentInfo, ConnectionInfo, VolumeInfo, VolumeService
from onestack.volume.rpcapi import LoopBridge

CTX = RequestContext(
    request_id="req-client-test",
    user_id="u1",
    user_name="alice",
    project_id="p1",
    roles=("member", "reader"),
    auth_token="secret-token",
)


def _volume(volume_id: str, status: str = "available") -> VolumeInfo:
    return VolumeInfo(
        id=volume_id,
        project_id="p1",
        name="v",
        size=1,
        status=status,
        attach_status="detached",
        bootable=False,
        multiattach=False,
        availability_zone="nova",
        host="node1@file#pool",
    )


def _attachment(attachment_id: str) -> AttachmentInfo:
    return AttachmentInfo(
        id=attachment_id,
        volume_id="vol-1",
        instance_uuid="inst-1",
        status="reserved",
        mode="rw",
        mountpoint=None,
    )


class RecordingVolumes:
    """A VolumeService that records its calls (the contexts included)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, RequestContext, tuple[Any, ...]]] = []

    def _record(self, name: str, ctx: RequestContext, *args: Any) -> None:
        self.calls.append((name, ctx, args))

    def get_volume(self, ctx: RequestContext, volume_id: str) -> VolumeInfo:
        self._record("get_volume", ctx, volume_id)
        if volume_id == "missing":
            raise VolumeNotFound(volume_id=volume_id)
        return _volume(volume_id)

    def reserve(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> AttachmentInfo:
        self._record("reserve", ctx, volume_id, instance_uuid, mode)
        if volume_id == "in-use":
            raise InvalidVolume(reason="volume in-use is already attached")
        return _attachment("att-1")

    def connect(
        self, ctx: RequestContext, attachment_id: str, host: str, mountpoint: str | None = None
    ) -> ConnectionInfo:
        self._record("connect", ctx, attachment_id, host, mountpoint)
        return ConnectionInfo(
            attachment_id=attachment_id,
            volume_id="vol-1",
            driver_volume_type="local",
            device_path="/dev/loop7",
            access_mode="rw",
            host="node1",
        )

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        self._record("complete", ctx, attachment_id)

    def detach(self, ctx: RequestContext, attachment_id: str) -> None:
        self._record("detach", ctx, attachment_id)

    def attachments_of(self, ctx: RequestContext, instance_uuid: str) -> list[AttachmentInfo]:
        self._record("attachments_of", ctx, instance_uuid)
        return [_attachment("att-1"), _attachment("att-2")]

    def create_from_image(
        self,
        ctx: RequestContext,
        image_id: str,
        size: int,
        name: str | None = None,
        timeout: float = 600.0,
    ) -> VolumeInfo:
        self._record("create_from_image", ctx, image_id, size, name, timeout)
        return _volume("from-image")

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        self._record("delete_volume", ctx, volume_id)


def _over_bus(work: Callable[[VolumeService], Any], *, serve: bool = True) -> tuple[Any, Any]:
    """Run ``work(client)`` in a worker thread against a served RecordingVolumes."""
    service = RecordingVolumes()

    async def scenario() -> Any:
        bus = InProcessBus(drain_timeout=2.0)
        await bus.start()
        try:
            if serve:
                await bus.serve(SERVICE_TOPIC, VolumeServiceEndpoint(service))
            bridge = LoopBridge()
            bridge.loop = asyncio.get_running_loop()
            client = VolumeServiceClient(bus, bridge, timeout=2.0)
            return await asyncio.to_thread(work, client)
        finally:
            await bus.stop()

    return asyncio.run(scenario()), service


def test_client_implements_the_protocol_and_returns_the_interface_types() -> None:
    def work(client: VolumeService) -> dict[str, Any]:
        return {
            "volume": client.get_volume(CTX, "vol-1"),
            "attachment": client.reserve(CTX, "vol-1", "inst-1", "ro"),
            "connection": client.connect(CTX, "att-1", "node1", "/dev/vdb"),
            "complete": client.complete(CTX, "att-1"),
            "listed": client.attachments_of(CTX, "inst-1"),
            "booted": client.create_from_image(CTX, "img-1", 2, name="boot", timeout=30),
            "detach": client.detach(CTX, "att-1"),
            "delete": client.delete_volume(CTX, "vol-1"),
        }

    results, service = _over_bus(work)
    assert results["volume"] == _volume("vol-1")
    assert results["attachment"] == _attachment("att-1")
    assert results["connection"].device_path == "/dev/loop7"
    assert isinstance(results["connection"], ConnectionInfo)
    assert results["complete"] is None and results["detach"] is None
    assert [a.id for a in results["listed"]] == ["att-1", "att-2"]
    assert results["booted"] == _volume("from-image")
    assert [(name, args) for name, _, args in service.calls] == [
        ("get_volume", ("vol-1",)),
        ("reserve", ("vol-1", "inst-1", "ro")),
        ("connect", ("att-1", "node1", "/dev/vdb")),
        ("complete", ("att-1",)),
        ("attachments_of", ("inst-1",)),
        ("create_from_image", ("img-1", 2, "boot", 30.0)),
        ("detach", ("att-1",)),
        ("delete_volume", ("vol-1",)),
    ]


def test_the_context_crosses_the_bus_without_its_token() -> None:
    _, service = _over_bus(lambda client: client.get_volume(CTX, "vol-1"))
    (_, seen, _), *_ = service.calls
    assert seen.request_id == "req-client-test"
    assert (seen.user_id, seen.user_name, seen.project_id) == ("u1", "alice", "p1")
    assert seen.roles == ("member", "reader")
    assert seen.auth_token is None
    assert seen == RequestContext.from_wire(CTX.to_wire())


def test_errors_come_back_as_the_volume_services_own() -> None:
    def work(client: VolumeService) -> list[BaseException]:
        errors: list[BaseException] = []
        for call in (
            lambda: client.get_volume(CTX, "missing"),
            lambda: client.reserve(CTX, "in-use", "inst-1"),
        ):
            with pytest.raises(Exception) as caught:
                call()
            errors.append(caught.value)
        return errors

    (missing, in_use), _ = _over_bus(work)
    assert isinstance(missing, VolumeNotFound) and missing.code == 404
    assert missing.message == "Volume missing could not be found."
    assert isinstance(in_use, InvalidVolume) and in_use.code == 400
    assert in_use.message == "Invalid volume: volume in-use is already attached"


def test_no_control_plane_is_a_timeout_not_a_hang() -> None:
    def work(client: VolumeService) -> BaseException:
        with pytest.raises(MessagingTimeout) as caught:
            client.get_volume(CTX, "vol-1")
        return caught.value

    error, _ = _over_bus(work, serve=False)
    assert error.code == 504
