"""Networks: create, show, list, update, delete (with their subnets and service ports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network.attrs import (
    as_bool,
    as_int,
    as_str,
    as_str_list,
    check_known,
    invalid,
    new_id,
)
from onestack.network.collection import Collection
from onestack.network.exceptions import InvalidInput, NetworkInUse
from onestack.network.listing import ListSpec
from onestack.network.models import FloatingIP, Network, Port, Subnet

DHCP_OWNER = "network:dhcp"
NETWORK_OWNERS_DELETABLE = (DHCP_OWNER,)

NETWORK_ATTRS = {
    "name", "description", "admin_state_up", "shared", "router:external", "mtu",
    "port_security_enabled", "provider:network_type", "provider:physical_network",
    "provider:segmentation_id", "project_id", "tenant_id", "availability_zone_hints",
    "is_default", "dns_domain", "qos_policy_id",
}  # fmt: skip
NETWORK_LIST = ListSpec(
    Network,
    {
        "id": Network.id, "name": Network.name, "description": Network.description,
        "project_id": Network.project_id, "tenant_id": Network.project_id,
        "status": Network.status, "admin_state_up": Network.admin_state_up,
        "shared": Network.shared, "router:external": Network.external, "mtu": Network.mtu,
        "port_security_enabled": Network.port_security_enabled,
        "provider:network_type": Network.network_type,
        "provider:physical_network": Network.physical_network,
        "provider:segmentation_id": Network.segmentation_id, "is_default": Network.is_default,
        "revision_number": Network.revision_number, "created_at": Network.created_at,
        "updated_at": Network.updated_at,
    },
    booleans=frozenset(
        {"admin_state_up", "shared", "router:external", "port_security_enabled", "is_default"}
    ),
    integers=frozenset({"mtu", "provider:segmentation_id", "revision_number"}),
)  # fmt: skip


class Networks(Collection[Network]):
    resource = "network"
    spec = NETWORK_LIST

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.networks_visible(ctx)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.network(session, ctx, item_id)

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Network:
        check_known(body, NETWORK_ATTRS)
        core = self.core
        project = core.owner_for_create(ctx, body)
        core.enforce(ctx, "create_network", {"project_id": project})
        row = Network(id=new_id(), project_id=project, mtu=core.settings.default_mtu)
        self._apply_network(ctx, row, body, creating=True)
        core.check_quota(session, project, "network")
        session.add(row)
        session.flush()
        row.tag_list = []
        session.refresh(row)
        return row

    def _apply_network(
        self, ctx: RequestContext, row: Network, body: Mapping[str, Any], *, creating: bool
    ) -> None:
        verb = "create" if creating else "update"
        if "name" in body:
            row.name = as_str("name", body["name"], allow_none=True)
        if "description" in body:
            row.description = as_str("description", body["description"], allow_none=True)
        if "admin_state_up" in body:
            row.admin_state_up = as_bool("admin_state_up", body["admin_state_up"])
        if "shared" in body:
            value = as_bool("shared", body["shared"])
            if value != row.shared or (creating and value):
                self.core.enforce(ctx, f"{verb}_network:shared", {"project_id": row.project_id})
            row.shared = value
        if "router:external" in body:
            value = as_bool("router:external", body["router:external"])
            if value != bool(row.external) or (creating and value):
                self.core.enforce(
                    ctx, f"{verb}_network:router:external", {"project_id": row.project_id}
                )
            row.external = value
        if "is_default" in body:
            value = as_bool("is_default", body["is_default"])
            if value:
                self.core.enforce(ctx, "create_network:is_default", {"project_id": row.project_id})
            row.is_default = value
        if "mtu" in body:
            row.mtu = as_int("mtu", body["mtu"], low=68, high=9000)
        if "port_security_enabled" in body:
            row.port_security_enabled = as_bool(
                "port_security_enabled", body["port_security_enabled"]
            )
        if "dns_domain" in body:
            row.dns_domain = as_str("dns_domain", body["dns_domain"], allow_none=True)
        if "availability_zone_hints" in body:
            hints = as_str_list("availability_zone_hints", body["availability_zone_hints"])
            for hint in hints:
                if hint != self.core.settings.availability_zone:
                    raise invalid("availability_zone_hints", f"AvailabilityZone {hint} not found")
            row.availability_zone_hints = hints
        provider = {k: body[k] for k in body if k.startswith("provider:")}
        if provider:
            if not creating:
                raise InvalidInput(
                    error_message="Plugin does not support updating provider attributes"
                )
            self.core.enforce(ctx, "create_network:provider", {"project_id": row.project_id})
            net_type = provider.get("provider:network_type", "vxlan")
            if net_type not in ("vxlan", "flat", "local", "vlan"):
                raise InvalidInput(error_message=f"network_type value '{net_type}' not supported")
            row.network_type = net_type
            physnet = provider.get("provider:physical_network")
            row.physical_network = as_str("provider:physical_network", physnet) if physnet else None
            seg = provider.get("provider:segmentation_id")
            row.segmentation_id = (
                as_int("provider:segmentation_id", seg, low=1, high=16777215)
                if seg is not None
                else None
            )
        if creating and row.network_type == "vxlan" and row.segmentation_id is None:
            row.segmentation_id = int(row.id.replace("-", "")[:6], 16) or 1

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Network:
        check_known(body, NETWORK_ATTRS - {"project_id", "tenant_id"})
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            if body.get("router:external") is False and row.external:
                used = session.scalar(
                    select(Port.id).where(
                        Port.network_id == row.id,
                        Port.device_owner.in_(["network:router_gateway", "network:floatingip"]),
                    )
                )
                if used:
                    raise NetworkInUse(net_id=row.id)
            self._apply_network(ctx, row, body, creating=False)
            self.core.bump(row)
            session.flush()
            self.core.with_tags(session, [row])
        self.core.changed()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            # Floating IPs of an external network go with it, as in Neutron.
            fips = session.scalars(
                select(FloatingIP).where(FloatingIP.floating_network_id == row.id)
            ).all()
            fip_ports = {fip.floating_port_id for fip in fips}
            ports = session.scalars(select(Port).where(Port.network_id == row.id)).all()
            if any(
                p.device_owner not in NETWORK_OWNERS_DELETABLE and p.id not in fip_ports
                for p in ports
            ):
                raise NetworkInUse(net_id=row.id)
            for fip in fips:
                self.core.delete_tags(session, fip.id)
                session.delete(fip)
            for port in ports:
                self.core.delete_tags(session, port.id)
                session.delete(port)
            session.flush()
            for subnet in session.scalars(select(Subnet).where(Subnet.network_id == row.id)):
                self.core.delete_tags(session, subnet.id)
                session.delete(subnet)
            self.core.delete_tags(session, row.id)
            session.delete(row)
        self.core.changed()
