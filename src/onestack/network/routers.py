"""Routers (gateway, interfaces, static routes) and floating IPs."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network import ipam
from onestack.network.addresses import AddressAllocator
from onestack.network.attrs import (
    as_bool,
    as_list,
    as_str,
    as_str_list,
    as_uuid,
    check_known,
    invalid,
    new_id,
)
from onestack.network.collection import Collection
from onestack.network.core import NetworkCore
from onestack.network.exceptions import (
    BadRequest,
    ExternalIpAddressExhausted,
    InvalidInput,
    IpAddressGenerationFailure,
    NetworkNotFound,
    PortInUse,
    RouterInterfaceInUseByFloatingIP,
    RouterInterfaceNotFound,
    RouterInterfaceNotFoundForSubnet,
    RouterInUse,
)
from onestack.network.listing import ListSpec
from onestack.network.models import FloatingIP, Network, Port, Router, Subnet

RI_OWNER = "network:router_interface"
GW_OWNER = "network:router_gateway"
FIP_OWNER = "network:floatingip"
ROUTER_ATTRS = {
    "name", "description", "admin_state_up", "external_gateway_info", "routes", "project_id",
    "tenant_id", "distributed", "ha", "availability_zone_hints", "flavor_id",
    "enable_ndp_proxy",
}  # fmt: skip
ROUTER_LIST = ListSpec(
    Router,
    {
        "id": Router.id, "name": Router.name, "description": Router.description,
        "project_id": Router.project_id, "tenant_id": Router.project_id,
        "status": Router.status, "admin_state_up": Router.admin_state_up,
        "revision_number": Router.revision_number, "created_at": Router.created_at,
        "updated_at": Router.updated_at,
    },
    booleans=frozenset({"admin_state_up"}),
)  # fmt: skip


class Routers(Collection[Router]):
    resource = "router"
    spec = ROUTER_LIST

    def __init__(self, core: NetworkCore, addresses: AddressAllocator) -> None:
        super().__init__(core)
        self.addresses = addresses

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.routers_visible(ctx)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.router(session, ctx, item_id)

    def _decorate(self, session: Session, rows: Sequence[Any]) -> None:
        self.core.with_tags(session, rows)
        for row in rows:
            gw = session.get(Port, row.gw_port_id) if row.gw_port_id else None
            row.gw_fixed_ips = [
                {"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in gw.fixed_ips
            ] if gw else []  # fmt: skip

    def router_ports(self, session: Session, router_id: str) -> list[Port]:
        return list(
            session.scalars(
                select(Port).where(Port.device_id == router_id, Port.device_owner == RI_OWNER)
            )
        )

    # routers ------------------------------------------------------------------------------

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Router:
        check_known(body, ROUTER_ATTRS)
        if body.get("routes"):
            raise BadRequest(resource="router", msg="Attribute 'routes' not allowed in POST")
        if "ha" in body and as_bool("ha", body["ha"]):
            raise BadRequest(resource="router", msg="ha routers are not supported")
        project = self.core.owner_for_create(ctx, body)
        self.core.enforce(ctx, "create_router", {"project_id": project})
        distributed = False
        if "distributed" in body:
            self.core.enforce(ctx, "create_router:distributed", {"project_id": project})
            distributed = as_bool("distributed", body["distributed"])
        self.core.check_quota(session, project, "router")
        row = Router(
            id=new_id(), project_id=project,
            name=as_str("name", body.get("name", ""), allow_none=True),
            description=as_str("description", body.get("description", ""), allow_none=True),
            admin_state_up=as_bool("admin_state_up", body.get("admin_state_up", True)),
            routes=[],
            availability_zone_hints=as_str_list(
                "availability_zone_hints", body.get("availability_zone_hints", [])
            ),
            distributed=distributed,
        )  # fmt: skip
        session.add(row)
        session.flush()
        if body.get("external_gateway_info"):
            self._set_gateway(session, ctx, row, body["external_gateway_info"])
        self._decorate(session, [row])
        return row

    def _set_gateway(self, session: Session, ctx: RequestContext, row: Router, info: Any) -> None:
        if info is None or info == {}:
            self._clear_gateway(session, row)
            return
        if not isinstance(info, dict) or not set(info) <= {
            "network_id", "enable_snat", "external_fixed_ips"
        }:  # fmt: skip
            raise invalid("external_gateway_info", f"Invalid data format: '{info}'")
        if "network_id" not in info:
            raise invalid("external_gateway_info", "network_id is required")
        network_id = as_uuid("external_gateway_info", info["network_id"])
        network = session.get(Network, network_id)
        if network is None or not network.external:
            if network is None:
                raise NetworkNotFound(net_id=network_id)
            raise BadRequest(
                resource="router",
                msg=f"Network {network_id} is not an external network",
            )
        if "enable_snat" in info:
            row.enable_snat = as_bool("enable_snat", info["enable_snat"])
        fixed = info.get("external_fixed_ips")
        if row.gw_network_id == network_id and row.gw_port_id and fixed is None:
            return
        if fixed is not None:
            self.core.enforce(ctx, "create_router:external_gateway_info:external_fixed_ips",
                         {"project_id": row.project_id})  # fmt: skip
            fixed = as_list("external_fixed_ips", fixed)
        self._clear_gateway(session, row, keep_snat=True)
        try:
            ips = self.addresses.allocate(session, network, fixed, owner=GW_OWNER)
        except IpAddressGenerationFailure:
            raise ExternalIpAddressExhausted(net_id=network.id) from None
        port = Port(
            id=new_id(), project_id="", network_id=network.id,
            mac_address=self.addresses.mac(session, network, None), device_owner=GW_OWNER,
            device_id=row.id, status="ACTIVE", port_security_enabled=False,
        )  # fmt: skip
        port.fixed_ips = ips
        session.add(port)
        session.flush()
        row.gw_network_id = network.id
        row.gw_port_id = port.id

    def _clear_gateway(self, session: Session, row: Router, keep_snat: bool = False) -> None:
        if row.gw_port_id is None:
            return
        used = session.scalar(
            select(FloatingIP.id).where(
                FloatingIP.router_id == row.id,
                FloatingIP.floating_network_id == row.gw_network_id,
            )
        )
        if used:
            raise RouterInUse(
                router_id=row.id,
                reason="has associated floating IPs on the external network; cannot remove "
                "its gateway",
            )
        port = session.get(Port, row.gw_port_id)
        if port is not None:
            session.delete(port)
            session.flush()
        row.gw_port_id = None
        row.gw_network_id = None
        if not keep_snat:
            row.enable_snat = True

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Router:
        check_known(body, ROUTER_ATTRS - {"project_id", "tenant_id"})
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            for name in ("name", "description"):
                if name in body:
                    setattr(row, name, as_str(name, body[name], allow_none=True))
            if "ha" in body and as_bool("ha", body["ha"]):
                raise BadRequest(resource="router", msg="ha routers are not supported")
            if "admin_state_up" in body:
                row.admin_state_up = as_bool("admin_state_up", body["admin_state_up"])
            if "distributed" in body:
                self._set_distributed(ctx, row, as_bool("distributed", body["distributed"]))
            if "external_gateway_info" in body:
                self._set_gateway(session, ctx, row, body["external_gateway_info"])
            if "routes" in body:
                row.routes = self._validated_routes(session, row, body["routes"])
            self.core.bump(row)
            session.flush()
            self._decorate(session, [row])
        self.core.changed()
        return row

    def _set_distributed(self, ctx: RequestContext, row: Router, wanted: bool) -> None:
        """The ``dvr`` flag (admins only): as in Neutron, a router changes mode only while
        its ``admin_state_up`` is false.  onestack's routers are centralized either way
        (a namespace on the network host), as with a Neutron backend without DVR agents."""
        self.core.enforce(ctx, "update_router:distributed", {"project_id": row.project_id})
        if wanted == row.distributed:
            return
        if row.admin_state_up:
            verb = "upgrade" if wanted else "migrate"
            kind = "distributed" if wanted else "centralized"
            raise BadRequest(
                resource="router",
                msg=f"Cannot {verb} active router to {kind}. Please set router "
                "admin_state_up to False prior to upgrade",
            )
        row.distributed = wanted

    def _validated_routes(self, session: Session, row: Router, value: Any) -> list[dict[str, str]]:
        routes = []
        subnets = self._router_subnets(session, row)
        for route in as_list("routes", value or []):
            if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
                raise invalid("routes", f"Invalid data format for route: '{route}'")
            try:
                destination = ipaddress.ip_network(str(route["destination"]), strict=False)
                nexthop = ipaddress.ip_address(str(route["nexthop"]))
            except ValueError as exc:
                raise invalid("routes", str(exc)) from None
            if not any(nexthop in ipaddress.ip_network(s.cidr) for s in subnets):
                raise InvalidInput(
                    error_message=f"Invalid format for routes: [{route}], the nexthop is not "
                    "connected with router"
                )
            routes.append({"destination": str(destination), "nexthop": str(nexthop)})
        return routes

    def _router_subnets(self, session: Session, row: Router) -> list[Subnet]:
        ids = [a.subnet_id for p in self.router_ports(session, row.id) for a in p.fixed_ips]
        if row.gw_port_id:
            gw = session.get(Port, row.gw_port_id)
            ids += [a.subnet_id for a in gw.fixed_ips] if gw else []
        return [s for s in (session.get(Subnet, i) for i in ids) if s is not None]

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            if self.router_ports(session, row.id):
                raise RouterInUse(router_id=row.id)
            for fip in session.scalars(select(FloatingIP).where(FloatingIP.router_id == row.id)):
                fip.router_id = None
            self._clear_gateway(session, row)
            self.core.delete_tags(session, row.id)
            session.delete(row)
        self.core.changed()

    # interfaces ------------------------------------------------------------------------------

    def add_router_interface(
        self, ctx: RequestContext, router_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(body, dict) or not body:
            raise BadRequest(resource="router", msg="Either subnet_id or port_id must be specified")
        check_known(body, {"subnet_id", "port_id"})
        if "subnet_id" in body and "port_id" in body:
            raise BadRequest(resource="router", msg="Cannot specify both subnet-id and port-id")
        with self.core.db.writer() as session:
            row = self.core.router(session, ctx, router_id)
            self.core.enforce(ctx, "add_router_interface", {"project_id": row.project_id})
            existing = {s.id: s for s in self._router_subnets(session, row)}
            if "subnet_id" in body:
                subnet = self.core.subnet(session, ctx, as_uuid("subnet_id", body["subnet_id"]))
                if not subnet.gateway_ip:
                    raise BadRequest(
                        resource="router", msg="Subnet for router interface must have a gateway IP"
                    )
                if subnet.id in existing:
                    raise BadRequest(
                        resource="router",
                        msg=f"Router already has a port on subnet {subnet.id}",
                    )
                self._check_overlap(subnet, existing.values())
                port = Port(
                    id=new_id(), project_id=row.project_id, network_id=subnet.network_id,
                    mac_address=self.addresses.mac(session, subnet.network, None),
                    device_owner=RI_OWNER, device_id=row.id, status="ACTIVE",
                    port_security_enabled=False,
                )  # fmt: skip
                port.fixed_ips = self.addresses.allocate(
                    session, subnet.network,
                    [{"subnet_id": subnet.id, "ip_address": subnet.gateway_ip}], owner=RI_OWNER,
                )  # fmt: skip
                session.add(port)
            else:
                port = self.core.port(session, ctx, as_uuid("port_id", body["port_id"]))
                if port.device_id or port.device_owner:
                    raise PortInUse(port_id=port.id, net_id=port.network_id,
                                    device_id=port.device_id or port.device_owner)  # fmt: skip
                if not port.fixed_ips:
                    raise BadRequest(resource="router", msg="Router port must have at least "
                                     "one fixed IP")  # fmt: skip
                for alloc in port.fixed_ips:
                    attached = session.get(Subnet, alloc.subnet_id)
                    assert attached is not None
                    self._check_overlap(attached, existing.values())
                port.device_owner = RI_OWNER
                port.device_id = row.id
                port.status = "ACTIVE"
                port.port_security_enabled = False
                port.security_group_bindings = []
                self.core.bump(port)
            self.core.bump(row)
            session.flush()
            result = self._interface_info(row, port)
        self.core.changed()
        return result

    @staticmethod
    def _check_overlap(subnet: Subnet, others: Any) -> None:
        for other in others:
            if ipam.overlaps(subnet.cidr, other.cidr):
                raise BadRequest(
                    resource="router",
                    msg=f"Cidr {subnet.cidr} of subnet {subnet.id} overlaps with cidr "
                    f"{other.cidr} of subnet {other.id}",
                )

    @staticmethod
    def _interface_info(row: Router, port: Port) -> dict[str, Any]:
        subnets = [a.subnet_id for a in port.fixed_ips]
        return {
            "id": row.id, "tenant_id": row.project_id, "project_id": row.project_id,
            "port_id": port.id, "network_id": port.network_id,
            "subnet_id": subnets[0] if subnets else None, "subnet_ids": subnets,
        }  # fmt: skip

    def remove_router_interface(
        self, ctx: RequestContext, router_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        if not isinstance(body, dict) or not body:
            raise BadRequest(resource="router", msg="Either subnet_id or port_id must be specified")
        check_known(body, {"subnet_id", "port_id"})
        with self.core.db.writer() as session:
            row = self.core.router(session, ctx, router_id)
            self.core.enforce(ctx, "remove_router_interface", {"project_id": row.project_id})
            ports = self.router_ports(session, row.id)
            if "port_id" in body:
                port = next((p for p in ports if p.id == body["port_id"]), None)
                if port is None:
                    raise RouterInterfaceNotFound(router_id=row.id, port_id=body["port_id"])
            else:
                subnet_id = str(body["subnet_id"])
                self.core.subnet(session, ctx, subnet_id)
                port = next(
                    (p for p in ports if any(a.subnet_id == subnet_id for a in p.fixed_ips)), None
                )
                if port is None:
                    raise RouterInterfaceNotFoundForSubnet(router_id=row.id, subnet_id=subnet_id)
            for alloc in port.fixed_ips:
                if self._fips_via(session, row, alloc.subnet_id):
                    raise RouterInterfaceInUseByFloatingIP(
                        router_id=row.id, subnet_id=alloc.subnet_id
                    )
            result = self._interface_info(row, port)
            session.delete(port)
            self.core.bump(row)
        self.core.changed()
        return result

    def _fips_via(self, session: Session, row: Router, subnet_id: str) -> bool:
        for fip in session.scalars(select(FloatingIP).where(FloatingIP.router_id == row.id)):
            if fip.port_id is None:
                continue
            port = session.get(Port, fip.port_id)
            if port and any(a.subnet_id == subnet_id for a in port.fixed_ips):
                return True
        return False
