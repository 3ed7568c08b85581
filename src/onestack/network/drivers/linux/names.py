"""Device and namespace names: a short onestack prefix plus part of a UUID.

Interface names are at most 15 characters (IFNAMSIZ - 1).
"""

from __future__ import annotations

NET_NS = "osnet-"  # a network's bridge namespace
DHCP_NS = "osdhcp-"  # a network's DHCP (and metadata) namespace
ROUTER_NS = "osrtr-"  # a router's namespace
VM_NS = "osvm-"  # an instance's namespace
BRIDGE = "osbr-"  # the bridge, inside NET_NS
TAP = "ostap-"  # a port's bridge-side veth, inside NET_NS
PEER = "osq-"  # a port's far end before it is renamed in its namespace
HOST_LEG = "osx-"  # the host's veth to an external network's bridge (root namespace)
HOST_LEG_PEER = "osxb-"  # its bridge-side end

NAMESPACE_PREFIXES = (NET_NS, DHCP_NS, ROUTER_NS, VM_NS)
ROOT_DEVICE_PREFIXES = (HOST_LEG,)


def short(uuid: str, length: int) -> str:
    return uuid.replace("-", "")[:length]


def net_ns(network_id: str) -> str:
    return NET_NS + network_id


def dhcp_ns(network_id: str) -> str:
    return DHCP_NS + network_id


def router_ns(router_id: str) -> str:
    return ROUTER_NS + router_id


def vm_ns(instance_id: str) -> str:
    return VM_NS + instance_id


def bridge(network_id: str) -> str:
    return BRIDGE + short(network_id, 10)


def tap(port_id: str) -> str:
    return TAP + short(port_id, 9)


def peer(port_id: str) -> str:
    return PEER + short(port_id, 11)


def host_leg(network_id: str) -> str:
    return HOST_LEG + short(network_id, 11)


def host_leg_peer(network_id: str) -> str:
    return HOST_LEG_PEER + short(network_id, 10)


def router_port(port_id: str, gateway: bool) -> str:
    return ("qg-" if gateway else "qr-") + short(port_id, 11)


def chain(kind: str, port_id: str) -> str:
    """iptables chain of one port (``osi-``: to the port, ``oso-``: from it)."""
    return f"os{kind}-{short(port_id, 20)}"
