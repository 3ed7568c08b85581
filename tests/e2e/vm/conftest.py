"""Virtual machines beside containers in one cloud: the real data plane, as root.

One cloud for the package (a container host and a VM host, the real network
data plane), one tenant network behind a router, one key pair, and one VM
booted from the default ``onestack-vm`` image that the tests share (TCG boots
take seconds).  What a user does goes through the ``openstack`` CLI; set-up, clean-up
and waiting for states go through openstacksdk in this process (fast); the host
only checks effects (ping, SSH, websockets, processes, files).  Everything the
cloud made is removed again, also when a test fails.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onestack.guests import vm as vm_image
from onestack.network.drivers.linux import commands as linux
from onestack.network.drivers.linux.registry import Registry, registry_dir
from tests.support.server import RunningCloud, new_cloud

pytestmark = [pytest.mark.root, pytest.mark.cli]


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None  # CI runs as root with everything scripts/install installs
    if os.geteuid() != 0:
        return "needs root (VMs, bridges, namespaces)"
    for tool in ("qemu-system-x86_64", "runc", "ssh", "genisoimage"):
        if shutil.which(tool) is None:
            return f"needs {tool} (scripts/install installs it)"
    if linux.missing_tools():
        return f"needs {linux.missing_tools()}"
    if not vm_image.cached_image().is_file():
        return "the onestack-vm image is not built (scripts/install builds it)"
    return None


def wait_for(check: Callable[[], Any], timeout: float = 60.0, interval: float = 0.5) -> Any:
    """The first truthy value of ``check()`` within ``timeout`` seconds (None otherwise)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(interval)


@dataclass
class VmCloud:
    cloud: RunningCloud
    base: Path
    public_prefix: str
    key: Path  # the private key of the key pair ``key_name``
    key_name: str
    network: str
    admin: Any = None  # openstacksdk connection (admin in project admin)

    def status(self, server_id: str) -> str:
        return str(self.admin.compute.get_server(server_id).status)

    def wait_status(self, server_id: str, status: str, timeout: float = 120) -> bool:
        return bool(wait_for(lambda: self.status(server_id) == status, timeout, 0.3))

    def volume_status(self, volume_id: str) -> str:
        return str(self.admin.block_storage.get_volume(volume_id).status)

    def cli(self, *args: str, cloud: str = "onestack", check: bool = True) -> Any:
        command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", cloud, *args]
        env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(self.cloud.clouds_yaml)}
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
        if not check:
            return done
        assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr}"
        if "-f" in args and "json" in args and done.stdout.strip():
            return json.loads(done.stdout)
        return done.stdout

    def ssh(
        self, address: str, command: str, timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        argv = [
            "ssh", "-i", str(self.key), "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", f"root@{address}", command,
        ]  # fmt: skip
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(argv, 255, "", "timed out")

    def ssh_ok(self, address: str, command: str, timeout: float = 90) -> str:
        """``command``'s output once SSH answers (the guest may still be booting)."""
        result = wait_for(lambda: _ok(self.ssh(address, command)), timeout, 1.0)
        assert result is not None, f"no SSH answer from {address} within {timeout} s"
        return result[0]

    @staticmethod
    def ping(address: str) -> bool:
        ping = ["ping", "-c", "1", "-W", "1", address]
        return subprocess.run(ping, capture_output=True).returncode == 0

    def console(self, server: str) -> str:
        """The server's console log (os-getConsoleOutput, through openstacksdk)."""
        return str(self.admin.compute.get_server_console_output(server)["output"])

    def boot(self, name: str, *extra: str, image: str = vm_image.NAME) -> dict[str, Any]:
        server: dict[str, Any] = self.cli(
            "server", "create", name, "--image", image, "--flavor", "m1.tiny",
            "--network", self.network, "--key-name", self.key_name, *extra,
            "--wait", "-f", "json",
        )  # fmt: skip
        assert server["status"] == "ACTIVE", server
        return server

    def floating_ip(self, server: str) -> str:
        fip = self.cli("floating", "ip", "create", "public", "-f", "json")
        address = str(fip["floating_ip_address"])
        self.cli("server", "add", "floating", "ip", server, address)
        return address

    @property
    def vms_dir(self) -> Path:
        return self.cloud.state_dir / "compute" / "vms"


def _ok(done: subprocess.CompletedProcess[str]) -> tuple[str] | None:
    """(stdout,) of a command that succeeded (a tuple: an empty output counts too)."""
    return (done.stdout,) if done.returncode == 0 else None


def _delete_everything(plane: VmCloud) -> None:
    """Delete every server, address, router, network, volume and snapshot (openstacksdk)."""
    conn = plane.admin
    servers = list(conn.compute.servers(all_projects=True))
    for server in servers:
        conn.compute.delete_server(server)
    for server in servers:
        conn.compute.wait_for_delete(server, wait=120)
    for fip in conn.network.ips():
        conn.network.delete_ip(fip)
    for volume in conn.block_storage.volumes(all_projects=True):
        conn.block_storage.delete_volume(volume)
    for image in conn.image.images(visibility="private"):
        conn.image.delete_image(image)
    for router in conn.network.routers():
        for port in conn.network.ports(device_id=router.id,
                                       device_owner="network:router_interface"):  # fmt: skip
            conn.network.remove_interface_from_router(router, port_id=port.id)
        conn.network.delete_router(router)
    for port in conn.network.ports():
        if not port.device_owner.startswith("network:"):
            conn.network.delete_port(port)
    for net in conn.network.networks():
        if not net.is_router_external:
            conn.network.delete_network(net)


def _kill_leftovers(state_dir: Path) -> None:
    """Whatever a failed test left of this cloud: QEMUs, containers, namespaces, devices."""
    vms = state_dir / "compute" / "vms"
    for pidfile in vms.glob("*/qemu.pid") if vms.is_dir() else []:
        try:
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    root = state_dir / "compute" / "runc"
    if root.is_dir():
        listed = subprocess.run(
            ["runc", "--root", str(root), "list", "-q"], capture_output=True, text=True
        ).stdout
        for container in listed.split():
            subprocess.run(["runc", "--root", str(root), "delete", "--force", container],
                           capture_output=True)  # fmt: skip
    owned = Registry(registry_dir(state_dir)).names()
    for ns in linux.namespaces() & owned:
        for pid in linux.pids_in(ns):
            subprocess.run(["kill", str(pid)], check=False)
        linux.delete_netns(ns)
    for link in linux.links() & owned:
        linux.ip("link", "del", link, check=False)


@pytest.fixture(scope="package")
def plane(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VmCloud]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("vm-e2e")
    third = random.randint(100, 199)
    cloud = new_cloud(
        base,
        ONESTACK_NETWORK__DATA_PLANE="on",
        ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{third}.0/24",
        ONESTACK_NETWORK__RESYNC_INTERVAL="0.3",
        ONESTACK_COMPUTE__HEARTBEAT_INTERVAL="2",
        ONESTACK_COMPUTE__VM_HOST="on",
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_LOG_LEVEL="info",
    ).start()
    key = base / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    name = f"vm-{uuid.uuid4().hex[:6]}"
    conn = cloud.connect("admin", "admin")
    plane = VmCloud(cloud, base, f"172.24.{third}.", key, name, name, conn)
    try:
        assert wait_for(lambda: _vm_image_active(conn), 120), "onestack-vm was not registered"
        conn.compute.create_keypair(name=name, public_key=Path(f"{key}.pub").read_text())
        net = conn.network.create_network(name=name)
        subnet = conn.network.create_subnet(network_id=net.id, cidr=f"10.{third}.7.0/24",
                                            ip_version=4, name=name)  # fmt: skip
        public = conn.network.find_network("public")
        gateway = {"network_id": public.id}
        router = conn.network.create_router(name=name, external_gateway_info=gateway)
        conn.network.add_interface_to_router(router, subnet_id=subnet.id)
        group = conn.network.find_security_group("default", project_id=conn.current_project_id)
        for rule in ({"protocol": "icmp"}, {"protocol": "tcp", "port_range_min": 22,
                                            "port_range_max": 22}):  # fmt: skip
            conn.network.create_security_group_rule(security_group_id=group.id,
                                                    direction="ingress", **rule)  # fmt: skip
        yield plane
    finally:
        try:
            _delete_everything(plane)
        finally:
            cloud.stop()
            _kill_leftovers(cloud.state_dir)


def _vm_image_active(conn: Any) -> bool:
    image = conn.image.find_image(vm_image.NAME)
    return image is not None and image.status == "active"


@dataclass
class BootedVm:
    id: str
    name: str
    address: str  # its floating IP


USER_DATA = '#!/bin/sh\necho "user-data ran on $(hostname)" > /root/user-data.txt\n'


@pytest.fixture(scope="package")
def vm(plane: VmCloud) -> BootedVm:
    """The VM most tests share: booted with the key pair and a user_data script."""
    user_data = plane.base / "user-data.sh"
    user_data.write_text(USER_DATA)
    name = f"vm1-{uuid.uuid4().hex[:4]}"
    server = plane.boot(name, "--user-data", str(user_data))
    address = plane.floating_ip(server["id"])
    plane.ssh_ok(address, "true")
    return BootedVm(server["id"], name, address)
