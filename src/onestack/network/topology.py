"""What a data plane is asked to build: the desired state, as frozen values.

``onestack.network.desired.read_desired`` reads it from the networking tables
in one transaction; a data plane (``driver.NetworkDataPlane.apply``)
never sees a database row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


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
    #: the host the port is bound to (``binding:host_id``; '' when unbound)
    host: str = ""
    #: ``extra_dhcp_opts``: (option name or number, value, IP version)
    dhcp_opts: tuple[tuple[str, str, int], ...] = ()

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
    #: the VXLAN network identifier (None: not a tunnelled network)
    segmentation_id: int | None = None
    #: tunnel endpoints of the other hosts with ports here (broadcasts go to each)
    flood: tuple[str, ...] = ()
    #: (MAC, tunnel endpoint) of every port bound to another host
    remote: tuple[tuple[str, str], ...] = ()
    #: False when another host's DHCP agent serves the network
    serve_dhcp: bool = True

    @property
    def dhcp_port(self) -> PortState | None:
        return next((p for p in self.ports if p.owner == "network:dhcp"), None)

    @property
    def has_dhcp(self) -> bool:
        return self.serve_dhcp and any(s.enable_dhcp and s.version == 4 for s in self.subnets)


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


@dataclass(frozen=True)
class Desired:
    """Everything one host's data plane shows, by record id (built once, never changed)."""

    networks: Mapping[str, NetworkState] = field(default_factory=dict)
    routers: Mapping[str, RouterState] = field(default_factory=dict)
    #: security group id -> its rules
    rules: Mapping[str, tuple[RuleState, ...]] = field(default_factory=dict)
    #: security group id -> member addresses (every fixed IP and address pair)
    members: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


#: the largest VXLAN network identifier (24 bits)
MAX_VNI = 16777215


def default_vni(network_id: str) -> int:
    """The VXLAN id a network gets unless taken (or given): from its id's first digits."""
    return int(network_id.replace("-", "")[:6], 16) or 1


def digest(*parts: Any) -> str:
    def default(value: Any) -> Any:
        return asdict(value) if hasattr(value, "__dataclass_fields__") else str(value)

    text = json.dumps(parts, default=default, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
