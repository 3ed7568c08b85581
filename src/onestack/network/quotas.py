"""Quotas of the networking resources, and IP availability per network."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.network import ipam, models
from onestack.network.core import NetworkCore
from onestack.network.exceptions import HTTPBadRequest, NetworkNotFound
from onestack.network.networks import Networks


class NetworkQuotas:
    def __init__(self, core: NetworkCore) -> None:
        self.core = core

    def get(self, ctx: RequestContext, project_id: str) -> dict[str, int]:
        self.core.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.core.db.reader() as session:
            return self.core.quotas.limits(session, project_id)

    def details(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        self.core.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.core.db.reader() as session:
            usage = self.core.quotas.usage(session, project_id)
        return {
            name: {"limit": u.limit, "used": u.in_use, "reserved": u.reserved}
            for name, u in usage.items()
        }

    def defaults(self, ctx: RequestContext) -> dict[str, int]:
        with self.core.db.reader() as session:
            return self.core.quotas.defaults(session)

    def list_all(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "list_quotas", {})
        with self.core.db.reader() as session:
            return [
                {**self.core.quotas.limits(session, p), "project_id": p, "tenant_id": p}
                for p in self.core.quotas.projects(session)
            ]

    def update(
        self, ctx: RequestContext, project_id: str, body: Mapping[str, Any]
    ) -> dict[str, int]:
        self.core.enforce(ctx, "update_quota", {"project_id": project_id})
        if not isinstance(body, dict):
            raise HTTPBadRequest(detail="quota must be an object")
        limits: dict[str, int] = {}
        for name, value in body.items():
            if name in ("project_id", "tenant_id", "force", "check_limit"):
                continue
            if name not in self.core.quotas.resources:
                raise HTTPBadRequest(detail=f"Unrecognized attribute(s) '{name}'")
            try:
                limits[name] = int(value)
            except (TypeError, ValueError):
                raise HTTPBadRequest(
                    detail=f"Invalid input for {name}. Reason: '{value}' is not an integer."
                ) from None
            if limits[name] < -1:
                raise HTTPBadRequest(
                    detail=f"Invalid input for {name}. Reason: '{value}' should be greater "
                    "than or equal to -1."
                )
        with self.core.db.writer() as session:
            self.core.quotas.set_limits(session, project_id, limits)
            return self.core.quotas.limits(session, project_id)

    def delete(self, ctx: RequestContext, project_id: str) -> None:
        self.core.enforce(ctx, "delete_quota", {"project_id": project_id})
        with self.core.db.writer() as session:
            self.core.quotas.reset(session, project_id)


class IPAvailability:
    def __init__(self, core: NetworkCore, networks: Networks) -> None:
        self.core = core
        self.networks = networks

    def _of(self, ctx: RequestContext, network: models.Network) -> dict[str, Any]:
        with self.core.db.reader() as session:
            used_by_subnet = dict(
                session.execute(
                    select(models.IPAllocation.subnet_id, func.count())
                    .where(models.IPAllocation.network_id == network.id)
                    .group_by(models.IPAllocation.subnet_id)
                ).all()
            )
        subnets = []
        for subnet in network.subnets:
            total = ipam.pool_size(subnet.allocation_pools)
            subnets.append(
                {
                    "subnet_id": subnet.id,
                    "subnet_name": subnet.name,
                    "cidr": subnet.cidr,
                    "ip_version": subnet.ip_version,
                    "total_ips": total,
                    "used_ips": int(used_by_subnet.get(subnet.id, 0)),
                }
            )
        return {
            "network_id": network.id,
            "network_name": network.name,
            "tenant_id": network.project_id,
            "project_id": network.project_id,
            "total_ips": sum(s["total_ips"] for s in subnets),
            "used_ips": sum(s["used_ips"] for s in subnets),
            "subnet_ip_availability": subnets,
        }

    def get(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        self.core.enforce(ctx, "get_network_ip_availability", {})
        try:
            network = self.networks.get(ctx, network_id)
        except NetworkNotFound:
            raise NetworkNotFound(net_id=network_id) from None
        return self._of(ctx, network)

    def list_all(self, ctx: RequestContext, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "get_network_ip_availability", {})
        wanted = {k: v for k, v in query if k in ("network_id", "network_name", "project_id",
                                                    "tenant_id", "ip_version")}  # fmt: skip
        net_query = [(k.replace("network_", "") if k != "network_id" else "id", v)
                     for k, v in wanted.items() if k != "ip_version"]  # fmt: skip
        result = []
        for network in self.networks.list_page(ctx, net_query).rows:
            entry = self._of(ctx, network)
            if "ip_version" in wanted:
                version = int(wanted["ip_version"]) if wanted["ip_version"].isdigit() else 0
                entry["subnet_ip_availability"] = [
                    s for s in entry["subnet_ip_availability"] if s["ip_version"] == version
                ]
            result.append(entry)
        return result
