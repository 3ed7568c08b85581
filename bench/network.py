"""Networking benchmarks: port creation rate, boot-to-first-ping, TCP throughput.

    sudo .venv/bin/python bench/network.py [--ports 200] [--threads 4] [--seconds 3]

Starts its own onestack (SQLite, the real data plane, its own public range)
on free ports.  Figures:

* ports created per second through the API (openstacksdk), sequential and
  with several client threads;
* time from "give this instance a network" (allocate_for_instance +
  setup_instance_network, what compute calls when a server is created) to
  the first ping answered by another instance on the same network, DHCP
  included (busybox udhcpc in the instance namespace);
* time from ``server create`` (a runc container, default image, which takes
  its address by DHCP at boot) to the first ping it answers;
* TCP throughput between two instances (veth, bridge, security-group
  iptables in between) and, in the same run, over a plain veth pair
  between two namespaces, with a small Python sender and receiver.

Everything it creates is deleted at the end.  Results go to
docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import new_cloud

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.drivers.linux import commands
from onestack.network.drivers.linux.driver import LinuxDataPlane
from onestack.network.interface import NetworkRequest
from onestack.network.manager import NetworkManager

DHCP_SCRIPT = Path(__file__).resolve().parent.parent / "tests/e2e/network/udhcpc.sh"

RECEIVER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); c, _ = s.accept(); n = 0; t = time.monotonic()
while True:
    b = c.recv(1 << 20)
    if not b: break
    n += len(b)
print(n / (time.monotonic() - t))
"""
SENDER = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], 5201)); buf = b"x" * (1 << 20)
end = time.monotonic() + float(sys.argv[2])
while time.monotonic() < end: c.sendall(buf)
c.close()
"""


def sh(ns: str, command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net=/run/netns/{ns}", "--", *command],
        capture_output=True, text=True, check=False, **kwargs,
    )  # fmt: skip


def throughput(server_ns: str, client_ns: str, address: str, seconds: float) -> float:
    """Bytes per second from client_ns to address:5201 in server_ns."""
    receiver = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{server_ns}", "--", sys.executable, "-c", RECEIVER],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(0.5)
    sh(client_ns, [sys.executable, "-c", SENDER, address, str(seconds)], timeout=seconds + 30)
    out, _ = receiver.communicate(timeout=30)
    return float(out.strip())


def plain_veth(seconds: float) -> float:
    a, b = f"osbench-a{os.getpid()}", f"osbench-b{os.getpid()}"
    try:
        for ns in (a, b):
            commands.ensure_netns(ns)
        commands.ip("link", "add", "osbench0", "netns", a, "type", "veth", "peer", "name",
                 "osbench1", "netns", b)  # fmt: skip
        commands.ip_batch(["addr add 10.254.0.1/24 dev osbench0", "link set osbench0 up"], netns=a)
        commands.ip_batch(["addr add 10.254.0.2/24 dev osbench1", "link set osbench1 up"], netns=b)
        return throughput(b, a, "10.254.0.2", seconds)
    finally:
        for ns in (a, b):
            commands.delete_netns(ns)


def server_to_first_ping(conn: Any, network_id: str, probe_ns: str, count: int) -> dict[str, float]:
    """``server create`` (a runc container on the network) to its first answered ping."""
    image = conn.image.find_image("onestack-busybox")
    flavor = conn.compute.find_flavor("m1.nano")
    if image is None or flavor is None or count == 0:
        return {}
    times = []
    for index in range(count):
        started = time.monotonic()
        server = conn.compute.create_server(
            name=f"bench-{index}", image_id=image.id, flavor_id=flavor.id,
            networks=[{"uuid": network_id}], security_groups=[{"name": "bench"}],
        )  # fmt: skip
        address = None
        while address is None:
            ports = list(conn.network.ports(device_id=server.id))
            address = ports[0].fixed_ips[0]["ip_address"] if ports else None
            time.sleep(0.02)
        while sh(probe_ns, ["ping", "-c", "1", "-W", "1", address]).returncode != 0:
            if time.monotonic() - started > 120:
                raise TimeoutError(server.id)
        times.append(time.monotonic() - started)
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=120)
    return {
        "server_create_to_first_ping_seconds_p50": statistics.median(times),
        "server_create_to_first_ping_seconds_max": max(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ports", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--boots", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--servers", type=int, default=3, help="servers booted (runc)")
    args = parser.parse_args()
    if commands.missing_tools():
        sys.exit(f"the data plane cannot run here: {commands.missing_tools()}")
    base = Path(tempfile.mkdtemp(prefix="onestack-bench-network-"))
    third = random.randint(100, 199)
    cloud = new_cloud(
        base, ONESTACK_NETWORK__DATA_PLANE="on", ONESTACK_NETWORK__RESYNC_INTERVAL="0.3",
        ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{third}.0/24",
    ).start()  # fmt: skip
    conn = cloud.connect()
    db = Database(f"sqlite:///{cloud.state_dir / 'onestack.db'}")
    # plugs instances in this process, with the cloud's registry; the cloud's own agent
    # applies everything else
    manager = NetworkManager(
        NetworkSettings(), db, Enforcer(policies.RULES), data_plane=LinuxDataPlane(cloud.state_dir)
    )
    ctx = RequestContext(
        user_id=conn.current_user_id, project_id=conn.current_project_id, roles=("member",)
    )
    results: dict[str, Any] = {}
    instances: list[str] = []
    try:
        net = conn.network.create_network(name="bench")
        conn.network.create_subnet(network_id=net.id, cidr="10.200.0.0/16", ip_version=4)
        group = conn.network.create_security_group(name="bench")
        for proto in ("icmp", "tcp"):
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol=proto
            )

        started = time.monotonic()
        ids = [conn.network.create_port(network_id=net.id).id for _ in range(args.ports)]
        results["ports_per_second_sequential"] = args.ports / (time.monotonic() - started)
        for port_id in ids:
            conn.network.delete_port(port_id)
        started = time.monotonic()
        with ThreadPoolExecutor(args.threads) as pool:
            ids = list(pool.map(lambda _: conn.network.create_port(network_id=net.id).id,
                                range(args.ports)))  # fmt: skip
        results[f"ports_per_second_{args.threads}_threads"] = args.ports / (
            time.monotonic() - started
        )
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(conn.network.delete_port, ids))

        def boot() -> tuple[str, str, str]:
            instance_id = str(uuid.uuid4())
            ports = manager.allocate_for_instance(
                ctx, instance_id, "bench", [NetworkRequest(network_id=net.id)],
                security_groups=[group.id],
            )  # fmt: skip
            path = manager.setup_instance_network(instance_id, ports)
            instances.append(instance_id)
            return instance_id, path.name, ports[0].fixed_ips[0].address

        dhcp = ["busybox", "udhcpc", "-i", "eth0", "-n", "-q", "-t", "10", "-T", "1", "-A", "1"]
        dhcp += ["-s", str(DHCP_SCRIPT)]
        _, first_ns, first_ip = boot()
        while sh(first_ns, dhcp).returncode != 0:
            time.sleep(0.1)
        times = []
        last = ("", "", "")
        for _ in range(args.boots):
            started = time.monotonic()
            last = boot()
            while sh(last[1], dhcp).returncode != 0:
                time.sleep(0.05)
            while sh(last[1], ["ping", "-c", "1", "-W", "1", first_ip]).returncode != 0:
                time.sleep(0.05)
            times.append(time.monotonic() - started)
        results["network_to_first_ping_seconds_p50"] = statistics.median(times)
        results["network_to_first_ping_seconds_max"] = max(times)
        results.update(server_to_first_ping(conn, net.id, first_ns, args.servers))
        results["tcp_between_instances_MBps"] = (
            throughput(first_ns, last[1], first_ip, args.seconds) / 1e6
        )
        results["tcp_plain_veth_MBps"] = plain_veth(args.seconds) / 1e6
    finally:
        for server in list(conn.compute.servers()):
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, wait=120)
        for instance_id in instances:
            manager.teardown_instance_network(instance_id)
            manager.deallocate_for_instance(ctx, instance_id)
        for port in conn.network.ports():
            if not port.device_owner.startswith("network:"):
                conn.network.delete_port(port)
        for sg in conn.network.security_groups(name="bench"):
            conn.network.delete_security_group(sg)
        for net in conn.network.networks():
            conn.network.delete_network(net)
        time.sleep(1.5)
        cloud.stop()
        db.dispose()
    print(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
