"""Service records (cinder-scheduler, cinder-volume, cinder-backup), their
heartbeats, availability zones, and the choice of a host for a new volume.

A volume service is up when it reported within ``service_down_time``; the
scheduler places a volume on an enabled, up volume service of the requested
zone with the most free space.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import object_session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.volume.backends.base import BackendCapabilities
from onestack.volume.core import VolumeCore
from onestack.volume.exceptions import InvalidInput, ServiceNotFound
from onestack.volume.models import Service

VOLUME_BINARY = "cinder-volume"
BINARIES = ("cinder-scheduler", VOLUME_BINARY, "cinder-backup")


class ServiceManager:
    def __init__(self, core: VolumeCore) -> None:
        self.core = core

    def backend_host(self, host: str) -> str:
        settings = self.core.settings
        return f"{host}@{settings.backend_name or settings.backend}"

    def register(self, host: str, capabilities: dict[str, Any]) -> None:
        """Create or refresh this host's service records (the heartbeat)."""
        zone = self.core.settings.availability_zone
        names = {
            "cinder-scheduler": host,
            VOLUME_BINARY: self.backend_host(host),
            "cinder-backup": host,
        }
        now = utcnow()
        with self.core.db.writer() as session:
            for binary, name in names.items():
                row = session.scalar(
                    select(Service).where(Service.binary == binary, Service.host == name)
                )
                if row is None:
                    row = Service(binary=binary, host=name, availability_zone=zone)
                    session.add(row)
                row.availability_zone = zone
                row.updated_at = now
                if binary == VOLUME_BINARY:
                    row.capabilities = capabilities

    def capabilities_of(self, host: str | None) -> BackendCapabilities | None:
        """What the backend of a volume's host (``host@backend#pool``) reported it can
        do, or None when that host never reported."""
        if not host:
            return None
        with self.core.db.reader() as session:
            row = session.scalar(
                select(Service).where(
                    Service.binary == VOLUME_BINARY, Service.host == host.split("#", 1)[0]
                )
            )
        if row is None:
            return None
        reported = (row.capabilities or {}).get("capabilities") or {}
        known = {f.name for f in fields(BackendCapabilities)}
        return BackendCapabilities(**{k: bool(v) for k, v in reported.items() if k in known})

    def is_up(self, service: Service) -> bool:
        if service.binary == VOLUME_BINARY and self.core.faults.agent_down(
            "volume", service.host, object_session(service)
        ):
            return False  # an injected agent_down fault
        seen = service.updated_at or service.created_at
        return utcnow() - seen <= timedelta(seconds=self.core.settings.service_down_time)

    def zones(self) -> list[tuple[str, bool]]:
        with self.core.db.reader() as session:
            rows = list(session.scalars(select(Service).where(Service.binary == VOLUME_BINARY)))
        zones: dict[str, bool] = {}
        for row in rows:
            zones[row.availability_zone] = zones.get(row.availability_zone, False) or (
                self.is_up(row) and not row.disabled
            )
        return sorted(zones.items())

    def list_zones(self, ctx: RequestContext) -> list[tuple[str, bool]]:
        """(zone, whether a volume service there is up and enabled), by name."""
        self.core.enforce(ctx, "volume_extension:availability_zone_list")
        return self.zones()

    def check_zone(self, zone: str | None) -> str:
        if zone is None:
            return self.core.settings.availability_zone
        if zone not in {name for name, _ in self.zones()}:
            raise InvalidInput(reason=f"Availability zone '{zone}' is invalid.")
        return zone

    def choose_host(self, zone: str) -> str | None:
        """``host@backend#pool`` of the best up volume service in ``zone``, or None."""
        with self.core.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Service).where(
                        Service.binary == VOLUME_BINARY,
                        Service.availability_zone == zone,
                        Service.disabled.is_(False),
                    )
                )
            )
        up = [r for r in rows if self.is_up(r)]
        if not up:
            return None
        best = max(up, key=lambda r: int(r.capabilities.get("free_capacity_gb", 0)))
        return f"{best.host}#{best.capabilities.get('pool', 'pool')}"

    def list(self, ctx: RequestContext, host: str | None, binary: str | None) -> list[Service]:
        self.core.enforce(ctx, "volume_extension:services:index")
        with self.core.db.reader() as session:
            stmt = select(Service).order_by(Service.binary, Service.host)
            if host:
                # as Cinder: "vm" also matches its backends ("vm@file") and pools
                stmt = stmt.where(
                    (Service.host == host)
                    | Service.host.startswith(host + "@", autoescape=True)
                    | Service.host.startswith(host + "#", autoescape=True)
                )
            if binary:
                stmt = stmt.where(Service.binary == binary)
            return list(session.scalars(stmt))

    def set_enabled(
        self, ctx: RequestContext, host: str, binary: str, enabled: bool, reason: str | None
    ) -> Service:
        self.core.enforce(ctx, "volume_extension:services:update")
        with self.core.db.writer() as session:
            row = session.scalar(
                select(Service).where(Service.host == host, Service.binary == binary)
            )
            if row is None:
                raise ServiceNotFound(service_id=f"{binary} on {host}")
            row.disabled = not enabled
            row.disabled_reason = None if enabled else reason
            return row
