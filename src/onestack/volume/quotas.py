"""Cinder's quotas: volumes, gigabytes, snapshots, backups, backup_gigabytes,
groups and per_volume_gigabytes, counted from this service's tables.

``per_volume_gigabytes`` limits one volume's size and is checked on its own;
the others count usage.  (Per-volume-type quotas such as ``volumes_<type>``
are not kept: they show as unlimited.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.quota import UNLIMITED, QuotaEngine, QuotaResource
from onestack.volume.conf import VolumeSettings
from onestack.volume.exceptions import VolumeOverQuota
from onestack.volume.models import Backup, Snapshot, Volume


def _count(model: type[Any]) -> Any:
    def count(session: Session, project_id: str) -> int:
        stmt = select(func.count()).select_from(model).where(model.project_id == project_id)
        return int(session.scalar(stmt) or 0)

    return count


def _gigabytes(session: Session, project_id: str) -> int:
    volumes = session.scalar(
        select(func.coalesce(func.sum(Volume.size), 0)).where(Volume.project_id == project_id)
    )
    snapshots = session.scalar(
        select(func.coalesce(func.sum(Snapshot.size), 0)).where(Snapshot.project_id == project_id)
    )
    return int(volumes or 0) + int(snapshots or 0)


def _backup_gigabytes(session: Session, project_id: str) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Backup.size), 0)).where(Backup.project_id == project_id)
    )
    return int(total or 0)


def _zero(session: Session, project_id: str) -> int:
    return 0


ORDER = (
    "volumes",
    "snapshots",
    "gigabytes",
    "backups",
    "backup_gigabytes",
    "groups",
    "per_volume_gigabytes",
)


class VolumeQuotas:
    def __init__(self, settings: VolumeSettings) -> None:
        self.engine = QuotaEngine(
            "volume",
            [
                QuotaResource("volumes", settings.quota_volumes, _count(Volume)),
                QuotaResource("snapshots", settings.quota_snapshots, _count(Snapshot)),
                QuotaResource("gigabytes", settings.quota_gigabytes, _gigabytes),
                QuotaResource("backups", settings.quota_backups, _count(Backup)),
                QuotaResource(
                    "backup_gigabytes", settings.quota_backup_gigabytes, _backup_gigabytes
                ),
                QuotaResource("groups", 10, _zero),
                QuotaResource("per_volume_gigabytes", UNLIMITED, _zero),
            ],
            exceeded=VolumeOverQuota,
        )

    def check(self, session: Session, project_id: str, deltas: Mapping[str, int]) -> None:
        """Raise VolumeOverQuota (413) when the deltas exceed a limit."""
        deltas = dict(deltas)
        if "gigabytes" in deltas and "volumes" in deltas:
            # one volume's size against per_volume_gigabytes first, as Cinder does
            limit = self.engine.limits(session, project_id)["per_volume_gigabytes"]
            if limit != UNLIMITED and deltas["gigabytes"] > limit:
                raise VolumeOverQuota(
                    resource="per_volume_gigabytes",
                    requested=deltas["gigabytes"],
                    used=0,
                    limit=limit,
                )
        self.engine.check(session, project_id, deltas)
