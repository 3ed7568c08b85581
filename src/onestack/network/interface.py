"""What other services may use of the networking service (its public Python interface).

The compute service gives instances their network through exactly these
calls, never through the networking tables or HTTP API.  In the control
plane the implementation is the ``NetworkManager`` (``cloud.neighbours.network``);
a compute agent on another host gets ``onestack.network.rpcapi.NetworkClient``,
which implements the same Protocol over the bus:

1. ``allocate_for_instance`` when the server is created (ports with
   ``device_owner="compute:<az>"`` and ``device_id=<instance id>``);
2. ``setup_instance_network`` on the host, before the instance starts: it
   returns the path of a named network namespace (``/run/netns/osvm-<id>``)
   that holds one interface per port (``eth0``, ``eth1``...) with the port's
   MAC, plugged into the network's bridge, filtered by its security groups;
   the instance gets its fixed IPs by DHCP.  runc joins it through the
   spec's network namespace ``path``; QEMU can bridge a tap inside it;
3. ``get_instance_nw_info`` / ``addresses`` for ``server show``, and
   ``addresses_for`` (one query for many servers) for ``server list``;
4. ``attach_interface`` / ``detach_interface`` for ``server add/remove port``;
5. ``teardown_instance_network`` then ``deallocate_for_instance`` at delete;
6. ``get_port_info`` / ``get_network_info`` to validate a server's requested
   networks, ``find_security_group`` / ``set_port_security_groups`` for
   ``server add/remove security group``.

Every call raises the networking service's errors (``onestack.network.exceptions``:
NetworkNotFound, PortInUse, ...), which carry their status.

A virtual machine takes its ports as tap devices instead (VIF type ``tap``):
``setup_instance_taps`` puts one tap per port on the network's bridge, in the
network's namespace, with the same security groups, anti-spoofing and
metadata as a namespace's interface; the hypervisor opens each tap there and
gives the guest NIC the port's MAC.  ``teardown_instance_network`` removes
them too.

Instance metadata (``http://169.254.169.254/...``) is served by the network
agent; the data itself comes from a ``MetadataProvider`` that the compute
service registers with ``set_metadata_provider`` (a provider named in the
settings, ``network.metadata_provider``, takes precedence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

from onestack.common.context import RequestContext


@dataclass(frozen=True)
class FixedIP:
    address: str
    subnet_id: str
    cidr: str
    gateway: str | None
    version: int


@dataclass(frozen=True)
class PortInfo:
    id: str
    network_id: str
    network_name: str
    mac_address: str
    mtu: int
    fixed_ips: tuple[FixedIP, ...]
    device_id: str = ""
    floating_ips: tuple[str, ...] = ()
    #: created by allocate_for_instance (deleted at deallocation) or given by the user
    preexisting: bool = False
    #: ids of the port's security groups
    security_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    project_id: str
    shared: bool = False
    external: bool = False


@dataclass(frozen=True)
class SecurityGroupInfo:
    id: str
    name: str
    project_id: str


@dataclass(frozen=True)
class NetworkRequest:
    """One ``networks`` entry of a server create: a network, a port, or a network + fixed IP."""

    network_id: str | None = None
    port_id: str | None = None
    fixed_ip: str | None = None


Requested = list[NetworkRequest] | Literal["auto", "none"]

#: Nova's ``addresses`` of a server: network name -> addresses (fixed and floating)
Addresses = dict[str, list[dict[str, object]]]


@dataclass(frozen=True)
class InstanceMetadata:
    """What the metadata service tells an instance about itself."""

    uuid: str
    name: str
    hostname: str
    project_id: str
    availability_zone: str = "nova"
    #: key name -> OpenSSH public key
    public_keys: dict[str, str] = field(default_factory=dict)
    user_data: bytes | None = None
    meta: dict[str, str] = field(default_factory=dict)
    launch_index: int = 0


@dataclass(frozen=True)
class VifTap:
    """A port as a tap device (VIF type ``tap``): ``device`` in the namespace ``netns_path``."""

    port_id: str
    mac_address: str
    mtu: int
    netns_path: str
    device: str


@dataclass(frozen=True)
class PortCounters:
    """The counters of an instance's port, as the instance sees them (rx: what it
    received), read from the port's device on its host (the metering poller's input)."""

    port_id: str
    #: the port's device on the host (``tap...``), which names Ceilometer's resource
    device: str
    rx_bytes: int = 0
    tx_bytes: int = 0
    rx_packets: int = 0
    tx_packets: int = 0
    rx_drop: int = 0
    tx_drop: int = 0
    rx_errors: int = 0
    tx_errors: int = 0


class MetadataProvider(Protocol):
    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
        """The instance's metadata, or None when there is no such instance."""
        ...


class NetworkService(Protocol):
    def allocate_for_instance(
        self,
        ctx: RequestContext,
        instance_id: str,
        host: str,
        requested: Requested,
        *,
        security_groups: list[str] | None = None,
        availability_zone: str = "nova",
    ) -> list[PortInfo]:
        """Create (or claim) the instance's ports and bind them to ``host``.

        ``"auto"`` uses the project's only network, or creates one with a
        router to ``public`` (Nova's get-me-a-network); ``"none"`` gives no
        port.  Security groups are names or ids of the caller's groups.
        Raises the Neutron error (NetworkNotFound, PortInUse,
        IpAddressGenerationFailure, OverQuota...); on failure every port
        created by this call is deleted again.
        """
        ...

    def missing_security_groups(self, ctx: RequestContext, names: list[str]) -> list[str]:
        """Which of ``names`` (names or ids) are none of the caller's security groups."""
        ...

    def deallocate_for_instance(self, ctx: RequestContext, instance_id: str) -> None:
        """Delete the ports this service created for the instance, release user ports."""
        ...

    def get_instance_nw_info(self, ctx: RequestContext, instance_id: str) -> list[PortInfo]:
        """The instance's ports (ordered as attached), with their floating IPs."""
        ...

    def addresses(self, ctx: RequestContext, instance_id: str) -> Addresses:
        """Nova's ``addresses`` of a server: network name -> addresses (fixed and floating)."""
        ...

    def addresses_for(
        self, ctx: RequestContext, instance_ids: Sequence[str]
    ) -> dict[str, Addresses]:
        """``addresses`` of many servers in one query: every id given is a key
        (``{}`` for a server without ports)."""
        ...

    def attach_interface(
        self,
        ctx: RequestContext,
        instance_id: str,
        host: str,
        request: NetworkRequest,
    ) -> PortInfo:
        """Allocate or claim one more port and, if the instance's namespace exists, plug it."""
        ...

    def detach_interface(self, ctx: RequestContext, instance_id: str, port_id: str) -> None:
        """Unplug the port; delete it if this service created it, else release it."""
        ...

    def setup_instance_network(self, instance_id: str, ports: list[PortInfo]) -> Path:
        """Create ``/run/netns/osvm-<instance_id>`` with one plugged interface per port.

        Idempotent.  Raises NotSupported when this host has no data plane.
        On failure nothing of the namespace is left behind.
        """
        ...

    def setup_instance_taps(self, instance_id: str, ports: list[PortInfo]) -> list[VifTap]:
        """One tap device per port on its network's bridge (VIF type ``tap``, for VMs).

        Idempotent; taps of the instance whose port is not in ``ports`` are removed.
        Raises NotSupported when this host has no data plane.  Returns once the agent
        has wired them (DHCP host entries, security-group chains).
        """
        ...

    def teardown_instance_network(self, instance_id: str) -> None:
        """Remove the instance's namespace or taps and its bridge ports (no error if absent)."""
        ...

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        """port id -> its counters on this host, for ``(port id, network id)`` pairs;
        a port with no device here is left out (empty without a data plane)."""
        ...

    def set_metadata_provider(self, provider: MetadataProvider | None) -> None:
        """Where the metadata service gets instance data from (compute calls this).

        A provider named in the settings (``network.metadata_provider``) wins over
        the one registered here.  Only in the process that runs the data plane: the
        bus client raises NotSupported.
        """
        ...

    def get_port_info(self, ctx: RequestContext, port_id: str) -> PortInfo:
        """The port if ``ctx`` may see it; PortNotFound otherwise."""
        ...

    def get_network_info(self, ctx: RequestContext, network_id: str) -> NetworkInfo:
        """The network if ``ctx`` may see it; NetworkNotFound otherwise."""
        ...

    def find_security_group(
        self, ctx: RequestContext, name_or_id: str, project_id: str | None = None
    ) -> SecurityGroupInfo:
        """The security group of ``project_id`` (default: the caller's) with this id or
        name; SecurityGroupNotFound when there is none the caller may see."""
        ...

    def set_port_security_groups(
        self, ctx: RequestContext, port_id: str, group_ids: Sequence[str]
    ) -> PortInfo:
        """Replace the port's security groups (as ``PUT /v2.0/ports/{id}`` would)."""
        ...


# -- Nova's network proxy APIs (compute API, microversions up to 2.35/2.43) ------------


@dataclass(frozen=True)
class SecurityGroupRuleRecord:
    id: str
    security_group_id: str
    direction: str  # ingress, egress
    ethertype: str  # IPv4, IPv6
    protocol: str | None
    port_range_min: int | None
    port_range_max: int | None
    remote_ip_prefix: str | None
    remote_group_id: str | None


@dataclass(frozen=True)
class SecurityGroupRecord:
    id: str
    name: str
    description: str
    project_id: str
    rules: tuple[SecurityGroupRuleRecord, ...] = ()


@dataclass(frozen=True)
class FloatingIPRecord:
    id: str
    floating_ip_address: str
    floating_network_id: str
    #: the floating network's name (Nova's "pool")
    pool: str
    project_id: str
    fixed_ip_address: str | None = None
    port_id: str | None = None
    #: the device of the associated port (a server's id), if any
    instance_id: str | None = None


class NetworkProxyService(Protocol):
    """What the compute API's proxies (``os-security-groups``, ``os-floating-ips``,
    ``os-networks``, ...) use, in the control plane only.  Every call acts as the
    caller, with Neutron's visibility and policy, and raises Neutron's errors."""

    def list_networks(self, ctx: RequestContext) -> list[NetworkInfo]:
        """The networks the caller sees (its own, shared and external ones)."""
        ...

    def list_security_groups(
        self, ctx: RequestContext, project_id: str | None
    ) -> list[SecurityGroupRecord]:
        """The groups the caller sees, only ``project_id``'s when given (the project's
        ``default`` group is made first, as Neutron does)."""
        ...

    def get_security_group(self, ctx: RequestContext, group_id: str) -> SecurityGroupRecord: ...

    def create_security_group(
        self, ctx: RequestContext, name: str, description: str
    ) -> SecurityGroupRecord: ...

    def update_security_group(
        self, ctx: RequestContext, group_id: str, name: str, description: str
    ) -> SecurityGroupRecord: ...

    def delete_security_group(self, ctx: RequestContext, group_id: str) -> None: ...

    def create_security_group_rule(
        self,
        ctx: RequestContext,
        group_id: str,
        *,
        ethertype: str,
        protocol: str | None,
        port_range_min: int | None,
        port_range_max: int | None,
        remote_ip_prefix: str | None,
        remote_group_id: str | None,
    ) -> SecurityGroupRuleRecord:
        """An ingress rule (SecurityGroupRuleExists, a 409, for a duplicate)."""
        ...

    def delete_security_group_rule(self, ctx: RequestContext, rule_id: str) -> None: ...

    def list_floating_ips(self, ctx: RequestContext) -> list[FloatingIPRecord]:
        """The caller's project's floating IPs."""
        ...

    def get_floating_ip(self, ctx: RequestContext, fip_id: str) -> FloatingIPRecord: ...

    def find_floating_ip(self, ctx: RequestContext, address: str) -> FloatingIPRecord:
        """The caller's floating IP with ``address`` (FloatingIPNotFound otherwise)."""
        ...

    def create_floating_ip(self, ctx: RequestContext, network_id: str) -> FloatingIPRecord: ...

    def delete_floating_ip(self, ctx: RequestContext, fip_id: str) -> None: ...

    def associate_floating_ip(
        self, ctx: RequestContext, fip_id: str, port_id: str | None, fixed_address: str | None
    ) -> FloatingIPRecord:
        """Associate with the port's fixed address (or disassociate, ``port_id`` None)."""
        ...
