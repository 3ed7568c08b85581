"""LinuxDataPlane: the data plane built from iproute2, dnsmasq and iptables.

Each ``apply`` compares what every part of the desired state would build
(a digest per network, DHCP server, firewall and router) with what the last
call built, and rebuilds only what changed: bridges, DHCP, security groups,
routers, metadata listeners.  The first call after start applies everything
(idempotent), which rebuilds the data plane after a reboot.  Namespaces and
devices this data plane created are listed in its registry; those that no
record accounts for any more are removed, and nothing else ever is.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from onestack.network.driver import (
    DataPlaneCapabilities,
    InstancePlug,
    MetadataSource,
    NetworkDataPlane,
    Presence,
)
from onestack.network.drivers.linux import commands, counters, dhcp, firewall, l2, l3, names, ra
from onestack.network.drivers.linux.hostconf import HostConfig
from onestack.network.drivers.linux.metadata import MetadataServers
from onestack.network.drivers.linux.plumbing import InstancePlumber
from onestack.network.drivers.linux.registry import Registry, registry_dir
from onestack.network.interface import PortCounters, VifTap
from onestack.network.public_range import HeldRange, parse_addresses
from onestack.network.topology import Desired, digest

LOG = logging.getLogger(__name__)


class LinuxDataPlane(NetworkDataPlane):
    name = "linux"

    def __init__(
        self,
        state_dir: Path,
        metadata: MetadataSource | None = None,
        host: HostConfig | None = None,
    ) -> None:
        self.dir = state_dir / "network"
        self.host = host or HostConfig()
        self.lock = threading.RLock()
        self.registry = Registry(registry_dir(state_dir))
        self.plumber = InstancePlumber(self.lock, self.registry, self.host)
        self.dhcp = dhcp.DhcpServers(self.dir / "dhcp", self.host)
        self.ra = ra.RouterAdvertisements(self.dir / "ra")
        self.metadata_source = metadata or MetadataSource()
        #: what each part was last built from (its digest), by part
        self.applied: dict[str, str] = {}
        #: the state of the last ``apply`` (the metadata service resolves callers in it)
        self.desired = Desired()
        self.metadata: MetadataServers | None = None

    def capabilities(self) -> DataPlaneCapabilities:
        return DataPlaneCapabilities(
            switching=True, dhcp=True, routing=True, security_groups=True, metadata=True,
            instance_ports=True, host_address=True,
        )  # fmt: skip

    async def start(self) -> None:
        await asyncio.to_thread(self.dir.mkdir, parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self.metadata = MetadataServers(
            loop, self.resolve, self.metadata_source.current, self.metadata_source.proxies
        )

    async def stop(self) -> None:
        if self.metadata is not None:
            self.metadata.close()
            self.metadata = None

    def apply(self, desired: Desired) -> None:
        # only what the registry lists is ever removed, so a namespace made after
        # ``desired`` was read (an instance plugged meanwhile) is never a leftover
        existing = commands.namespaces()
        existing_links = commands.links(self.host.underlay_netns)
        with self.lock:
            self.desired = desired
            self._sync_networks(desired)
            self._sync_routers(desired)
            self._remove_stale(desired, existing, existing_links)
            for name in self._keep(desired) & commands.namespaces():
                self.registry.add(name)
            for net in desired.networks.values():
                if net.host_leg:
                    self.registry.add(names.host_leg(net.id))

    def present(self) -> Presence:
        found = commands.namespaces() & self.registry.names()

        def ids(prefix: str) -> frozenset[str]:
            return frozenset(names.record_id(ns) for ns in found if ns.startswith(prefix))

        return Presence(
            networks=ids(names.NET_NS),
            dhcp=ids(names.DHCP_NS),
            routers=ids(names.ROUTER_NS),
            instances=ids(names.VM_NS),
        )

    def host_ranges(self, public_network_id: str | None) -> list[HeldRange]:
        if self.host.underlay_netns is not None:
            return []  # a simulated host's address is in a namespace of its own
        own = {names.host_leg(public_network_id)} if public_network_id else set()
        return parse_addresses(commands.ip("-o", "addr", "show", check=False), own)

    # instances -----------------------------------------------------------------------------

    def plug_instance(self, plug: InstancePlug) -> Path:
        return self.plumber.plug_instance(plug.instance_id, list(plug.ports))

    def plug_instance_taps(self, plug: InstancePlug) -> list[VifTap]:
        return self.plumber.plug_instance_taps(plug.instance_id, list(plug.ports))

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        self.plumber.unplug_port(instance_id, port_id)
        self.plumber.unplug_taps(instance_id, port_id)

    def unplug_instance(self, instance_id: str) -> None:
        self.plumber.unplug_instance(instance_id)
        self.plumber.unplug_taps(instance_id)

    def instance_plugged(self, instance_id: str) -> bool:
        return self.plumber.instance_exists(instance_id)

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        return counters.read(ports, self.host.scope)

    # one pass ----------------------------------------------------------------------------------

    def _apply(self, key: str, stamp: str, action: Any, *args: Any) -> None:
        if self.applied.get(key) == stamp:
            return
        try:
            action(*args)
            self.applied[key] = stamp
        except Exception:
            self.applied.pop(key, None)
            LOG.exception("applying %s failed", key)

    def _sync_networks(self, desired: Desired) -> None:
        host = self.host
        for net in desired.networks.values():
            if not (commands.NETNS_DIR / names.net_ns(net.id, host.scope)).exists():
                for key in [k for k in self.applied if net.id in k]:
                    self.applied.pop(key)
            self._apply(f"l2:{net.id}", digest(net.mtu), l2.ensure_network, host, net.id, net.mtu)
            tunnel = (net.segmentation_id, net.flood, net.remote)
            self._apply(f"tunnel:{net.id}", digest(net.mtu, tunnel), self._ensure_tunnel, net)
            if net.host_leg:
                self._apply(f"leg:{net.id}", digest(net.subnets), l2.ensure_host_leg, host, net)
            self._apply(f"dhcp:{net.id}", digest(net), self._ensure_dhcp, net)
            groups = {g for p in net.ports for g in p.groups}
            fw_state = (
                net.ports,
                {g: desired.rules.get(g, ()) for g in sorted(groups)},
                {
                    r.remote_group_id: desired.members.get(r.remote_group_id, ())
                    for g in groups
                    for r in desired.rules.get(g, ())
                    if r.remote_group_id
                },
            )
            self._apply(f"fw:{net.id}", digest(fw_state), firewall.apply, host, net, desired)

    def _ensure_tunnel(self, net: Any) -> None:
        l2.ensure_tunnel(self.host, net)
        l2.sync_tunnels(self.host, net)

    def _ensure_dhcp(self, net: Any) -> None:
        serving = net.dhcp_port is not None and net.has_dhcp
        if not serving and names.dhcp_ns(net.id) not in self.registry.names():
            return  # never ours here (another host's DHCP agent serves it): nothing to remove
        self.dhcp.ensure(net)
        if net.dhcp_port is not None and net.has_dhcp and self.metadata is not None:
            self.metadata.ensure(names.dhcp_ns(net.id))

    def _sync_routers(self, desired: Desired) -> None:
        for router in desired.routers.values():
            if not (commands.NETNS_DIR / names.router_ns(router.id)).exists():
                self.applied.pop(f"router:{router.id}", None)
            stamp = digest(router, l3.advertised_legs(router, desired))
            self._apply(f"router:{router.id}", stamp, self._ensure_router, router, desired)

    def _ensure_router(self, router: Any, desired: Desired) -> None:
        l3.ensure_router(self.host, router, desired)
        self.ra.ensure(router.id, names.router_ns(router.id), l3.advertised_legs(router, desired))
        if self.metadata is not None:
            self.metadata.ensure(names.router_ns(router.id))

    def _keep(self, desired: Desired) -> set[str]:
        keep = {names.net_ns(n, self.host.scope) for n in desired.networks}
        keep |= {
            names.dhcp_ns(n.id) for n in desired.networks.values() if n.has_dhcp and n.dhcp_port
        }
        keep |= {names.router_ns(r) for r in desired.routers}
        return keep

    def _remove_stale(self, desired: Desired, existing: set[str], existing_links: set[str]) -> None:
        """Remove what this agent made (its registry) that no record accounts for any more."""
        keep = self._keep(desired)
        owned = self.registry.names()
        for ns in existing & owned:
            if ns in keep or not ns.startswith((names.NET_NS, names.DHCP_NS, names.ROUTER_NS)):
                continue
            LOG.info("removing %s (no longer in the database)", ns)
            record = names.record_id(ns)
            if ns.startswith(names.DHCP_NS):
                self.dhcp.remove(record)
            elif ns.startswith(names.NET_NS):
                l2.remove_network(self.host, record)
            else:
                self.ra.remove(record)
                l3.remove_router(record)
            for key in [k for k in self.applied if k.split(":", 1)[1] in ns]:
                self.applied.pop(key)
            self.registry.discard(ns)
        legs = {names.host_leg(n.id) for n in desired.networks.values() if n.host_leg}
        for link in existing_links & owned:
            if link.startswith(names.HOST_LEG) and link not in legs:
                commands.ip("link", "del", link, netns=self.host.underlay_netns, check=False)
                self.registry.discard(link)
        for name in owned - existing - existing_links:
            if name not in keep and not name.startswith(names.VM_NS):
                self.registry.discard(name)
        if self.metadata is not None:
            self.metadata.discard(keep)

    # metadata ------------------------------------------------------------------------------------

    def resolve(self, netns: str, source: str) -> tuple[str, str, str | None] | None:
        desired = self.desired
        if netns.startswith(names.DHCP_NS):
            networks = [netns[len(names.DHCP_NS) :]]
        elif netns.startswith(names.ROUTER_NS):
            router = desired.routers.get(netns[len(names.ROUTER_NS) :])
            networks = [p.network_id for p, _ in router.interfaces] if router else []
        else:
            return None
        for network_id in networks:
            net = desired.networks.get(network_id)
            if net is None:
                continue
            for port in net.ports:
                if not port.owner.startswith("compute:"):
                    continue
                if any(ip == source for ip, _ in port.ips):
                    floating = next(
                        (f for r in desired.routers.values() for f, fixed in r.floating
                         if fixed == source), None,
                    )  # fmt: skip
                    return port.device_id, source, floating
        return None
