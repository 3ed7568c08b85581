"""Cinder's quotas: volumes, gigabytes, snapshots, backups, backup_gigabytes,
groups and per_volume_gigabytes, counted from this service's tables, and for
every volume type ``volumes_<type>``, ``gigabytes_<type>`` and
``snapshots_<type>`` (unlimited unless set), as Cinder names them.

``per_volume_gigabytes`` limits one volume's size and is checked on its own;
the others count usage.  Per-type limits are stored under the type's id (so
they follow a renamed type and go with a deleted one) and shown under its
name.  A check given the volume type counts the per-type limits too (volume
creation does); other checks count only the project-wide ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.quota import UNLIMITED, QuotaEngine, QuotaResource, QuotaUsage
from onestack.volume.conf import VolumeSettings
from onestack.volume.exceptions import UnknownQuotaKey, VolumeOverQuota
from onestack.volume.models import Backup, Snapshot, Volume, VolumeType


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


def _type_volumes(type_id: str) -> Any:
    def count(session: Session, project_id: str) -> int:
        stmt = select(func.count()).where(
            Volume.project_id == project_id, Volume.volume_type_id == type_id
        )
        return int(session.scalar(stmt) or 0)

    return count


def _type_snapshots(type_id: str) -> Any:
    def count(session: Session, project_id: str) -> int:
        stmt = (
            select(func.count())
            .select_from(Snapshot)
            .join(Volume, Volume.id == Snapshot.volume_id)
            .where(Snapshot.project_id == project_id, Volume.volume_type_id == type_id)
        )
        return int(session.scalar(stmt) or 0)

    return count


def _type_gigabytes(type_id: str) -> Any:
    def count(session: Session, project_id: str) -> int:
        volumes = session.scalar(
            select(func.coalesce(func.sum(Volume.size), 0)).where(
                Volume.project_id == project_id, Volume.volume_type_id == type_id
            )
        )
        snapshots = session.scalar(
            select(func.coalesce(func.sum(Snapshot.size), 0))
            .join(Volume, Volume.id == Snapshot.volume_id)
            .where(Snapshot.project_id == project_id, Volume.volume_type_id == type_id)
        )
        return int(volumes or 0) + int(snapshots or 0)

    return count


#: the per-type quotas and what counts against each
PER_TYPE = {"volumes": _type_volumes, "gigabytes": _type_gigabytes, "snapshots": _type_snapshots}

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
        self._resources = [
            QuotaResource("volumes", settings.quota_volumes, _count(Volume)),
            QuotaResource("snapshots", settings.quota_snapshots, _count(Snapshot)),
            QuotaResource("gigabytes", settings.quota_gigabytes, _gigabytes),
            QuotaResource("backups", settings.quota_backups, _count(Backup)),
            QuotaResource("backup_gigabytes", settings.quota_backup_gigabytes, _backup_gigabytes),
            QuotaResource("groups", 10, _zero),
            QuotaResource("per_volume_gigabytes", UNLIMITED, _zero),
        ]
        #: the project-wide quotas alone
        self.engine = QuotaEngine("volume", self._resources, exceeded=VolumeOverQuota)

    # -- per-type quotas: stored as <resource>_<type id>, shown as <resource>_<type name> ----

    @staticmethod
    def _types(session: Session) -> list[VolumeType]:
        return list(session.scalars(select(VolumeType).order_by(VolumeType.name)))

    def _engine(self, session: Session) -> tuple[QuotaEngine, dict[str, str]]:
        """An engine over every quota of the types there are now, and the stored
        name of each shown name."""
        resources = list(self._resources)
        names = {name: name for name in ORDER}
        for vtype in self._types(session):
            for resource, counter in PER_TYPE.items():
                stored = f"{resource}_{vtype.id}"
                resources.append(QuotaResource(stored, UNLIMITED, counter(vtype.id)))
                names[f"{resource}_{vtype.name}"] = stored
        return QuotaEngine("volume", resources, exceeded=VolumeOverQuota), names

    @staticmethod
    def _shown(names: dict[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
        return {shown: values[stored] for shown, stored in names.items()}

    @staticmethod
    def _stored(names: dict[str, str], values: Mapping[str, Any]) -> dict[str, Any]:
        for name in values:
            if name not in names:
                raise UnknownQuotaKey(key=name)
        return {names[name]: value for name, value in values.items()}

    def defaults(self, session: Session) -> dict[str, int]:
        """Every quota's default (the ``default`` class), Cinder's order then per type."""
        engine, names = self._engine(session)
        return self._shown(names, engine.defaults(session))

    def limits(self, session: Session, project_id: str) -> dict[str, int]:
        engine, names = self._engine(session)
        return self._shown(names, engine.limits(session, project_id))

    def usage(self, session: Session, project_id: str) -> dict[str, QuotaUsage]:
        engine, names = self._engine(session)
        return self._shown(names, engine.usage(session, project_id))

    def set_limits(self, session: Session, project_id: str, limits: Mapping[str, int]) -> None:
        engine, names = self._engine(session)
        engine.set_limits(session, project_id, self._stored(names, limits))

    def set_defaults(self, session: Session, limits: Mapping[str, int]) -> None:
        engine, names = self._engine(session)
        engine.set_defaults(session, self._stored(names, limits))

    def forget_type(self, session: Session, type_id: str) -> None:
        """Drop the limits and defaults of a volume type being deleted."""
        self.engine.forget(session, [f"{resource}_{type_id}" for resource in PER_TYPE])

    def reset(self, session: Session, project_id: str) -> None:
        self.engine.reset(session, project_id)

    def check(
        self,
        session: Session,
        project_id: str,
        deltas: Mapping[str, int],
        volume_type_id: str | None = None,
    ) -> None:
        """Raise VolumeOverQuota (413) when the deltas exceed a limit (with
        ``volume_type_id``, that type's limits too)."""
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
        if volume_type_id is None:
            self.engine.check(session, project_id, deltas)
            return
        engine, names = self._engine(session)
        shown = {stored: name for name, stored in names.items()}
        for resource in PER_TYPE:
            if resource in deltas and f"{resource}_{volume_type_id}" in shown:
                deltas[f"{resource}_{volume_type_id}"] = deltas[resource]
        try:
            engine.check(session, project_id, deltas)
        except VolumeOverQuota as exc:
            name = str(exc.kwargs.get("resource", ""))
            if name not in shown:
                raise
            raise VolumeOverQuota(**{**exc.kwargs, "resource": shown[name]}) from None
