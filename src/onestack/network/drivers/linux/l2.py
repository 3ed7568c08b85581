"""Layer 2: one Linux bridge per network, inside the network's own namespace,
and veth pairs that plug ports (instances, DHCP, routers) into it.

The bridge namespace also holds the network's security-group firewall
(br_netfilter passes bridged IP traffic through its iptables).  An external
network marked ``host_leg`` gets a veth to the host's root namespace with
the subnet's gateway address: a local address, no forwarding.

With tunnels (``HostConfig.local_ip``), a network's bridge also holds a VXLAN
device (the network's segmentation id, Linux's ``nolearning`` mode): it is
made in the underlay namespace, where its UDP socket stays, and moved into
the bridge namespace.  Its forwarding entries come from the port bindings
(``sync_tunnels``, Neutron's l2population): one all-zero entry per other
host with a port on the network (broadcast and unknown traffic, replicated
at the head end) and one entry per remote port's MAC address.
"""

from __future__ import annotations

import ipaddress
import logging

from onestack.network.drivers.linux import commands, names
from onestack.network.drivers.linux.hostconf import HostConfig
from onestack.network.topology import NetworkState

ZERO_MAC = "00:00:00:00:00:00"
#: the VXLAN device's name inside a bridge namespace
TUNNEL = "vxlan0"

LOG = logging.getLogger(__name__)


def ensure_network(host: HostConfig, network_id: str, mtu: int) -> None:
    """The namespace and its bridge (idempotent)."""
    ns = names.net_ns(network_id, host.scope)
    bridge = names.bridge(network_id)
    commands.ensure_netns(ns)
    if bridge not in commands.links(ns):
        try:
            commands.ip("link", "add", bridge, "type", "bridge", netns=ns)
        except commands.CommandFailed:
            if bridge not in commands.links(ns):  # else another process was quicker
                raise
        commands.ip("link", "set", bridge, "mtu", str(mtu), "up", netns=ns)
        # bridged traffic must traverse iptables here (security groups)
        for key in ("net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"):
            commands.sysctl(ns, key, "1")


def remove_network(host: HostConfig, network_id: str) -> None:
    commands.ip("link", "del", names.host_leg(network_id), netns=host.underlay_netns, check=False)
    commands.delete_netns(names.net_ns(network_id, host.scope))


def plug(
    host: HostConfig,
    network_id: str,
    port_id: str,
    mac: str,
    mtu: int,
    target_ns: str,
    ifname: str,
    addresses: list[str] | None = None,
    alias: str | None = None,
) -> None:
    """A veth from the network's bridge to ``ifname`` in ``target_ns`` (idempotent).

    ``addresses`` (``ip/prefix``) are configured on ``ifname``; None leaves
    it without (instances take theirs by DHCP).
    """
    ns = names.net_ns(network_id, host.scope)
    tap = names.tap(port_id)
    peer = names.peer(port_id)
    present = ifname in commands.links(target_ns) and tap in commands.links(ns)
    if not present:
        commands.ip("link", "del", tap, netns=ns, check=False)
        commands.ip("link", "del", ifname, netns=target_ns, check=False)
        commands.ip(
            "link", "add", tap, "mtu", str(mtu), "type", "veth", "peer", "name", peer,
            "netns", target_ns, netns=ns,
        )  # fmt: skip
        commands.ip_batch([f"link set {tap} master {names.bridge(network_id)} up"], netns=ns)
        steps = [f"link set {peer} name {ifname}"]
        steps.append(f"link set {ifname} address {mac} mtu {mtu}")
        if alias:
            steps.append(f"link set {ifname} alias {alias}")
        steps.append(f"link set {ifname} up")
        commands.ip_batch(steps, netns=target_ns)
    if addresses is not None:
        commands.ip("addr", "flush", "dev", ifname, "scope", "global", netns=target_ns, check=False)
        for address in addresses:
            commands.ip("addr", "replace", address, "dev", ifname, netns=target_ns)


def plug_tap(host: HostConfig, network_id: str, port_id: str, mtu: int, alias: str) -> str:
    """A tap device for ``port_id`` on the network's bridge (idempotent); its name.

    It has the name a port's veth would have, so the security-group chains
    (``physdev`` matches on that name) apply to it unchanged.
    """
    ns = names.net_ns(network_id, host.scope)
    tap = names.tap(port_id)
    if tap not in commands.links(ns):
        commands.ip("tuntap", "add", "dev", tap, "mode", "tap", "vnet_hdr", netns=ns)
    commands.ip_batch(
        [f"link set {tap} master {names.bridge(network_id)} mtu {mtu} alias {alias} up"], netns=ns
    )
    return tap


def aliased_links(ns: str, alias: str) -> list[str]:
    """The devices of ``ns`` whose alias is ``alias``."""
    found = []
    for line in commands.ip("-o", "link", "show", netns=ns, check=False).splitlines():
        if line.rstrip().endswith(f"alias {alias}"):
            found.append(line.split(":", 2)[1].strip().split("@")[0])
    return found


def unplug(host: HostConfig, network_id: str, port_id: str) -> None:
    ns = names.net_ns(network_id, host.scope)
    commands.ip("link", "del", names.tap(port_id), netns=ns, check=False)


def ensure_host_leg(host: HostConfig, net: NetworkState) -> None:
    """The host's address on an external network (no forwarding, no routes): in the root
    namespace, or in a simulated host's underlay namespace."""
    subnet = next((s for s in net.subnets if s.version == 4 and s.gateway), None)
    if subnet is None or subnet.gateway is None:
        return
    leg = names.host_leg(net.id)
    peer = names.host_leg_peer(net.id)
    ns = names.net_ns(net.id, host.scope)
    where = host.underlay_netns
    if leg not in commands.links(where):
        commands.ip("link", "add", leg, "type", "veth", "peer", "name", peer, "netns", ns,
                    netns=where)  # fmt: skip
        commands.ip_batch([f"link set {peer} master {names.bridge(net.id)} up"], netns=ns)
        commands.ip("link", "set", leg, "mtu", str(net.mtu), "up", netns=where)
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen
    if where is None:
        _warn_if_taken(str(subnet.gateway), leg)
    commands.ip("addr", "replace", f"{subnet.gateway}/{prefix}", "dev", leg, netns=where)


def ensure_tunnel(host: HostConfig, net: NetworkState) -> None:
    """The network's VXLAN device on its bridge (idempotent; nothing without tunnels)."""
    if not host.tunnels or net.segmentation_id is None:
        return
    ns = names.net_ns(net.id, host.scope)
    if TUNNEL in commands.links(ns):
        return
    device = names.vxlan(net.segmentation_id)
    where = host.underlay_netns
    commands.ip("link", "del", device, netns=where, check=False)
    commands.ip(
        "link", "add", device, "type", "vxlan", "id", str(net.segmentation_id),
        "local", str(host.local_ip), "dstport", str(host.vxlan_port), "nolearning",
        netns=where,
    )  # fmt: skip
    try:
        commands.ip("link", "set", device, "netns", ns, netns=where)
    except commands.CommandFailed:
        commands.ip("link", "del", device, netns=where, check=False)
        raise
    commands.ip_batch(
        [
            f"link set {device} name {TUNNEL}",
            f"link set {TUNNEL} mtu {net.mtu} master {names.bridge(net.id)} up",
        ],
        netns=ns,
    )


def _fdb(ns: str) -> set[tuple[str, str]]:
    """(MAC, remote endpoint) of the tunnel's static entries."""
    out = commands.run(["bridge", "fdb", "show", "dev", TUNNEL], netns=ns, check=False)
    found = set()
    for line in out.splitlines():
        fields = line.split()
        if "dst" in fields and fields:
            found.add((fields[0], fields[fields.index("dst") + 1]))
    return found


def sync_tunnels(host: HostConfig, net: NetworkState) -> None:
    """Make the tunnel's forwarding entries those of the network's remote ports."""
    if not host.tunnels or net.segmentation_id is None:
        return
    ns = names.net_ns(net.id, host.scope)
    wanted = {(ZERO_MAC, endpoint) for endpoint in net.flood}
    wanted |= {(mac, endpoint) for mac, endpoint in net.remote}
    have = _fdb(ns)
    steps = [f"fdb del {mac} dev {TUNNEL} dst {dst}" for mac, dst in sorted(have - wanted)]
    for mac, dst in sorted(wanted - have):
        verb = "append" if mac == ZERO_MAC else "replace"
        steps.append(f"fdb {verb} {mac} dev {TUNNEL} dst {dst} self permanent")
    for step in steps:
        commands.run(["bridge", *step.split()], netns=ns, check=False)


def _warn_if_taken(address: str, leg: str) -> None:
    """Say so when another device of the host (another onestack on this machine, say)
    already holds the external network's host address: the host's traffic to this
    cloud's floating IPs may then take the other device."""
    for line in commands.ip("-o", "-4", "addr", "show", check=False).splitlines():
        fields = line.split()
        if len(fields) > 3 and fields[3].split("/")[0] == address and fields[1] != leg:
            LOG.warning(
                "network: %s is also on host device %s (another cloud on this host?); "
                "floating IPs of this cloud may not be reachable from the host",
                address,
                fields[1],
            )
