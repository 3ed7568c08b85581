"""Floating IPs moving between servers: connections tracked for the old mapping go."""

from __future__ import annotations

import subprocess
import time
import uuid

from onestack.network.drivers.linux import names
from tests.e2e.network.conftest import DataPlane, make_network, run_in


def _cidr() -> str:
    return f"10.{uuid.uuid4().int % 200 + 20}.11.0/24"


def _tracked(router_ns: str, fip: str) -> str:
    return run_in(router_ns, f"conntrack -L -d {fip} 2>/dev/null").stdout


def _ping(address: str) -> bool:
    for _ in range(20):
        result = subprocess.run(["ping", "-c", "1", "-W", "1", address], capture_output=True)
        if result.returncode == 0:
            return True
        time.sleep(0.3)
    return False


def test_reassociating_a_floating_ip_forgets_the_old_mapping(dataplane: DataPlane) -> None:
    conn = dataplane.admin
    net, sub = make_network(conn, _cidr(), "e2e-fip-move")
    public = conn.network.find_network("public")
    router = conn.network.create_router(
        name=f"r-{uuid.uuid4().hex[:6]}", external_gateway_info={"network_id": public.id}
    )
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    group = conn.network.create_security_group(name=f"move-{uuid.uuid4().hex[:6]}")
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="icmp"
    )
    a = dataplane.boot(conn, net.id, groups=[group.id])
    b = dataplane.boot(conn, net.id, groups=[group.id])
    a.dhcp()
    b.dhcp()
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=a.ports[0].id)
    address = fip.floating_ip_address
    assert _ping(address)
    router_ns = names.router_ns(router.id)
    assert f"src={a.ip}" in _tracked(router_ns, address)

    conn.network.update_ip(fip, port_id=b.ports[0].id)
    deadline = time.monotonic() + 15
    rules = ""
    while time.monotonic() < deadline:
        rules = run_in(router_ns, "iptables -t nat -S PREROUTING").stdout
        if f"--to-destination {b.ip}" in rules:
            break
        time.sleep(0.2)
    assert f"--to-destination {b.ip}" in rules, rules
    assert f"src={a.ip}" not in _tracked(router_ns, address)
    assert _ping(address)
    assert f"src={b.ip}" in _tracked(router_ns, address)
