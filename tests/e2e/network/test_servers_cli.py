"""User stories through the `openstack` CLI: servers (runc containers) on real networks.

The servers run the default image, which takes its address by DHCP at boot.
Commands "inside" a server run in its network namespace (``nsenter``), which
is the container's own network stack.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from onestack.network.drivers.linux import commands
from tests.e2e.network.conftest import DataPlane, run_in

pytestmark = pytest.mark.cli


def cli(plane: DataPlane, *args: str, cloud: str = "onestack", check: bool = True) -> Any:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", cloud, *args]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(plane.cloud.clouds_yaml)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=180)
    if check:
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout) if "-f" in args and result.stdout.strip() else result
    return result


def boot(plane: DataPlane, name: str, *extra: str) -> dict[str, Any]:
    server: dict[str, Any] = cli(
        plane, "server", "create", name, "--image", "onestack-busybox", "--flavor", "m1.nano",
        *extra, "--wait", "-f", "json",
    )  # fmt: skip
    assert server["status"] == "ACTIVE", server
    return server


def address_of(plane: DataPlane, server_id: str, network: str) -> str:
    shown = cli(plane, "server", "show", server_id, "-f", "json")
    addresses = shown["addresses"]
    if isinstance(addresses, str):  # older clients print "net=ip"
        return addresses.split("=")[1].split(",")[0].strip()
    return str(addresses[network][0])


def inside(server_id: str, command: str) -> subprocess.CompletedProcess[str]:
    return run_in(f"osvm-{server_id}", command)


def wait_for(check: Any, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.3)
    return False


def _net(plane: DataPlane, name: str, cidr: str, *, router: bool = False, cloud: str = "onestack"):
    cli(plane, "network", "create", name, cloud=cloud)
    cli(plane, "subnet", "create", name, "--network", name, "--subnet-range", cidr, cloud=cloud)
    if router:
        cli(plane, "router", "create", name, "--external-gateway", "public", cloud=cloud)
        cli(plane, "router", "add", "subnet", name, name, cloud=cloud)


def test_two_servers_dhcp_ping_and_snat(dataplane: DataPlane) -> None:
    name = f"cli-{uuid.uuid4().hex[:6]}"
    _net(dataplane, name, "10.91.0.0/24", router=True)
    one = boot(dataplane, f"{name}-1", "--network", name)
    two = boot(dataplane, f"{name}-2", "--network", name)
    ip_one = address_of(dataplane, one["id"], name)
    ip_two = address_of(dataplane, two["id"], name)
    # the addresses were taken by DHCP inside the servers at boot
    assert wait_for(lambda: ip_one in inside(one["id"], "ip -4 -o addr show eth0").stdout)
    assert wait_for(lambda: ip_two in inside(two["id"], "ip -4 -o addr show eth0").stdout)
    assert wait_for(lambda: inside(one["id"], f"ping -c 1 -W 1 {ip_two}").returncode == 0)
    # through the router (SNAT) to the external network's host address
    host = dataplane.public_prefix + "1"
    assert wait_for(lambda: inside(two["id"], f"ping -c 1 -W 1 {host}").returncode == 0)
    for server in (one, two):
        cli(dataplane, "server", "delete", "--wait", server["id"])
    assert f"osvm-{one['id']}" not in commands.namespaces()
    assert list(dataplane.admin.network.ports(device_id=one["id"])) == []


def test_floating_ip_and_security_group_on_a_server(dataplane: DataPlane) -> None:
    name = f"fip-{uuid.uuid4().hex[:6]}"
    _net(dataplane, name, "10.92.0.0/24", router=True)
    cli(dataplane, "security", "group", "create", name)
    server = boot(dataplane, name, "--network", name, "--security-group", name)
    fip = cli(dataplane, "floating", "ip", "create", "public", "-f", "json")
    address = fip["floating_ip_address"]
    cli(dataplane, "server", "add", "floating", "ip", server["id"], address)
    shown = cli(dataplane, "server", "show", server["id"], "-f", "json")
    assert address in json.dumps(shown["addresses"])

    def pong() -> bool:
        ping = ["ping", "-c", "1", "-W", "1", address]
        return subprocess.run(ping, capture_output=True).returncode == 0

    time.sleep(1)
    assert not pong(), "no ICMP rule, yet the server answered"
    cli(dataplane, "security", "group", "rule", "create", name, "--protocol", "icmp")
    assert wait_for(pong), "the ICMP rule did not let the ping through"
    cli(dataplane, "server", "remove", "floating", "ip", server["id"], address)
    cli(dataplane, "floating", "ip", "delete", address)
    cli(dataplane, "server", "delete", "--wait", server["id"])


def test_metadata_and_nic_port(dataplane: DataPlane, tmp_path: Path) -> None:
    name = f"meta-{uuid.uuid4().hex[:6]}"
    _net(dataplane, name, "10.93.0.0/24", router=True)  # metadata through the router
    key = tmp_path / "key.pub"
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    public = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    )
    key.write_text(public.decode() + "\n")
    cli(dataplane, "keypair", "create", "--public-key", str(key), name)
    port = cli(dataplane, "port", "create", "--network", name, name, "-f", "json")
    server = boot(dataplane, name, "--nic", f"port-id={port['id']}", "--key-name", name)
    other = boot(dataplane, f"{name}-x", "--network", name)
    ip = port["fixed_ips"][0]["ip_address"] if isinstance(port["fixed_ips"], list) else None
    if ip:
        assert wait_for(lambda: ip in inside(server["id"], "ip -4 -o addr show eth0").stdout)
    request = "GET /openstack/latest/meta_data.json HTTP/1.0\\r\\n\\r\\n"

    def fetch(server_id: str) -> str:
        out = inside(server_id, f"printf '{request}' | busybox nc -w 3 169.254.169.254 80").stdout
        return out.replace("\r\n", "\n").partition("\n\n")[2]

    assert wait_for(lambda: fetch(server["id"]).startswith("{"))
    data = json.loads(fetch(server["id"]))
    assert data["uuid"] == server["id"] and data["name"] == name
    assert data["public_keys"] == {name: key.read_text().strip()}
    assert json.loads(fetch(other["id"]))["uuid"] == other["id"]
    for each in (server, other):
        cli(dataplane, "server", "delete", "--wait", each["id"])
    # a port the user made survives the server, released
    assert dataplane.admin.network.get_port(port["id"]).device_id == ""
    cli(dataplane, "port", "delete", port["id"])


def test_add_and_remove_port_and_security_group(dataplane: DataPlane) -> None:
    name = f"iface-{uuid.uuid4().hex[:6]}"
    _net(dataplane, name, "10.94.0.0/24")
    _net(dataplane, f"{name}-b", "10.95.0.0/24")
    cli(dataplane, "security", "group", "create", name)
    server = boot(dataplane, name, "--network", name)
    port = cli(dataplane, "port", "create", "--network", f"{name}-b", f"{name}-b", "-f", "json")
    cli(dataplane, "server", "add", "port", server["id"], port["id"])
    links = inside(server["id"], "ip -o link").stdout
    assert f"link/ether {port['mac_address']}" in links
    shown = cli(dataplane, "server", "show", server["id"], "-f", "json")
    assert f"{name}-b" in json.dumps(shown["addresses"])
    cli(dataplane, "server", "add", "security", "group", server["id"], name)

    def groups_of_port() -> set[str]:
        ids = dataplane.admin.network.get_port(port["id"]).security_group_ids
        return {g.name for g in dataplane.admin.network.security_groups() if g.id in ids}

    assert name in groups_of_port()
    cli(dataplane, "server", "remove", "security", "group", server["id"], name)
    assert name not in groups_of_port()
    cli(dataplane, "server", "remove", "port", server["id"], port["id"])
    assert port["mac_address"] not in inside(server["id"], "ip -o link").stdout
    assert dataplane.admin.network.get_port(port["id"]).device_id == ""
    cli(dataplane, "server", "delete", "--wait", server["id"])
    cli(dataplane, "port", "delete", port["id"])
