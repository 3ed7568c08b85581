"""NetworkManager: the networking service's logic and public Python interface.

It is ``cloud.services["network"]``.  The API routes call its resource
methods (networks, subnets, ports, security groups, routers, floating IPs,
tags, quotas, IP availability); the compute service calls the instance
methods documented in ``onestack.network.interface``.  Every change wakes
the network agent, which rebuilds the data plane from the database.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from onestack.common.context import RequestContext
from onestack.common.models import QuotaLimit
from onestack.network import ipam, models
from onestack.network.attrs import as_str_list
from onestack.network.exceptions import (
    HTTPBadRequest,
    NetworkNotFound,
    NotSupported,
    TagNotFound,
)
from onestack.network.instances import InstancesMixin

#: URL collection name -> (model, singular resource, getter)
TAGGABLE: dict[str, tuple[type[Any], str]] = {
    "networks": (models.Network, "network"),
    "subnets": (models.Subnet, "subnet"),
    "subnetpools": (models.SubnetPool, "subnetpool"),
    "ports": (models.Port, "port"),
    "routers": (models.Router, "router"),
    "floatingips": (models.FloatingIP, "floatingip"),
    "security-groups": (models.SecurityGroup, "security_group"),
    "security_groups": (models.SecurityGroup, "security_group"),
}


class NetworkManager(InstancesMixin):
    # tags ---------------------------------------------------------------------------

    def _tag_target(self, ctx: RequestContext, collection: str, resource_id: str) -> Any:
        if collection not in TAGGABLE:
            raise NotSupported(operation=f"Tags on {collection}")
        getter = getattr(self, f"get_{TAGGABLE[collection][1]}")
        return getter(ctx, resource_id)

    def get_tags(self, ctx: RequestContext, collection: str, resource_id: str) -> list[str]:
        row = self._tag_target(ctx, collection, resource_id)
        return list(row.tag_list)

    def check_tag(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            raise TagNotFound(tag=tag, resource=TAGGABLE[collection][1], resource_id=resource_id)

    def replace_tags(
        self, ctx: RequestContext, collection: str, resource_id: str, tags: Any
    ) -> list[str]:
        values = as_str_list("tags", tags, unique=False)
        for tag in values:
            if not tag or len(tag) > 255 or "," in tag or "/" in tag:
                raise HTTPBadRequest(detail=f"Invalid tag {tag!r}")
        row = self._tag_target(ctx, collection, resource_id)
        model, singular = TAGGABLE[collection]
        self.enforce(ctx, f"update_{singular}", {"project_id": row.project_id})
        with self.db.writer() as session:
            current = session.get(model, resource_id)
            assert current is not None
            self.set_tags(session, current, singular, values)
            self.bump(current)
        return sorted(set(values))

    def add_tag(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            self.replace_tags(ctx, collection, resource_id, [*row.tag_list, tag])

    def remove_tag(self, ctx: RequestContext, collection: str, resource_id: str, tag: str) -> None:
        row = self._tag_target(ctx, collection, resource_id)
        if tag not in row.tag_list:
            raise TagNotFound(tag=tag, resource=TAGGABLE[collection][1], resource_id=resource_id)
        self.replace_tags(ctx, collection, resource_id, [t for t in row.tag_list if t != tag])

    # quotas ----------------------------------------------------------------------------

    def get_quota(self, ctx: RequestContext, project_id: str) -> dict[str, int]:
        self.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.db.reader() as session:
            return self.quotas.limits(session, project_id)

    def get_quota_details(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        self.enforce(ctx, "get_quota", {"project_id": project_id})
        with self.db.reader() as session:
            usage = self.quotas.usage(session, project_id)
        return {
            name: {"limit": u.limit, "used": u.in_use, "reserved": u.reserved}
            for name, u in usage.items()
        }

    def default_quota(self, ctx: RequestContext) -> dict[str, int]:
        with self.db.reader() as session:
            return self.quotas.defaults(session)

    def list_quotas(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.enforce(ctx, "list_quotas", {})
        with self.db.reader() as session:
            projects = sorted(
                set(
                    session.scalars(
                        select(QuotaLimit.project_id).where(QuotaLimit.service == "network")
                    )
                )
            )
            return [
                {**self.quotas.limits(session, p), "project_id": p, "tenant_id": p}
                for p in projects
            ]

    def update_quota(
        self, ctx: RequestContext, project_id: str, body: Mapping[str, Any]
    ) -> dict[str, int]:
        self.enforce(ctx, "update_quota", {"project_id": project_id})
        if not isinstance(body, dict):
            raise HTTPBadRequest(detail="quota must be an object")
        limits: dict[str, int] = {}
        for name, value in body.items():
            if name in ("project_id", "tenant_id", "force", "check_limit"):
                continue
            if name not in self.quotas.resources:
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
        with self.db.writer() as session:
            self.quotas.set_limits(session, project_id, limits)
            return self.quotas.limits(session, project_id)

    def delete_quota(self, ctx: RequestContext, project_id: str) -> None:
        self.enforce(ctx, "delete_quota", {"project_id": project_id})
        with self.db.writer() as session:
            self.quotas.reset(session, project_id)

    # network IP availability ---------------------------------------------------------------

    def ip_availability(self, ctx: RequestContext, network: models.Network) -> dict[str, Any]:
        with self.db.reader() as session:
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

    def get_ip_availability(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        self.enforce(ctx, "get_network_ip_availability", {})
        try:
            network = self.get_network(ctx, network_id)
        except NetworkNotFound:
            raise NetworkNotFound(net_id=network_id) from None
        return self.ip_availability(ctx, network)

    def list_ip_availability(
        self, ctx: RequestContext, query: list[tuple[str, str]]
    ) -> list[dict[str, Any]]:
        self.enforce(ctx, "get_network_ip_availability", {})
        wanted = {k: v for k, v in query if k in ("network_id", "network_name", "project_id",
                                                    "tenant_id", "ip_version")}  # fmt: skip
        net_query = [(k.replace("network_", "") if k != "network_id" else "id", v)
                     for k, v in wanted.items() if k != "ip_version"]  # fmt: skip
        result = []
        for network in self.list_networks(ctx, net_query).rows:
            entry = self.ip_availability(ctx, network)
            if "ip_version" in wanted:
                version = int(wanted["ip_version"]) if wanted["ip_version"].isdigit() else 0
                entry["subnet_ip_availability"] = [
                    s for s in entry["subnet_ip_availability"] if s["ip_version"] == version
                ]
            result.append(entry)
        return result

    # helpers for the agent and bootstrap ------------------------------------------------------

    def ensure_public_network(self, admin_project: str, host_leg: bool) -> str | None:
        """Create the external network ``public`` once; returns its id."""
        ctx = RequestContext.admin()
        with self.db.reader() as session:
            existing = session.scalar(
                select(models.Network.id).where(
                    models.Network.name == "public", models.Network.external
                )
            )
        if existing:
            return str(existing)
        cidr = ipaddress.ip_network(self.settings.public_cidr)
        network = self.create_network(
            ctx,
            {
                "name": "public",
                "router:external": True,
                "is_default": True,
                "project_id": admin_project,
                "description": "Default external network (host-internal bridge, no uplink)",
            },
        )
        with self.db.writer() as session:
            row = session.get(models.Network, network.id)
            assert row is not None
            row.host_leg = host_leg
        self.create_subnet(
            ctx,
            {
                "name": "public-subnet",
                "network_id": network.id,
                "cidr": str(cidr),
                "ip_version": cidr.version,
                "enable_dhcp": False,
                "project_id": admin_project,
            },
        )
        return network.id


if TYPE_CHECKING:
    from onestack.network.interface import NetworkService

    def _implements_the_protocol(manager: NetworkManager) -> NetworkService:
        return manager
