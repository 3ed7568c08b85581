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
    AddressPairAndPortSecurityRequired,
    Conflict,
    IpAddressInUse,
    NetworkNotFound,
    PortDeletionForbidden,
    PortSecurityAndIPRequiredForSecurityGroups,
    SecurityGroupNotFound,
)
from onestack.network.listing import ListSpec
from onestack.network.models import (
    FloatingIP,
    IPAllocation,
    Port,
    PortSecurityGroup,
    SecurityGroup,
)
from onestack.network.secgroups import SecurityGroups

PORT_ATTRS = {
    "name", "description", "network_id", "admin_state_up", "mac_address", "fixed_ips",
    "device_id", "device_owner", "project_id", "tenant_id", "security_groups",
    "allowed_address_pairs", "port_security_enabled", "binding:host_id", "binding:vnic_type",
    "binding:profile", "dns_name", "qos_policy_id", "propagate_uplink_status",
    "extra_dhcp_opts",
}  # fmt: skip
#: DHCP options Neutron keeps with an empty value (the others are removed by it)
BLANK_DHCP_OPTS = ("router", "classless-static-route")
VNIC_TYPES = ("normal", "direct", "macvtap", "baremetal", "direct-physical", "virtio-forwarder")


def _fixed_ips_filter(stmt: Select[Any], values: list[str]) -> Select[Any]:
    for value in values:
        key, _, wanted = value.partition("=")
        column = {
            "ip_address": IPAllocation.ip_address,
            "ip_address_substr": IPAllocation.ip_address,
            "subnet_id": IPAllocation.subnet_id,
        }.get(key)
        if column is None:
            continue
        if key == "ip_address_substr":  # the ip-substring-filtering extension
            clause = column.contains(wanted, autoescape=True)
        elif key == "ip_address" and wanted.endswith("*"):
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


class Ports(Collection[Port]):
    resource = "port"
    spec = PORT_LIST

    def __init__(
        self, core: NetworkCore, addresses: AddressAllocator, groups: SecurityGroups
    ) -> None:
        super().__init__(core)
        self.addresses = addresses
        self.groups = groups

    def _visible(self, ctx: RequestContext) -> Select[Any]:
        return self.core.ports_visible(ctx)

    def _prepare(self, ctx: RequestContext, bodies: Sequence[Mapping[str, Any]]) -> None:
        self.groups.prepare_default_groups(ctx, bodies)

    def _find(self, session: Session, ctx: RequestContext, item_id: str) -> Any:
        return self.core.port(session, ctx, item_id)

    # security groups on ports -----------------------------------------------------------

    def _port_groups(
        self, session: Session, ctx: RequestContext, project: str, requested: Any
    ) -> list[str]:
        if requested is None:
            return [self.groups.default_group(session, project).id]
        ids = as_str_list("security_groups", requested)
        for group_id in ids:
            group = session.get(SecurityGroup, group_id)
            if group is None or (group.project_id != project and not ctx.is_admin):
                raise SecurityGroupNotFound(id=group_id)
        return ids

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

    def _create(self, session: Session, ctx: RequestContext, body: Mapping[str, Any]) -> Port:
        check_known(body, PORT_ATTRS)
        if "network_id" not in body:
            raise invalid("network_id", "'network_id' is a required attribute")
        network_id = as_uuid("network_id", body["network_id"])
        project = self.core.owner_for_create(ctx, body)
        self.core.enforce(ctx, "create_port", {"project_id": project})
        if any(k.startswith("binding:") and k != "binding:vnic_type" for k in body):
            self.core.enforce(ctx, "create_port:binding", {"project_id": project})
        network = self.core.network(session, ctx, network_id)
        if network.project_id != project and not network.shared and not ctx.is_admin:
            raise NetworkNotFound(net_id=network_id)
        owner = as_str("device_owner", body.get("device_owner", ""), allow_none=True)
        row = Port(
            id=new_id(), project_id=project, network_id=network.id,
            mac_address=self.addresses.mac(session, network, body.get("mac_address")),
            device_owner=owner,
            device_id=as_str("device_id", body.get("device_id", ""), allow_none=True),
            port_security_enabled=network.port_security_enabled,
            status="ACTIVE" if owner.startswith("network:") else "DOWN",
        )  # fmt: skip
        requests = body.get("fixed_ips")
        if requests is not None:
            requests = as_list("fixed_ips", requests)
        row.fixed_ips = self.addresses.allocate(
            session, network, requests, owner=owner, mac=row.mac_address
        )
        self._apply_port(session, ctx, row, body, creating=True)
        self.core.check_quota(session, project, "port")
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise IpAddressInUse(net_id=network.id, ip_address="requested") from None
        row.tag_list = []
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
        if "extra_dhcp_opts" in body:
            row.extra_dhcp_opts = merge_dhcp_opts(
                [] if creating else list(row.extra_dhcp_opts or []), body["extra_dhcp_opts"]
            )
        elif creating:
            row.extra_dhcp_opts = []
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

    def update(
        self, ctx: RequestContext, item_id: str, body: Mapping[str, Any], if_match: str | None
    ) -> Port:
        check_known(body, PORT_ATTRS - {"network_id", "project_id", "tenant_id"})
        with self.core.db.writer() as session:
            row = self.core.port(session, ctx, item_id)
            self.core.enforce(ctx, "update_port", {"project_id": row.project_id})
            if any(k.startswith("binding:") and k != "binding:vnic_type" for k in body):
                self.core.enforce(ctx, "update_port:binding", {"project_id": row.project_id})
            self.core.check_revision(row, if_match)
            network = self.core.network(session, RequestContext.admin(), row.network_id)
            if "mac_address" in body:
                mac = ipam.normalize_mac(body["mac_address"])
                if mac != row.mac_address:
                    if row.binding_host_id:
                        raise Conflict(
                            f"Unable to complete operation on port {row.id}, port is already bound."
                        )
                    row.mac_address = self.addresses.mac(session, network, mac)
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
                new = self.addresses.allocate(
                    session, network, fresh, owner=row.device_owner, mac=row.mac_address
                )
                for index, alloc in enumerate([*keep, *new]):
                    alloc.position = index
                row.fixed_ips = [*keep, *new]
            self._apply_port(session, ctx, row, body, creating=False)
            if "binding:host_id" in body and not row.binding_host_id:
                row.status = "DOWN"
            self.core.bump(row)
            try:
                session.flush()
            except IntegrityError:
                raise IpAddressInUse(net_id=network.id, ip_address="requested") from None
            self.core.with_tags(session, [row])
        self.core.changed()
        return row

    def delete(self, ctx: RequestContext, item_id: str, if_match: str | None = None) -> None:
        with self.core.db.writer() as session:
            row = self._writable(session, ctx, item_id, "delete", if_match)
            if row.device_owner in (
                "network:router_interface", "network:router_gateway", "network:floatingip",
            ):  # fmt: skip
                raise PortDeletionForbidden(
                    port_id=row.id, reason=f"has device owner {row.device_owner}"
                )
            self.release(session, row)
        self.core.changed()

    def release(self, session: Session, row: Port) -> None:
        for fip in session.scalars(select(FloatingIP).where(FloatingIP.port_id == row.id)):
            fip.port_id = None
            fip.fixed_ip_address = None
            fip.router_id = None
            fip.status = "DOWN"
            self.core.bump(fip)
        self.core.delete_tags(session, row.id)
        session.delete(row)
        session.flush()


def merge_dhcp_opts(current: list[dict[str, Any]], given: Any) -> list[dict[str, Any]]:
    """Neutron's ``extra_dhcp_opts`` update: each given option (``opt_name``,
    ``opt_value``, ``ip_version`` 4 or 6, default 4) replaces the one of the same name
    and IP version, an option given without a value removes it; others stay."""
    if given is None:
        given = []
    if not isinstance(given, list):
        raise invalid("extra_dhcp_opts", f"'{given}' is not a list")
    result = [dict(o) for o in current]
    for item in given:
        if not isinstance(item, dict) or not set(item) <= {"opt_name", "opt_value", "ip_version"}:
            raise invalid("extra_dhcp_opts", f"Invalid data format for extra DHCP option: {item}")
        name = item.get("opt_name")
        if not isinstance(name, str) or not name.strip():
            raise invalid("extra_dhcp_opts", f"'{name}' is not a valid DHCP option name")
        value = item.get("opt_value")
        if value is not None and not isinstance(value, str):
            raise invalid("extra_dhcp_opts", f"'{value}' is not a valid DHCP option value")
        version = item.get("ip_version", 4)
        if str(version) not in ("4", "6") or isinstance(version, bool):
            raise invalid("extra_dhcp_opts", f"'{version}' is not a valid IP version")
        version = int(version)
        result = [o for o in result if (o["opt_name"], o["ip_version"]) != (name, version)]
        keep = value is not None if name in BLANK_DHCP_OPTS else bool(value)
        if keep:
            result.append({"opt_name": name, "opt_value": value, "ip_version": version})
    return result
