"""An admin taking a network off its DHCP agent, or a router off its L3 agent, and
adding it back (Neutron's dhcp_agent_scheduler and l3_agent_scheduler): the DHCP
server and the router really stop and start again, proved with leases and pings."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from onestack.network.drivers.linux import commands, names
from tests.e2e.network.conftest import DHCP_SCRIPT, DataPlane, make_network


def _cidr() -> tuple[str, str]:
    third = uuid.uuid4().int % 200 + 20
    return f"10.{third}.9.0/24", f"10.{third}.9.1"


def _until(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def test_dhcp_stops_when_the_network_leaves_its_agent_and_returns_with_it(
    dataplane: DataPlane,
) -> None:
    conn = dataplane.admin
    cidr, _ = _cidr()
    net, _ = make_network(conn, cidr, "e2e-dhcp-move")
    dhcp_ns = names.dhcp_ns(net.id)
    assert _until(lambda: bool(list(conn.network.network_hosting_dhcp_agents(net))))
    (hosting,) = conn.network.network_hosting_dhcp_agents(net)
    agent = conn.network.get_agent(hosting.id)  # (the listed one has another base path)
    vm = dataplane.boot(conn, net.id)
    assert vm.ip in vm.dhcp()

    conn.network.remove_dhcp_agent_from_network(agent, net)
    assert _until(lambda: dhcp_ns not in commands.namespaces())
    dataplane.settle()  # passes of the agent: nothing schedules the network again
    assert list(conn.network.network_hosting_dhcp_agents(net)) == []
    assert dhcp_ns not in commands.namespaces()
    lease = vm.sh(f"busybox udhcpc -i eth0 -n -q -t 2 -T 1 -s {DHCP_SCRIPT}")
    assert lease.returncode != 0, lease.stdout  # no DHCP server answers

    conn.network.add_dhcp_agent_to_network(agent, net)
    assert _until(lambda: dhcp_ns in commands.namespaces())
    assert vm.ip in vm.dhcp()


def test_router_stops_forwarding_off_its_agent_and_forwards_again_when_added_back(
    dataplane: DataPlane,
) -> None:
    conn = dataplane.admin
    cidr, gateway = _cidr()
    net, sub = make_network(conn, cidr, "e2e-l3-move")
    router = conn.network.create_router(name=f"r-{uuid.uuid4().hex[:6]}")
    conn.network.add_interface_to_router(router, subnet_id=sub.id)
    router_ns = names.router_ns(router.id)
    vm = dataplane.boot(conn, net.id)
    vm.dhcp()
    assert _until(lambda: vm.ping(gateway))
    (hosting,) = conn.network.routers_hosting_l3_agents(router)
    agent = conn.network.get_agent(hosting.id)

    conn.network.remove_router_from_agent(agent, router)
    assert _until(lambda: router_ns not in commands.namespaces())
    dataplane.settle()
    assert list(conn.network.routers_hosting_l3_agents(router)) == []
    assert not vm.ping(gateway)

    conn.network.add_router_to_agent(agent, router)
    assert _until(lambda: vm.ping(gateway))
    assert [a.id for a in conn.network.routers_hosting_l3_agents(router)] == [agent.id]
