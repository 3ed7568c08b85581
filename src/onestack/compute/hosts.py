"""Hosts as the API shows them: os-services, os-hypervisors,
os-availability-zone (zones as aggregates make them), os-simple-tenant-usage, and the
older os-hosts (up to microversion 2.42) and os-instance_usage_audit_log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, or_, select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest, Conflict, NotSupported
from onestack.compute.aggregates import host_zones, service_zone
from onestack.compute.exceptions import (
    ComputeHostNotFound,
    HypervisorNotFound,
    ServiceNotFound,
)
from onestack.compute.models import AggregateHost, ComputeNode, ComputeService, Instance

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore


@dataclass(frozen=True)
class HypervisorView:
    node: ComputeNode
    service: ComputeService | None
    up: bool
    vcpus_used: int
    memory_mb_used: int
    local_gb_used: int
    running_vms: int
    servers: list[tuple[str, str]]


class HostManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer
        self.settings = core.settings

    def is_up(self, service: ComputeService) -> bool:
        return self.core.service_up(service)

    def zones_of(self, services: list[ComputeService]) -> dict[str, str]:
        """Each service's effective zone (``{service id: zone}``; compute.aggregates)."""
        with self.db.reader() as session:
            effective = host_zones(session, {s.host for s in services})
        return {s.id: service_zone(s, effective) for s in services}

    # -- services --------------------------------------------------------------

    def services(
        self, ctx: RequestContext, host: str | None, binary: str | None
    ) -> list[ComputeService]:
        self.enforcer.enforce(ctx, "os_compute_api:os-services:list")
        stmt = select(ComputeService).order_by(ComputeService.created_at)
        if host:
            stmt = stmt.where(ComputeService.host == host)
        if binary:
            stmt = stmt.where(ComputeService.binary == binary)
        with self.db.reader() as session:
            return list(session.scalars(stmt))

    def update_service(
        self, ctx: RequestContext, service_id: str, changes: dict[str, Any]
    ) -> ComputeService:
        self.enforcer.enforce(ctx, "os_compute_api:os-services:update")
        with self.db.writer() as session:
            service = session.get(ComputeService, service_id)
            if service is None:
                raise ServiceNotFound(service_id=service_id)
            for key, value in changes.items():
                setattr(service, key, value)
            if changes.get("disabled") is False:
                service.disabled_reason = None
            return service

    def update_service_of(
        self, ctx: RequestContext, host: str, binary: str, changes: dict[str, Any]
    ) -> ComputeService:
        """The legacy (before 2.53) update: the service named by host and binary."""
        self.enforcer.enforce(ctx, "os_compute_api:os-services:update")
        with self.db.reader() as session:
            service = session.scalars(
                select(ComputeService).where(
                    ComputeService.host == host, ComputeService.binary == binary
                )
            ).first()
            if service is None:
                raise ServiceNotFound(service_id=f"{binary} on {host}")
            service_id = service.id
        return self.update_service(ctx, service_id, changes)

    def delete_service(self, ctx: RequestContext, service_id: str) -> None:
        self.enforcer.enforce(ctx, "os_compute_api:os-services:delete")
        with self.db.writer() as session:
            service = session.get(ComputeService, service_id)
            if service is None:
                raise ServiceNotFound(service_id=service_id)
            if service.binary == "nova-compute":
                busy = session.scalar(
                    select(func.count()).where(Instance.host == service.host, ~Instance.deleted)
                )
                if busy:
                    raise Conflict(
                        f"Unable to delete compute service that is hosting "
                        f"instances: {service.host}"
                    )
                node = session.scalars(
                    select(ComputeNode).where(ComputeNode.host == service.host)
                ).first()
                if node is not None:
                    session.delete(node)
                # as Nova: a deleted compute service leaves its aggregates
                session.execute(delete(AggregateHost).where(AggregateHost.host == service.host))
            session.delete(service)

    def register_control(self, host: str) -> None:
        """The conductor and scheduler rows os-services lists."""
        with self.db.writer() as session:
            for binary in ("nova-conductor", "nova-scheduler"):
                row = session.scalars(
                    select(ComputeService).where(
                        ComputeService.host == host, ComputeService.binary == binary
                    )
                ).first()
                if row is None:
                    session.add(
                        ComputeService(
                            id=str(uuid.uuid4()), host=host, binary=binary, zone="internal"
                        )
                    )
                else:
                    row.updated_at = utcnow()

    def report_control(self, host: str) -> None:
        with self.db.writer() as session:
            for row in session.scalars(
                select(ComputeService).where(
                    ComputeService.host == host, ComputeService.binary != "nova-compute"
                )
            ):
                row.updated_at = utcnow()

    # -- hypervisors -----------------------------------------------------------

    def hypervisors(
        self, ctx: RequestContext, rule: str, pattern: str | None = None, with_servers: bool = False
    ) -> list[HypervisorView]:
        self.enforcer.enforce(ctx, f"os_compute_api:os-hypervisors:{rule}")
        stmt = select(ComputeNode).order_by(ComputeNode.hypervisor_hostname)
        if pattern:
            stmt = stmt.where(ComputeNode.hypervisor_hostname.contains(pattern))
        with self.db.reader() as session:
            return [self._view(session, node, with_servers) for node in session.scalars(stmt)]

    def node_id(self, ctx: RequestContext, given: str, legacy: bool) -> str:
        """The node's id from the URL: itself (2.53 on) or its legacy integer id."""
        if not legacy:
            return given
        for item in self.hypervisors(ctx, "show"):
            if str(legacy_id(item.node.id)) == given:
                return str(item.node.id)
        raise HypervisorNotFound(hypervisor_id=given)

    def uptime(self, ctx: RequestContext, node_id: str) -> tuple[HypervisorView, str]:
        """The hypervisor and its host's uptime as ``uptime`` prints it (the
        all-in-one's nodes all run on this machine)."""
        view = self.hypervisor(ctx, node_id)
        with open("/proc/uptime") as handle:
            seconds = float(handle.read().split()[0])
        text = (
            f" up {int(seconds // 86400)} days, {int(seconds % 86400 // 3600)}:"
            f"{int(seconds % 3600 // 60):02d}"
        )
        return view, text

    def hypervisor(
        self, ctx: RequestContext, node_id: str, with_servers: bool = False
    ) -> HypervisorView:
        self.enforcer.enforce(ctx, "os_compute_api:os-hypervisors:show")
        with self.db.reader() as session:
            node = session.get(ComputeNode, node_id)
            if node is None:
                raise HypervisorNotFound(hypervisor_id=node_id)
            return self._view(session, node, with_servers)

    def _view(self, session: Any, node: ComputeNode, with_servers: bool) -> HypervisorView:
        service = session.scalars(
            select(ComputeService).where(
                ComputeService.host == node.host, ComputeService.binary == "nova-compute"
            )
        ).first()
        rows = session.execute(
            select(
                Instance.id, Instance.name, Instance.vcpus, Instance.memory_mb, Instance.root_gb
            ).where(Instance.host == node.host, ~Instance.deleted)
        ).all()
        return HypervisorView(
            node=node,
            service=service,
            up=service is not None and self.is_up(service),
            vcpus_used=sum(r.vcpus for r in rows),
            memory_mb_used=sum(r.memory_mb for r in rows) + node.reserved_memory_mb,
            local_gb_used=sum(r.root_gb for r in rows),
            running_vms=len(rows),
            servers=[(r.id, r.name) for r in rows] if with_servers else [],
        )

    # -- availability zones ----------------------------------------------------

    def zones(self, ctx: RequestContext, detail: bool) -> list[dict[str, Any]]:
        rule = "detail" if detail else "list"
        self.enforcer.enforce(ctx, f"os_compute_api:os-availability-zone:{rule}")
        with self.db.reader() as session:
            services = list(session.scalars(select(ComputeService)))
            effective = host_zones(session)
        zones: dict[str, dict[str, Any]] = {}
        for service in services:
            if service.binary != "nova-compute" and not detail:
                continue
            name = service_zone(service, effective)
            zone = zones.setdefault(name, {"available": False, "hosts": {}})
            up = self.is_up(service) and not service.disabled
            if service.binary == "nova-compute":
                zone["available"] = zone["available"] or up
            else:
                zone["available"] = True
            zone["hosts"].setdefault(service.host, {})[service.binary] = {
                "available": self.is_up(service),
                "active": not service.disabled,
                "updated_at": service.updated_at,
            }
        return [{"zoneName": name, **data} for name, data in sorted(zones.items())]

    # -- usage -----------------------------------------------------------------

    def usage(
        self, ctx: RequestContext, project_id: str | None, start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        if project_id is None:
            self.enforcer.enforce(ctx, "os_compute_api:os-simple-tenant-usage:list")
        else:
            self.enforcer.enforce(
                ctx, "os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id}
            )
        if start > end:
            raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
        stmt = select(Instance).where(
            Instance.created_at < end,
            or_(Instance.terminated_at.is_(None), Instance.terminated_at > start),
        )
        if project_id is not None:
            stmt = stmt.where(Instance.project_id == project_id)
        with self.db.reader() as session:
            rows = list(session.scalars(stmt.order_by(Instance.created_at)))
        projects: dict[str, dict[str, Any]] = {}
        for row in rows:
            began = max(row.launched_at or row.created_at, start)
            ended = min(row.terminated_at or end, end, utcnow())
            hours = max((ended - began).total_seconds() / 3600.0, 0.0)
            summary = projects.setdefault(
                row.project_id,
                {
                    "tenant_id": row.project_id,
                    "total_hours": 0.0,
                    "total_vcpus_usage": 0.0,
                    "total_memory_mb_usage": 0.0,
                    "total_local_gb_usage": 0.0,
                    "start": start,
                    "stop": end,
                    "server_usages": [],
                },
            )
            summary["total_hours"] += hours
            summary["total_vcpus_usage"] += hours * row.vcpus
            summary["total_memory_mb_usage"] += hours * row.memory_mb
            summary["total_local_gb_usage"] += hours * row.root_gb
            summary["server_usages"].append({"instance": row, "hours": hours})
        return list(projects.values())


#: os-hosts' "service" of each binary (Nova's topics)
TOPICS = {"nova-compute": "compute", "nova-conductor": "conductor", "nova-scheduler": "scheduler"}


class LegacyHosts:
    """``os-hosts`` (until 2.42) and ``os-instance_usage_audit_log``: Nova's older
    views of the same services and nodes."""

    def __init__(self, hosts: HostManager) -> None:
        self.hosts = hosts
        self.db = hosts.db
        self.enforcer = hosts.enforcer

    def hosts_list(self, ctx: RequestContext, zone: str | None) -> list[dict[str, str]]:
        self.enforcer.enforce(ctx, "os_compute_api:os-hosts:list")
        with self.db.reader() as session:
            services = list(session.scalars(select(ComputeService).order_by(ComputeService.host)))
            effective = host_zones(session)
        result = []
        for service in services:
            entry_zone = (
                service_zone(service, effective) if service.binary == "nova-compute" else "internal"
            )
            if zone is not None and entry_zone != zone:
                continue
            result.append(
                {
                    "host_name": service.host,
                    "service": TOPICS.get(service.binary, service.binary),
                    "zone": entry_zone,
                }
            )
        return result

    def _compute_service(self, session: Any, host: str) -> ComputeService:
        service = session.scalars(
            select(ComputeService).where(
                ComputeService.host == host, ComputeService.binary == "nova-compute"
            )
        ).first()
        if service is None:
            raise ComputeHostNotFound(host=host)
        return service

    def show(self, ctx: RequestContext, host: str) -> list[dict[str, Any]]:
        """The host's resources: ``(total)``, ``(used_now)``, ``(used_max)``, then one
        entry per project with instances there."""
        self.enforcer.enforce(ctx, "os_compute_api:os-hosts:show")
        with self.db.reader() as session:
            self._compute_service(session, host)
            node = session.scalars(select(ComputeNode).where(ComputeNode.host == host)).first()
            if node is None:
                raise ComputeHostNotFound(host=host)
            view = self.hosts._view(session, node, False)
            rows = session.execute(
                select(
                    Instance.project_id,
                    Instance.vcpus,
                    Instance.memory_mb,
                    Instance.root_gb,
                ).where(Instance.host == host, ~Instance.deleted)
            ).all()

        def entry(project: str, cpu: int, memory: int, disk: int) -> dict[str, Any]:
            return {
                "resource": {
                    "host": host,
                    "project": project,
                    "cpu": cpu,
                    "memory_mb": memory,
                    "disk_gb": disk,
                }
            }

        projects: dict[str, list[int]] = {}
        for row in rows:
            sums = projects.setdefault(row.project_id, [0, 0, 0])
            sums[0] += row.vcpus
            sums[1] += row.memory_mb
            sums[2] += row.root_gb
        used_max = [sum(p[i] for p in projects.values()) for i in range(3)]
        return [
            entry("(total)", node.vcpus, node.memory_mb, node.local_gb),
            entry("(used_now)", view.vcpus_used, view.memory_mb_used, view.local_gb_used),
            entry("(used_max)", *used_max),
            *(entry(project, *sums) for project, sums in sorted(projects.items())),
        ]

    def update(
        self, ctx: RequestContext, host: str, status: str | None, maintenance: str | None
    ) -> dict[str, str]:
        """Enable or disable the host's compute service; maintenance mode is a 501, as
        Nova's drivers answer it."""
        self.enforcer.enforce(ctx, "os_compute_api:os-hosts:update")
        with self.db.reader() as session:
            service_id = self._compute_service(session, host).id
        if maintenance is not None:
            raise NotSupported(operation="Host maintenance mode")
        result = {"host": host}
        if status is not None:
            disabled = status == "disable"
            self.hosts.update_service(ctx, service_id, {"disabled": disabled})
            result["status"] = "disabled" if disabled else "enabled"
        return result

    def power_action(self, ctx: RequestContext, host: str, action: str) -> None:
        """startup, shutdown, reboot of a whole host: onestack does not power hosts."""
        self.enforcer.enforce(ctx, f"os_compute_api:os-hosts:{action}")
        with self.db.reader() as session:
            self._compute_service(session, host)
        raise NotSupported(operation=f"Host power action {action}")

    def audit_log(self, ctx: RequestContext, before: datetime | None) -> dict[str, Any]:
        """Nova's instance usage audit for the last completed month before ``before``
        (now by default).  onestack runs no usage audit task, so every compute host is
        reported as not having run it, as Nova reports with ``instance_usage_audit``
        off."""
        rule = "show" if before is not None else "list"
        self.enforcer.enforce(ctx, f"os_compute_api:os-instance-usage-audit-log:{rule}")
        moment = before or datetime.now(UTC)
        ending = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        beginning = (
            ending.replace(year=ending.year - 1, month=12)
            if ending.month == 1
            else ending.replace(month=ending.month - 1)
        )
        with self.db.reader() as session:
            hosts = sorted(
                session.scalars(
                    select(ComputeService.host).where(ComputeService.binary == "nova-compute")
                )
            )
        return {
            "hosts_not_run": hosts,
            "log": {},
            "num_hosts": len(hosts),
            "num_hosts_done": 0,
            "num_hosts_not_run": len(hosts),
            "num_hosts_running": 0,
            "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
            "period_beginning": beginning.strftime("%Y-%m-%d %H:%M:%S"),
            "period_ending": ending.strftime("%Y-%m-%d %H:%M:%S"),
            "total_errors": 0,
            "total_instances": 0,
        }


def legacy_id(uuid_text: str) -> int:
    """The integer id shown before 2.53 (stable, derived from the UUID)."""
    return int(uuid_text.replace("-", "")[:7], 16)
