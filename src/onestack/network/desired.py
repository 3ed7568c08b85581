"""The desired data plane, read from the networking tables in one transaction.

Without a host (one host serves everything: the all-in-one), it is the whole
cloud but for what an admin took off its agent (``Network.dhcp_unscheduled``:
no DHCP server; ``Router.l3_unscheduled``: no router).  For one host among
several (``host=...``: it has a tunnel endpoint), it is what that host shows:
the networks with a port bound to it, the DHCP servers and routers its agents
were given (``agents.AGENT_*`` bindings), and for each of its networks the
tunnel forwarding entries toward the other hosts' ports (Neutron's
l2population): their MAC addresses and the tunnel endpoints their agents
reported.
"""

from __future__ import annotations

import dataclasses

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
    default_vni,
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
        host=row.binding_host_id,
        dhcp_opts=tuple(
            (str(o["opt_name"]), str(o["opt_value"] or ""), int(o.get("ip_version", 4)))
            for o in row.extra_dhcp_opts or []
        ),
    )


def read_desired(db: Database, host: str | None = None) -> Desired:
    """The whole cloud (``host`` None) or what ``host`` shows (see the module docstring)."""
    desired = _read_all(db)
    if host is None:
        return desired
    with db.reader() as session:
        agents = list(session.scalars(select(models.Agent)))
        by_id = {a.id: a for a in agents}
        dhcp = {
            b.network_id
            for b in session.scalars(select(models.DhcpAgentBinding))
            if by_id.get(b.agent_id) is not None and by_id[b.agent_id].host == host
        }
        routed = {
            b.router_id
            for b in session.scalars(select(models.RouterAgentBinding))
            if by_id.get(b.agent_id) is not None and by_id[b.agent_id].host == host
        }
    endpoints = {
        a.host: str(a.configurations.get("tunneling_ip"))
        for a in agents
        if a.agent_type == models.L2_AGENT and a.configurations.get("tunneling_ip")
    }
    routers = {rid: r for rid, r in desired.routers.items() if rid in routed}
    local = set(dhcp)
    for router in routers.values():
        local |= {p.network_id for p, _ in router.interfaces}
        if router.gateway is not None:
            local.add(router.gateway.network_id)
    for net in desired.networks.values():
        if any(p.host == host for p in net.ports):
            local.add(net.id)
    networks = {}
    for net_id in sorted(local):
        found = desired.networks.get(net_id)
        if found is None:
            continue
        net = found
        remote = {
            (mac, endpoints[p.host])
            for p in net.ports
            if p.host and p.host != host and p.host in endpoints
            for mac in {p.mac, *(m for _, m in p.pairs)}
        }
        networks[net_id] = dataclasses.replace(
            net,
            serve_dhcp=net_id in dhcp,
            flood=tuple(sorted({endpoint for _, endpoint in remote})),
            remote=tuple(sorted(remote)),
        )
    return Desired(networks=networks, routers=routers, rules=desired.rules,
                   members=desired.members)  # fmt: skip


def _read_all(db: Database) -> Desired:
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
                segmentation_id=(net.segmentation_id or default_vni(net.id))
                if net.network_type == "vxlan"
                else None,
                serve_dhcp=not net.dhcp_unscheduled,
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
        hosted = select(models.Router).where(~models.Router.l3_unscheduled)
        for router in session.scalars(hosted.order_by(models.Router.id)):
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
