"""The desired data plane, read from the networking tables in one transaction."""

from __future__ import annotations

from sqlalchemy import select

from onestack.common.db import Database
from onestack.network import models
from onestack.network.topology import (
    Desired,
    NetworkState,
    PortState,
    RouterState,
    RuleState,
    SubnetState,
)


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
    networks: dict[str, NetworkState] = {}
    routers: dict[str, RouterState] = {}
    rules: dict[str, tuple[RuleState, ...]] = {}
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
            networks[net.id] = NetworkState(
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
        for rule in session.scalars(select(models.SecurityGroupRule)):
            rules.setdefault(rule.security_group_id, ())
            rules[rule.security_group_id] += (
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
            routers[router.id] = RouterState(
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
    return Desired(
        networks=networks,
        routers=routers,
        rules=rules,
        members={k: tuple(sorted(set(v))) for k, v in members.items()},
    )
