"""Snapshots: point-in-time copies of a volume (reflink copies in the pool)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.pagination import parse_bool, parse_limit, parse_sort
from onestack.volume import states
from onestack.volume.core import VolumeCore, new_id
from onestack.volume.exceptions import (
    InvalidInput,
    InvalidSnapshot,
    InvalidVolume,
    MetadataNotFound,
    VolumeNotFound,
)
from onestack.volume.models import Snapshot
from onestack.volume.volumes import check_metadata, page

#: the statuses ``os-update_snapshot_status`` may set, by the current one (Cinder's)
UPDATE_STATUS_MAP = {
    states.CREATING: (states.CREATING, states.AVAILABLE, states.ERROR),
    states.DELETING: (states.DELETING, states.ERROR_DELETING),
}

SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "volume_id")


class SnapshotManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    def create(self, ctx: RequestContext, data: dict[str, Any], in_use_ok: bool) -> Snapshot:
        volume_id = data.get("volume_id")
        if "volume_id" in data and volume_id is None:
            # Cinder's schema takes a null volume_id; looking it up is a 404.
            raise VolumeNotFound(volume_id=None)
        if not isinstance(volume_id, str) or not volume_id:
            raise InvalidInput(reason="volume_id is required")
        force = data.get("force", False)
        if isinstance(force, str):
            force = parse_bool(force, "force")
        metadata = check_metadata(data.get("metadata") or {})
        with self.core.db.writer() as session:
            volume = self.core.volume(session, ctx, volume_id)
            self.core.enforce(ctx, "snapshot:create", volume.project_id)
            allowed = [states.AVAILABLE]
            if force or in_use_ok:
                allowed.append(states.IN_USE)
            if volume.status not in allowed:
                raise InvalidVolume(
                    reason=f"Volume {volume.id} status must be {' or '.join(allowed)}, but "
                    f"current status is: {volume.status}."
                )
            self.core.quotas.check(
                session, volume.project_id, {"snapshots": 1, "gigabytes": volume.size}
            )
            snapshot = Snapshot(
                id=new_id(),
                project_id=volume.project_id,
                user_id=ctx.user_id,
                volume_id=volume.id,
                name=data.get("name") or data.get("display_name"),
                description=data.get("description") or data.get("display_description"),
                size=volume.size,
                status=states.CREATING,
                progress="0%",
                metadata_=metadata,
                created_at=utcnow(),
            )
            session.add(snapshot)
            host = volume.host
        self.core.agents.create_snapshot(ctx, host, snapshot.id)
        return snapshot

    def get(self, ctx: RequestContext, snapshot_id: str) -> Snapshot:
        with self.core.db.reader() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
        self.core.enforce(ctx, "snapshot:get", snapshot.project_id)
        return snapshot

    def list(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> list[Snapshot]:
        self.core.enforce(ctx, "snapshot:get_all")
        params = dict(query)
        stmt = select(Snapshot)
        if not (ctx.is_admin and parse_bool(params.get("all_tenants", "0"), "all_tenants")):
            stmt = stmt.where(Snapshot.project_id == (ctx.project_id or ""))
        for name in ("status", "volume_id", "name"):
            if params.get(name):
                stmt = stmt.where(getattr(Snapshot, name) == params[name])
        with self.core.db.reader() as session:
            rows = list(session.scalars(stmt))
        # Cinder takes the v1 name of the name field as a sort key too
        query = [
            (k, v.replace("display_name", "name") if k in ("sort_key", "sort") else v)
            for k, v in query
        ]
        sort = parse_sort(query, SORT_KEYS, ())
        rows = page(rows, sort, params.get("marker"), None)
        offset = params.get("offset")
        if offset is not None:
            if not offset.isdigit():
                raise InvalidInput(reason=f"offset must be a non-negative integer: {offset}")
            rows = rows[int(offset) :]
        limit = parse_limit(params.get("limit"))
        return rows[:limit] if limit is not None else rows

    def update(self, ctx: RequestContext, snapshot_id: str, data: dict[str, Any]) -> Snapshot:
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(ctx, "snapshot:update", snapshot.project_id)
            for key in ("name", "description", "display_name", "display_description"):
                if key in data:
                    value = data[key]
                    if value is not None and not isinstance(value, str):
                        raise InvalidInput(reason=f"{key} must be a string")
                    setattr(snapshot, key.removeprefix("display_"), value)
            snapshot.updated_at = utcnow()
        return snapshot

    def delete(self, ctx: RequestContext, snapshot_id: str) -> None:
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(ctx, "snapshot:delete", snapshot.project_id)
            if snapshot.status not in (states.AVAILABLE, states.ERROR):
                raise InvalidSnapshot(
                    reason="Snapshot status must be available or error and "
                    "must not be part of a group."
                )
            snapshot.status = states.DELETING
            volume = self.core.volume(session, ctx, snapshot.volume_id)
            host = volume.host
        self.core.agents.delete_snapshot(ctx, host, snapshot_id)

    def reset_status(self, ctx: RequestContext, snapshot_id: str, status: Any) -> None:
        """Set the status by hand (admin), with no check of what the backend holds."""
        if not isinstance(status, str) or status.lower() not in states.SNAPSHOT_STATUSES:
            raise InvalidInput(reason=f"Must specify a valid status, not {status!r}")
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(
                ctx, "volume_extension:snapshot_admin_actions:reset_status", snapshot.project_id
            )
            snapshot.status = status.lower()
            snapshot.updated_at = utcnow()

    def update_status(
        self, ctx: RequestContext, snapshot_id: str, status: Any, progress: Any
    ) -> None:
        """``os-update_snapshot_status``: the end of a snapshot someone else made
        (Nova's assisted snapshots): creating may become available or error,
        deleting may become error_deleting."""
        if not isinstance(status, str):
            raise InvalidInput(reason="status is required")
        if progress is not None and not isinstance(progress, str):
            raise InvalidInput(reason="progress must be a string")
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(
                ctx,
                "snapshot_extension:snapshot_actions:update_snapshot_status",
                snapshot.project_id,
            )
            allowed = UPDATE_STATUS_MAP.get(snapshot.status)
            if allowed is None:
                raise InvalidInput(
                    reason=f"Snapshot status {snapshot.status} not allowed for "
                    "update_snapshot_status"
                )
            if status not in allowed:
                raise InvalidInput(
                    reason=f"Provided snapshot status {status} not allowed for snapshot "
                    f"with status {snapshot.status}."
                )
            snapshot.status = status
            if progress:
                snapshot.progress = progress[:8]
            snapshot.updated_at = utcnow()

    def force_delete(self, ctx: RequestContext, snapshot_id: str) -> None:
        """Delete in any status (admin): the backend's copy and the record."""
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(
                ctx, "volume_extension:snapshot_admin_actions:force_delete", snapshot.project_id
            )
            snapshot.status = states.DELETING
            volume = self.core.volume(session, RequestContext.admin(), snapshot.volume_id)
            host = volume.host
        self.core.agents.delete_snapshot(ctx, host, snapshot_id)

    def metadata(self, ctx: RequestContext, snapshot_id: str) -> dict[str, str]:
        return dict(self.get(ctx, snapshot_id).metadata_)

    def set_metadata(
        self, ctx: RequestContext, snapshot_id: str, metadata: Any, replace: bool
    ) -> dict[str, str]:
        checked = check_metadata(metadata)
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(ctx, "snapshot:update_metadata", snapshot.project_id)
            snapshot.metadata_ = checked if replace else {**snapshot.metadata_, **checked}
            return dict(snapshot.metadata_)

    def delete_metadata(self, ctx: RequestContext, snapshot_id: str, key: str) -> None:
        with self.core.db.writer() as session:
            snapshot = self.core.snapshot(session, ctx, snapshot_id)
            self.core.enforce(ctx, "snapshot:delete_metadata", snapshot.project_id)
            if key not in snapshot.metadata_:
                raise MetadataNotFound(key=key)
            snapshot.metadata_ = {k: v for k, v in snapshot.metadata_.items() if k != key}
