"""Counters of instances' network devices, read where the Linux data plane plugs them.

A port of an instance is a tap (QEMU) or the bridge-side end of a veth pair
(containers) named ``names.tap(port)``, inside the namespace of the port's
network on this host (``names.net_ns(network, scope)``).  What the device transmits the instance
receives: the instance's incoming bytes are the device's ``tx`` counters and its
outgoing bytes the ``rx`` ones, as libvirt turns a tap's counters round for
Ceilometer.  One ``ip -s -j link`` per network namespace per poll.
"""

from __future__ import annotations

import json
import logging
import subprocess
from collections.abc import Sequence

from onestack.network.drivers.linux import names
from onestack.network.interface import PortCounters

LOG = logging.getLogger(__name__)


def _links(namespace: str) -> list[dict[str, object]]:
    try:
        done = subprocess.run(
            ["ip", "-n", namespace, "-s", "-j", "link", "show"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        LOG.warning("metering: cannot read the links of %s: %s", namespace, exc)
        return []
    if done.returncode != 0:
        return []  # no such namespace: the network has no data plane on this host
    try:
        links = json.loads(done.stdout or "[]")
    except ValueError:
        return []
    return [link for link in links if isinstance(link, dict)]


def read(ports: Sequence[tuple[str, str]], scope: str = "") -> dict[str, PortCounters]:
    """port id -> the counters of its device, for ``(port id, network id)`` pairs.

    The counters are the instance's view (rx: what it received)."""
    by_network: dict[str, list[str]] = {}
    for port_id, network_id in ports:
        by_network.setdefault(network_id, []).append(port_id)
    found: dict[str, PortCounters] = {}
    for network_id, port_ids in by_network.items():
        devices = {names.tap(port_id): port_id for port_id in port_ids}
        for link in _links(names.net_ns(network_id, scope)):
            port = devices.get(str(link.get("ifname")))
            stats = link.get("stats64")
            if port is None or not isinstance(stats, dict):
                continue
            host_rx, host_tx = stats.get("rx", {}), stats.get("tx", {})
            found[port] = PortCounters(
                port_id=port,
                device=names.tap(port),
                rx_bytes=int(host_tx.get("bytes", 0)),
                tx_bytes=int(host_rx.get("bytes", 0)),
                rx_packets=int(host_tx.get("packets", 0)),
                tx_packets=int(host_rx.get("packets", 0)),
                rx_drop=int(host_tx.get("dropped", 0)),
                tx_drop=int(host_rx.get("dropped", 0)),
                rx_errors=int(host_tx.get("errors", 0)),
                tx_errors=int(host_rx.get("errors", 0)),
            )
    return found
