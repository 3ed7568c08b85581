"""The network data plane: what turns the networking records into packets on one host.

A data plane is given the whole desired state (``topology.Desired``,
frozen values read from the database by the network agent) and makes the host
match it; it also plugs instances, which compute asks for through the
networking service.  Two implementations, selected in one place
(``drivers.select_data_plane``):

- ``linux`` (``drivers.linux``): bridges in namespaces, veth pairs, DHCP
  (dnsmasq), routers with NAT, security groups (iptables), the metadata
  service, instance namespaces;
- ``none`` (``drivers.noop``): the API-only tier (``network.data_plane =
  off``, or no root): it builds nothing and says so in its capabilities;
  plugging an instance answers the service's "not supported" (501).

Every method may be called from any thread except ``start``/``stop``, which
run on the event loop.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from onestack.network.exceptions import NotSupported
from onestack.network.interface import MetadataProvider, PortCounters, PortInfo, VifTap
from onestack.network.public_range import HeldRange
from onestack.network.topology import Desired


@dataclass(frozen=True)
class DataPlaneCapabilities:
    """What a data plane builds; everything it does not is False."""

    #: a bridge per network, with the network's ports plugged into it
    switching: bool = False
    #: DHCP for the ports' fixed IPs
    dhcp: bool = False
    #: routers: interfaces, gateways, SNAT and floating IPs
    routing: bool = False
    #: security groups enforced on instance ports
    security_groups: bool = False
    #: the metadata service at 169.254.169.254
    metadata: bool = False
    #: instance namespaces (``plug_instance``)
    instance_ports: bool = False
    #: the host's own address on external networks marked ``host_leg``
    host_address: bool = False

    @property
    def anything(self) -> bool:
        """True when the data plane builds anything at all (an agent is worth running)."""
        return any(dataclasses.astuple(self))


@dataclass(frozen=True)
class Presence:
    """What a data plane has built on this host, by record id."""

    networks: frozenset[str] = frozenset()
    dhcp: frozenset[str] = frozenset()
    routers: frozenset[str] = frozenset()
    instances: frozenset[str] = frozenset()


@dataclass(frozen=True)
class InstancePlug:
    """One instance's ports, in the order its interfaces get them (eth0, eth1...)."""

    instance_id: str
    ports: tuple[PortInfo, ...]


class MetadataSource:
    """Where the metadata service gets instance data: a provider named in the settings
    wins over the one the compute service registers."""

    def __init__(
        self, configured: MetadataProvider | None = None, proxies: dict[str, str] | None = None
    ) -> None:
        self.configured = configured
        self.registered: MetadataProvider | None = None
        #: path prefix -> base URL of the API the metadata service forwards it to
        self.proxies = dict(proxies or {})

    def current(self) -> MetadataProvider | None:
        return self.configured or self.registered


class NetworkDataPlane(abc.ABC):
    #: the name ``network.data_plane`` and logs use
    name: ClassVar[str]

    @abc.abstractmethod
    def capabilities(self) -> DataPlaneCapabilities:
        """What this data plane builds (constant for its lifetime)."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Open what serves from the event loop (metadata listeners).  Called once, on
        the loop, before the first ``apply``."""

    @abc.abstractmethod
    async def stop(self) -> None:
        """Close what ``start`` opened.  The tenant data plane keeps running: instances
        outlive the service."""

    @abc.abstractmethod
    def apply(self, desired: Desired) -> None:
        """Make the host match ``desired`` (blocking, idempotent; one call at a time).

        What differs from the last call is applied; what this data plane built and
        ``desired`` no longer holds is removed (never anything it did not build, so
        what appeared after ``desired`` was read is safe).  A part that fails is
        logged with its traceback and tried again by the next call; the other parts
        are still applied.
        """

    @abc.abstractmethod
    def present(self) -> Presence:
        """What this data plane has built and still finds on the host."""

    def host_ranges(self, public_network_id: str | None) -> list[HeldRange]:
        """The address ranges the host's own namespace holds (other clouds' host links,
        real interfaces), except this cloud's link to ``public_network_id``: what the
        range of ``public`` must not overlap.  Empty for a data plane that gives the
        host no address."""
        return []

    def plug_instance(self, plug: InstancePlug) -> Path:
        """Create (or complete) the instance's namespace with one interface per port and
        return its path; ports no longer listed are unplugged.  Idempotent.  On failure
        a namespace this call created is removed again.  NotSupported without
        ``instance_ports``."""
        raise NotSupported(operation=f"Instance networking with the {self.name} data plane")

    def plug_instance_taps(self, plug: InstancePlug) -> list[VifTap]:
        """One tap device per port on its network's bridge (VIF type ``tap``, for VMs),
        named and filtered as a namespace's interface would be; taps of the instance
        no longer listed are removed.  Idempotent.  NotSupported without
        ``instance_ports``."""
        raise NotSupported(operation=f"Instance networking with the {self.name} data plane")

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        """Remove the port's interface or tap from the instance (no error if absent)."""
        return None

    def unplug_instance(self, instance_id: str) -> None:
        """Remove the instance's namespace or taps and their interfaces (no error if absent)."""
        return None

    def instance_plugged(self, instance_id: str) -> bool:
        """True when the instance's namespace exists on this host."""
        return False

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        """port id -> the counters of its device here, for ``(port id, network id)``
        pairs (the instance's view: rx is what it received); ports without a device
        are left out.  A data plane that plugs nothing measures nothing."""
        return {}
