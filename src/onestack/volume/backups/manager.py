"""Backups: create (full or incremental), list, show, update, delete, restore.

The agent of the volume's host reads the volume (through a temporary
reflink snapshot, so an in-use volume backs up consistently) into the
backup store.  A backup with incremental children cannot be deleted.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.faults import FaultKind
from onestack.common.pagination import parse_bool, parse_limit, parse_sort
from onestack.volume import states
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import InvalidBackup, InvalidInput, InvalidVolume
from onestack.volume.models import Backup, Volume
from onestack.volume.voltypes import VolumeTypeManager
from onestack.volume.volumes import check_metadata, page

#: what an admin may reset a backup's status to (Cinder's)
RESET_STATUSES = (states.AVAILABLE, states.ERROR)

SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "volume_id")


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, str):
        return parse_bool(value, name)
    return bool(value)


class BackupManager:
    def __init__(self, core: VolumeCore, types: VolumeTypeManager) -> None:
        self.core = core
        self.types = types

    def create(self, ctx: RequestContext, data: dict[str, Any]) -> Backup:
        volume_id = data.get("volume_id")
        if not isinstance(volume_id, str) or not volume_id:
            raise InvalidInput(reason="volume_id is required")
        force = _flag(data.get("force", False), "force")
        incremental = _flag(data.get("incremental", False), "incremental")
        metadata = check_metadata(data.get("metadata") or {})
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "backup:create", volume.project_id)
            allowed = (states.AVAILABLE, states.IN_USE) if force else (states.AVAILABLE,)
            if volume.status not in allowed:
                raise InvalidVolume(
                    reason=f"Volume to be backed up must be available or in-use, but the current "
                    f'status is "{volume.status}".'
                )
            snapshot_id = data.get("snapshot_id")
            if snapshot_id:
                snapshot = self.core.snapshot(session, ctx, str(snapshot_id))
                if snapshot.volume_id != volume.id or snapshot.status != states.AVAILABLE:
                    raise InvalidInput(
                        reason="Snapshot must be an available snapshot of the volume."
                    )
            parent_id = None
            container = data.get("container")
            if container is not None and (
                not isinstance(container, str) or not container or "/" in container
            ):
                raise InvalidInput(reason=f"Invalid container name: {container!r}")
            if incremental:
                parent = session.scalars(
                    select(Backup)
                    .where(Backup.volume_id == volume.id, Backup.status == states.AVAILABLE)
                    .order_by(Backup.data_timestamp.desc(), Backup.created_at.desc())
                ).first()
                if parent is None:
                    raise InvalidBackup(reason="No backups available to do an incremental backup.")
                # an incremental reads its parent's chunks: it lives beside them
                parent_id, container = parent.id, parent.container
            self.core.quotas.check(
                session, volume.project_id, {"backups": 1, "backup_gigabytes": volume.size}
            )
            now = utcnow()
            backup = Backup(
                id=new_id(),
                project_id=volume.project_id,
                user_id=ctx.user_id,
                volume_id=volume.id,
                snapshot_id=snapshot_id,
                parent_id=parent_id,
                host=volume.host,
                name=data.get("name"),
                description=data.get("description"),
                size=volume.size,
                status=states.CREATING,
                availability_zone=volume.availability_zone,
                container=container,
                is_incremental=parent_id is not None,
                metadata_=metadata,
                data_timestamp=now,
                created_at=now,
            )
            session.add(backup)
            volume.previous_status = volume.status
            volume.status = states.BACKING_UP
        fault = self.core.faults.take(FaultKind.BACKUP_CREATE, backup.project_id)
        if fault is not None:
            # an injected fault: the end a failed backup reaches on the agent (the backup
            # in error, the volume back to its status), without casting to it
            with self.core.db.writer() as session:
                row = session.get(Backup, backup.id)
                source = session.get(Volume, backup.volume_id)
                if row is not None:
                    row.status = states.ERROR
                    row.fail_reason = fault.reason()
                if source is not None and source.status == states.BACKING_UP:
                    source.status = source.previous_status or states.AVAILABLE
                    source.previous_status = None
            return backup
        self.core.agents.create_backup(ctx, backup.host, backup.id)
        return backup

    def get(self, ctx: RequestContext, backup_id: str) -> Backup:
        with self.core.db.reader() as session:
            backup = self.core.backup(session, ctx, backup_id)
        self.core.enforce(ctx, "backup:get", backup.project_id)
        return backup

    def dependents(self, backup_ids: Sequence[str]) -> set[str]:
        """Which of these backups have incremental children."""
        with self.core.db.reader() as session:
            rows = session.execute(
                select(Backup.parent_id, func.count())
                .where(Backup.parent_id.in_(list(backup_ids)))
                .group_by(Backup.parent_id)
            )
            return {str(parent) for parent, count in rows if count}

    def list(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Backup]:
        self.core.enforce(ctx, "backup:get_all")
        params = dict(query)
        stmt = select(Backup)
        if not (ctx.is_admin and parse_bool(params.get("all_tenants", "0"), "all_tenants")):
            stmt = stmt.where(Backup.project_id == (ctx.project_id or ""))
        for name in ("status", "volume_id", "name"):
            if params.get(name):
                stmt = stmt.where(getattr(Backup, name) == params[name])
        with self.core.db.reader() as session:
            rows = list(session.scalars(stmt))
        sort = parse_sort(query, SORT_KEYS, ())
        return page(rows, sort, params.get("marker"), parse_limit(params.get("limit")))

    def update(self, ctx: RequestContext, backup_id: str, data: dict[str, Any]) -> Backup:
        with self.core.db.writer() as session:
            backup = self.core.backup(session, ctx, backup_id)
            self.core.enforce(ctx, "backup:update", backup.project_id)
            for key in ("name", "description"):
                if key in data:
                    setattr(backup, key, data[key])
            if "metadata" in data:
                backup.metadata_ = check_metadata(data["metadata"])
            backup.updated_at = utcnow()
        return backup

    def delete(self, ctx: RequestContext, backup_id: str, force: bool) -> None:
        with self.core.db.writer() as session:
            backup = self.core.backup(session, ctx, backup_id)
            self.core.enforce(ctx, "backup:delete", backup.project_id)
            allowed = (states.AVAILABLE, states.ERROR)
            if backup.status not in allowed and not (force and ctx.is_admin):
                raise InvalidBackup(reason="Backup status must be available or error")
            children = session.scalar(
                select(func.count()).select_from(Backup).where(Backup.parent_id == backup.id)
            )
            if children:
                raise InvalidBackup(reason="Incremental backups exist for this backup.")
            backup.status = states.DELETING
            host = backup.host
        self.core.agents.delete_backup(ctx, host, backup_id)

    def restore(
        self, ctx: RequestContext, backup_id: str, volume_id: str | None, name: str | None
    ) -> tuple[Backup, Volume]:
        with self.core.db.writer() as session:
            backup = self.core.backup(session, ctx, backup_id)
            self.core.enforce(ctx, "backup:restore", backup.project_id)
            if backup.status != states.AVAILABLE:
                raise InvalidBackup(reason="Backup status must be available")
            if volume_id:
                volume = self.core.volume(session, ctx, volume_id)
                if volume.status != states.AVAILABLE:
                    raise InvalidVolume(reason="Volume to be restored to must be available")
                if volume.size < backup.size:
                    raise InvalidVolume(
                        reason=f"volume size {volume.size} is too small to restore backup of "
                        f"size {backup.size}."
                    )
                if (
                    volume.host is None
                    or volume.host.split("@")[0] != (backup.host or "").split("@")[0]
                ):
                    raise InvalidVolume(reason="Volume must be on the host of the backup.")
                volume.status = states.RESTORING
                backup.status = states.BACKUP_RESTORING
                backup.restore_volume_id = volume.id
                restore_into: str | None = volume.id
                host: str | None = volume.host
            else:
                self.core.quotas.check(
                    session,
                    ctx.project_id or backup.project_id,
                    {"volumes": 1, "gigabytes": backup.size},
                )
                vtype = self.types.find(session, RequestContext.admin(), "default")
                volume = Volume(
                    id=new_id(),
                    project_id=ctx.project_id or backup.project_id,
                    user_id=ctx.user_id,
                    name=name or f"restore_backup_{backup.id}",
                    size=backup.size,
                    status=states.CREATING,
                    attach_status=states.DETACHED,
                    availability_zone=backup.availability_zone or "nova",
                    host=backup.host,
                    volume_type_id=vtype.id,
                    backup_id=backup.id,
                    metadata_={},
                    image_metadata={},
                    created_at=utcnow(),
                )
                session.add(volume)
                backup.status = states.BACKUP_RESTORING
                restore_into = None
                host = backup.host
        if restore_into is not None:
            self.core.agents.restore_backup(ctx, host, backup.id, restore_into)
        else:
            self.core.agents.create_volume(ctx, host, volume.id)
        return backup, volume

    # -- admin: status, export and import of records ---------------------------------

    def reset_status(self, ctx: RequestContext, backup_id: str, status: Any) -> None:
        """Set the status by hand (admin): available or error, as Cinder allows."""
        if status not in RESET_STATUSES:
            raise InvalidInput(reason=f"Must specify a valid status, not {status!r}")
        with self.core.db.writer() as session:
            backup = self.core.backup(session, ctx, backup_id)
            self.core.enforce(
                ctx, "volume_extension:backup_admin_actions:reset_status", backup.project_id
            )
            backup.status = str(status)
            backup.updated_at = utcnow()

    def export_record(self, ctx: RequestContext, backup_id: str) -> dict[str, str]:
        """Cinder's backup record: the driver's name and the record, base64 JSON,
        enough to import it into a cloud that lost its database."""
        with self.core.db.reader() as session:
            backup = self.core.backup(session, ctx, backup_id)
        self.core.enforce(ctx, "backup:backup-export", backup.project_id)
        if backup.status != states.AVAILABLE:
            raise InvalidBackup(reason="Backup status must be available and not restoring.")
        where = backup.service_metadata or {}
        if not where.get("service"):
            raise InvalidBackup(reason="The backup has no record of the store that keeps it.")
        record = {
            "id": backup.id,
            "user_id": backup.user_id,
            "project_id": backup.project_id,
            "volume_id": backup.volume_id,
            "snapshot_id": backup.snapshot_id,
            "parent_id": backup.parent_id,
            "host": backup.host,
            "availability_zone": backup.availability_zone,
            "container": backup.container,
            "display_name": backup.name,
            "display_description": backup.description,
            "size": backup.size,
            "object_count": backup.object_count,
            "checksum": backup.checksum,
            "status": backup.status,
            "service": where["service"],
            "service_metadata": where,
            "metadata": dict(backup.metadata_),
            "data_timestamp": backup.data_timestamp.isoformat(),
        }
        url = base64.b64encode(json.dumps(record).encode()).decode()
        return {"backup_service": str(where["service"]), "backup_url": url}

    def import_record(self, ctx: RequestContext, backup_service: Any, backup_url: Any) -> Backup:
        """A backup record from :meth:`export_record`, owned by the importing project;
        ``creating`` until the host's store shows it holds the data (then available)."""
        self.core.enforce(ctx, "backup:backup-import")
        if not isinstance(backup_service, str) or not isinstance(backup_url, str):
            raise InvalidInput(reason="backup_service and backup_url must be strings")
        try:
            record = json.loads(base64.b64decode(backup_url, validate=True))
        except (ValueError, binascii.Error):
            raise InvalidInput(reason="Can't parse backup record.") from None
        if not isinstance(record, dict):
            raise InvalidInput(reason="Can't parse backup record.")
        where = record.get("service_metadata")
        backup_id, host, size = record.get("id"), record.get("host"), record.get("size")
        if (
            not isinstance(backup_id, str)
            or not backup_id
            or len(backup_id) > 36
            or not isinstance(host, str)
            or not host
            or not isinstance(size, int)
            or isinstance(size, bool)
            or not isinstance(where, dict)
            or not all(isinstance(v, str) for v in where.values())
        ):
            raise InvalidInput(reason="The backup record lacks id, host, size or its location.")
        if record.get("service") != backup_service or where.get("service") != backup_service:
            raise InvalidInput(
                reason=f"The backup record was made by {record.get('service')}, "
                f"not {backup_service}."
            )
        metadata = check_metadata(record.get("metadata") or {})
        with self.core.db.writer() as session:
            existing = session.get(Backup, backup_id)
            if existing is not None:
                raise InvalidBackup(reason="Backup already exists in database.")
            project_id = ctx.project_id or str(record.get("project_id") or "")
            self.core.quotas.check(session, project_id, {"backups": 1, "backup_gigabytes": size})
            now = utcnow()
            backup = Backup(
                id=backup_id,
                project_id=project_id,
                user_id=ctx.user_id,
                volume_id=str(record.get("volume_id") or ""),
                snapshot_id=_text(record.get("snapshot_id")),
                parent_id=_text(record.get("parent_id")),
                host=host,
                name=_text(record.get("display_name")),
                description=_text(record.get("display_description")),
                size=size,
                status=states.CREATING,
                availability_zone=_text(record.get("availability_zone")),
                container=_text(record.get("container")),
                object_count=int(record.get("object_count") or 0),
                is_incremental=bool(record.get("parent_id")),
                checksum=_text(record.get("checksum")),
                service_metadata=dict(where),
                metadata_=metadata,
                data_timestamp=_when(record.get("data_timestamp")) or now,
                created_at=now,
            )
            session.add(backup)
        self.core.agents.import_backup(ctx, host, backup.id)
        return backup


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
