"""The Linux data plane, proved with packets between namespaces acting as instances."""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

from onestack.network.drivers.linux import commands, names
from tests.e2e.network.conftest import DataPlane, make_network, onestack_namespaces, run_in


def _cidr() -> tuple[str, str]:
    third = uuid.uuid4().int % 200 + 20
    return f"10.{third}.7.0/24", f"10.{third}.7.1"


def _router(plane: DataPlane, subnet_id: str) -> object:
    conn = plane.admin
    public = conn.network.find_network("public")
    router = conn.network.create_router(
        name=f"r-{uuid.uuid4().hex[:6]}", external_gateway_info={"network_id": public.id}
    )
    conn.network.add_interface_to_router(router, subnet_id=subnet_id)
    return router


def test_dhcp_and_ping_between_two_instances(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net, _ = make_network(dataplane.admin, cidr, "e2e-ping")
    a = dataplane.boot(dataplane.admin, net.id)
    b = dataplane.boot(dataplane.admin, net.id)
    assert a.ip in a.dhcp() and b.ip in b.dhcp()
    assert a.ping(b.ip) and b.ping(a.ip)
    assert f"link/ether {a.ports[0].mac_address} " in a.sh("ip -o link show eth0").stdout


def test_snat_to_the_external_network(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net, sub = make_network(dataplane.admin, cidr, "e2e-snat")
    router = _router(dataplane, sub.id)
    vm = dataplane.boot(dataplane.admin, net.id)
    vm.dhcp()
    host = dataplane.public_prefix + "1"
    seen: list[str] = []
    server = socket.socket()
    server.bind((host, 0))
    server.listen(1)
    server.settimeout(15)
    port = server.getsockname()[1]

    def accept() -> None:
        conn, peer = server.accept()
        seen.append(peer[0])
        conn.close()

    thread = threading.Thread(target=accept)
    thread.start()
    result = vm.sh(f"echo hi | busybox nc -w 3 {host} {port}")
    thread.join(20)
    server.close()
    gateway_ip = dataplane.admin.network.get_router(router.id).external_gateway_info[
        "external_fixed_ips"
    ][0]["ip_address"]
    assert seen == [gateway_ip], result.stderr
    assert vm.ping(host)


def test_floating_ip_is_reachable_from_the_host(dataplane: DataPlane) -> None:
    conn = dataplane.admin
    cidr, _ = _cidr()
    net, sub = make_network(conn, cidr, "e2e-fip")
    _router(dataplane, sub.id)
    group = conn.network.create_security_group(name=f"fip-{uuid.uuid4().hex[:6]}")
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="icmp"
    )
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="tcp",
        port_range_min=8080, port_range_max=8080,
    )  # fmt: skip
    vm = dataplane.boot(conn, net.id, groups=[group.id])
    vm.dhcp()
    public = conn.network.find_network("public")
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=vm.ports[0].id)
    server = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{vm.ns}", "--", "busybox", "nc", "-l", "-p", "8080"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        ok = False
        while time.monotonic() < deadline and not ok:
            ok = subprocess.run(
                ["ping", "-c", "1", "-W", "1", fip.floating_ip_address], capture_output=True
            ).returncode == 0  # fmt: skip
        assert ok, "the floating IP does not answer the host"
        for _ in range(50):
            try:
                sock = socket.create_connection((fip.floating_ip_address, 8080), timeout=5)
                break
            except ConnectionRefusedError:  # nc is not listening yet
                time.sleep(0.1)
        with sock:
            sock.sendall(b"through-the-fip\n")
        out, _ = server.communicate(timeout=10)
        assert b"through-the-fip" in out
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_security_group_drops_until_a_rule_allows(dataplane: DataPlane) -> None:
    conn = dataplane.admin
    cidr, _ = _cidr()
    net, _ = make_network(conn, cidr, "e2e-sg")
    closed = conn.network.create_security_group(name=f"closed-{uuid.uuid4().hex[:6]}")
    client = dataplane.boot(conn, net.id)
    target = dataplane.boot(conn, net.id, groups=[closed.id])
    client.dhcp()
    target.dhcp()
    assert not client.ping(target.ip)
    assert client.sh(f"busybox nc -w 2 {target.ip} 22 </dev/null").returncode != 0
    rule = conn.network.create_security_group_rule(
        security_group_id=closed.id, direction="ingress", protocol="icmp"
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not client.ping(target.ip):
        time.sleep(0.2)
    assert client.ping(target.ip)
    conn.network.delete_security_group_rule(rule)
    dataplane.settle()
    assert not client.ping(target.ip)


def test_projects_with_the_same_cidr_are_isolated(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net_a, _ = make_network(dataplane.admin, cidr, "e2e-a")
    net_b, _ = make_network(dataplane.demo, cidr, "e2e-b")
    a = dataplane.boot(dataplane.admin, net_a.id)
    b1 = dataplane.boot(dataplane.demo, net_b.id)
    b2 = dataplane.boot(dataplane.demo, net_b.id)
    for vm in (a, b1, b2):
        vm.dhcp()
    assert b1.ping(b2.ip)
    # b2's address on B's network; on A's network nobody has it
    assert b2.ip != a.ip
    assert not a.ping(b2.ip)
    assert a.sh(f"ip neigh show {b2.ip}").stdout.find(b2.ports[0].mac_address) < 0


def test_spoofed_source_gets_nothing_through(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net, _ = make_network(dataplane.admin, cidr, "e2e-spoof")
    good = dataplane.boot(dataplane.admin, net.id)
    bad = dataplane.boot(dataplane.admin, net.id)
    good.dhcp()
    bad.dhcp()
    assert bad.ping(good.ip)
    arping = "busybox arping -c 2 -w 3 -I eth0"
    assert bad.sh(f"{arping} {good.ip}").returncode == 0
    # ARP claiming an address that is not the port's is dropped at the bridge
    prefix = cidr.split("/")[1]
    extra = cidr.rsplit(".", 1)[0] + ".201"
    bad.sh(f"ip addr add {extra}/{prefix} dev eth0")
    forged = bad.sh(f"{arping} -s {extra} {good.ip}")
    assert forged.returncode == 1 and "Sent 2 probe" in forged.stdout, forged
    stolen = cidr.rsplit(".", 1)[0] + ".200"
    bad.sh(f"ip addr flush dev eth0 && ip addr add {stolen}/{prefix} dev eth0")
    assert not bad.ping(good.ip, count=2)
    # a forged MAC with the right address gets nowhere either
    bad.sh(
        f"ip addr flush dev eth0 && ip link set eth0 address fa:16:3e:de:ad:01 && "
        f"ip addr add {bad.ip}/{prefix} dev eth0"
    )
    assert not bad.ping(good.ip, count=2)


def test_metadata_answers_for_the_instance_only(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net, _ = make_network(dataplane.admin, cidr, "e2e-meta")
    one = dataplane.boot(dataplane.admin, net.id, name="meta-one")
    two = dataplane.boot(dataplane.admin, net.id, name="meta-two")
    for vm in (one, two):
        vm.dhcp()
    meta = "169.254.169.254"
    for vm in (one, two):
        deadline = time.monotonic() + 10
        while True:
            status, body = vm.http_get(meta, "/openstack/latest/meta_data.json")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert status == 200, body
        data = json.loads(body)
        assert data["uuid"] == vm.id and data["name"] == vm.name
        assert data["public_keys"]["k"].endswith(" e2e") and vm.id[:8] in data["public_keys"]["k"]
        assert vm.http_get(meta, "/openstack/latest/user_data") == (
            200,
            f"#!/bin/sh\necho {vm.id}\n",
        )
        assert vm.http_get(meta, "/latest/meta-data/local-ipv4") == (200, vm.ip)
        status, key = vm.http_get(meta, "/latest/meta-data/public-keys/0/openssh-key")
        assert status == 200 and vm.id[:8] in key
    # a forged source address does not get another instance's data
    prefix = cidr.split("/")[1]
    two.sh(f"ip addr flush dev eth0 && ip addr add {one.ip}/{prefix} dev eth0 && "
           f"ip route add 169.254.169.254 via {cidr.rsplit('.', 1)[0]}.2")  # fmt: skip
    status, body = two.http_get(meta, "/openstack/latest/meta_data.json")
    assert one.id not in body


def test_deleting_resources_leaves_nothing_behind(dataplane: DataPlane) -> None:
    conn = dataplane.admin
    cidr, _ = _cidr()
    net, sub = make_network(conn, cidr, "e2e-clean")
    router = _router(dataplane, sub.id)
    vm = dataplane.boot(conn, net.id)
    vm.dhcp()
    dhcp_dir = dataplane.cloud.state_dir / "network" / "dhcp" / net.id
    pid = int((dhcp_dir / "pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    tap = names.tap(vm.ports[0].id)
    assert tap in commands.links(names.net_ns(net.id))
    assert "osi-" in run_in(names.net_ns(net.id), "iptables-save").stdout
    dataplane.destroy(vm)
    assert vm.ns not in commands.namespaces()
    dataplane.settle()
    assert tap not in commands.links(names.net_ns(net.id))
    assert "osi-" not in run_in(names.net_ns(net.id), "iptables-save").stdout
    conn.network.remove_interface_from_router(router, subnet_id=sub.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    dataplane.settle()
    left = [ns for ns in onestack_namespaces() if net.id in ns or router.id in ns]
    assert left == []
    assert not Path(f"/proc/{pid}").exists() or (
        "dnsmasq" not in Path(f"/proc/{pid}/cmdline").read_text()
        and "udhcpd" not in Path(f"/proc/{pid}/cmdline").read_text()
    )
    assert not dhcp_dir.exists()


def test_agent_rebuilds_what_disappeared(dataplane: DataPlane) -> None:
    cidr, _ = _cidr()
    net, sub = make_network(dataplane.admin, cidr, "e2e-heal")
    router = _router(dataplane, sub.id)
    dataplane.settle()
    commands.delete_netns(names.router_ns(router.id))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and names.router_ns(router.id) not in commands.namespaces():
        time.sleep(0.2)
    assert names.router_ns(router.id) in commands.namespaces()
    vm = dataplane.boot(dataplane.admin, net.id)
    vm.dhcp()
    gateway = cidr.rsplit(".", 1)[0] + ".1"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not vm.ping(gateway):
        time.sleep(0.2)
    assert vm.ping(gateway)


def test_doctor_reports_and_removes_leftovers(dataplane: DataPlane) -> None:
    import sys

    from onestack.network.cli import find_leftovers, remove
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    # what a compute host that died before teardown_instance_network leaves behind
    leftover = names.vm_ns(str(uuid.uuid4()))
    commands.ensure_netns(leftover)
    Registry(registry_dir(dataplane.cloud.state_dir)).add(leftover)
    try:
        db_url = f"sqlite:///{dataplane.cloud.state_dir / 'onestack.db'}"
        report = subprocess.run(
            [str(Path(sys.executable).with_name("onestack")), "doctor", "--state-dir",
             str(dataplane.cloud.state_dir)],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert report.returncode == 1
        assert f"leftover: namespace {leftover} (no port of that instance)" in report.stdout
        found = [item for item in find_leftovers(db_url, dataplane.cloud.state_dir)
                 if item.name == leftover]  # fmt: skip
        assert len(found) == 1
        remove(found[0], dataplane.cloud.state_dir)
        assert leftover not in commands.namespaces()
    finally:
        commands.delete_netns(leftover)
