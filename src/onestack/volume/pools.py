"""What the volume hosts report, as Cinder's administrators read it: the
scheduler's pools (``scheduler-stats/get_pools``), a backend's capabilities
(``capabilities/{host}``) and the hosts' services and usage (``os-hosts``).

Each volume host's agent reports its backend every heartbeat (service.py):
the pool's name and filesystem, its real total and free bytes on disk, and the
backend's capabilities; this module renders those reports with what the
database knows (the gigabytes allocated to volumes of each pool).  The
scheduler's view is the volume services that are up and enabled, as Cinder's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

import onestack
from onestack.common.context import RequestContext
from onestack.volume.core import VolumeCore
from onestack.volume.exceptions import HostNotFound
from onestack.volume.models import Service, Snapshot, Volume
from onestack.volume.services import VOLUME_BINARY, ServiceManager

#: the vendor every onestack backend reports (Cinder's open-source drivers say the same)
VENDOR_NAME = "Open Source"


def _ts(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value is not None else None


@dataclass(frozen=True)
class Pool:
    """One volume service's pool: ``host@backend#pool`` and what it reported."""

    service: Service
    name: str
    capabilities: dict[str, Any]


@dataclass(frozen=True)
class HostUsage:
    project: str
    volume_count: int
    total_volume_gb: int
    snapshot_count: int
    total_snapshot_gb: int


def _on_host(host: str) -> Any:
    """Volumes placed on a volume service ``host@backend`` (any of its pools)."""
    return or_(Volume.host == host, Volume.host.startswith(host + "#", autoescape=True))


def _capabilities(session: Session, row: Service) -> dict[str, Any]:
    """Cinder's pool capabilities from the host's last report."""
    reported = row.capabilities or {}
    flags = reported.get("capabilities") or {}
    allocated = session.scalar(
        select(func.coalesce(func.sum(Volume.size), 0)).where(_on_host(row.host))
    )
    return {
        "pool_name": reported.get("pool", "pool"),
        "volume_backend_name": row.host.split("@", 1)[-1],
        "vendor_name": VENDOR_NAME,
        "driver_version": onestack.__version__,
        # how a host reaches a volume: a local block device (loop) or the file itself
        "storage_protocol": "local" if flags.get("block_devices") else "file",
        "total_capacity_gb": int(reported.get("total_capacity_gb", 0)),
        "free_capacity_gb": int(reported.get("free_capacity_gb", 0)),
        "allocated_capacity_gb": int(allocated or 0),
        "reserved_percentage": 0,
        # volumes are sparse files
        "thin_provisioning_support": True,
        "thick_provisioning_support": False,
        # QoS specs are kept but no backend throttles by them (qos.py)
        "QoS_support": False,
        "filesystem": reported.get("filesystem"),
        "reflink": bool(flags.get("reflink", False)),
        "timestamp": _ts(row.updated_at),
    }


class PoolManager:
    def __init__(self, core: VolumeCore, services: ServiceManager) -> None:
        self.core = core
        self.services = services

    def pools(self, ctx: RequestContext, name: str | None = None) -> list[Pool]:
        """The pools of the volume services that are up and enabled, by name."""
        self.core.enforce(ctx, "scheduler_extension:scheduler_stats:get_pools")
        with self.core.db.reader() as session:
            rows = session.scalars(
                select(Service)
                .where(Service.binary == VOLUME_BINARY, Service.disabled.is_(False))
                .order_by(Service.host)
            )
            out = []
            for row in rows:
                if not self.services.is_up(row):
                    continue
                caps = _capabilities(session, row)
                pool = Pool(row, f"{row.host}#{caps['pool_name']}", caps)
                if name is None or pool.name == name:
                    out.append(pool)
            return out

    def capabilities(self, ctx: RequestContext, host: str) -> dict[str, Any]:
        """What the backend of ``host@backend`` (or ``host@backend#pool``) reported."""
        self.core.enforce(ctx, "volume_extension:capabilities")
        backend = host.split("#", 1)[0]
        with self.core.db.reader() as session:
            row = session.scalar(
                select(Service).where(Service.binary == VOLUME_BINARY, Service.host == backend)
            )
            if row is None:
                raise HostNotFound(host=host)
            return _capabilities(session, row)

    def hosts(self, ctx: RequestContext, zone: str | None = None) -> list[tuple[Service, bool]]:
        """Every enabled service with whether it is up, by host and binary."""
        self.core.enforce(ctx, "volume_extension:hosts")
        with self.core.db.reader() as session:
            stmt = (
                select(Service)
                .where(Service.disabled.is_(False))
                .order_by(Service.host, Service.binary)
            )
            if zone:
                stmt = stmt.where(Service.availability_zone == zone)
            return [(row, self.services.is_up(row)) for row in session.scalars(stmt)]

    def host_usage(self, ctx: RequestContext, host: str) -> list[HostUsage]:
        """Volumes and snapshots on an enabled volume service ``host@backend``: the
        total first (project ``(total)``), then each project's."""
        self.core.enforce(ctx, "volume_extension:hosts")
        with self.core.db.reader() as session:
            row = session.scalar(
                select(Service).where(
                    Service.binary == VOLUME_BINARY,
                    Service.host == host,
                    Service.disabled.is_(False),
                )
            )
            if row is None:
                raise HostNotFound(host=host)
            volumes = session.execute(
                select(Volume.project_id, func.count(), func.coalesce(func.sum(Volume.size), 0))
                .where(_on_host(row.host))
                .group_by(Volume.project_id)
            ).all()
            snapshots = dict(
                (project, (int(count), int(size)))
                for project, count, size in session.execute(
                    select(
                        Snapshot.project_id,
                        func.count(),
                        func.coalesce(func.sum(Snapshot.size), 0),
                    )
                    .join(Volume, Volume.id == Snapshot.volume_id)
                    .where(_on_host(row.host))
                    .group_by(Snapshot.project_id)
                ).all()
            )
        per_project = [
            HostUsage(project, int(count), int(size), *snapshots.get(project, (0, 0)))
            for project, count, size in sorted(volumes)
        ]
        total = HostUsage(
            "(total)",
            sum(u.volume_count for u in per_project),
            sum(u.total_volume_gb for u in per_project),
            sum(u.snapshot_count for u in per_project),
            sum(u.total_snapshot_gb for u in per_project),
        )
        return [total, *per_project]
