"""A cloud with the real data plane, and "instances" that are plain namespaces.

The instances are made exactly as compute makes them: ports through the
NetworkManager's public interface (``allocate_for_instance``) and the
namespace through ``setup_instance_network``; inside, busybox ``udhcpc``
takes the address by DHCP.  Everything created is removed again, also when
a test fails, and the tests check that nothing is left behind.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from onestack.common import owners
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.drivers.linux import commands
from onestack.network.drivers.linux.driver import LinuxDataPlane
from onestack.network.drivers.linux.registry import Registry, registry_dir
from onestack.network.interface import NetworkRequest
from onestack.network.manager import NetworkManager
from tests.support.server import RunningCloud, new_cloud

HERE = Path(__file__).parent
DHCP_SCRIPT = HERE / "udhcpc.sh"

if os.geteuid() != 0 or commands.missing_tools():
    if os.environ.get("CI"):
        raise RuntimeError(f"network e2e tests need root and tools: {commands.missing_tools()}")
    pytest.skip("network e2e tests need root, iproute2, iptables", allow_module_level=True)


def run_in(ns: str, command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["nsenter", f"--net=/run/netns/{ns}", "--", "sh", "-c", command],
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


@dataclass
class Instance:
    id: str
    ns: str
    ports: list[Any]
    ctx: RequestContext
    name: str = ""

    @property
    def ip(self) -> str:
        return str(self.ports[0].fixed_ips[0].address)

    def sh(self, command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return run_in(self.ns, command, timeout)

    def dhcp(self, attempts: int = 20) -> str:
        """Take the address by DHCP (retried while the agent catches up)."""
        for _ in range(attempts):
            result = self.sh(
                f"busybox udhcpc -i eth0 -n -q -t 3 -T 1 -O staticroutes -s {DHCP_SCRIPT}"
            )
            if result.returncode == 0:
                out = self.sh("ip -4 -o addr show dev eth0").stdout
                if self.ip in out:
                    return out
            time.sleep(0.3)
        raise AssertionError(f"no DHCP lease for {self.id}: {result.stdout}{result.stderr}")

    def http_get(self, host: str, path: str) -> tuple[int, str]:
        """(status, body) of ``GET http://host/path`` sent from inside the instance."""
        request = f"GET {path} HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n"
        result = self.sh(f"printf '{request}' | busybox nc -w 3 {host} 80")
        head, _, body = result.stdout.replace("\r\n", "\n").partition("\n\n")
        parts = head.split()
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        return status, body

    def ping(self, address: str, count: int = 1) -> bool:
        return self.sh(f"ping -c {count} -W 1 {address}").returncode == 0


@dataclass
class DataPlane:
    cloud: RunningCloud
    manager: NetworkManager
    public_prefix: str
    metadata_file: Path
    admin: Any
    demo: Any
    instances: list[Instance] = field(default_factory=list)

    def ctx(self, conn: Any) -> RequestContext:
        return RequestContext(
            user_id=conn.current_user_id, project_id=conn.current_project_id, roles=("member",)
        )

    def boot(
        self, conn: Any, network_id: str, *, groups: list[str] | None = None, name: str = ""
    ) -> Instance:
        instance_id = str(uuid.uuid4())
        ctx = self.ctx(conn)
        ports = self.manager.allocate_for_instance(
            ctx, instance_id, "e2e-host", [NetworkRequest(network_id=network_id)],
            security_groups=groups,
        )  # fmt: skip
        path = self.manager.setup_instance_network(instance_id, ports)
        instance = Instance(instance_id, path.name, ports, ctx, name or f"vm-{instance_id[:6]}")
        self.instances.append(instance)
        data = json.loads(self.metadata_file.read_text())
        data[instance_id] = {"name": instance.name, "project_id": ctx.project_id,
                             "keys": {"k": f"ssh-ed25519 AAAA{instance_id[:8]} e2e"},
                             "user_data": f"#!/bin/sh\necho {instance_id}\n"}  # fmt: skip
        self.metadata_file.write_text(json.dumps(data))
        return instance

    def destroy(self, instance: Instance) -> None:
        self.manager.teardown_instance_network(instance.id)
        self.manager.deallocate_for_instance(instance.ctx, instance.id)
        if instance in self.instances:
            self.instances.remove(instance)

    def settle(self) -> None:
        """Give the server's agent a resync interval to apply what changed."""
        time.sleep(1.2)


def onestack_namespaces() -> set[str]:
    return {
        n for n in commands.namespaces() if n.startswith(("osnet-", "osdhcp-", "osrtr-", "osvm-"))
    }


@pytest.fixture(scope="package")
def dataplane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DataPlane]:
    before = onestack_namespaces()
    base = tmp_path_factory.mktemp("network-e2e")
    third = random.randint(100, 199)
    metadata_file = base / "metadata.json"
    metadata_file.write_text("{}")
    cloud = new_cloud(
        base,
        ONESTACK_NETWORK__DATA_PLANE="on",
        ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{third}.0/24",
        ONESTACK_NETWORK__RESYNC_INTERVAL="0.3",
        ONESTACK_NETWORK__METADATA_PROVIDER="tests.e2e.network.standin:PROVIDER",
        ONESTACK_TEST_METADATA_FILE=str(metadata_file),
        ONESTACK_LOG_LEVEL="info",
    )
    cloud.extra_env["ONESTACK_TEST_DB_URL"] = f"sqlite:///{cloud.state_dir / 'onestack.db'}"
    cloud.start()
    db = Database(f"sqlite:///{cloud.state_dir / 'onestack.db'}")
    # plugs instances in this process, with the cloud's registry; the cloud's own agent
    # applies everything else
    manager = NetworkManager(
        NetworkSettings(), db, Enforcer(policies.RULES), data_plane=LinuxDataPlane(cloud.state_dir)
    )
    plane = DataPlane(
        cloud, manager, f"172.24.{third}.", metadata_file, cloud.connect("admin", "admin"),
        cloud.connect("demo", "demo"),
    )  # fmt: skip
    try:
        yield plane
    finally:
        for instance in list(plane.instances):
            plane.destroy(instance)
        _delete_everything(plane)
        time.sleep(1.5)
        cloud.stop()
        db.dispose()
        # never leave anything on the host, even when a test failed: what the
        # cloud's registry lists (never another onestack's namespaces)
        owned = Registry(registry_dir(cloud.state_dir)).names()
        for ns in (onestack_namespaces() - before) & owned:
            for pid in commands.pids_in(ns):
                subprocess.run(["kill", str(pid)], check=False)
            commands.delete_netns(ns)
        for link in commands.links() & owned:
            commands.ip("link", "del", link, check=False)
        shutil.rmtree(cloud.state_dir / "network", ignore_errors=True)
        record = owners.read(cloud.state_dir)
        if record is not None:
            owners.forget(record)  # the host-wide record of what it made: nothing is left


def _delete_everything(plane: DataPlane) -> None:
    """Delete every networking resource of the test cloud through the API."""
    conn = plane.admin
    servers = list(conn.compute.servers(all_projects=True))
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, wait=120)
    for fip in conn.network.ips():
        conn.network.delete_ip(fip)
    for router in conn.network.routers():
        for port in conn.network.ports(
            device_id=router.id, device_owner="network:router_interface"
        ):
            conn.network.remove_interface_from_router(router, port_id=port.id)
        conn.network.delete_router(router)
    for port in conn.network.ports():
        if not port.device_owner.startswith("network:"):
            conn.network.delete_port(port)
    for net in conn.network.networks():
        conn.network.delete_network(net)


def make_network(conn: Any, cidr: str, name: str) -> tuple[Any, Any]:
    net = conn.network.create_network(name=name)
    sub = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name=name)
    return net, sub
