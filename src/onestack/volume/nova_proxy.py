"""What Nova's volume proxy APIs need of Cinder (``interface.VolumeProxyService``).

Each call goes through the managers the Cinder routes use, so visibility,
policy, quotas and validation are Cinder's; the rows become the interface's
frozen records.
"""

from __future__ import annotations

from typing import Any

from onestack.common.context import RequestContext
from onestack.volume.interface import AttachmentInfo, SnapshotRecord, VolumeRecord
from onestack.volume.models import Snapshot, Volume
from onestack.volume.snapshots import SnapshotManager
from onestack.volume.volumes import VolumeDetails, VolumeManager

#: the admin metadata Cinder shows among a volume's metadata
VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


def volume_record(volume: Volume, details: VolumeDetails) -> VolumeRecord:
    admin = volume.admin_metadata or {}
    metadata = dict(volume.metadata_ or {})
    metadata.update({k: str(admin[k]) for k in VISIBLE_ADMIN_METADATA if k in admin})
    return VolumeRecord(
        id=volume.id,
        status=volume.status,
        size=volume.size,
        availability_zone=volume.availability_zone,
        created_at=volume.created_at,
        name=volume.name,
        description=volume.description,
        volume_type=details.type_names.get(volume.volume_type_id or ""),
        snapshot_id=volume.snapshot_id,
        metadata=metadata,
        attachments=tuple(
            AttachmentInfo(
                id=a.id,
                volume_id=a.volume_id,
                instance_uuid=a.instance_uuid,
                status=a.attach_status,
                mode=a.attach_mode,
                mountpoint=a.mountpoint,
            )
            for a in details.attachments.get(volume.id, [])
        ),
    )


def snapshot_record(snapshot: Snapshot) -> SnapshotRecord:
    return SnapshotRecord(
        id=snapshot.id,
        volume_id=snapshot.volume_id,
        status=snapshot.status,
        size=snapshot.size,
        created_at=snapshot.created_at,
        name=snapshot.name,
        description=snapshot.description,
    )


class NovaVolumeProxy:
    def __init__(self, volumes: VolumeManager, snapshots: SnapshotManager) -> None:
        self.volumes = volumes
        self.snapshots = snapshots

    def _records(self, rows: list[Volume]) -> list[VolumeRecord]:
        details = self.volumes.details(rows)
        return [volume_record(v, details) for v in rows]

    def list_volumes(self, ctx: RequestContext) -> list[VolumeRecord]:
        return self._records(self.volumes.list(ctx, []))

    def show_volume(self, ctx: RequestContext, volume_id: str) -> VolumeRecord:
        return self._records([self.volumes.get(ctx, volume_id)])[0]

    def create_volume(
        self,
        ctx: RequestContext,
        size: object,
        *,
        name: str | None = None,
        description: str | None = None,
        volume_type: str | None = None,
        availability_zone: str | None = None,
        snapshot_id: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> VolumeRecord:
        data: dict[str, Any] = {
            "size": size,
            "name": name,
            "description": description,
            "volume_type": volume_type,
            "availability_zone": availability_zone,
            "snapshot_id": snapshot_id,
            "metadata": metadata or {},
        }
        volume = self.volumes.create(ctx, data)
        return self._records([volume])[0]

    def delete_volume(self, ctx: RequestContext, volume_id: str) -> None:
        self.volumes.delete(ctx, volume_id, cascade=False, force=False)

    def list_snapshots(self, ctx: RequestContext) -> list[SnapshotRecord]:
        return [snapshot_record(s) for s in self.snapshots.list(ctx, [])]

    def show_snapshot(self, ctx: RequestContext, snapshot_id: str) -> SnapshotRecord:
        return snapshot_record(self.snapshots.get(ctx, snapshot_id))

    def create_snapshot(
        self,
        ctx: RequestContext,
        volume_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        force: bool = False,
    ) -> SnapshotRecord:
        data = {"volume_id": volume_id, "name": name, "description": description, "force": force}
        return snapshot_record(self.snapshots.create(ctx, data, in_use_ok=False))

    def delete_snapshot(self, ctx: RequestContext, snapshot_id: str) -> None:
        self.snapshots.delete(ctx, snapshot_id)
