"""The typed client of the volume agents on the bus: one method per agent operation.

Topic ``cinder-volume`` (Cinder's name), addressed to one host (the part of Cinder's
``host@backend#pool`` before ``@``).  Casts start long work (create, delete,
snapshot, backup) whose progress shows in the records' statuses; calls wait
for short work that returns something (exporting a device, uploading to an
image).  Every message carries the request id, so the agent's log of a
failure names the request that caused it.  The API's sync routes run in worker
threads and reach the event loop through :class:`LoopBridge`; the same calls
work on the in-process bus and on RabbitMQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from onestack.common.bus import Bus
from onestack.common.context import RequestContext
from onestack.common.exceptions import ServiceUnavailable

AGENT_TOPIC = "cinder-volume"

#: seconds a call waits for an export or unexport
EXPORT_TIMEOUT = 120.0
#: seconds a call waits for a volume's bytes to become an image
UPLOAD_TIMEOUT = 1800.0

T = TypeVar("T")


def agent_of(host: str | None) -> str:
    """The agent's name in Cinder's ``host@backend#pool``."""
    if not host:
        raise ServiceUnavailable("The volume has no host.")
    return host.split("@", 1)[0].split("#", 1)[0]


class LoopBridge:
    """Runs bus coroutines on the server's event loop from worker threads."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise ServiceUnavailable("The volume service is still starting; try again.")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


class VolumeAgentAPI:
    """Sends work to the agent of a volume's host (from any worker thread)."""

    def __init__(self, bus: Bus, bridge: LoopBridge) -> None:
        self.bus = bus
        self.bridge = bridge

    def _cast(self, ctx: RequestContext, host: str | None, method: str, **kwargs: Any) -> None:
        coro = self.bus.cast(
            AGENT_TOPIC, method, server=agent_of(host), request_id=ctx.request_id, **kwargs
        )
        self.bridge.run(coro)

    def _call(
        self, ctx: RequestContext, host: str | None, method: str, timeout: float, **kwargs: Any
    ) -> Any:
        coro = self.bus.call(
            AGENT_TOPIC,
            method,
            server=agent_of(host),
            timeout=timeout,
            request_id=ctx.request_id,
            **kwargs,
        )
        return self.bridge.run(coro, timeout + 5)

    # -- volumes --------------------------------------------------------------

    def create_volume(self, ctx: RequestContext, host: str | None, volume_id: str) -> None:
        """Make the volume's bytes (blank, or from its snapshot, source, image or backup)."""
        self._cast(ctx, host, "create_volume", volume_id=volume_id)

    def delete_volume(self, ctx: RequestContext, host: str | None, volume_id: str) -> None:
        self._cast(ctx, host, "delete_volume", volume_id=volume_id)

    def extend_volume(
        self, ctx: RequestContext, host: str | None, volume_id: str, new_size: int
    ) -> None:
        self._cast(ctx, host, "extend_volume", volume_id=volume_id, new_size=new_size)

    def revert_to_snapshot(
        self, ctx: RequestContext, host: str | None, volume_id: str, snapshot_id: str
    ) -> None:
        self._cast(ctx, host, "revert_to_snapshot", volume_id=volume_id, snapshot_id=snapshot_id)

    def upload_to_image(
        self,
        ctx: RequestContext,
        host: str | None,
        volume_id: str,
        *,
        project_id: str,
        name: str,
        disk_format: str,
        container_format: str,
        visibility: str,
        min_disk: int,
        properties: dict[str, str],
    ) -> str:
        """Copy the volume's bytes into a new active image owned by ``project_id``; its id."""
        return str(
            self._call(
                ctx,
                host,
                "upload_to_image",
                UPLOAD_TIMEOUT,
                volume_id=volume_id,
                project_id=project_id,
                user_id=ctx.user_id,
                name=name,
                disk_format=disk_format,
                container_format=container_format,
                visibility=visibility,
                min_disk=min_disk,
                properties=properties,
            )
        )

    # -- exports --------------------------------------------------------------

    def export(
        self,
        ctx: RequestContext,
        host: str | None,
        volume_id: str,
        attachment_id: str,
        readonly: bool,
    ) -> dict[str, Any]:
        """Cinder's ``connection_info`` of the volume exported for one attachment."""
        info = self._call(
            ctx,
            host,
            "export",
            EXPORT_TIMEOUT,
            volume_id=volume_id,
            attachment_id=attachment_id,
            readonly=readonly,
        )
        return dict(info)

    def unexport(self, ctx: RequestContext, host: str | None, device: str) -> None:
        self._call(ctx, host, "unexport", EXPORT_TIMEOUT, device=device)

    # -- snapshots and backups ------------------------------------------------

    def create_snapshot(self, ctx: RequestContext, host: str | None, snapshot_id: str) -> None:
        self._cast(ctx, host, "create_snapshot", snapshot_id=snapshot_id)

    def delete_snapshot(self, ctx: RequestContext, host: str | None, snapshot_id: str) -> None:
        self._cast(ctx, host, "delete_snapshot", snapshot_id=snapshot_id)

    def create_backup(self, ctx: RequestContext, host: str | None, backup_id: str) -> None:
        self._cast(ctx, host, "create_backup", backup_id=backup_id)

    def restore_backup(
        self, ctx: RequestContext, host: str | None, backup_id: str, volume_id: str
    ) -> None:
        self._cast(ctx, host, "restore_backup", backup_id=backup_id, volume_id=volume_id)

    def delete_backup(self, ctx: RequestContext, host: str | None, backup_id: str) -> None:
        self._cast(ctx, host, "delete_backup", backup_id=backup_id)

    def import_backup(self, ctx: RequestContext, host: str | None, backup_id: str) -> None:
        """Check that an imported backup record's data is in the host's store."""
        self._cast(ctx, host, "import_backup", backup_id=backup_id)
