"""An admin moving a network's DHCP server or a router between agents (Neutron's
dhcp_agent_scheduler and l3_agent_scheduler): what each host's data plane is then
given, and auto-scheduling leaving alone what an admin took off its agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.network import policies
from onestack.network.agents import DHCP, DHCP_NETWORKS, L2, L3, L3_ROUTERS, METADATA
from onestack.network.conf import NetworkSettings
from onestack.network.desired import read_desired
from onestack.network.exceptions import RouterHostedByL3Agent
from onestack.network.manager import NetworkManager

ADMIN = RequestContext.admin()


@pytest.fixture()
def manager() -> Iterator[NetworkManager]:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    yield NetworkManager(NetworkSettings(agent_down_time=75), db, Enforcer(policies.RULES))
    db.dispose()


def _hosts(manager: NetworkManager, *names: str) -> dict[str, dict[str, str]]:
    """Network hosts ``names``; their agent ids by host, then by agent type."""
    for i, name in enumerate(names):
        manager.agent_records.report(
            name, [L2, DHCP, L3, METADATA], {"tunneling_ip": f"10.0.0.{i + 1}"}, starting=True
        )
    agents: dict[str, dict[str, str]] = {}
    for agent in manager.agent_records.list_agents(ADMIN, {}):
        agents.setdefault(agent["host"], {})[agent["agent_type"]] = agent["id"]
    return agents


def _network(manager: NetworkManager) -> tuple[str, str]:
    net = manager.networks.create(ADMIN, {"name": f"n-{uuid.uuid4().hex[:6]}"})
    sub = manager.subnets.create(
        ADMIN, {"network_id": net.id, "cidr": "10.9.0.0/24", "ip_version": 4}
    )
    return net.id, sub.id


def _serves_dhcp(manager: NetworkManager, host: str | None, network_id: str) -> bool:
    net = read_desired(manager.core.db, host).networks.get(network_id)
    return net is not None and net.has_dhcp


def test_a_network_moved_to_another_dhcp_agent_is_served_by_that_host_only(
    manager: NetworkManager,
) -> None:
    agents = _hosts(manager, "net-1", "net-2")
    net_id, _ = _network(manager)
    manager.agent_records.schedule("net-1")
    (first,) = manager.agent_records.hosting_network(ADMIN, net_id)
    other = "net-2" if first["host"] == "net-1" else "net-1"
    assert _serves_dhcp(manager, first["host"], net_id)
    assert not _serves_dhcp(manager, other, net_id)

    manager.agent_records.remove(ADMIN, first["id"], DHCP_NETWORKS, net_id)
    manager.agent_records.schedule(other)
    manager.agent_records.schedule(first["host"])
    assert manager.agent_records.hosting_network(ADMIN, net_id) == []  # left unhosted
    assert not _serves_dhcp(manager, first["host"], net_id)
    assert not _serves_dhcp(manager, other, net_id)
    assert not _serves_dhcp(manager, None, net_id)  # nor by a host that serves everything

    target = agents[other]["DHCP agent"]
    manager.agent_records.add(ADMIN, target, DHCP_NETWORKS, {"network_id": net_id})
    manager.agent_records.schedule(other)
    assert [a["id"] for a in manager.agent_records.hosting_network(ADMIN, net_id)] == [target]
    assert _serves_dhcp(manager, other, net_id)
    assert not _serves_dhcp(manager, first["host"], net_id)
    (dhcp_port,) = [
        p
        for p in read_desired(manager.core.db, other).networks[net_id].ports
        if p.owner == "network:dhcp"
    ]
    assert dhcp_port.host == other  # the DHCP port followed the network to its new agent


def test_a_router_moved_to_another_l3_agent_is_built_by_that_host_only(
    manager: NetworkManager,
) -> None:
    agents = _hosts(manager, "net-1", "net-2")
    _, sub_id = _network(manager)
    router = manager.routers.create(ADMIN, {"name": "r"})
    manager.routers.add_router_interface(ADMIN, router.id, {"subnet_id": sub_id})
    manager.agent_records.schedule("net-1")
    (first,) = manager.agent_records.hosting_router(ADMIN, router.id)
    other = "net-2" if first["host"] == "net-1" else "net-1"
    assert router.id in read_desired(manager.core.db, first["host"]).routers

    manager.agent_records.remove(ADMIN, first["id"], L3_ROUTERS, router.id)
    manager.agent_records.schedule(other)
    assert manager.agent_records.hosting_router(ADMIN, router.id) == []
    for host in (first["host"], other, None):
        assert router.id not in read_desired(manager.core.db, host).routers

    manager.agent_records.add(ADMIN, agents[other]["L3 agent"], L3_ROUTERS,
                              {"router_id": router.id})  # fmt: skip
    manager.agent_records.schedule(other)
    assert router.id in read_desired(manager.core.db, other).routers
    assert router.id in read_desired(manager.core.db, None).routers
    assert router.id not in read_desired(manager.core.db, first["host"]).routers
    # a router on another agent already: Neutron's RouterHostedByL3Agent
    with pytest.raises(RouterHostedByL3Agent):
        manager.agent_records.add(ADMIN, agents[first["host"]]["L3 agent"], L3_ROUTERS,
                                  {"router_id": router.id})  # fmt: skip
