"""What Nova's network proxy APIs need of Neutron (``interface.NetworkProxyService``).

Each call goes through the sub-managers the Neutron routes use, so visibility,
policy, quotas and validation are Neutron's; the rows become the interface's
frozen records.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.network.core import NetworkCore
from onestack.network.exceptions import FloatingIPNotFound
from onestack.network.floatingips import FloatingIPs
from onestack.network.interface import (
    FloatingIPRecord,
    NetworkInfo,
    SecurityGroupRecord,
    SecurityGroupRuleRecord,
)
from onestack.network.models import FloatingIP, Network, Port
from onestack.network.networks import Networks
from onestack.network.secgroups import SecurityGroupRules, SecurityGroups


def rule_record(row: Any) -> SecurityGroupRuleRecord:
    return SecurityGroupRuleRecord(
        id=row.id,
        security_group_id=row.security_group_id,
        direction=row.direction,
        ethertype=row.ethertype,
        protocol=row.protocol,
        port_range_min=row.port_range_min,
        port_range_max=row.port_range_max,
        remote_ip_prefix=row.remote_ip_prefix,
        remote_group_id=row.remote_group_id,
    )


def group_record(row: Any) -> SecurityGroupRecord:
    return SecurityGroupRecord(
        id=row.id,
        name=row.name or "",
        description=row.description or "",
        project_id=row.project_id,
        rules=tuple(rule_record(r) for r in row.rules),
    )


class NovaNetworkProxy:
    def __init__(
        self,
        core: NetworkCore,
        networks: Networks,
        groups: SecurityGroups,
        rules: SecurityGroupRules,
        floatingips: FloatingIPs,
    ) -> None:
        self.core = core
        self.networks = networks
        self.groups = groups
        self.rules = rules
        self.floatingips = floatingips

    # -- networks -------------------------------------------------------------

    def list_networks(self, ctx: RequestContext) -> list[NetworkInfo]:
        rows = self.networks.list_page(ctx, [("sort_key", "name")]).rows
        return [NetworkInfo(r.id, r.name, r.project_id, r.shared, r.external) for r in rows]

    # -- security groups --------------------------------------------------------

    def list_security_groups(
        self, ctx: RequestContext, project_id: str | None
    ) -> list[SecurityGroupRecord]:
        query = [("project_id", project_id)] if project_id else []
        return [group_record(r) for r in self.groups.list_page(ctx, query).rows]

    def get_security_group(self, ctx: RequestContext, group_id: str) -> SecurityGroupRecord:
        return group_record(self.groups.get(ctx, group_id))

    def create_security_group(
        self, ctx: RequestContext, name: str, description: str
    ) -> SecurityGroupRecord:
        row = self.groups.create(ctx, {"name": name, "description": description})
        return self.get_security_group(ctx, row.id)

    def update_security_group(
        self, ctx: RequestContext, group_id: str, name: str, description: str
    ) -> SecurityGroupRecord:
        self.groups.update(ctx, group_id, {"name": name, "description": description}, None)
        return self.get_security_group(ctx, group_id)

    def delete_security_group(self, ctx: RequestContext, group_id: str) -> None:
        self.groups.delete(ctx, group_id)

    def create_security_group_rule(
        self,
        ctx: RequestContext,
        group_id: str,
        *,
        ethertype: str,
        protocol: str | None,
        port_range_min: int | None,
        port_range_max: int | None,
        remote_ip_prefix: str | None,
        remote_group_id: str | None,
    ) -> SecurityGroupRuleRecord:
        body = {
            "security_group_id": group_id,
            "direction": "ingress",
            "ethertype": ethertype,
            "protocol": protocol,
            "port_range_min": port_range_min,
            "port_range_max": port_range_max,
            "remote_ip_prefix": remote_ip_prefix,
            "remote_group_id": remote_group_id,
        }
        return rule_record(self.rules.create(ctx, body))

    def delete_security_group_rule(self, ctx: RequestContext, rule_id: str) -> None:
        self.rules.delete(ctx, rule_id)

    # -- floating IPs -----------------------------------------------------------

    def _records(self, ctx: RequestContext, rows: list[FloatingIP]) -> list[FloatingIPRecord]:
        with self.core.db.reader() as session:
            nets = {n.id: n.name for n in session.scalars(select(Network))}
            ports = {
                p.id: p.device_id
                for p in session.scalars(
                    select(Port).where(Port.id.in_([r.port_id for r in rows if r.port_id]))
                )
            }
        return [
            FloatingIPRecord(
                id=r.id,
                floating_ip_address=r.floating_ip_address,
                floating_network_id=r.floating_network_id,
                pool=nets.get(r.floating_network_id, ""),
                project_id=r.project_id,
                fixed_ip_address=r.fixed_ip_address,
                port_id=r.port_id,
                instance_id=(ports.get(r.port_id) or None) if r.port_id else None,
            )
            for r in rows
        ]

    def list_floating_ips(self, ctx: RequestContext) -> list[FloatingIPRecord]:
        query = [("project_id", ctx.project_id or "")]
        return self._records(ctx, self.floatingips.list_page(ctx, query).rows)

    def get_floating_ip(self, ctx: RequestContext, fip_id: str) -> FloatingIPRecord:
        return self._records(ctx, [self.floatingips.get(ctx, fip_id)])[0]

    def find_floating_ip(self, ctx: RequestContext, address: str) -> FloatingIPRecord:
        rows = self.floatingips.list_page(ctx, [("floating_ip_address", address)]).rows
        if not rows:
            raise FloatingIPNotFound(floatingip_id=address)
        return self._records(ctx, rows[:1])[0]

    def create_floating_ip(self, ctx: RequestContext, network_id: str) -> FloatingIPRecord:
        row = self.floatingips.create(ctx, {"floating_network_id": network_id})
        return self.get_floating_ip(ctx, row.id)

    def delete_floating_ip(self, ctx: RequestContext, fip_id: str) -> None:
        self.floatingips.delete(ctx, fip_id)

    def associate_floating_ip(
        self, ctx: RequestContext, fip_id: str, port_id: str | None, fixed_address: str | None
    ) -> FloatingIPRecord:
        body: dict[str, Any] = {"port_id": port_id}
        if fixed_address is not None:
            body["fixed_ip_address"] = fixed_address
        self.floatingips.update(ctx, fip_id, body, None)
        return self.get_floating_ip(ctx, fip_id)
