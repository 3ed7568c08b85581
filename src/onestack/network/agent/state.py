"""The desired data plane, read from the networking tables in one transaction."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select

from onestack.common.db import Database
from onestack.network import models


@dataclass(frozen=True)
class SubnetState:
    id: str
    cidr: str
    version: int
    gateway: str | None
    enable_dhcp: bool
    dns: tuple[str, ...]
    host_routes: tuple[tuple[str, str], ...]
    ra_mode: str | None = None


@dataclass(frozen=True)
class PortState:
    id: str
    network_id: str
    mac: str
    ips: tuple[tuple[str, str], ...]  # (address, subnet id)
    owner: str
    device_id: str
    port_security: bool
    groups: tuple[str, ...]
    pairs: tuple[tuple[str, str], ...]  # (ip or cidr, mac)

    @property
    def filtered(self) -> bool:
        """Instance ports with port security get security-group chains."""
        return self.port_security and not self.owner.startswith("network:")


@dataclass(frozen=True)
class NetworkState:
    id: str
    mtu: int
    external: bool
    host_leg: bool
    subnets: tuple[SubnetState, ...]
    ports: tuple[PortState, ...]

    @property
    def dhcp_port(self) -> PortState | None:
        return next((p for p in self.ports if p.owner == "network:dhcp"), None)

    @property
    def has_dhcp(self) -> bool:
        return any(s.enable_dhcp and s.version == 4 for s in self.subnets)


@dataclass(frozen=True)
class RuleState:
    direction: str
    ethertype: str
    protocol: str | None
    port_min: int | None
    port_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None


@dataclass(frozen=True)
class RouterState:
    id: str
    admin_up: bool
    enable_snat: bool
    gateway: PortState | None
    gateway_mtu: int
    #: the external subnets' gateways (default route) by subnet id
    external_gateways: tuple[tuple[str, str], ...]
    interfaces: tuple[tuple[PortState, int], ...]  # (port, mtu)
    internal_cidrs: tuple[tuple[str, str], ...]  # (subnet id, cidr)
    routes: tuple[tuple[str, str], ...]
    floating: tuple[tuple[str, str], ...]  # (floating ip, fixed ip)


@dataclass
class Desired:
    networks: dict[str, NetworkState] = field(default_factory=dict)
    routers: dict[str, RouterState] = field(default_factory=dict)
    rules: dict[str, tuple[RuleState, ...]] = field(default_factory=dict)
    #: security group id -> member addresses (every fixed IP and address pair)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)


def digest(*parts: Any) -> str:
    def default(value: Any) -> Any:
        return asdict(value) if hasattr(value, "__dataclass_fields__") else str(value)

    text = json.dumps(parts, default=default, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _port(row: models.Port) -> PortState:
    return PortState(
        id=row.id,
        network_id=row.network_id,
        mac=row.mac_address,
        ips=tuple((a.ip_address, a.subnet_id) for a in row.fixed_ips),
        owner=row.device_owner,
        device_id=row.device_id,
        port_security=row.port_security_enabled,
        groups=tuple(sorted(row.security_group_ids)),
        pairs=tuple(
            (p["ip_address"], p.get("mac_address") or row.mac_address)
            for p in row.allowed_address_pairs or []
        ),
    )


def read_desired(db: Database) -> Desired:
    desired = Desired()
    with db.reader() as session:
        ports_by_net: dict[str, list[PortState]] = {}
        all_ports = list(session.scalars(select(models.Port).order_by(models.Port.id)))
        for row in all_ports:
            ports_by_net.setdefault(row.network_id, []).append(_port(row))
        subnets: dict[str, models.Subnet] = {}
        mtus: dict[str, int] = {}
        for net in session.scalars(select(models.Network).order_by(models.Network.id)):
            mtus[net.id] = net.mtu
            for sub in net.subnets:
                subnets[sub.id] = sub
            desired.networks[net.id] = NetworkState(
                id=net.id,
                mtu=net.mtu,
                external=net.external,
                host_leg=net.host_leg,
                subnets=tuple(
                    SubnetState(
                        s.id,
                        s.cidr,
                        s.ip_version,
                        s.gateway_ip,
                        s.enable_dhcp,
                        tuple(s.dns_nameservers or []),
                        tuple((r["destination"], r["nexthop"]) for r in s.host_routes or []),
                        s.ipv6_ra_mode,
                    )
                    for s in net.subnets
                ),
                ports=tuple(ports_by_net.get(net.id, [])),
            )
        members: dict[str, list[str]] = {}
        for row in all_ports:
            addresses = [a.ip_address for a in row.fixed_ips]
            addresses += [p["ip_address"] for p in row.allowed_address_pairs or []]
            for group in row.security_group_ids:
                members.setdefault(group, []).extend(addresses)
        desired.members = {k: tuple(sorted(set(v))) for k, v in members.items()}
        for rule in session.scalars(select(models.SecurityGroupRule)):
            desired.rules.setdefault(rule.security_group_id, ())
            desired.rules[rule.security_group_id] += (
                RuleState(
                    rule.direction, rule.ethertype, rule.protocol, rule.port_range_min,
                    rule.port_range_max, rule.remote_ip_prefix, rule.remote_group_id,
                ),
            )  # fmt: skip
        fips: dict[str, list[tuple[str, str]]] = {}
        for fip in session.scalars(select(models.FloatingIP)):
            if fip.router_id and fip.fixed_ip_address:
                fips.setdefault(fip.router_id, []).append(
                    (fip.floating_ip_address, fip.fixed_ip_address)
                )
        ports_by_device: dict[str, list[models.Port]] = {}
        for row in all_ports:
            ports_by_device.setdefault(row.device_id, []).append(row)
        for router in session.scalars(select(models.Router).order_by(models.Router.id)):
            gw_row = next(
                (p for p in ports_by_device.get(router.id, []) if p.id == router.gw_port_id), None
            )
            interfaces = [
                p
                for p in ports_by_device.get(router.id, [])
                if p.device_owner == "network:router_interface"
            ]
            ext_gateways = []
            if gw_row is not None:
                for alloc in gw_row.fixed_ips:
                    ext = subnets.get(alloc.subnet_id)
                    if ext is not None and ext.gateway_ip:
                        ext_gateways.append((ext.id, ext.gateway_ip))
            desired.routers[router.id] = RouterState(
                id=router.id,
                admin_up=router.admin_state_up,
                enable_snat=router.enable_snat,
                gateway=_port(gw_row) if gw_row is not None else None,
                gateway_mtu=mtus.get(router.gw_network_id or "", 1500),
                external_gateways=tuple(ext_gateways),
                interfaces=tuple((_port(p), mtus.get(p.network_id, 1500)) for p in interfaces),
                internal_cidrs=tuple(
                    (a.subnet_id, subnets[a.subnet_id].cidr)
                    for p in interfaces
                    for a in p.fixed_ips
                    if a.subnet_id in subnets
                ),
                routes=tuple((r["destination"], r["nexthop"]) for r in router.routes or []),
                floating=tuple(sorted(fips.get(router.id, []))),
            )
    return desired
