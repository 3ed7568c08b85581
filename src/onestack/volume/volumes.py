"""Volumes: create (blank, from an image, a snapshot, another volume or a
backup), list with filters/sorting/pagination, show, update, delete, and
metadata.  Long work goes to the agent of the volume's host; the record
moves through ``states`` as Cinder reports it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import NotFound
from onestack.common.faults import FaultKind
from onestack.common.pagination import parse_bool, parse_limit, parse_sort
from onestack.volume import states
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.encryption import EncryptionTypeManager
from onestack.volume.exceptions import (
    BackupNotFound,
    InvalidInput,
    InvalidVolume,
    MetadataNotFound,
)
from onestack.volume.models import Attachment, Backup, Snapshot, Volume, VolumeType
from onestack.volume.services import ServiceManager
from onestack.volume.voltypes import VolumeTypeManager, is_multiattach

SORT_KEYS = (
    "id",
    "name",
    "status",
    "size",
    "created_at",
    "updated_at",
    "availability_zone",
    "bootable",
    "volume_type_id",
    "project_id",
)
DELETE_MESSAGE = (
    "Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have snapshots, "
    "awaiting a transfer, or be disassociated from snapshots after volume transfer."
)


@dataclass
class VolumeDetails:
    """What views need besides the rows: type names and live attachments."""

    type_names: dict[str, str] = field(default_factory=dict)
    attachments: dict[str, list[Attachment]] = field(default_factory=dict)


def parse_size(value: Any, name: str = "size") -> int:
    if isinstance(value, bool):
        raise InvalidInput(reason=f"{name} must be an integer and greater than 0")
    try:
        size = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(reason=f"{name} must be an integer and greater than 0") from None
    if size <= 0 or size > 2**31:
        raise InvalidInput(reason=f"{name} must be an integer and greater than 0")
    return size


def check_metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise InvalidInput(reason="metadata must be a dictionary")
    out = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key or len(key) > 255:
            raise InvalidInput(reason="Metadata property key blank or longer than 255")
        if not isinstance(value, str) or len(value) > 255:
            raise InvalidInput(
                reason=f"Metadata property value for {key} must be a string "
                "of at most 255 characters"
            )
        out[key] = value
    return out


class VolumeManager:
    def __init__(
        self, core: VolumeCore, types: VolumeTypeManager, services: ServiceManager
    ) -> None:
        self.core = core
        self.types = types
        self.services = services

    # -- create ---------------------------------------------------------------

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> Volume:
        self.core.enforce(ctx, "volume:create")
        if data.get("multiattach"):
            raise InvalidInput(
                reason="multiattach parameter has been removed. The default behavior is to use "
                "multiattach enabled volume types. Contact your administrator to create a "
                "multiattach enabled volume type and use it to create multiattach volumes."
            )
        sources = [
            k for k in ("snapshot_id", "source_volid", "imageRef", "backup_id") if data.get(k)
        ]
        if len(sources) > 1:
            raise InvalidInput(
                reason="Only one of snapshot_id, source_volid, imageRef or backup_id may be given."
            )
        metadata = check_metadata(data.get("metadata") or {})
        zone = self.services.check_zone(data.get("availability_zone"))
        image_record = None
        image_id = data.get("imageRef")
        if image_id:
            self.core.enforce(ctx, "volume:create_from_image")
            image_record = self.core.images.get_image(ctx, str(image_id))
            if image_record.status != "active":
                raise InvalidInput(reason=f"Image {image_id} is not active.")
        volume = Volume(
            id=new_id(),
            project_id=ctx.project_id or "",
            user_id=ctx.user_id,
            name=data.get("name"),
            description=data.get("description"),
            status=states.CREATING,
            attach_status=states.DETACHED,
            availability_zone=zone,
            metadata_=metadata,
            image_metadata={},
            created_at=utcnow(),
        )
        with self.core.db.writer() as session:
            source_size, source_type, host = 0, None, None
            if data.get("snapshot_id"):
                snap = self.core.snapshot(session, ctx, str(data["snapshot_id"]))
                if snap.status != states.AVAILABLE:
                    raise InvalidInput(reason=f"Snapshot {snap.id} status must be available.")
                parent = session.get(Volume, snap.volume_id)
                source_size, host = snap.size, parent.host if parent else None
                source_type = parent.volume_type_id if parent else None
                volume.snapshot_id = snap.id
                volume.bootable = bool(parent and parent.bootable)
                volume.image_metadata = dict(parent.image_metadata) if parent else {}
            elif data.get("source_volid"):
                src = self.core.volume(session, ctx, str(data["source_volid"]))
                if src.status not in (states.AVAILABLE, states.IN_USE):
                    raise InvalidVolume(reason="Volume status must be available or in-use.")
                source_size, host, source_type = src.size, src.host, src.volume_type_id
                volume.source_volid = src.id
                volume.bootable = src.bootable
                volume.image_metadata = dict(src.image_metadata)
            elif data.get("backup_id"):
                backup = self.core.backup(session, ctx, str(data["backup_id"]))
                if backup.status != states.AVAILABLE:
                    raise InvalidInput(reason=f"Backup {backup.id} status must be available.")
                source_size, host = backup.size, backup.host
                backup.status = states.BACKUP_RESTORING
                volume.backup_id = backup.id
            elif image_record is not None:
                gib = 1024**3
                source_size = max(image_record.min_disk, -(-(image_record.size or 0) // gib))
                volume.image_id = image_record.id
                volume.bootable = True
                volume.image_metadata = _image_metadata(image_record)
            size = parse_size(data["size"]) if data.get("size") is not None else source_size
            if not size:
                raise InvalidInput(reason="size must be an integer and greater than 0")
            if size < source_size:
                what = "image min_disk/size" if image_record else "source"
                raise InvalidInput(
                    reason=f"Volume size '{size}'GB cannot be smaller than the {what} size "
                    f"{source_size}GB. They must be >= original size."
                )
            volume.size = size
            vtype = self._type(session, ctx, data.get("volume_type"), source_type)
            EncryptionTypeManager.check_can_create(session, vtype)
            volume.volume_type_id = vtype.id
            volume.multiattach = is_multiattach(vtype)
            volume.host = host or self.services.choose_host(zone)
            self.core.quotas.check(
                session, volume.project_id, {"volumes": 1, "gigabytes": size}, vtype.id
            )
            if volume.host is None:
                volume.status = states.ERROR
                volume.fail_reason = "No valid backend was found."
            session.add(volume)
        if volume.host is not None:
            fault = self.core.faults.take(FaultKind.VOLUME_CREATE, volume.project_id)
            if fault is not None:
                # an injected fault: the scheduler found no backend after all
                with self.core.db.writer() as session:
                    row = session.get(Volume, volume.id)
                    if row is not None:
                        row.host = None
                        row.status = states.ERROR
                        row.fail_reason = fault.reason()
                return volume
            self.core.agents.create_volume(ctx, volume.host, volume.id)
        return volume

    def _type(
        self, session: Any, ctx: RequestContext, ref: Any, inherited: str | None
    ) -> VolumeType:
        if ref:
            return self.types.find(session, ctx, str(ref))
        if inherited:
            vtype = session.get(VolumeType, inherited)
            if vtype is not None:
                return vtype
        return self.types.find(session, RequestContext.admin(), "default")

    # -- read -----------------------------------------------------------------

    def get(self, ctx: RequestContext, volume_id: str) -> Volume:
        with self.core.db.reader() as session:
            volume = self.core.volume(session, ctx, volume_id)
        self.core.enforce(ctx, "volume:get", volume.project_id)
        return volume

    def details(self, volumes: Sequence[Volume]) -> VolumeDetails:
        ids = [v.id for v in volumes]
        with self.core.db.reader() as session:
            types = {t.id: t.name for t in session.scalars(select(VolumeType))}
            rows = session.scalars(
                select(Attachment).where(
                    Attachment.volume_id.in_(ids), Attachment.attach_status == states.ATTACHED
                )
            )
            attachments: dict[str, list[Attachment]] = {}
            for row in rows:
                attachments.setdefault(row.volume_id, []).append(row)
        return VolumeDetails(types, attachments)

    def list(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Volume]:
        self.core.enforce(ctx, "volume:get_all")
        params = dict(query)
        limit = parse_limit(params.get("limit"))
        sort = parse_sort(query, SORT_KEYS, ())
        stmt = select(Volume)
        all_projects = ctx.is_admin and parse_bool(params.get("all_tenants", "0"), "all_tenants")
        if not all_projects:
            stmt = stmt.where(Volume.project_id == (ctx.project_id or ""))
        elif params.get("project_id"):
            stmt = stmt.where(Volume.project_id == params["project_id"])
        with self.core.db.reader() as session:
            rows = list(session.scalars(stmt))
        rows = [v for v in rows if _matches(v, query)]
        return page(rows, sort, params.get("marker"), limit)

    # -- update / delete ------------------------------------------------------

    def update(self, ctx: RequestContext, volume_id: str, data: dict[str, Any]) -> Volume:
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "volume:update", volume.project_id)
            for key in ("name", "description", "display_name", "display_description"):
                if key in data:
                    value = data[key]
                    if value is not None and not isinstance(value, str):
                        raise InvalidInput(reason=f"{key} must be a string")
                    setattr(volume, key.removeprefix("display_"), value)
            if "metadata" in data:
                volume.metadata_ = check_metadata(data["metadata"])
            volume.updated_at = utcnow()
        return volume

    def delete(self, ctx: RequestContext, volume_id: str, cascade: bool, force: bool) -> None:
        snapshots: list[str] = []
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(
                ctx, "volume:force_delete" if force else "volume:delete", volume.project_id
            )
            attached = session.scalar(
                select(Attachment.id).where(
                    Attachment.volume_id == volume.id, Attachment.attach_status != states.DETACHED
                )
            )
            snaps = list(session.scalars(select(Snapshot).where(Snapshot.volume_id == volume.id)))
            status_ok = (
                volume.status not in states.NOT_FORCE_DELETABLE
                if force
                else volume.status in states.DELETABLE
            )
            if not status_ok or attached or volume.attach_status == states.ATTACHED:
                raise InvalidVolume(reason=DELETE_MESSAGE)
            if snaps and not cascade:
                raise InvalidVolume(reason=DELETE_MESSAGE)
            if cascade and any(s.status not in (states.AVAILABLE, states.ERROR) for s in snaps):
                raise InvalidVolume(reason="Snapshots must be available or error to cascade.")
            for snap in snaps:
                snap.status = states.DELETING
                snapshots.append(snap.id)
            volume.status = states.DELETING
            host = volume.host
        if host is None:
            with self.core.db.writer() as session:
                row = session.get(Volume, volume_id)
                if row is not None:
                    session.delete(row)
            return
        for snapshot_id in snapshots:
            self.core.agents.delete_snapshot(ctx, host, snapshot_id)
        self.core.agents.delete_volume(ctx, host, volume_id)

    # -- metadata -------------------------------------------------------------

    def metadata(self, ctx: RequestContext, volume_id: str) -> dict[str, str]:
        volume = self.get(ctx, volume_id)
        self.core.enforce(ctx, "volume:get_metadata", volume.project_id)
        return dict(volume.metadata_)

    def metadata_item(self, ctx: RequestContext, volume_id: str, key: str) -> str:
        metadata = self.metadata(ctx, volume_id)
        if key not in metadata:
            raise MetadataNotFound(key=key)
        return metadata[key]

    def set_metadata(
        self, ctx: RequestContext, volume_id: str, metadata: Any, replace: bool
    ) -> dict[str, str]:
        checked = check_metadata(metadata)
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "volume:update_metadata", volume.project_id)
            volume.metadata_ = checked if replace else {**volume.metadata_, **checked}
            volume.updated_at = utcnow()
            return dict(volume.metadata_)

    def delete_metadata(self, ctx: RequestContext, volume_id: str, key: str) -> None:
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "volume:delete_metadata", volume.project_id)
            if key not in volume.metadata_:
                raise MetadataNotFound(key=key)
            volume.metadata_ = {k: v for k, v in volume.metadata_.items() if k != key}

    def backup_of(self, ctx: RequestContext, backup_id: str) -> Backup:
        with self.core.db.reader() as session:
            backup = session.get(Backup, backup_id)
            if backup is None or not self.core.visible(ctx, backup.project_id):
                raise BackupNotFound(backup_id=backup_id)
            return backup


def _image_metadata(image: Any) -> dict[str, str]:
    meta = {
        "image_id": image.id,
        "image_name": image.name or "",
        "checksum": image.checksum or "",
        "container_format": image.container_format or "",
        "disk_format": image.disk_format or "",
        "min_disk": str(image.min_disk),
        "min_ram": str(image.min_ram),
        "size": str(image.size or 0),
    }
    for key, value in (image.properties or {}).items():
        meta.setdefault(str(key), str(value))
    return meta


_FILTERS = {
    "name": "name",
    "display_name": "name",
    "status": "status",
    "availability_zone": "availability_zone",
    "volume_type_id": "volume_type_id",
    "user_id": "user_id",
    "id": "id",
}


def _matches(volume: Volume, query: Sequence[tuple[str, str]]) -> bool:
    for name, value in query:
        if name in _FILTERS:
            if str(getattr(volume, _FILTERS[name]) or "") != value:
                return False
        elif name.endswith("~") and name[:-1] in _FILTERS:
            if value.lower() not in str(getattr(volume, _FILTERS[name[:-1]]) or "").lower():
                return False
        elif name == "bootable":
            if volume.bootable != parse_bool(value, "bootable"):
                return False
        elif name == "metadata":
            try:
                wanted = json.loads(value.replace("'", '"')) if value else {}
            except ValueError:
                raise InvalidInput(reason="metadata filter must be a JSON object") from None
            if not isinstance(wanted, dict) or any(
                volume.metadata_.get(k) != str(v) for k, v in wanted.items()
            ):
                return False
    return True


def _sort_key(name: str) -> Any:
    def key(row: Any) -> tuple[bool, Any]:
        value = getattr(row, name)
        if name in ("size", "bootable"):
            return (value is not None, value or 0)
        return (value is not None, str(value or ""))

    return key


def page(rows: list[Any], sort: Sequence[Any], marker: str | None, limit: int | None) -> list[Any]:
    """Sort (default created_at desc, id desc), then keyset-page by ``marker``."""
    keys = list(sort) or []
    if not keys:
        rows.sort(key=lambda r: (r.created_at, r.id), reverse=True)
    else:
        rows.sort(key=lambda r: r.id)
        for key in reversed(keys):
            rows.sort(key=_sort_key(key.name), reverse=key.direction == "desc")
    if marker:
        index = next((i for i, r in enumerate(rows) if r.id == marker), None)
        if index is None:
            raise NotFound(f"Marker {marker} could not be found.")
        rows = rows[index + 1 :]
    return rows[:limit] if limit is not None else rows
