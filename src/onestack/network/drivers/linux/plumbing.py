"""Instance namespaces: ``/run/netns/osvm-<instance>`` with one interface per port.

Interfaces are ``eth0``, ``eth1``... in port order, with the port's MAC,
and carry the alias ``port:<id>`` so that a later call knows which is which.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from onestack.network.drivers.linux import commands, l2, names
from onestack.network.drivers.linux.hostconf import HostConfig
from onestack.network.drivers.linux.registry import Registry
from onestack.network.interface import PortInfo, VifTap

LOG = logging.getLogger(__name__)


class InstancePlumber:
    def __init__(
        self,
        lock: threading.RLock,
        registry: Registry | None = None,
        host: HostConfig | None = None,
    ) -> None:
        self._lock = lock
        self.host = host or HostConfig()
        self.registry = registry or Registry(None)

    def instance_exists(self, instance_id: str) -> bool:
        return (commands.NETNS_DIR / names.vm_ns(instance_id)).exists()

    def _attached(self, ns: str) -> dict[str, str]:
        """port id -> interface name inside the instance namespace."""
        out = commands.ip("-o", "link", "show", netns=ns, check=False)
        result: dict[str, str] = {}
        for line in out.splitlines():
            if "alias port:" not in line:
                continue
            ifname = line.split(":", 2)[1].strip().split("@")[0]
            port_id = line.rsplit("alias port:", 1)[1].split()[0]
            result[port_id] = ifname
        return result

    def plug_instance(self, instance_id: str, ports: list[PortInfo]) -> Path:
        ns = names.vm_ns(instance_id)
        with self._lock:
            created = commands.ensure_netns(ns)
            self.registry.add(ns)
            try:
                attached = self._attached(ns)
                wanted = {p.id for p in ports}
                for port_id, ifname in attached.items():
                    if port_id not in wanted:
                        commands.ip("link", "del", ifname, netns=ns, check=False)
                used = {attached[p] for p in attached if p in wanted}
                for port in ports:
                    l2.ensure_network(self.host, port.network_id, port.mtu)
                    found = attached.get(port.id)
                    if found is not None:
                        ifname = found
                    else:
                        index = 0
                        while f"eth{index}" in used:
                            index += 1
                        ifname = f"eth{index}"
                        used.add(ifname)
                    l2.plug(
                        self.host, port.network_id, port.id, port.mac_address, port.mtu, ns, ifname,
                        alias=f"port:{port.id}",
                    )  # fmt: skip
            except Exception:
                if created:
                    commands.delete_netns(ns)
                    self.registry.discard(ns)
                raise
        return commands.NETNS_DIR / ns

    def plug_instance_taps(self, instance_id: str, ports: list[PortInfo]) -> list[VifTap]:
        """A tap per port on its network's bridge (alias ``vm:<instance>``)."""
        alias = f"vm:{instance_id}"
        vifs = []
        with self._lock:
            wanted = {names.tap(p.id) for p in ports}
            for ns in self._network_namespaces():
                for device in l2.aliased_links(ns, alias):
                    if device not in wanted:
                        commands.ip("link", "del", device, netns=ns, check=False)
            for port in ports:
                l2.ensure_network(self.host, port.network_id, port.mtu)
                device = l2.plug_tap(self.host, port.network_id, port.id, port.mtu, alias)
                path = str(commands.NETNS_DIR / names.net_ns(port.network_id, self.host.scope))
                vifs.append(VifTap(port.id, port.mac_address, port.mtu, path, device))
        return vifs

    def _network_namespaces(self) -> list[str]:
        """This host's network namespaces (a simulated host's carry its scope)."""
        prefix = names.net_ns("", self.host.scope) if self.host.scope else names.NET_NS
        return [ns for ns in commands.namespaces() if ns.startswith(prefix)]

    def unplug_taps(self, instance_id: str, port_id: str | None = None) -> None:
        """Remove the instance's taps (only ``port_id``'s when given)."""
        alias = f"vm:{instance_id}"
        with self._lock:
            for ns in self._network_namespaces():
                for device in l2.aliased_links(ns, alias):
                    if port_id is None or device == names.tap(port_id):
                        commands.ip("link", "del", device, netns=ns, check=False)

    def unplug_port(self, instance_id: str, port_id: str) -> None:
        ns = names.vm_ns(instance_id)
        with self._lock:
            ifname = self._attached(ns).get(port_id) if self.instance_exists(instance_id) else None
            if ifname:
                commands.ip("link", "del", ifname, netns=ns, check=False)

    def unplug_instance(self, instance_id: str) -> None:
        with self._lock:
            commands.delete_netns(names.vm_ns(instance_id))
            self.registry.discard(names.vm_ns(instance_id))
