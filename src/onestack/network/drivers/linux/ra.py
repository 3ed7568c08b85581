"""IPv6 router advertisements from a router's namespace (dnsmasq, RA only).

A router leg on an IPv6 subnet whose ``ipv6_ra_mode`` is ``slaac`` or
``dhcpv6-stateless`` advertises the subnet's prefix with the autonomous
flag, so instances configure their EUI-64 address from their port's MAC (the
address the networking API allocated) and a default route through the
router.  ``dhcpv6-stateless`` also sets the other-configuration flag and
answers information requests (DNS servers).  One dnsmasq per router serves
every such leg; it runs in the router's namespace and answers nothing else
(``--port=0``: no DNS; no DHCP ranges).  ``dhcpv6-stateful`` subnets get no
advertisement: onestack has no DHCPv6 address server (docs/api-coverage).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from onestack.network.drivers.linux import commands
from onestack.network.drivers.linux.dhcp import daemon_pid, stop_daemon
from onestack.network.topology import digest

LOG = logging.getLogger(__name__)

#: unsolicited advertisements every this many seconds (the kernel's default is minutes)
INTERVAL = 10
RA_MODES = {"slaac": "ra-only", "dhcpv6-stateless": "ra-stateless"}


@dataclass(frozen=True)
class Advertised:
    ifname: str
    cidr: str
    mode: str  # the subnet's ipv6_ra_mode
    mtu: int
    dns: tuple[str, ...] = ()


class RouterAdvertisements:
    def __init__(self, base: Path) -> None:
        self.base = base

    def ensure(self, router_id: str, netns: str, legs: list[Advertised]) -> None:
        legs = [leg for leg in legs if leg.mode in RA_MODES]
        if not legs:
            self.remove(router_id)
            return
        if shutil.which("dnsmasq") is None:
            LOG.warning("router %s: no IPv6 router advertisements: dnsmasq is missing", router_id)
            return
        directory = self.base / router_id
        directory.mkdir(parents=True, exist_ok=True)
        argv = [
            "dnsmasq", "--port=0", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
            "--enable-ra", "--bind-interfaces", "--except-interface=lo",
            f"--pid-file={directory / 'pid'}", f"--dhcp-leasefile={directory / 'leases'}",
            "--user=root", "--group=root",
        ]  # fmt: skip
        for leg in sorted(legs, key=lambda each: (each.ifname, each.cidr)):
            network, _, prefixlen = leg.cidr.partition("/")
            argv += [
                f"--interface={leg.ifname}",
                f"--dhcp-range={network},{RA_MODES[leg.mode]},{prefixlen}",
                f"--ra-param={leg.ifname},mtu:{leg.mtu},{INTERVAL}",
            ]
            if leg.mode == "dhcpv6-stateless" and leg.dns:
                servers = ",".join(f"[{server}]" for server in leg.dns)
                argv.append(f"--dhcp-option=option6:dns-server,{servers}")
        stamp = digest(argv)
        pid = daemon_pid(directory / "pid", "dnsmasq")
        stamp_file = directory / "cmd"
        if pid is not None and stamp_file.exists() and stamp_file.read_text() == stamp:
            return
        if pid is not None:
            stop_daemon(pid)
        commands.spawn(argv, netns=netns, log=directory / "log")
        stamp_file.write_text(stamp)

    def remove(self, router_id: str) -> None:
        directory = self.base / router_id
        pid = daemon_pid(directory / "pid", "dnsmasq")
        if pid is not None:
            stop_daemon(pid)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)
