"""The volume service's public interface over the bus, for agents on any host.

:class:`VolumeServiceClient` implements
:class:`~onestack.volume.interface.VolumeService` by calling the control plane on
the topic ``volume-api``, where :class:`VolumeServiceEndpoint` (served by every
control plane that runs the volume service) makes the same call on the volume
manager.  The compute agent reserves, connects, completes and detaches volumes
and boots from volumes through it, so it works unchanged on a host of its own:
the in-process bus in the all-in-one, RabbitMQ across hosts.

The request context and the results travel as JSON (``RequestContext.to_wire``,
the interface's dataclasses as objects).  Errors come back as the volume
service's own exceptions with their status (the bus re-creates onestack errors
with their class); a control plane that does not answer in time is
``MessagingTimeout`` (504).  The client is synchronous, for agents' worker
threads: it reaches the event loop through a bridge (``LoopBridge``).
"""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import asdict
from typing import Any, Protocol, TypeVar

from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.volume.interface import AttachmentInfo, ConnectionInfo, VolumeInfo, VolumeService

#: the control plane's volume interface (any replica answers)
SERVICE_TOPIC = "volume-api"
#: seconds a call other than create_from_image waits for the control plane
CALL_TIMEOUT = 120.0

T = TypeVar("T")


class Bridge(Protocol):
    """Runs a coroutine on the event loop that owns the bus, from a worker thread."""

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = ...) -> T: ...


class VolumeServiceClient:
    """``VolumeService`` over the bus; see the module docstring."""

    def __init__(self, bus: Bus, bridge: Bridge, timeout: float = CALL_TIMEOUT) -> None:
        self.bus = bus
        self.bridge = bridge
        self.timeout = timeout

    def _call(
        self, method: str, ctx: RequestContext, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        wait = self.timeout if timeout is None else timeout
        coro = self.bus.call(SERVICE_TOPIC, method, timeout=wait, ctx=ctx.to_wire(), **kwargs)
        return self.bridge.run(coro, wait + 5)

    def get_volume(self, ctx: RequestContext, volume_id: str) -> VolumeInfo:
        return VolumeInfo(**self._call("get_volume", ctx, volume_id=volume_id))

    def reserve(
        self, ctx: RequestContext, volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> AttachmentInfo:
        data = self._call(
            "reserve", ctx, volume_id=volume_id, instance_uuid=instance_uuid, mode=mode
        )
        return AttachmentInfo(**data)

    def connect(
        self, ctx: RequestContext, attachment_id: str, host: str, mountpoint: str | None = None
    ) -> ConnectionInfo:
        data = self._call(
            "connect", ctx, attachment_id=attachment_id, host=host, mountpoint=mountpoint
        )
        return ConnectionInfo(**data)

    def complete(self, ctx: RequestContext, attachment_id: str) -> None:
        self._call("complete", ctx, attachment_id=attachment_id)

    def detach(self, ctx: RequestContext, attachment_id: str) -> None:
        self._call("detach", ctx, attachment_id=attachment_id)

    def attachments_of(self, ctx: RequestContext, instance_uuid: str) -> list[AttachmentInfo]:
        rows = self._call("attachments_of", ctx, instance_uuid=instance_uuid)
        return [AttachmentInfo(**row) for row in rows]

    def create_from_image(
        self,
        ctx: RequestContext,
        image_id: str,
        size: int,
        name: str | None = None,
        timeout: float = 600.0,
    ) -> VolumeInfo:
        data = self._call(
            "create_from_image",
            ctx,
            timeout + 30,
            image_id=image_id,
            size=size,
            name=name,
            wait=timeout,
        )
        return VolumeInfo(**data)

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        self._call("delete_volume", ctx, volume_id=volume_id)


class VolumeServiceEndpoint:
    """The bus endpoint on topic ``volume-api``: each method runs the same call of the
    volume manager (in a worker thread) and returns JSON."""

    def __init__(self, service: VolumeService) -> None:
        self.service = service

    def get_volume(self, ctx: dict[str, Any], volume_id: str) -> dict[str, Any]:
        return asdict(self.service.get_volume(RequestContext.from_wire(ctx), volume_id))

    def reserve(
        self, ctx: dict[str, Any], volume_id: str, instance_uuid: str, mode: str = "rw"
    ) -> dict[str, Any]:
        info = self.service.reserve(RequestContext.from_wire(ctx), volume_id, instance_uuid, mode)
        return asdict(info)

    def connect(
        self, ctx: dict[str, Any], attachment_id: str, host: str, mountpoint: str | None = None
    ) -> dict[str, Any]:
        info = self.service.connect(RequestContext.from_wire(ctx), attachment_id, host, mountpoint)
        return asdict(info)

    def complete(self, ctx: dict[str, Any], attachment_id: str) -> None:
        self.service.complete(RequestContext.from_wire(ctx), attachment_id)

    def detach(self, ctx: dict[str, Any], attachment_id: str) -> None:
        self.service.detach(RequestContext.from_wire(ctx), attachment_id)

    def attachments_of(self, ctx: dict[str, Any], instance_uuid: str) -> list[dict[str, Any]]:
        rows = self.service.attachments_of(RequestContext.from_wire(ctx), instance_uuid)
        return [asdict(row) for row in rows]

    def create_from_image(
        self,
        ctx: dict[str, Any],
        image_id: str,
        size: int,
        name: str | None = None,
        wait: float = 600.0,
    ) -> dict[str, Any]:
        info = self.service.create_from_image(
            RequestContext.from_wire(ctx), image_id, size, name, timeout=wait
        )
        return asdict(info)

    def delete_volume(self, ctx: dict[str, Any], volume_id: str) -> None:
        self.service.delete_volume(RequestContext.from_wire(ctx), volume_id)
