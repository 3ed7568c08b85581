"""Subnets: IPAM checks, allocation from subnet pools, and the network's DHCP port."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network import ipam
from onestack.network.attrs import (
    as_bool,
    as_int,
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
from onestack.network.exceptions import BadRequest, InvalidInput, SubnetInUse
from onestack.network.listing import ListSpec
from onestack.network.models import IPAllocation, Network, Port, Subnet
from onestack.network.networks import DHCP_OWNER
from onestack.network.subnetpools import SubnetPools

SUBNET_ATTRS = {
    "name", "description", "network_id", "ip_version", "cidr", "gateway_ip",
    "allocation_pools", "dns_nameservers", "host_routes", "enable_dhcp", "ipv6_ra_mode",
    "ipv6_address_mode", "project_id", "tenant_id", "subnetpool_id", "prefixlen",
    "service_types", "segment_id", "use_default_subnetpool", "dns_publish_fixed_ip",
}  # fmt: skip
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")

SUBNET_LIST = ListSpec(
    Subnet,
    {
        "id": Subnet.id, "name": Subnet.name, "description": Subnet.description,
        "project_id": Subnet.project_id, "tenant_id": Subnet.project_id,
        "network_id": Subnet.network_id, "ip_version": Subnet.ip_version, "cidr": Subnet.cidr,
        "gateway_ip": Subnet.gateway_ip, "enable_dhcp": Subnet.enable_dhcp,
        "ipv6_ra_mode": Subnet.ipv6_ra_mode, "ipv6_address_mode": Subnet.ipv6_address_mode,
        "subnetpool_id": Subnet.subnetpool_id, "segment_id": Subnet.segment_id,
        "revision_number": Subnet.revision_number, "created_at": Subnet.created_at,
        "updated_at": Subnet.updated_at,
    },
    booleans=frozenset({"enable_dhcp"}),
    integers=frozenset({"ip_version", "revision_number"}),
)  # fmt: skip


class Subnets(Collection[Subnet]):
    resource = "subnet"
    spec = SUBNET_LIST

    def __init__(self, core: NetworkCore, pools: SubnetPools) -> None:
        super().__init__(core)
        self.pools = pools

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.subnets_visible(ctx)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.subnet(session, ctx, item_id)

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Subnet:
        check_known(body, SUBNET_ATTRS)
        if "network_id" not in body:
            raise invalid("network_id", "'network_id' is a required attribute")
        network_id = as_uuid("network_id", body["network_id"])
        ip_version = as_int("ip_version", body.get("ip_version", 4))
        if ip_version not in (4, 6):
            raise invalid("ip_version", f"'{ip_version}' is not in [4, 6]")
        cidr = None if body.get("cidr") is None else as_str("cidr", body["cidr"])
        pool = self.pools.pool_for_subnet(session, ctx, body, ip_version)
        if pool is not None:
            if cidr is not None:
                ipam.parse_cidr(cidr, ip_version)
            cidr = self.pools.allocate_from_pool(session, pool, cidr, body.get("prefixlen"))
        elif cidr is None:
            raise BadRequest(
                resource="subnets",
                msg="a subnetpool must be specified in the absence of a cidr",
            )
        net = ipam.parse_cidr(cidr, ip_version)
        network = self.core.network(session, ctx, network_id)
        project = self.core.owner_for_create(ctx, body)
        if network.project_id != project and not ctx.is_admin:
            raise BadRequest(
                resource="subnet",
                msg="Tenant is not allowed to create subnet on this network",
            )
        self.core.enforce(ctx, "create_subnet", {"project_id": project})
        # a query, not network.subnets: an earlier item of a bulk create counts too
        for other in session.scalars(select(Subnet).where(Subnet.network_id == network.id)):
            if ipam.overlaps(other.cidr, str(net)):
                raise InvalidInput(
                    error_message=f"Requested subnet with cidr: {net} for network: "
                    f"{network.id} overlaps with another subnet"
                )
        row = Subnet(
            id=new_id(), project_id=project, network_id=network.id, ip_version=ip_version,
            cidr=str(net), subnetpool_id=pool.id if pool is not None else None,
        )  # fmt: skip
        self._apply_subnet(row, net, body, creating=True)
        self.core.check_quota(session, project, "subnet")
        session.add(row)
        session.flush()
        if row.enable_dhcp:
            self._ensure_dhcp_port(session, network, row)
        row.tag_list = []
        session.refresh(row)
        return row

    def _apply_subnet(
        self, row: Subnet, net: ipam.IPNetwork, body: Mapping[str, Any], *, creating: bool
    ) -> None:
        if "name" in body:
            row.name = as_str("name", body["name"], allow_none=True)
        if "description" in body:
            row.description = as_str("description", body["description"], allow_none=True)
        if "enable_dhcp" in body:
            row.enable_dhcp = as_bool("enable_dhcp", body["enable_dhcp"])
        elif creating:
            row.enable_dhcp = True
        if "gateway_ip" in body:
            gateway = body["gateway_ip"]
            if gateway is not None:
                address = ipam.parse_ip(gateway, "gateway_ip")
                if (
                    address not in net
                    or address in (net.network_address,)
                    or (net.version == 4 and address == net.broadcast_address)
                ):
                    raise InvalidInput(
                        error_message=f"Gateway IP {gateway} is not valid for subnet {net}"
                    )
                gateway = str(address)
            row.gateway_ip = gateway
        elif creating:
            row.gateway_ip = ipam.default_gateway(net)
        if "allocation_pools" in body:
            pools = as_list("allocation_pools", body["allocation_pools"])
            row.allocation_pools = ipam.validate_pools(net, pools, row.gateway_ip)
        elif creating:
            row.allocation_pools = ipam.default_pools(net, row.gateway_ip)
        elif "gateway_ip" in body:
            ipam.validate_pools(net, row.allocation_pools, row.gateway_ip)
        if "dns_nameservers" in body:
            servers = as_str_list("dns_nameservers", body["dns_nameservers"] or [])
            for server in servers:
                ipam.parse_ip(server, "dns_nameservers")
            row.dns_nameservers = servers
        elif creating:
            row.dns_nameservers = []
        if "host_routes" in body:
            routes = []
            for route in as_list("host_routes", body["host_routes"] or []):
                if not isinstance(route, dict) or set(route) != {"destination", "nexthop"}:
                    raise invalid("host_routes", f"Invalid data format for hostroute: '{route}'")
                destination = ipaddress.ip_network(str(route["destination"]), strict=False)
                nexthop = ipam.parse_ip(route["nexthop"], "host_routes")
                routes.append({"destination": str(destination), "nexthop": str(nexthop)})
            row.host_routes = routes
        elif creating:
            row.host_routes = []
        for mode in ("ipv6_ra_mode", "ipv6_address_mode"):
            if mode in body and body[mode] is not None:
                if row.ip_version != 6 or body[mode] not in IPV6_MODES:
                    raise invalid(mode, f"'{body[mode]}' is not in {list(IPV6_MODES)}")
                setattr(row, mode, body[mode])
        if (
            row.ipv6_address_mode in ("slaac", "dhcpv6-stateless")
            and ipaddress.ip_network(row.cidr).prefixlen != 64
        ):
            raise InvalidInput(
                error_message="Invalid CIDR "
                f"{row.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address "
                "format, which requires the prefix to be /64"
            )
        if (
            row.ipv6_ra_mode is not None
            and row.ipv6_address_mode is not None
            and row.ipv6_ra_mode != row.ipv6_address_mode
        ):
            raise InvalidInput(
                error_message=f"ipv6_ra_mode set to '{row.ipv6_ra_mode}' with "
                f"ipv6_address_mode set to '{row.ipv6_address_mode}' is not valid. If both "
                "attributes are set, they must be the same value"
            )
        if creating and "service_types" in body:
            row.service_types = as_str_list("service_types", body["service_types"])

    def _ensure_dhcp_port(self, session: Session, network: Network, subnet: Subnet) -> None:
        """One DHCP port per network, with an address on every DHCP subnet."""
        port = session.scalar(
            select(Port).where(Port.network_id == network.id, Port.device_owner == DHCP_OWNER)
        )
        if port is None:
            port = Port(
                id=new_id(), project_id=network.project_id, network_id=network.id,
                mac_address=ipam.random_mac(self.core.settings.base_mac), device_owner=DHCP_OWNER,
                device_id=f"dhcp-{network.id}", status="ACTIVE", port_security_enabled=False,
                binding_host_id="", name="",
            )  # fmt: skip
            session.add(port)
            session.flush()
        if any(a.subnet_id == subnet.id for a in port.fixed_ips):
            return
        used = set(session.scalars(select(IPAllocation.ip_address).where(
            IPAllocation.subnet_id == subnet.id)))  # fmt: skip
        address = next(ipam.candidates(subnet.allocation_pools, used), None)
        if address is None:
            return
        port.fixed_ips.append(
            IPAllocation(
                ip_address=address,
                subnet_id=subnet.id,
                network_id=network.id,
                position=len(port.fixed_ips),
            )
        )

    def _drop_dhcp_allocation(self, session: Session, subnet: Subnet) -> None:
        port = session.scalar(
            select(Port).where(
                Port.network_id == subnet.network_id, Port.device_owner == DHCP_OWNER
            )
        )
        if port is None:
            return
        port.fixed_ips = [a for a in port.fixed_ips if a.subnet_id != subnet.id]
        if not port.fixed_ips:
            session.delete(port)
        session.flush()

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Subnet:
        check_known(body, SUBNET_ATTRS)
        for fixed in (
            "network_id", "ip_version", "cidr", "project_id", "tenant_id", "subnetpool_id",
            "prefixlen", "use_default_subnetpool",
        ):  # fmt: skip
            if fixed in body:
                raise invalid(fixed, "Cannot update read-only attribute")
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "update", if_match)
            was_dhcp = row.enable_dhcp
            self._apply_subnet(row, ipaddress.ip_network(row.cidr), body, creating=False)
            self.core.bump(row)
            session.flush()
            if row.enable_dhcp and not was_dhcp:
                self._ensure_dhcp_port(session, row.network, row)
            elif was_dhcp and not row.enable_dhcp:
                self._drop_dhcp_allocation(session, row)
            self.core.with_tags(session, [row])
        self.core.changed()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            owners = session.execute(
                select(Port.device_owner)
                .join(IPAllocation, IPAllocation.port_id == Port.id)
                .where(IPAllocation.subnet_id == row.id)
            ).scalars()
            if any(owner != DHCP_OWNER for owner in owners):
                raise SubnetInUse(subnet_id=row.id)
            self._drop_dhcp_allocation(session, row)
            self.core.delete_tags(session, row.id)
            session.delete(row)
        self.core.changed()
