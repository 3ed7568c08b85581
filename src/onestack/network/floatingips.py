"""Floating IPs: an address of an external network, NATed to a port's fixed IP by
the router that connects the port's subnet to that network."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network import ipam
from onestack.network.addresses import AddressAllocator
from onestack.network.attrs import as_str, as_uuid, check_known, invalid, new_id
from onestack.network.collection import Collection
from onestack.network.core import NetworkCore
from onestack.network.exceptions import (
    BadRequest,
    ExternalGatewayForFloatingIPNotFound,
    ExternalIpAddressExhausted,
    FloatingIPPortAlreadyAssociated,
    IpAddressGenerationFailure,
    NetworkNotFound,
)
from onestack.network.listing import ListSpec
from onestack.network.models import FloatingIP, IPAllocation, Network, Port, Router
from onestack.network.routers import FIP_OWNER, RI_OWNER

FIP_ATTRS = {
    "floating_network_id", "floating_ip_address", "subnet_id", "port_id", "fixed_ip_address",
    "project_id", "tenant_id", "description", "dns_name", "dns_domain", "qos_policy_id",
}  # fmt: skip
F = FloatingIP
FIP_LIST = ListSpec(
    FloatingIP,
    {
        "id": F.id, "description": F.description, "project_id": F.project_id,
        "tenant_id": F.project_id, "status": F.status,
        "floating_network_id": F.floating_network_id,
        "floating_ip_address": F.floating_ip_address, "fixed_ip_address": F.fixed_ip_address,
        "port_id": F.port_id, "router_id": F.router_id, "revision_number": F.revision_number,
        "created_at": F.created_at, "updated_at": F.updated_at,
    },
)  # fmt: skip


class FloatingIPs(Collection[FloatingIP]):
    resource = "floatingip"
    spec = FIP_LIST

    def __init__(self, core: NetworkCore, addresses: AddressAllocator) -> None:
        super().__init__(core)
        self.addresses = addresses

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.floatingips_visible(ctx)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.floatingip(session, ctx, item_id)

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> FloatingIP:
        check_known(body, FIP_ATTRS)
        if "floating_network_id" not in body:
            raise invalid("floating_network_id", "'floating_network_id' is a required attribute")
        network_id = as_uuid("floating_network_id", body["floating_network_id"])
        project = self.core.owner_for_create(ctx, body)
        self.core.enforce(ctx, "create_floatingip", {"project_id": project})
        network = session.get(Network, network_id)
        if network is None:
            raise NetworkNotFound(net_id=network_id)
        if not network.external:
            raise BadRequest(
                resource="floatingip",
                msg=f"Network {network_id} is not a valid external network",
            )
        self.core.check_quota(session, project, "floatingip")
        request: dict[str, Any] = {}
        if body.get("subnet_id"):
            request["subnet_id"] = as_uuid("subnet_id", body["subnet_id"])
        if body.get("floating_ip_address"):
            self.core.enforce(ctx, "create_floatingip:floating_ip_address", {"project_id": project})
            request["ip_address"] = str(ipam.parse_ip(body["floating_ip_address"]))
        fip = FloatingIP(
            id=new_id(), project_id=project,
            description=as_str("description", body.get("description", ""), allow_none=True),
            floating_network_id=network.id,
        )  # fmt: skip
        requests = [request] if request else None
        if requests is None:
            v4 = next((s for s in network.subnets if s.ip_version == 4), None)
            if v4 is None:
                raise BadRequest(resource="floatingip", msg=f"Network {network.id} has no "
                                 "IPv4 subnet")  # fmt: skip
            requests = [{"subnet_id": v4.id}]
        try:
            ips = self.addresses.allocate(session, network, requests, owner=FIP_OWNER)
        except IpAddressGenerationFailure:
            raise ExternalIpAddressExhausted(net_id=network.id) from None
        port = Port(
            id=new_id(), project_id="", network_id=network.id,
            mac_address=self.addresses.mac(session, network, None), device_owner=FIP_OWNER,
            device_id=fip.id, status="N/A", port_security_enabled=False,
        )  # fmt: skip
        port.fixed_ips = ips
        session.add(port)
        fip.floating_port_id = port.id
        fip.floating_ip_address = ips[0].ip_address
        session.add(fip)
        session.flush()
        if body.get("port_id"):
            self._associate(session, ctx, fip, body["port_id"], body.get("fixed_ip_address"))
        fip.tag_list = []
        return fip

    def _associate(
        self, session: Session, ctx: RequestContext, fip: FloatingIP, port_id: Any, fixed: Any
    ) -> None:
        if port_id is None:
            fip.port_id = None
            fip.fixed_ip_address = None
            fip.router_id = None
            fip.status = "DOWN"
            return
        port = self.core.port(session, ctx, as_uuid("port_id", port_id))
        v4 = [a for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if fixed is not None:
            chosen = next((a for a in v4 if a.ip_address == str(fixed)), None)
            if chosen is None:
                raise BadRequest(resource="floatingip", msg=f"Port {port.id} does not have fixed "
                                 f"ip {fixed}")  # fmt: skip
        elif not v4:
            raise BadRequest(resource="floatingip", msg=f"Port {port.id} does not have any IPv4 "
                             "address")  # fmt: skip
        else:
            chosen = v4[0]
        other = session.scalar(
            select(FloatingIP).where(
                FloatingIP.port_id == port.id,
                FloatingIP.fixed_ip_address == chosen.ip_address,
                FloatingIP.floating_network_id == fip.floating_network_id,
                FloatingIP.id != fip.id,
            )
        )
        if other is not None:
            raise FloatingIPPortAlreadyAssociated(
                floating_ip_address=fip.floating_ip_address, fip_id=fip.id, port_id=port.id,
                fixed_ip=chosen.ip_address, net_id=fip.floating_network_id,
            )  # fmt: skip
        router = self._router_for(session, fip.floating_network_id, chosen.subnet_id)
        if router is None:
            raise ExternalGatewayForFloatingIPNotFound(
                external_network_id=fip.floating_network_id, subnet_id=chosen.subnet_id,
                port_id=port.id,
            )  # fmt: skip
        fip.port_id = port.id
        fip.fixed_ip_address = chosen.ip_address
        fip.router_id = router.id
        fip.status = "ACTIVE"

    def _router_for(self, session: Session, ext_net: str, subnet_id: str) -> Router | None:
        stmt = (
            select(Router)
            .join(Port, Port.device_id == Router.id)
            .join(IPAllocation, IPAllocation.port_id == Port.id)
            .where(
                Router.gw_network_id == ext_net,
                Port.device_owner == RI_OWNER,
                IPAllocation.subnet_id == subnet_id,
            )
        )
        return session.scalars(stmt).first()

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> FloatingIP:
        check_known(body, {"port_id", "fixed_ip_address", "description"})
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            if "description" in body:
                row.description = as_str("description", body["description"], allow_none=True)
            if "port_id" in body:
                self._associate(session, ctx, row, body["port_id"], body.get("fixed_ip_address"))
            self.core.bump(row)
            session.flush()
            self.core.with_tags(session, [row])
        self.core.changed()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            port = session.get(Port, row.floating_port_id)
            if port is not None:
                session.delete(port)
            self.core.delete_tags(session, row.id)
            session.delete(row)
        self.core.changed()
