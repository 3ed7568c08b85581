"""DHCP: dnsmasq per network, in its own namespace, serving only the ports' fixed IPs.

The namespace ``osdhcp-<network>`` holds the network's DHCP port (``dhcp0``)
with its addresses and ``169.254.169.254/32`` for the metadata service.
dnsmasq gets one ``static`` range per IPv4 DHCP subnet (no dynamic pool), a
hosts file with every port's MAC and address, and an options file with the
gateway, DNS servers and routes (classless static routes carry the
metadata route, the host routes and the default route).  Changes to hosts
or options reach a running dnsmasq by SIGHUP; a change of subnets restarts
it.  When dnsmasq is not installed, busybox ``udhcpd`` serves the first
IPv4 subnet instead (static leases only).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import signal
from pathlib import Path

from onestack.network.drivers.linux import commands, l2, names
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
    def __init__(self, base: Path) -> None:
        self.base = base

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
        l2.plug(net.id, port.id, port.mac, net.mtu, ns, "dhcp0", [*addresses, f"{METADATA_IP}/32"])
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
        for each in net.ports:
            for address, subnet_id in each.ips:
                if subnet_id in wanted:
                    host = "host-" + address.replace(".", "-")
                    hosts.append(f"{each.mac},{host},{address}")
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
        self._run(ns, directory, argv, "dnsmasq")

    def _run(self, ns: str, directory: Path, argv: list[str], marker: str) -> None:
        stamp = digest(argv)
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
