"""Volume attachments of servers (Nova's os-volume_attachments), the API side.

Attach checks the server (policy, lock, state), the volume (visible to the
caller, not already attached unless multiattach), reserves it with the volume
service (a Cinder attachment, as the caller), names the device and records
the mapping in one transaction, then casts the attach to the server's agent
(``block_devices``), which connects the volume, plugs the device and
completes the attachment.  Detach checks the same and casts the detach.
Both are asynchronous as in Nova: the volume turns ``in-use`` (or
``available``) when the agent is done.  A host whose driver cannot attach
volumes answers Nova's 501 before anything is reserved.

Server create and delete use :func:`onestack.compute.bdm.plan_boot` and
:meth:`VolumeAttachmentManager.release_if_deleted`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, NotSupported
from onestack.compute import bdm as bdms
from onestack.compute import states
from onestack.compute.exceptions import (
    InstanceLocked,
    InvalidDevicePath,
    InvalidState,
    MultiattachOldMicroversion,
    VolumeBDMNotFound,
)
from onestack.compute.instances import start_action
from onestack.compute.models import BlockDeviceMapping, Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore
    from onestack.volume.interface import VolumeService

#: Nova: attach/detach while ACTIVE, PAUSED, STOPPED, RESIZED (SHELVED: not here)
ATTACH_STATES = (states.ACTIVE, states.PAUSED, states.STOPPED, states.RESIZED)


class VolumeAttachmentManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer

    def volumes(self) -> VolumeService:
        """The volume service (501 when it does not run)."""
        service = self.core.neighbours.volume
        if service is None:
            raise NotSupported(operation="Attaching volumes without the volume service")
        return service

    def _enforce(self, ctx: RequestContext, rule: str, project_id: str | None) -> None:
        self.enforcer.enforce(
            ctx,
            f"os_compute_api:os-volumes-attachments:{rule}",
            {"project_id": project_id, "user_id": ctx.user_id},
        )

    # -- read ------------------------------------------------------------------

    def list_attachments(self, ctx: RequestContext, server_id: str) -> list[BlockDeviceMapping]:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self._enforce(ctx, "index", instance.project_id)
            return [b for b in bdms.mappings_of(session, server_id) if b.volume_id]

    def show(self, ctx: RequestContext, server_id: str, volume_id: str) -> BlockDeviceMapping:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self._enforce(ctx, "show", instance.project_id)
            return self._mapping(session, server_id, volume_id)

    def _mapping(self, session: Any, server_id: str, volume_id: str) -> BlockDeviceMapping:
        row = session.scalars(
            select(BlockDeviceMapping).where(
                BlockDeviceMapping.instance_id == server_id,
                BlockDeviceMapping.volume_id == volume_id,
            )
        ).first()
        if row is None:
            raise VolumeBDMNotFound(instance_id=server_id, volume_id=volume_id)
        return row

    def volumes_attached(self, instance_ids: Sequence[str]) -> dict[str, list[tuple[str, bool]]]:
        """(volume id, delete_on_termination) of each server, for server views."""
        found: dict[str, list[tuple[str, bool]]] = {i: [] for i in instance_ids}
        if not instance_ids:
            return found
        with self.db.reader() as session:
            rows = session.scalars(
                select(BlockDeviceMapping).where(
                    BlockDeviceMapping.instance_id.in_(list(instance_ids))
                )
            )
            for row in sorted(rows, key=lambda b: (b.boot_index != 0, b.device_name)):
                if row.volume_id:
                    found[row.instance_id].append((row.volume_id, row.delete_on_termination))
        return found

    def is_volume_backed(self, instance_id: str) -> bool:
        with self.db.reader() as session:
            return any(b.boot_index == 0 for b in bdms.mappings_of(session, instance_id))

    # -- attach, update, detach ------------------------------------------------

    def _check_instance(
        self, ctx: RequestContext, session: Any, instance: Instance, action: str
    ) -> None:
        if instance.locked and not ctx.is_admin:
            raise InstanceLocked(instance_id=instance.id)
        if instance.vm_state not in ATTACH_STATES:
            raise InvalidState(
                action=action, instance_id=instance.id, attr="vm_state", state=instance.vm_state
            )
        if instance.task_state is not None:
            raise InvalidState(
                action=action, instance_id=instance.id, attr="task_state", state=instance.task_state
            )
        if instance.host is None:
            raise Conflict(f"Instance {instance.id} has no host.")
        operation = "Attaching volumes" if action == "attach_volume" else "Detaching volumes"
        self.core.require(session, instance, "volume_attach", operation)

    def attach(
        self,
        ctx: RequestContext,
        server_id: str,
        volume_id: str,
        device: str | None,
        tag: str | None,
        delete_on_termination: bool,
        multiattach_ok: bool,
    ) -> BlockDeviceMapping:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self._enforce(ctx, "create", instance.project_id)
            self._check_instance(ctx, session, instance, "attach_volume")
        if device is not None and not bdms.DEVICE_PATTERN.match(device):
            raise InvalidDevicePath(path=device)
        volumes = self.volumes()
        volume = volumes.get_volume(ctx, volume_id)
        with self.db.reader() as session:
            holders = list(
                session.scalars(
                    select(BlockDeviceMapping.instance_id).where(
                        BlockDeviceMapping.volume_id == volume_id
                    )
                )
            )
        if holders and not volume.multiattach:
            raise BadRequest(
                f"Invalid volume: volume {volume_id} is already attached to instances: "
                + " ".join(holders)
            )
        if server_id in holders:
            raise BadRequest(f"Invalid volume: volume {volume_id} already attached")
        if volume.multiattach and not multiattach_ok:
            raise MultiattachOldMicroversion()
        attachment = volumes.reserve(ctx, volume_id, server_id)
        try:
            row = self._record(
                ctx, server_id, volume_id, attachment.id, device, tag, delete_on_termination
            )
        except BaseException:
            volumes.detach(ctx, attachment.id)
            raise
        assert instance.host is not None
        self.core.call(self.core.rpc.agents.attach_volume(instance.host, row.id, ctx.request_id))
        return row

    def _record(
        self,
        ctx: RequestContext,
        server_id: str,
        volume_id: str,
        attachment_id: str,
        device: str | None,
        tag: str | None,
        delete_on_termination: bool,
    ) -> BlockDeviceMapping:
        """The mapping with a free device name (the requested one when it is free)."""
        for _ in range(5):
            try:
                with self.db.writer() as session:
                    instance = self.core.instance(session, ctx, server_id)
                    used = {b.device_name for b in bdms.mappings_of(session, server_id)}
                    used.add(bdms.ROOT_DEVICE)
                    name = device if device in bdms.DATA_DEVICES and device not in used else None
                    name = name or bdms.next_device(used)
                    if name is None:
                        raise Forbidden(
                            "The maximum allowed number of disk devices "
                            f"({len(bdms.DATA_DEVICES)}) to attach to a single instance has "
                            "been exceeded."
                        )
                    now = utcnow()
                    row = BlockDeviceMapping(
                        id=str(uuid.uuid4()),
                        instance_id=server_id,
                        volume_id=volume_id,
                        attachment_id=attachment_id,
                        device_name=name,
                        boot_index=None,
                        source_type="volume",
                        destination_type="volume",
                        delete_on_termination=delete_on_termination,
                        tag=tag,
                        status="attaching",
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                    start_action(
                        session,
                        instance,
                        "attach_volume",
                        ctx.request_id,
                        ctx.user_id,
                        ctx.project_id,
                    )
                    session.flush()
                    return row
            except IntegrityError:
                continue  # another attach took the name meanwhile
        raise Conflict("Could not pick a device name for the volume; try again.")

    def update(
        self, ctx: RequestContext, server_id: str, volume_id: str, changes: dict[str, Any]
    ) -> None:
        """2.85: only delete_on_termination may change (other fields must match)."""
        with self.db.writer() as session:
            instance = self.core.instance(session, ctx, server_id)
            self._enforce(ctx, "update", instance.project_id)
            row = self._mapping(session, server_id, volume_id)
            for key, current in (
                ("id", volume_id),
                ("serverId", server_id),
                ("device", row.device_name),
                ("tag", row.tag),
            ):
                if key in changes and changes[key] != current:
                    raise BadRequest(f"The {key} property is not mutable")
            if "delete_on_termination" in changes:
                row.delete_on_termination = bool(changes["delete_on_termination"])
                row.updated_at = utcnow()

    def detach(self, ctx: RequestContext, server_id: str, volume_id: str) -> None:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
        self._enforce(ctx, "delete", instance.project_id)
        self.volumes().get_volume(ctx, volume_id)
        with self.db.writer() as session:
            row = self._mapping(session, server_id, volume_id)
            if row.boot_index == 0:
                raise BadRequest("Cannot detach a root device volume")
            instance = self.core.instance(session, ctx, server_id)
            self._check_instance(ctx, session, instance, "detach_volume")
            row.status = "detaching"
            row.updated_at = utcnow()
            start_action(
                session, instance, "detach_volume", ctx.request_id, ctx.user_id, ctx.project_id
            )
            host, bdm_id = instance.host, row.id
        assert host is not None
        self.core.call(self.core.rpc.agents.detach_volume(host, bdm_id, ctx.request_id))

    # -- server delete -----------------------------------------------------------

    def release_if_deleted(self, instance_id: str) -> None:
        """Release the volumes of a server deleted without its agent (never placed,
        or its host down)."""
        bdms.release(self.db, self.core.neighbours.volume, instance_id)
