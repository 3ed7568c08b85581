"""Networks and subnets: create, show, list, update, delete, with IPAM checks."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, or_, select
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
from onestack.network.exceptions import (
    BadRequest,
    InvalidInput,
    NetworkInUse,
    NetworkNotFound,
    SubnetInUse,
    SubnetNotFound,
)
from onestack.network.listing import ListSpec, Page, attach_tags, list_rows
from onestack.network.models import FloatingIP, IPAllocation, Network, Port, Subnet
from onestack.network.subnetpools import SubnetPoolsMixin

DHCP_OWNER = "network:dhcp"
NETWORK_OWNERS_DELETABLE = (DHCP_OWNER,)

NETWORK_ATTRS = {
    "name", "description", "admin_state_up", "shared", "router:external", "mtu",
    "port_security_enabled", "provider:network_type", "provider:physical_network",
    "provider:segmentation_id", "project_id", "tenant_id", "availability_zone_hints",
    "is_default", "dns_domain", "qos_policy_id",
}  # fmt: skip
SUBNET_ATTRS = {
    "name", "description", "network_id", "ip_version", "cidr", "gateway_ip",
    "allocation_pools", "dns_nameservers", "host_routes", "enable_dhcp", "ipv6_ra_mode",
    "ipv6_address_mode", "project_id", "tenant_id", "subnetpool_id", "prefixlen",
    "service_types", "segment_id", "use_default_subnetpool", "dns_publish_fixed_ip",
}  # fmt: skip
IPV6_MODES = ("slaac", "dhcpv6-stateful", "dhcpv6-stateless")

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


class NetworksMixin(SubnetPoolsMixin):
    # visibility -----------------------------------------------------------------

    def _network_query(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Network)
        if not self.sees_all(ctx):
            stmt = stmt.where(
                or_(Network.project_id == ctx.project_id, Network.shared, Network.external)
            )
        return stmt

    def _get_network(self, session: Session, ctx: RequestContext, network_id: str) -> Network:
        row = session.scalar(self._network_query(ctx).where(Network.id == network_id))
        if row is None:
            raise NetworkNotFound(net_id=network_id)
        return row

    def _subnet_query(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Subnet)
        if not self.sees_all(ctx):
            visible = select(Network.id).where(or_(Network.shared, Network.external))
            stmt = stmt.where(
                or_(Subnet.project_id == ctx.project_id, Subnet.network_id.in_(visible))
            )
        return stmt

    def _get_subnet(self, session: Session, ctx: RequestContext, subnet_id: str) -> Subnet:
        row = session.scalar(self._subnet_query(ctx).where(Subnet.id == subnet_id))
        if row is None:
            raise SubnetNotFound(subnet_id=subnet_id)
        return row

    # networks -------------------------------------------------------------------

    def create_network(self, ctx: RequestContext, body: Mapping[str, Any]) -> Network:
        check_known(body, NETWORK_ATTRS)
        project = self.owner_for_create(ctx, body)
        self.enforce(ctx, "create_network", {"project_id": project})
        row = Network(id=new_id(), project_id=project, mtu=self.settings.default_mtu)
        self._apply_network(ctx, row, body, creating=True)
        with self.db.writer() as session:
            self.check_quota(session, project, "network")
            session.add(row)
            session.flush()
            row.tag_list = []
            session.refresh(row)
        self.changed()
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
                self.enforce(ctx, f"{verb}_network:shared", {"project_id": row.project_id})
            row.shared = value
        if "router:external" in body:
            value = as_bool("router:external", body["router:external"])
            if value != bool(row.external) or (creating and value):
                self.enforce(ctx, f"{verb}_network:router:external", {"project_id": row.project_id})
            row.external = value
        if "is_default" in body:
            value = as_bool("is_default", body["is_default"])
            if value:
                self.enforce(ctx, "create_network:is_default", {"project_id": row.project_id})
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
                if hint != self.settings.availability_zone:
                    raise invalid("availability_zone_hints", f"AvailabilityZone {hint} not found")
            row.availability_zone_hints = hints
        provider = {k: body[k] for k in body if k.startswith("provider:")}
        if provider:
            if not creating:
                raise InvalidInput(
                    error_message="Plugin does not support updating provider attributes"
                )
            self.enforce(ctx, "create_network:provider", {"project_id": row.project_id})
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

    def get_network(self, ctx: RequestContext, network_id: str) -> Network:
        with self.db.reader() as session:
            row = self._get_network(session, ctx, network_id)
            attach_tags(session, [row])
            return row

    def list_networks(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        with self.db.reader() as session:
            page = list_rows(session, NETWORK_LIST, self._network_query(ctx), query)
            attach_tags(session, page.rows)
            return page

    def update_network(
        self, ctx: RequestContext, network_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Network:
        check_known(body, NETWORK_ATTRS - {"project_id", "tenant_id"})
        with self.db.writer() as session:
            row = self._get_network(session, ctx, network_id)
            self.enforce(ctx, "update_network", {"project_id": row.project_id})
            self.check_revision(row, if_match)
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
            self.bump(row)
            session.flush()
            attach_tags(session, [row])
        self.changed()
        return row

    def delete_network(self, ctx: RequestContext, network_id: str) -> None:
        with self.db.writer() as session:
            row = self._get_network(session, ctx, network_id)
            self.enforce(ctx, "delete_network", {"project_id": row.project_id})
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
                self.delete_tags(session, fip.id)
                session.delete(fip)
            for port in ports:
                self.delete_tags(session, port.id)
                session.delete(port)
            session.flush()
            for subnet in session.scalars(select(Subnet).where(Subnet.network_id == row.id)):
                self.delete_tags(session, subnet.id)
                session.delete(subnet)
            self.delete_tags(session, row.id)
            session.delete(row)
        self.changed()

    # subnets ----------------------------------------------------------------------

    def create_subnet(self, ctx: RequestContext, body: Mapping[str, Any]) -> Subnet:
        check_known(body, SUBNET_ATTRS)
        if "network_id" not in body:
            raise invalid("network_id", "'network_id' is a required attribute")
        network_id = as_uuid("network_id", body["network_id"])
        ip_version = as_int("ip_version", body.get("ip_version", 4))
        if ip_version not in (4, 6):
            raise invalid("ip_version", f"'{ip_version}' is not in [4, 6]")
        cidr = None if body.get("cidr") is None else as_str("cidr", body["cidr"])
        with self.db.writer() as session:
            pool = self.pool_for_subnet(session, ctx, body, ip_version)
            if pool is not None:
                if cidr is not None:
                    ipam.parse_cidr(cidr, ip_version)
                cidr = self.allocate_from_pool(session, pool, cidr, body.get("prefixlen"))
            elif cidr is None:
                raise BadRequest(
                    resource="subnets",
                    msg="a subnetpool must be specified in the absence of a cidr",
                )
            net = ipam.parse_cidr(cidr, ip_version)
            network = self._get_network(session, ctx, network_id)
            project = self.owner_for_create(ctx, body)
            if network.project_id != project and not ctx.is_admin:
                raise BadRequest(
                    resource="subnet",
                    msg="Tenant is not allowed to create subnet on this network",
                )
            self.enforce(ctx, "create_subnet", {"project_id": project})
            for other in network.subnets:
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
            self.check_quota(session, project, "subnet")
            session.add(row)
            session.flush()
            if row.enable_dhcp:
                self._ensure_dhcp_port(session, network, row)
            row.tag_list = []
            session.refresh(row)
        self.changed()
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
                mac_address=ipam.random_mac(self.settings.base_mac), device_owner=DHCP_OWNER,
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

    def get_subnet(self, ctx: RequestContext, subnet_id: str) -> Subnet:
        with self.db.reader() as session:
            row = self._get_subnet(session, ctx, subnet_id)
            attach_tags(session, [row])
            return row

    def list_subnets(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        with self.db.reader() as session:
            page = list_rows(session, SUBNET_LIST, self._subnet_query(ctx), query)
            attach_tags(session, page.rows)
            return page

    def update_subnet(
        self, ctx: RequestContext, subnet_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Subnet:
        check_known(body, SUBNET_ATTRS)
        for fixed in (
            "network_id", "ip_version", "cidr", "project_id", "tenant_id", "subnetpool_id",
            "prefixlen", "use_default_subnetpool",
        ):  # fmt: skip
            if fixed in body:
                raise invalid(fixed, "Cannot update read-only attribute")
        with self.db.writer() as session:
            row = self._get_subnet(session, ctx, subnet_id)
            self.enforce(ctx, "update_subnet", {"project_id": row.project_id})
            self.check_revision(row, if_match)
            was_dhcp = row.enable_dhcp
            self._apply_subnet(row, ipaddress.ip_network(row.cidr), body, creating=False)
            self.bump(row)
            session.flush()
            if row.enable_dhcp and not was_dhcp:
                self._ensure_dhcp_port(session, row.network, row)
            elif was_dhcp and not row.enable_dhcp:
                self._drop_dhcp_allocation(session, row)
            attach_tags(session, [row])
        self.changed()
        return row

    def delete_subnet(self, ctx: RequestContext, subnet_id: str) -> None:
        with self.db.writer() as session:
            row = self._get_subnet(session, ctx, subnet_id)
            self.enforce(ctx, "delete_subnet", {"project_id": row.project_id})
            owners = session.execute(
                select(Port.device_owner)
                .join(IPAllocation, IPAllocation.port_id == Port.id)
                .where(IPAllocation.subnet_id == row.id)
            ).scalars()
            if any(owner != DHCP_OWNER for owner in owners):
                raise SubnetInUse(subnet_id=row.id)
            self._drop_dhcp_allocation(session, row)
            self.delete_tags(session, row.id)
            session.delete(row)
        self.changed()
