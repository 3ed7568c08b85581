"""DHCP: dnsmasq per network, in its own namespace, serving only the ports' fixed IPs.

The namespace ``osdhcp-<network>`` holds the network's DHCP port (``dhcp0``)
with its addresses and ``169.254.169.254/32`` for the metadata service.
dnsmasq gets one ``static`` range per IPv4 DHCP subnet (no dynamic pool), a
hosts file with every port's MAC and address, and an options file with the
gateway, DNS servers and routes (classless static routes carry the
metadata route, the host routes and the default route), and each port's
IPv4 ``extra_dhcp_opts`` under a tag of the port (options dnsmasq does not know
are left out and logged, so that one bad option cannot stop a network's DHCP).  Changes to hosts
or options reach a running dnsmasq by SIGHUP; a change of subnets restarts
it.  When dnsmasq is not installed, busybox ``udhcpd`` serves the first
IPv4 subnet instead (static leases only).
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import os
import shutil
import signal
import subprocess
from collections.abc import Sequence
from pathlib import Path

from onestack.network.drivers.linux import commands, l2, names
from onestack.network.drivers.linux.hostconf import HostConfig
from onestack.network.topology import NetworkState, digest

LOG = logging.getLogger(__name__)

METADATA_IP = "169.254.169.254"
LEASE_SECONDS = 86400


def daemon_pid(path: Path, marker: str) -> int | None:
    try:
        pid = int(path.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return None
    return pid if marker in cmdline else None


class DhcpServers:
    def __init__(self, base: Path, host: HostConfig | None = None) -> None:
        self.base = base
        self.host = host or HostConfig()

    def directory(self, network_id: str) -> Path:
        return self.base / network_id

    def ensure(self, net: NetworkState) -> None:
        port = net.dhcp_port
        if port is None or not net.has_dhcp:
            self.remove(net.id)
            return
        ns = names.dhcp_ns(net.id)
        commands.ensure_netns(ns)
        addresses = []
        for address, subnet_id in port.ips:
            subnet = next((s for s in net.subnets if s.id == subnet_id), None)
            if subnet is not None:
                addresses.append(f"{address}/{ipaddress.ip_network(subnet.cidr).prefixlen}")
        l2.plug(
            self.host, net.id, port.id, port.mac, net.mtu, ns, "dhcp0",
            [*addresses, f"{METADATA_IP}/32"],
        )  # fmt: skip
        directory = self.directory(net.id)
        directory.mkdir(parents=True, exist_ok=True)
        if shutil.which("dnsmasq"):
            self._dnsmasq(net, ns, directory)
        else:
            self._udhcpd(net, ns, directory)

    # dnsmasq ----------------------------------------------------------------------------------

    def _dnsmasq(self, net: NetworkState, ns: str, directory: Path) -> None:
        port = net.dhcp_port
        assert port is not None
        hosts, opts = [], []
        subnets = [s for s in net.subnets if s.enable_dhcp and s.version == 4]
        dhcp_ip = {sid: ip for ip, sid in port.ips}
        for subnet in subnets:
            tag = f"s{names.short(subnet.id, 8)}"
            routes = []
            if subnet.id in dhcp_ip:
                routes += [f"{METADATA_IP}/32", dhcp_ip[subnet.id]]
            for destination, nexthop in subnet.host_routes:
                routes += [destination, nexthop]
            if subnet.gateway:
                opts.append(f"tag:{tag},option:router,{subnet.gateway}")
                routes += ["0.0.0.0/0", subnet.gateway]
            else:
                opts.append(f"tag:{tag},option:router")
            if routes:
                opts.append(f"tag:{tag},option:classless-static-route,{','.join(routes)}")
            dns = list(subnet.dns)  # dnsmasq serves no DNS here (--port=0)
            if dns:
                opts.append(f"tag:{tag},option:dns-server,{','.join(dns)}")
            opts.append(f"tag:{tag},option:mtu,{net.mtu}")
        wanted = {s.id for s in subnets}
        tagged_options: list[str] = []
        for each in net.ports:
            port_tag = f"p{names.short(each.id, 8)}"
            extra = port_options(each.dhcp_opts, port_tag)
            tagged_options.extend(extra)
            for address, subnet_id in each.ips:
                if subnet_id in wanted:
                    host = "host-" + address.replace(".", "-")
                    tagged = f"set:{port_tag}," if extra else ""
                    hosts.append(f"{each.mac},{tagged}{host},{address}")
        opts.extend(tagged_options)
        (directory / "hosts").write_text("\n".join(hosts) + "\n")
        (directory / "opts").write_text("\n".join(opts) + "\n")
        argv = [
            "dnsmasq", "--no-hosts", "--no-resolv", "--port=0", "--conf-file=/dev/null",
            "--bind-interfaces", "--interface=dhcp0", "--except-interface=lo",
            f"--pid-file={directory / 'pid'}", f"--dhcp-hostsfile={directory / 'hosts'}",
            f"--dhcp-optsfile={directory / 'opts'}", f"--dhcp-leasefile={directory / 'leases'}",
            "--dhcp-authoritative", "--user=root", "--group=root", f"--dhcp-lease-max={1 << 16}",
        ]  # fmt: skip
        for subnet in subnets:
            net_addr = ipaddress.ip_network(subnet.cidr)
            tag = f"s{names.short(subnet.id, 8)}"
            argv.append(
                f"--dhcp-range=set:{tag},{net_addr.network_address},static,{net_addr.netmask},"
                f"{LEASE_SECONDS}s"
            )
        # a dnsmasq (2.89) sent SIGHUP after a port's tagged options were removed was found
        # gone: a change of the ports' own options restarts it instead (the lease file
        # keeps the leases)
        self._run(ns, directory, argv, "dnsmasq", tagged_options)

    def _run(
        self, ns: str, directory: Path, argv: list[str], marker: str, extra: Sequence[str] = ()
    ) -> None:
        stamp = digest([*argv, *extra])
        stamp_file = directory / "cmd"
        pid = daemon_pid(directory / "pid", marker)
        unchanged = stamp_file.exists() and stamp_file.read_text() == stamp
        if pid is not None and unchanged and marker == "dnsmasq":
            os.kill(pid, signal.SIGHUP)
            return
        if pid is not None:
            stop_daemon(pid)
        commands.spawn(argv, netns=ns, log=directory / "log")
        stamp_file.write_text(stamp)

    # busybox udhcpd fallback ------------------------------------------------------------------

    def _udhcpd(self, net: NetworkState, ns: str, directory: Path) -> None:
        port = net.dhcp_port
        assert port is not None
        subnet = next((s for s in net.subnets if s.enable_dhcp and s.version == 4), None)
        dhcp_ip = next((ip for ip, sid in port.ips if subnet and sid == subnet.id), None)
        if subnet is None or dhcp_ip is None:
            return
        cidr = ipaddress.ip_network(subnet.cidr)
        lines = [
            f"start {dhcp_ip}", f"end {dhcp_ip}", "interface dhcp0",
            f"lease_file {directory / 'leases'}", f"pidfile {directory / 'pid'}",
            f"max_leases {cidr.num_addresses}", f"option subnet {cidr.netmask}",
            f"option lease {LEASE_SECONDS}", f"option mtu {net.mtu}",
        ]  # fmt: skip
        routes = [f"{METADATA_IP}/32 {dhcp_ip}"]
        routes += [f"{d} {n}" for d, n in subnet.host_routes]
        if subnet.gateway:
            lines.append(f"option router {subnet.gateway}")
            routes.append(f"0.0.0.0/0 {subnet.gateway}")
        lines.append(f"option staticroutes {' '.join(routes)}")
        dns = list(subnet.dns)
        if dns:
            lines.append(f"option dns {' '.join(dns)}")
        for each in net.ports:
            for address, subnet_id in each.ips:
                if subnet_id == subnet.id and each.id != port.id:
                    lines.append(f"static_lease {each.mac} {address}")
        conf = directory / "udhcpd.conf"
        conf.write_text("\n".join(lines) + "\n")
        (directory / "leases").touch()
        argv = ["busybox", "udhcpd", str(conf)]
        stamp = digest(lines)
        pid = daemon_pid(directory / "pid", "udhcpd")
        if (
            pid is not None
            and (directory / "cmd").exists()
            and (directory / "cmd").read_text() == stamp
        ):
            return
        if pid is not None:
            stop_daemon(pid)
        commands.spawn(argv, netns=ns, log=directory / "log")
        (directory / "cmd").write_text(stamp)

    # removal ------------------------------------------------------------------------------------

    def remove(self, network_id: str) -> None:
        directory = self.directory(network_id)
        for marker in ("dnsmasq", "udhcpd"):
            pid = daemon_pid(directory / "pid", marker)
            if pid is not None:
                stop_daemon(pid)
        ns = names.dhcp_ns(network_id)
        for pid in commands.pids_in(ns) if (commands.NETNS_DIR / ns).exists() else []:
            stop_daemon(pid)
        commands.delete_netns(ns)
        if directory.exists():
            shutil.rmtree(directory, ignore_errors=True)


@functools.cache
def known_options() -> frozenset[str]:
    """The DHCP option names and numbers this host's dnsmasq knows."""
    try:
        listing = subprocess.run(
            ["dnsmasq", "--help", "dhcp"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    known: set[str] = set()
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0].isdigit():
            known.update(parts)
    return frozenset(known)


def port_options(options: tuple[tuple[str, str, int], ...], tag: str) -> list[str]:
    """dnsmasq option lines for a port's IPv4 ``extra_dhcp_opts`` (DHCPv6 is not
    served); an option dnsmasq does not know, or a value with a line break, is left
    out with a warning."""
    lines = []
    for name, value, version in options:
        if version != 4:
            continue
        if name not in known_options() or "\n" in value or "\r" in value:
            LOG.warning(
                "DHCP option %r of tag %s is not served: dnsmasq does not know it", name, tag
            )
            continue
        option = name if name.isdigit() else f"option:{name}"
        lines.append(f"tag:{tag},{option},{value}" if value else f"tag:{tag},{option}")
    return lines


def stop_daemon(pid: int) -> None:
    import time

    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            return
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            return
        if state == "Z":
            return
        time.sleep(0.01)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
