"""IPv6 on the real data plane: SLAAC from the router's advertisements.

A network with an IPv4 subnet (DHCP) and an IPv6 ``slaac`` subnet, attached to
a router: every port gets the EUI-64 address of its MAC from the API, the
router's namespace advertises the prefix, and the instances' kernels
configure exactly that address, so anti-spoofing lets it through and the two
instances ping each other over IPv6.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from onestack.network.drivers.linux import commands, names
from tests.e2e.network.conftest import DataPlane, Instance


def _v6_of(instance: Instance) -> str:
    addresses = [ip.address for ip in instance.ports[0].fixed_ips if ":" in ip.address]
    assert len(addresses) == 1, instance.ports[0].fixed_ips
    return str(addresses[0])


def _configured(instance: Instance, address: str, timeout: float = 30.0) -> bool:
    """Wait for the kernel to have ``address`` on eth0, past duplicate detection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = instance.sh("ip -6 -o addr show dev eth0 scope global").stdout
        if address in out and "tentative" not in out:
            return True
        time.sleep(0.5)
    return False


def test_slaac_addresses_from_router_advertisements(dataplane: DataPlane) -> None:
    conn = dataplane.admin
    tag = uuid.uuid4().hex[:4]
    net = conn.network.create_network(name=f"e2e-v6-{tag}")
    v4 = conn.network.create_subnet(
        network_id=net.id, cidr=f"10.{int(tag, 16) % 200 + 20}.9.0/24", ip_version=4
    )
    v6 = conn.network.create_subnet(
        network_id=net.id, cidr=f"fd00:{tag}::/64", ip_version=6,
        ipv6_ra_mode="slaac", ipv6_address_mode="slaac",
    )  # fmt: skip
    assert v6.gateway_ip == f"fd00:{tag}::1"
    router = conn.network.create_router(name=f"r6-{tag}")
    conn.network.add_interface_to_router(router, subnet_id=v4.id)
    conn.network.add_interface_to_router(router, subnet_id=v6.id)
    a = dataplane.boot(conn, net.id)
    b = dataplane.boot(conn, net.id)
    a_v6, b_v6 = _v6_of(a), _v6_of(b)
    assert a_v6.startswith(f"fd00:{tag}::") and a_v6 != b_v6
    assert a.ip in a.dhcp() and b.ip in b.dhcp()
    # the API's address is the one the kernel builds from the advertised prefix
    assert _configured(a, a_v6) and _configured(b, b_v6)
    assert "default via fe80::" in a.sh("ip -6 route show default").stdout
    assert a.sh(f"ping -c 1 -W 2 {b_v6}").returncode == 0
    assert b.sh(f"ping -c 1 -W 2 {a_v6}").returncode == 0

    # the advertisements stop with the router: no daemon and no namespace left
    ra_dir = dataplane.cloud.state_dir / "network" / "ra" / router.id
    assert (ra_dir / "pid").is_file()
    pid = int((ra_dir / "pid").read_text())
    for instance in (a, b):
        dataplane.destroy(instance)
    for subnet in (v4, v6):
        conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and names.router_ns(router.id) in commands.namespaces():
        time.sleep(0.2)
    assert names.router_ns(router.id) not in commands.namespaces()
    assert not ra_dir.exists()
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
