"""Volume actions other than attaching: extend, bootable, read-only, image
metadata, upload to an image, revert to a snapshot, retype, reset status."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import NotSupported
from onestack.common.pagination import parse_bool
from onestack.volume import states
from onestack.volume.core import VolumeCore
from onestack.volume.exceptions import InvalidInput, InvalidVolume, MetadataNotFound
from onestack.volume.models import Snapshot, Volume
from onestack.volume.services import ServiceManager
from onestack.volume.voltypes import VolumeTypeManager, is_multiattach
from onestack.volume.volumes import check_metadata, parse_size

#: the disk formats a volume uploads as (the agent converts with qemu-img)
DISK_FORMATS = ("raw", "qcow2", "vmdk", "vdi", "vhd", "vhdx")
CONTAINER_FORMATS = ("bare", "ovf", "ova", "docker", "compressed")


def _bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_bool(value, name)
    raise InvalidInput(reason=f"{name} must be a boolean")


class VolumeActions:
    def __init__(
        self, core: VolumeCore, types: VolumeTypeManager, services: ServiceManager
    ) -> None:
        self.core = core
        self.types = types
        self.services = services

    def _volume(self, session: Any, ctx: RequestContext, volume_id: str, rule: str) -> Volume:
        volume = self.core.volume(session, ctx, volume_id)
        self.core.enforce(ctx, rule, volume.project_id)
        return volume

    def extend(self, ctx: RequestContext, volume_id: str, new_size: Any, attached_ok: bool) -> None:
        size = parse_size(new_size, "new_size")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:extend")
            allowed = (states.AVAILABLE, states.IN_USE) if attached_ok else (states.AVAILABLE,)
            if volume.status not in allowed:
                raise InvalidVolume(
                    reason=f"Volume {volume.id} status must be {' or '.join(allowed)} to extend, "
                    f"but current status is: {volume.status}."
                )
            if size <= volume.size:
                raise InvalidInput(
                    reason="New size for extend must be greater than current size. "
                    f"(current: {volume.size}, extended: {size})."
                )
            self.core.quotas.check(session, volume.project_id, {"gigabytes": size - volume.size})
            volume.previous_status = volume.status
            volume.status = states.EXTENDING
            host = volume.host
        self.core.agents.extend_volume(ctx, host, volume_id, size)

    def set_bootable(self, ctx: RequestContext, volume_id: str, value: Any) -> None:
        bootable = _bool(value, "bootable")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:set_bootable")
            volume.bootable = bootable
            volume.updated_at = utcnow()

    def set_readonly(self, ctx: RequestContext, volume_id: str, value: Any) -> None:
        readonly = _bool(value, "readonly")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:update_readonly_flag")
            if volume.status != states.AVAILABLE:
                raise InvalidVolume(
                    reason="Volume status must be available to update readonly "
                    f"flag, but the current status is {volume.status}."
                )
            volume.readonly = readonly
            # Cinder keeps the flag in the admin metadata, which shows in ``metadata``
            volume.admin_metadata = {**(volume.admin_metadata or {}), "readonly": str(readonly)}
            volume.updated_at = utcnow()

    def image_metadata(self, ctx: RequestContext, volume_id: str) -> dict[str, str]:
        with self.core.db.reader() as session:
            volume = self._volume(session, ctx, volume_id, "volume:get")
            return dict(volume.image_metadata)

    def set_image_metadata(
        self, ctx: RequestContext, volume_id: str, metadata: Any
    ) -> dict[str, str]:
        checked = check_metadata(metadata)
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:set_image_metadata")
            volume.image_metadata = {**volume.image_metadata, **checked}
            return dict(volume.image_metadata)

    def unset_image_metadata(self, ctx: RequestContext, volume_id: str, key: Any) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:unset_image_metadata")
            if not isinstance(key, str) or key not in volume.image_metadata:
                raise MetadataNotFound(key=key)
            volume.image_metadata = {k: v for k, v in volume.image_metadata.items() if k != key}

    def reset_status(self, ctx: RequestContext, volume_id: str, data: dict[str, Any]) -> None:
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:reset_status")
            status = data.get("status")
            attach_status = data.get("attach_status")
            if status is not None and status not in states.VOLUME_STATUSES:
                raise InvalidInput(reason=f"Must specify a valid status, not {status!r}")
            if attach_status is not None and attach_status not in (
                states.ATTACHED,
                states.DETACHED,
            ):
                raise InvalidInput(reason=f"Must specify a valid attach status: {attach_status}")
            if status is None and attach_status is None and "migration_status" not in data:
                raise InvalidInput(
                    reason="Must specify 'status', 'attach_status' or "
                    "'migration_status' for update."
                )
            if status is not None:
                volume.status = status
            if attach_status is not None:
                volume.attach_status = attach_status
            if "migration_status" in data:
                volume.migration_status = data["migration_status"]
            volume.updated_at = utcnow()

    def retype(self, ctx: RequestContext, volume_id: str, new_type: Any) -> None:
        """Retype within this backend: the bytes stay, the type changes."""
        if not isinstance(new_type, str) or not new_type:
            raise InvalidInput(reason="new_type must be a volume type name or id")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:retype")
            if volume.status not in (states.AVAILABLE, states.IN_USE):
                raise InvalidVolume(reason="Volume status must be available or in-use to retype.")
            vtype = self.types.find(session, ctx, new_type)
            if vtype.id == volume.volume_type_id:
                raise InvalidInput(reason="Retype requires a different volume type.")
            if volume.status == states.IN_USE and volume.multiattach != is_multiattach(vtype):
                raise InvalidInput(reason="Cannot change multiattach of an attached volume.")
            volume.volume_type_id = vtype.id
            volume.multiattach = is_multiattach(vtype)
            volume.updated_at = utcnow()

    def revert(self, ctx: RequestContext, volume_id: str, snapshot_id: Any) -> None:
        if not isinstance(snapshot_id, str):
            raise InvalidInput(reason="snapshot_id is required")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:revert_to_snapshot")
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            if snapshot.volume_id != volume.id:
                raise InvalidInput(reason="Snapshot does not belong to the volume.")
            latest = session.scalar(
                select(Snapshot)
                .where(Snapshot.volume_id == volume.id)
                .order_by(Snapshot.created_at.desc())
            )
            if latest is None or latest.id != snapshot.id:
                raise InvalidInput(reason="Volume can only be reverted to its latest snapshot.")
            if volume.status != states.AVAILABLE or snapshot.status != states.AVAILABLE:
                raise InvalidVolume(reason="Volume and snapshot must be available to revert.")
            if snapshot.size != volume.size:
                raise InvalidInput(reason="Volume was extended after the snapshot was taken.")
            capabilities = self.services.capabilities_of(volume.host)
            if capabilities is not None and not capabilities.revert_to_snapshot:
                raise NotSupported(operation="Reverting a volume to a snapshot on its backend")
            volume.status = "reverting"
            snapshot.status = "restoring"
            host = volume.host
        self.core.agents.revert_to_snapshot(ctx, host, volume_id, snapshot_id)

    def upload_to_image(
        self, ctx: RequestContext, volume_id: str, data: dict[str, Any]
    ) -> tuple[Volume, str, dict[str, Any]]:
        name = data.get("image_name")
        if not isinstance(name, str) or not name:
            raise InvalidInput(reason="image_name is required")
        disk_format = str(data.get("disk_format") or "raw")
        container_format = str(data.get("container_format") or "bare")
        if disk_format not in DISK_FORMATS:
            raise InvalidInput(reason=f"Invalid disk-format '{disk_format}' is specified.")
        if container_format not in CONTAINER_FORMATS:
            raise InvalidInput(reason=f"Invalid container-format '{container_format}'.")
        force = _bool(data.get("force", False), "force")
        visibility = str(data.get("visibility") or "private")
        with self.core.db.writer() as session:
            volume = self._volume(session, ctx, volume_id, "volume:upload_image")
            allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
            if volume.status not in allowed:
                raise InvalidVolume(
                    reason=f"Volume status must be available{' or in-use' if force else ''}."
                )
            volume.previous_status = volume.status
            volume.status = states.UPLOADING
            properties = {
                k: v
                for k, v in volume.image_metadata.items()
                if k
                not in (
                    "image_id",
                    "image_name",
                    "checksum",
                    "container_format",
                    "disk_format",
                    "min_disk",
                    "min_ram",
                    "size",
                )
            }
            host, size = volume.host, volume.size
        image_id = self.core.agents.upload_to_image(
            ctx,
            host,
            volume_id,
            project_id=ctx.project_id or volume.project_id,
            name=name,
            disk_format=disk_format,
            container_format=container_format,
            visibility=visibility,
            min_disk=size,
            properties=properties,
        )
        info = {
            "image_id": image_id,
            "image_name": name,
            "disk_format": disk_format,
            "container_format": container_format,
            "visibility": visibility,
            "protected": False,
        }
        return volume, image_id, info
