"""NetworkAgent: keeps this host's data plane equal to the database.

A worker thread reads the desired state (``state.read_desired``) whenever
the manager reports a change, and at least every ``resync_interval``
seconds (so changes made by another process are picked up too), and
applies what differs from what it last applied: bridges, DHCP, security
groups, routers, metadata listeners.  Its first pass after start applies
everything (idempotent), which rebuilds the data plane from the database
after a reboot.  Namespaces with onestack's prefixes that no longer match a
record are removed.  ``stop`` leaves the tenant data plane running.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import threading
from pathlib import Path
from typing import Any

from onestack.network.agent import dhcp, firewall, l2, l3, linux, names, ra
from onestack.network.agent.metadata import MetadataServers
from onestack.network.agent.plumbing import InstancePlumber
from onestack.network.agent.registry import Registry, registry_dir
from onestack.network.agent.state import Desired, digest, read_desired
from onestack.network.conf import NetworkSettings

LOG = logging.getLogger(__name__)


class NetworkAgent:
    def __init__(
        self,
        manager: Any,
        settings: NetworkSettings,
        state_dir: Path,
        proxies: dict[str, str] | None = None,
    ) -> None:
        self.manager = manager
        #: metadata paths forwarded to other APIs (metadata.MetadataServers)
        self.proxies = dict(proxies or {})
        self.settings = settings
        self.dir = state_dir / "network"
        self.lock = threading.RLock()
        self.registry = Registry(registry_dir(state_dir))
        self.plumber = InstancePlumber(self.lock, self.registry)
        self.dhcp = dhcp.DhcpServers(self.dir / "dhcp")
        self.ra = ra.RouterAdvertisements(self.dir / "ra")
        self.applied: dict[str, str] = {}
        self.desired = Desired()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.metadata: MetadataServers | None = None
        self.passes = 0
        self._pass_done = threading.Condition()

    # life cycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        loop = asyncio.get_running_loop()
        self.metadata = MetadataServers(
            loop, self.resolve, lambda: self.manager.metadata_provider, self.proxies
        )
        await loop.run_in_executor(None, self.sync)
        self.manager.plumber = self.plumber
        self.manager.wait_for_agent = self.wait_for_pass
        self.manager.add_listener(self.wake)
        self._thread = threading.Thread(target=self._run, name="network-agent", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        self.manager.remove_listener(self.wake)
        self.manager.plumber = None
        self.manager.wait_for_agent = None
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join, 30)
        if self.metadata is not None:
            self.metadata.close()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(self.settings.resync_interval)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self.sync()
            except Exception:
                LOG.exception("network agent pass failed")

    def wait_for_pass(self, timeout: float = 10.0) -> bool:
        """Block until a pass that started after this call has finished."""
        with self._pass_done:
            target = self.passes + 2
            self.wake()
            return self._pass_done.wait_for(lambda: self.passes >= target, timeout)

    # one pass ----------------------------------------------------------------------------------

    def sync(self) -> None:
        # list first, read second: a namespace that exists now belongs to a record
        # that is already committed, so nothing new is mistaken for a leftover
        existing = linux.namespaces()
        existing_links = linux.links()
        desired = read_desired(self.manager.db)
        with self.lock:
            self.desired = desired
            self._sync_networks(desired)
            self._sync_routers(desired)
            self._remove_stale(desired, existing, existing_links)
            for name in self._keep(desired) & linux.namespaces():
                self.registry.add(name)
            for net in desired.networks.values():
                if net.host_leg:
                    self.registry.add(names.host_leg(net.id))
        with self._pass_done:
            self.passes += 1
            self._pass_done.notify_all()

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
        for net in desired.networks.values():
            if not (linux.NETNS_DIR / names.net_ns(net.id)).exists():
                for key in [k for k in self.applied if net.id in k]:
                    self.applied.pop(key)
            self._apply(f"l2:{net.id}", digest(net.mtu), l2.ensure_network, net.id, net.mtu)
            if net.host_leg:
                self._apply(f"leg:{net.id}", digest(net.subnets), l2.ensure_host_leg, net)
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
            self._apply(f"fw:{net.id}", digest(fw_state), firewall.apply, net, desired)

    def _ensure_dhcp(self, net: Any) -> None:
        self.dhcp.ensure(net)
        if net.dhcp_port is not None and net.has_dhcp and self.metadata is not None:
            self.metadata.ensure(names.dhcp_ns(net.id))

    def _sync_routers(self, desired: Desired) -> None:
        for router in desired.routers.values():
            if not (linux.NETNS_DIR / names.router_ns(router.id)).exists():
                self.applied.pop(f"router:{router.id}", None)
            stamp = digest(router, l3.advertised_legs(router, desired))
            self._apply(f"router:{router.id}", stamp, self._ensure_router, router, desired)

    def _ensure_router(self, router: Any, desired: Desired) -> None:
        l3.ensure_router(router, desired)
        self.ra.ensure(router.id, names.router_ns(router.id), l3.advertised_legs(router, desired))
        if self.metadata is not None:
            self.metadata.ensure(names.router_ns(router.id))

    @staticmethod
    def _keep(desired: Desired) -> set[str]:
        keep = {names.net_ns(n) for n in desired.networks}
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
            if ns.startswith(names.DHCP_NS):
                self.dhcp.remove(ns[len(names.DHCP_NS) :])
            elif ns.startswith(names.NET_NS):
                l2.remove_network(ns[len(names.NET_NS) :])
            else:
                self.ra.remove(ns[len(names.ROUTER_NS) :])
                l3.remove_router(ns[len(names.ROUTER_NS) :])
            for key in [k for k in self.applied if k.split(":", 1)[1] in ns]:
                self.applied.pop(key)
            self.registry.discard(ns)
        legs = {names.host_leg(n.id) for n in desired.networks.values() if n.host_leg}
        for link in existing_links & owned:
            if link.startswith(names.HOST_LEG) and link not in legs:
                linux.ip("link", "del", link, check=False)
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


def is_v4(address: str) -> bool:
    return ipaddress.ip_address(address).version == 4
