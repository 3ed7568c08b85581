"""Layer 2: one Linux bridge per network, inside the network's own namespace,
and veth pairs that plug ports (instances, DHCP, routers) into it.

The bridge namespace also holds the network's security-group firewall
(br_netfilter passes bridged IP traffic through its iptables).  An external
network marked ``host_leg`` gets a veth to the host's root namespace with
the subnet's gateway address: a local address, no forwarding.
"""

from __future__ import annotations

import ipaddress
import logging

from onestack.network.drivers.linux import commands, names
from onestack.network.topology import NetworkState

LOG = logging.getLogger(__name__)


def ensure_network(network_id: str, mtu: int) -> None:
    """The namespace and its bridge (idempotent)."""
    ns = names.net_ns(network_id)
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


def remove_network(network_id: str) -> None:
    commands.ip("link", "del", names.host_leg(network_id), check=False)
    commands.delete_netns(names.net_ns(network_id))


def plug(
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
    ns = names.net_ns(network_id)
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


def plug_tap(network_id: str, port_id: str, mtu: int, alias: str) -> str:
    """A tap device for ``port_id`` on the network's bridge (idempotent); its name.

    It has the name a port's veth would have, so the security-group chains
    (``physdev`` matches on that name) apply to it unchanged.
    """
    ns = names.net_ns(network_id)
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


def unplug(network_id: str, port_id: str) -> None:
    commands.ip("link", "del", names.tap(port_id), netns=names.net_ns(network_id), check=False)


def ensure_host_leg(net: NetworkState) -> None:
    """The root namespace's address on an external network (no forwarding, no routes)."""
    subnet = next((s for s in net.subnets if s.version == 4 and s.gateway), None)
    if subnet is None or subnet.gateway is None:
        return
    leg = names.host_leg(net.id)
    peer = names.host_leg_peer(net.id)
    ns = names.net_ns(net.id)
    if leg not in commands.links():
        commands.ip("link", "add", leg, "type", "veth", "peer", "name", peer, "netns", ns)
        commands.ip_batch([f"link set {peer} master {names.bridge(net.id)} up"], netns=ns)
        commands.ip("link", "set", leg, "mtu", str(net.mtu), "up")
    prefix = ipaddress.ip_network(subnet.cidr).prefixlen
    _warn_if_taken(str(subnet.gateway), leg)
    commands.ip("addr", "replace", f"{subnet.gateway}/{prefix}", "dev", leg)


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
