"""Ports: MAC and fixed-IP allocation, security groups, address pairs, binding."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.network import ipam
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
from onestack.network.exceptions import (
    BadRequest,
    Conflict,
    InvalidInput,
    InvalidIpForNetwork,
    InvalidIpForSubnet,
    IpAddressGenerationFailure,
    IpAddressInUse,
    MacAddressInUse,
    NetworkNotFound,
    PortNotFound,
    SecurityGroupNotFound,
)
from onestack.network.listing import ListSpec, Page, attach_tags, list_rows
from onestack.network.models import (
    FloatingIP,
    IPAllocation,
    Network,
    Port,
    PortSecurityGroup,
    SecurityGroup,
    Subnet,
)
from onestack.network.networks import NetworksMixin

PORT_ATTRS = {
    "name", "description", "network_id", "admin_state_up", "mac_address", "fixed_ips",
    "device_id", "device_owner", "project_id", "tenant_id", "security_groups",
    "allowed_address_pairs", "port_security_enabled", "binding:host_id", "binding:vnic_type",
    "binding:profile", "dns_name", "qos_policy_id", "propagate_uplink_status",
}  # fmt: skip
#: owners that never get automatic (SLAAC) addresses: routers' legs carry the gateway
NO_AUTO_ADDRESS = ("network:router_interface", "network:router_gateway", "network:floatingip")
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder")


class PortDeletionForbidden(Conflict):
    error_type = "ServicePortInUse"
    msg_fmt = "Port {port_id} cannot be deleted directly via the port API: {reason}."


class PortSecurityAndIPRequiredForSecurityGroups(InvalidInput):
    msg_fmt = (
        "Port security must be enabled and port must have an IP address in order to "
        "use security groups."
    )


class AddressPairAndPortSecurityRequired(Conflict):
    msg_fmt = "Port Security must be enabled in order to have allowed address pairs on a port."


def _fixed_ips_filter(stmt: Select[Any], values: list[str]) -> Select[Any]:
    for value in values:
        key, _, wanted = value.partition("=")
        column = {
            "ip_address": IPAllocation.ip_address,
            "subnet_id": IPAllocation.subnet_id,
        }.get(key)
        if column is None:
            continue
        if key == "ip_address" and wanted.endswith("*"):
            clause = column.startswith(wanted[:-1])
        else:
            clause = column == wanted
        stmt = stmt.where(exists().where(IPAllocation.port_id == Port.id, clause))
    return stmt


def _sg_filter(stmt: Select[Any], values: list[str]) -> Select[Any]:
    return stmt.where(
        exists().where(
            PortSecurityGroup.port_id == Port.id, PortSecurityGroup.security_group_id.in_(values)
        )
    )


PORT_LIST = ListSpec(
    Port,
    {
        "id": Port.id, "name": Port.name, "description": Port.description,
        "project_id": Port.project_id, "tenant_id": Port.project_id,
        "network_id": Port.network_id, "mac_address": Port.mac_address,
        "admin_state_up": Port.admin_state_up, "status": Port.status,
        "device_id": Port.device_id, "device_owner": Port.device_owner,
        "binding:host_id": Port.binding_host_id, "binding:vnic_type": Port.binding_vnic_type,
        "port_security_enabled": Port.port_security_enabled, "dns_name": Port.dns_name,
        "revision_number": Port.revision_number, "created_at": Port.created_at,
        "updated_at": Port.updated_at,
    },
    booleans=frozenset({"admin_state_up", "port_security_enabled"}),
    integers=frozenset({"revision_number"}),
    special={"fixed_ips": _fixed_ips_filter, "security_groups": _sg_filter},
)  # fmt: skip


class PortsMixin(NetworksMixin):
    def _port_query(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Port)
        if not self.sees_all(ctx):
            owned_networks = select(Network.id).where(Network.project_id == ctx.project_id)
            stmt = stmt.where(
                (Port.project_id == ctx.project_id) | Port.network_id.in_(owned_networks)
            )
        return stmt

    def _get_port(self, session: Session, ctx: RequestContext, port_id: str) -> Port:
        row = session.scalar(self._port_query(ctx).where(Port.id == port_id))
        if row is None:
            raise PortNotFound(port_id=port_id)
        return row

    # addresses ---------------------------------------------------------------------

    def _used(self, session: Session, subnet_id: str) -> set[str]:
        return set(
            session.scalars(
                select(IPAllocation.ip_address).where(IPAllocation.subnet_id == subnet_id)
            )
        )

    def _allocate(
        self,
        session: Session,
        network: Network,
        requests: list[dict[str, Any]] | None,
        *,
        owner: str = "",
        mac: str | None = None,
    ) -> list[IPAllocation]:
        """Fixed IPs for a new port; ``None`` means one from each IP version's first
        subnet, plus the EUI-64 address of ``mac`` on every SLAAC subnet (as Neutron
        does for subnets whose ``ipv6_address_mode`` is ``slaac`` or ``dhcpv6-stateless``).
        """
        subnets = {s.id: s for s in network.subnets}
        result: list[IPAllocation] = []
        if requests is None:
            done: set[int] = set()
            for each in network.subnets:
                if each.ip_version in done or _auto_address(each):
                    continue
                free = ipam.pick(each.allocation_pools, self._used(session, each.id))
                if free is None:
                    continue
                done.add(each.ip_version)
                result.append(self._alloc(network, each, free, len(result)))
            if mac is not None and owner not in NO_AUTO_ADDRESS:
                for each in network.subnets:
                    if _auto_address(each):
                        slaac = ipam.eui64(each.cidr, mac)
                        result.append(self._alloc(network, each, slaac, len(result)))
            if network.subnets and not result:
                raise IpAddressGenerationFailure(net_id=network.id)
            return result
        taken: set[tuple[str, str]] = set()
        for request in requests:
            if not isinstance(request, dict) or not set(request) <= {"subnet_id", "ip_address"}:
                raise invalid("fixed_ips", f"Invalid data format for fixed IP: '{request}'")
            subnet: Subnet | None = None
            if request.get("subnet_id"):
                subnet = subnets.get(str(request["subnet_id"]))
                if subnet is None:
                    raise InvalidInput(
                        error_message=f"Failed to create port on network {network.id}, because "
                        f"fixed_ips included invalid subnet {request['subnet_id']}"
                    )
            if request.get("ip_address") is not None:
                address: ipam.IPAddress = ipam.parse_ip(request["ip_address"])
                if subnet is None:
                    subnet = next(
                        (s for s in network.subnets if address in ipaddress.ip_network(s.cidr)),
                        None,
                    )
                    if subnet is None:
                        raise InvalidIpForNetwork(ip_address=str(address))
                if (
                    _auto_address(subnet)
                    and owner not in NO_AUTO_ADDRESS
                    and (mac is None or str(address) != ipam.eui64(subnet.cidr, mac))
                ):
                    raise InvalidInput(
                        error_message=f"IPv6 address {address} cannot be directly assigned to "
                        f"a port on subnet {subnet.id} as the subnet is configured for "
                        "automatic addresses"
                    )
                net = ipaddress.ip_network(subnet.cidr)
                if (
                    address not in net
                    or address == net.network_address
                    or (net.version == 4 and address == net.broadcast_address)
                ):
                    raise InvalidIpForSubnet(ip_address=str(address))
                if str(address) == subnet.gateway_ip and owner != "network:router_interface":
                    raise IpAddressInUse(net_id=network.id, ip_address=str(address))
                text = str(address)
                if text in self._used(session, subnet.id) or (subnet.id, text) in taken:
                    raise IpAddressInUse(net_id=network.id, ip_address=text)
            elif subnet is not None and _auto_address(subnet) and mac is not None:
                text = ipam.eui64(subnet.cidr, mac)
            else:
                if subnet is None:
                    raise invalid("fixed_ips", "a subnet_id or an ip_address is required")
                used = self._used(session, subnet.id) | {a for s, a in taken if s == subnet.id}
                found = ipam.pick(subnet.allocation_pools, used)
                if found is None:
                    raise IpAddressGenerationFailure(net_id=network.id)
                text = found
            taken.add((subnet.id, text))
            result.append(self._alloc(network, subnet, text, len(result)))
        return result

    @staticmethod
    def _alloc(network: Network, subnet: Subnet, address: str, position: int) -> IPAllocation:
        return IPAllocation(
            ip_address=address, subnet_id=subnet.id, network_id=network.id, position=position
        )

    def _mac(self, session: Session, network: Network, requested: Any) -> str:
        if requested is not None:
            mac = ipam.normalize_mac(requested)
            clash = session.scalar(
                select(Port.id).where(Port.network_id == network.id, Port.mac_address == mac)
            )
            if clash:
                raise MacAddressInUse(net_id=network.id, mac=mac)
            return mac
        for _ in range(16):
            mac = ipam.random_mac(self.settings.base_mac)
            if not session.scalar(
                select(Port.id).where(Port.network_id == network.id, Port.mac_address == mac)
            ):
                return mac
        raise Conflict("Unable to generate a unique MAC address.")

    # security groups on ports -----------------------------------------------------------

    def _port_groups(
        self, session: Session, ctx: RequestContext, project: str, requested: Any
    ) -> list[str]:
        if requested is None:
            return [self._default_group(session, project).id]
        ids = as_str_list("security_groups", requested)
        for group_id in ids:
            group = session.get(SecurityGroup, group_id)
            if group is None or (group.project_id != project and not ctx.is_admin):
                raise SecurityGroupNotFound(id=group_id)
        return ids

    def _default_group(self, session: Session, project: str) -> SecurityGroup:
        raise NotImplementedError  # provided by SecurityGroupsMixin

    def _pairs(self, value: Any) -> list[dict[str, str]]:
        pairs = []
        for pair in as_list("allowed_address_pairs", value or []):
            if (
                not isinstance(pair, dict)
                or "ip_address" not in pair
                or not set(pair) <= {"ip_address", "mac_address"}
            ):
                raise invalid("allowed_address_pairs", f"'{pair}' is not a valid address pair")
            try:
                ip = str(ipaddress.ip_network(str(pair["ip_address"]), strict=False))
            except ValueError:
                raise invalid(
                    "allowed_address_pairs", f"'{pair['ip_address']}' is not a valid IP"
                ) from None
            if ip.endswith("/32") or ip.endswith("/128"):
                ip = ip.rsplit("/", 1)[0]
            entry = {"ip_address": ip}
            if pair.get("mac_address"):
                entry["mac_address"] = ipam.normalize_mac(pair["mac_address"])
            pairs.append(entry)
        return pairs

    # CRUD -------------------------------------------------------------------------------

    def create_port(self, ctx: RequestContext, body: Mapping[str, Any]) -> Port:
        check_known(body, PORT_ATTRS)
        if "network_id" not in body:
            raise invalid("network_id", "'network_id' is a required attribute")
        network_id = as_uuid("network_id", body["network_id"])
        project = self.owner_for_create(ctx, body)
        self.enforce(ctx, "create_port", {"project_id": project})
        if any(k.startswith("binding:") and k != "binding:vnic_type" for k in body):
            self.enforce(ctx, "create_port:binding", {"project_id": project})
        with self.db.writer() as session:
            network = self._get_network(session, ctx, network_id)
            if network.project_id != project and not network.shared and not ctx.is_admin:
                raise NetworkNotFound(net_id=network_id)
            owner = as_str("device_owner", body.get("device_owner", ""), allow_none=True)
            row = Port(
                id=new_id(), project_id=project, network_id=network.id,
                mac_address=self._mac(session, network, body.get("mac_address")),
                device_owner=owner,
                device_id=as_str("device_id", body.get("device_id", ""), allow_none=True),
                port_security_enabled=network.port_security_enabled,
                status="ACTIVE" if owner.startswith("network:") else "DOWN",
            )  # fmt: skip
            requests = body.get("fixed_ips")
            if requests is not None:
                requests = as_list("fixed_ips", requests)
            row.fixed_ips = self._allocate(
                session, network, requests, owner=owner, mac=row.mac_address
            )
            self._apply_port(session, ctx, row, body, creating=True)
            self.check_quota(session, project, "port")
            session.add(row)
            try:
                session.flush()
            except IntegrityError:
                raise IpAddressInUse(net_id=network.id, ip_address="requested") from None
            row.tag_list = []
        self.changed()
        return row

    def _apply_port(
        self, session: Session, ctx: RequestContext, row: Port, body: Mapping[str, Any],
        *, creating: bool,
    ) -> None:  # fmt: skip
        for name in ("name", "description", "device_id", "device_owner", "dns_name"):
            if name in body:
                setattr(row, name, as_str(name, body[name], allow_none=True))
        if "admin_state_up" in body:
            row.admin_state_up = as_bool("admin_state_up", body["admin_state_up"])
        if "port_security_enabled" in body:
            row.port_security_enabled = as_bool(
                "port_security_enabled", body["port_security_enabled"]
            )
        if "binding:host_id" in body:
            row.binding_host_id = as_str(
                "binding:host_id", body["binding:host_id"], allow_none=True
            )
        if "binding:vnic_type" in body:
            if body["binding:vnic_type"] not in VNIC_TYPES:
                raise invalid(
                    "binding:vnic_type",
                    f"'{body['binding:vnic_type']}' is not in {list(VNIC_TYPES)}",
                )
            row.binding_vnic_type = body["binding:vnic_type"]
        if "binding:profile" in body:
            if not isinstance(body["binding:profile"], dict | None):
                raise invalid("binding:profile", "must be a dictionary")
            row.binding_profile = body["binding:profile"] or {}
        if "allowed_address_pairs" in body:
            row.allowed_address_pairs = self._pairs(body["allowed_address_pairs"])
        elif creating:
            row.allowed_address_pairs = []
        service_port = row.device_owner.startswith("network:")
        if "security_groups" in body or creating:
            requested = body.get("security_groups")
            if not row.port_security_enabled or service_port:
                groups = [] if requested is None else as_str_list("security_groups", requested)
                if groups and not row.port_security_enabled:
                    raise PortSecurityAndIPRequiredForSecurityGroups()
            else:
                groups = self._port_groups(session, ctx, row.project_id, requested)
            row.security_group_bindings = [
                PortSecurityGroup(port_id=row.id, security_group_id=g) for g in groups
            ]
        if not row.port_security_enabled:
            if row.security_group_bindings and "security_groups" in body:
                raise PortSecurityAndIPRequiredForSecurityGroups()
            if row.security_group_bindings and "port_security_enabled" in body:
                raise PortSecurityAndIPRequiredForSecurityGroups()
            if row.allowed_address_pairs:
                raise AddressPairAndPortSecurityRequired()

    def get_port(self, ctx: RequestContext, port_id: str) -> Port:
        with self.db.reader() as session:
            row = self._get_port(session, ctx, port_id)
            attach_tags(session, [row])
            return row

    def list_ports(self, ctx: RequestContext, query: Sequence[tuple[str, str]]) -> Page:
        with self.db.reader() as session:
            page = list_rows(session, PORT_LIST, self._port_query(ctx), query)
            attach_tags(session, page.rows)
            return page

    def update_port(
        self, ctx: RequestContext, port_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Port:
        check_known(body, PORT_ATTRS - {"network_id", "project_id", "tenant_id"})
        with self.db.writer() as session:
            row = self._get_port(session, ctx, port_id)
            self.enforce(ctx, "update_port", {"project_id": row.project_id})
            if any(k.startswith("binding:") and k != "binding:vnic_type" for k in body):
                self.enforce(ctx, "update_port:binding", {"project_id": row.project_id})
            self.check_revision(row, if_match)
            network = self._get_network(session, RequestContext.admin(), row.network_id)
            if "mac_address" in body:
                mac = ipam.normalize_mac(body["mac_address"])
                if mac != row.mac_address:
                    if row.binding_host_id:
                        raise Conflict(
                            f"Unable to complete operation on port {row.id}, port is already bound."
                        )
                    row.mac_address = self._mac(session, network, mac)
            if "fixed_ips" in body:
                wanted = as_list("fixed_ips", body["fixed_ips"])
                keep = [
                    a for a in row.fixed_ips
                    if any(isinstance(r, dict) and r.get("ip_address") == a.ip_address
                           for r in wanted)
                ]  # fmt: skip
                kept = {a.ip_address for a in keep}
                fresh = [r for r in wanted if not (
                    isinstance(r, dict) and r.get("ip_address") in kept)]  # fmt: skip
                row.fixed_ips = keep
                session.flush()
                new = self._allocate(
                    session, network, fresh, owner=row.device_owner, mac=row.mac_address
                )
                for index, alloc in enumerate([*keep, *new]):
                    alloc.position = index
                row.fixed_ips = [*keep, *new]
            self._apply_port(session, ctx, row, body, creating=False)
            if "binding:host_id" in body and not row.binding_host_id:
                row.status = "DOWN"
            self.bump(row)
            try:
                session.flush()
            except IntegrityError:
                raise IpAddressInUse(net_id=network.id, ip_address="requested") from None
            attach_tags(session, [row])
        self.changed()
        return row

    def delete_port(self, ctx: RequestContext, port_id: str) -> None:
        with self.db.writer() as session:
            row = self._get_port(session, ctx, port_id)
            self.enforce(ctx, "delete_port", {"project_id": row.project_id})
            if row.device_owner in (
                "network:router_interface", "network:router_gateway", "network:floatingip",
            ):  # fmt: skip
                raise PortDeletionForbidden(
                    port_id=row.id, reason=f"has device owner {row.device_owner}"
                )
            self._release_port(session, row)
        self.changed()

    def _release_port(self, session: Session, row: Port) -> None:
        for fip in session.scalars(select(FloatingIP).where(FloatingIP.port_id == row.id)):
            fip.port_id = None
            fip.fixed_ip_address = None
            fip.router_id = None
            fip.status = "DOWN"
            self.bump(fip)
        self.delete_tags(session, row.id)
        session.delete(row)
        session.flush()


__all__ = ["BadRequest", "PortsMixin"]


def _auto_address(subnet: Subnet) -> bool:
    """Addresses on this subnet come from the port's MAC (SLAAC), not from its pools."""
    return subnet.ip_version == 6 and subnet.ipv6_address_mode in ("slaac", "dhcpv6-stateless")
