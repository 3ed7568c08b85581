"""Routers: a namespace per router with forwarding on, legs on its subnets, NAT.

``qr-*`` legs carry the subnets' gateway addresses, ``qg-*`` the external
address (and every floating IP as a /32).  The default route points at the
external subnet's gateway; static routes are added as given.  iptables in
the router's namespace: SNAT of the internal subnets to the gateway address
(``enable_snat``), DNAT+SNAT for floating IPs.  Forwarding is enabled in
this namespace only, never in the host's.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import shutil

from onestack.network.drivers.linux import commands, l2, names
from onestack.network.drivers.linux.dhcp import stop_daemon
from onestack.network.drivers.linux.ra import Advertised
from onestack.network.topology import Desired, RouterState

LOG = logging.getLogger(__name__)


def _prefix(desired: Desired, network_id: str, subnet_id: str) -> int:
    net = desired.networks.get(network_id)
    subnet = next((s for s in net.subnets if s.id == subnet_id), None) if net else None
    return ipaddress.ip_network(subnet.cidr).prefixlen if subnet else 32


def advertised_legs(router: RouterState, desired: Desired) -> list[Advertised]:
    """The router's legs on IPv6 subnets that want router advertisements."""
    legs = []
    for port, mtu in router.interfaces:
        net = desired.networks.get(port.network_id)
        for _, subnet_id in port.ips:
            subnet = next((s for s in net.subnets if s.id == subnet_id), None) if net else None
            if subnet is not None and subnet.version == 6 and subnet.ra_mode:
                ifname = names.router_port(port.id, gateway=False)
                legs.append(Advertised(ifname, subnet.cidr, subnet.ra_mode, mtu, subnet.dns))
    return legs


def ensure_router(router: RouterState, desired: Desired) -> None:
    ns = names.router_ns(router.id)
    commands.ensure_netns(ns)
    commands.sysctl(ns, "net.ipv4.ip_forward", "1")
    commands.sysctl(ns, "net.ipv6.conf.all.forwarding", "1")
    before = _floating_nat(ns)
    gw_name = names.router_port(router.gateway.id, gateway=True) if router.gateway else None
    # NAT first: a floating IP's address must never be up on the gateway without it
    _nat(ns, router, gw_name)
    wanted_links = {"lo"}
    for port, mtu in router.interfaces:
        ifname = names.router_port(port.id, gateway=False)
        wanted_links.add(ifname)
        l2.ensure_network(port.network_id, mtu)
        addresses = [
            f"{ip}/{_prefix(desired, port.network_id, subnet_id)}" for ip, subnet_id in port.ips
        ]
        l2.plug(port.network_id, port.id, port.mac, mtu, ns, ifname, addresses)
    gateway = router.gateway
    gw_if = None
    if gateway is not None:
        gw_if = names.router_port(gateway.id, gateway=True)
        wanted_links.add(gw_if)
        l2.ensure_network(gateway.network_id, router.gateway_mtu)
        addresses = [
            f"{ip}/{_prefix(desired, gateway.network_id, subnet_id)}"
            for ip, subnet_id in gateway.ips
        ]
        addresses += [f"{fip}/32" for fip, _ in router.floating]
        l2.plug(
            gateway.network_id, gateway.id, gateway.mac, router.gateway_mtu, ns, gw_if, addresses
        )
        for fip, _ in router.floating:  # tell the external segment where the address now is
            commands.run(
                ["busybox", "arping", "-U", "-c", "1", "-I", gw_if, fip], netns=ns, check=False
            )
    for ifname in commands.links(ns) - wanted_links:
        commands.ip("link", "del", ifname, netns=ns, check=False)
    _routes(ns, router, gw_if)
    _forget_connections(ns, before ^ set(router.floating))
    _metadata_redirect(ns)


_DNAT = re.compile(r"^-A PREROUTING -d (\S+)/32 -j DNAT --to-destination (\S+)$")


def _floating_nat(ns: str) -> set[tuple[str, str]]:
    """The (floating IP, fixed IP) pairs the namespace's NAT rules hold now."""
    out = commands.run(["iptables", "-t", "nat", "-S", "PREROUTING"], netns=ns, check=False)
    return {(m[1], m[2]) for m in map(_DNAT.match, out.splitlines()) if m}


def _forget_connections(ns: str, changed: set[tuple[str, str]]) -> None:
    """Drop the conntrack entries of floating IPs whose mapping changed: an entry made
    before (a ping to the address, a previous association) would keep bypassing the
    new DNAT, as Neutron's L3 agent also clears them."""
    if not changed or shutil.which("conntrack") is None:
        return
    for fip in sorted({fip for fip, _ in changed}):
        commands.run(["conntrack", "-D", "-d", fip], netns=ns, check=False)


def _routes(ns: str, router: RouterState, gw_if: str | None) -> None:
    steps = []
    out = commands.ip("-4", "route", "show", "proto", "static", netns=ns, check=False)
    for line in out.splitlines():
        if line.strip():
            steps.append(f"route del {line.strip()}")
    commands.ip("-4", "route", "del", "default", netns=ns, check=False)
    if gw_if is not None and router.external_gateways:
        steps.append(f"route replace default via {router.external_gateways[0][1]} dev {gw_if}")
    for destination, nexthop in router.routes:
        if ipaddress.ip_network(destination).version == 4:
            steps.append(f"route replace {destination} via {nexthop} proto static")
    for command in steps:
        commands.ip(*command.split(), netns=ns, check=False)


def _nat(ns: str, router: RouterState, gw_if: str | None) -> None:
    lines = [
        "*nat", ":PREROUTING ACCEPT [0:0]", ":INPUT ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]",
        ":POSTROUTING ACCEPT [0:0]",
    ]  # fmt: skip
    if gw_if is not None and router.gateway is not None:
        for fip, fixed in router.floating:
            lines.append(f"-A PREROUTING -d {fip}/32 -j DNAT --to-destination {fixed}")
            lines.append(f"-A OUTPUT -d {fip}/32 -j DNAT --to-destination {fixed}")
            lines.append(f"-A POSTROUTING -s {fixed}/32 -o {gw_if} -j SNAT --to-source {fip}")
        v4 = [ip for ip, _ in router.gateway.ips if ipaddress.ip_address(ip).version == 4]
        if router.enable_snat and v4:
            for _, cidr in router.internal_cidrs:
                if ipaddress.ip_network(cidr).version == 4:
                    lines.append(f"-A POSTROUTING -s {cidr} -o {gw_if} -j SNAT --to-source {v4[0]}")
    lines += ["COMMIT", ""]
    commands.run(["iptables-restore"], netns=ns, input="\n".join(lines))


def _metadata_redirect(ns: str) -> None:
    commands.ip("addr", "replace", "169.254.169.254/32", "dev", "lo", netns=ns, check=False)


def remove_router(router_id: str) -> None:
    ns = names.router_ns(router_id)
    if (commands.NETNS_DIR / ns).exists():
        for pid in commands.pids_in(ns):  # a daemon of ours left behind (RA)
            stop_daemon(pid)
    commands.delete_netns(ns)
