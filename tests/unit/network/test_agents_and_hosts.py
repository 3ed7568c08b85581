"""Network agents across hosts: liveness, DHCP and router scheduling, what each host
shows (its networks, its DHCP servers and routers, l2population entries toward the
others), and ``binding:vif_type`` from the bound host's agent."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.network import models, policies
from onestack.network.agents import DHCP, L2, L3, METADATA
from onestack.network.conf import NetworkSettings
from onestack.network.desired import read_desired
from onestack.network.interface import NetworkRequest
from onestack.network.manager import NetworkManager
from onestack.node import JoinToken, JoinTokenError, host_settings

ADMIN = RequestContext.admin()


@pytest.fixture()
def manager() -> Iterator[NetworkManager]:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    yield NetworkManager(NetworkSettings(agent_down_time=75), db, Enforcer(policies.RULES))
    db.dispose()


def _host(manager: NetworkManager, name: str, address: str, *, network: bool) -> None:
    kinds = [L2, DHCP, L3, METADATA] if network else [L2]
    manager.agent_records.report(name, kinds, {"tunneling_ip": address}, starting=True)


def _net(manager: NetworkManager, cidr: str) -> tuple[str, str]:
    net = manager.networks.create(ADMIN, {"name": f"n-{uuid.uuid4().hex[:6]}"})
    subnet = manager.subnets.create(ADMIN, {"network_id": net.id, "cidr": cidr, "ip_version": 4})
    return net.id, subnet.id


def _boot(manager: NetworkManager, network_id: str, host: str) -> str:
    instance = str(uuid.uuid4())
    (port,) = manager.allocate_for_instance(
        ADMIN, instance, host, [NetworkRequest(network_id=network_id)]
    )
    return port.mac_address


def test_a_silent_agent_is_not_alive(manager: NetworkManager) -> None:
    _host(manager, "h1", "10.0.0.1", network=False)
    (agent,) = manager.agent_records.list_agents(ADMIN, {"host": ["h1"]})
    assert agent["alive"] and agent["agent_type"] == "Linux bridge agent"
    with manager.core.db.writer() as session:
        row = session.get(models.Agent, agent["id"])
        assert row is not None
        row.heartbeat_timestamp = utcnow() - timedelta(seconds=76)
    assert manager.agent_records.get(ADMIN, agent["id"])["alive"] is False
    assert manager.agent_records.list_agents(ADMIN, {"alive": ["false"]})[0]["host"] == "h1"


def test_dhcp_and_routers_go_to_live_network_hosts_and_ports_follow(
    manager: NetworkManager,
) -> None:
    _host(manager, "net-1", "10.0.0.1", network=True)
    _host(manager, "cmp-1", "10.0.0.2", network=False)
    net_id, subnet_id = _net(manager, "10.9.0.0/24")
    router = manager.routers.create(ADMIN, {"name": "r"})
    manager.routers.add_router_interface(ADMIN, router.id, {"subnet_id": subnet_id})
    manager.agent_records.schedule("net-1")
    (dhcp_agent,) = manager.agent_records.hosting_network(ADMIN, net_id)
    (l3_agent,) = manager.agent_records.hosting_router(ADMIN, router.id)
    assert dhcp_agent["host"] == l3_agent["host"] == "net-1"
    with manager.core.db.reader() as session:
        owners = {
            p.device_owner: p.binding_host_id
            for p in session.query(models.Port).filter(models.Port.network_id == net_id)
        }
    assert owners == {"network:dhcp": "net-1", "network:router_interface": "net-1"}


def test_each_host_shows_its_networks_with_l2population_entries(
    manager: NetworkManager,
) -> None:
    _host(manager, "net-1", "10.0.0.1", network=True)
    _host(manager, "cmp-1", "10.0.0.2", network=False)
    _host(manager, "cmp-2", "10.0.0.3", network=False)
    net_id, _ = _net(manager, "10.8.0.0/24")
    other_id, _ = _net(manager, "10.7.0.0/24")
    manager.agent_records.schedule("net-1")
    mac_1 = _boot(manager, net_id, "cmp-1")
    mac_2 = _boot(manager, net_id, "cmp-2")

    one = read_desired(manager.core.db, "cmp-1")
    assert set(one.networks) == {net_id}  # cmp-1 has nothing on the other network
    shown = one.networks[net_id]
    assert not shown.has_dhcp and shown.segmentation_id is not None
    assert shown.flood == ("10.0.0.1", "10.0.0.3")  # the DHCP host and cmp-2
    assert (mac_2, "10.0.0.3") in shown.remote and (mac_1, "10.0.0.2") not in shown.remote
    assert one.routers == {}

    dhcp_host = read_desired(manager.core.db, "net-1")
    assert set(dhcp_host.networks) == {net_id, other_id}
    assert dhcp_host.networks[net_id].has_dhcp
    assert dhcp_host.networks[net_id].flood == ("10.0.0.2", "10.0.0.3")
    # one host serving everything (no tunnel endpoint) still sees the whole cloud
    assert set(read_desired(manager.core.db).networks) == {net_id, other_id}


def test_a_port_on_a_host_without_a_live_agent_fails_to_bind(manager: NetworkManager) -> None:
    _host(manager, "cmp-1", "10.0.0.2", network=False)
    net_id, _ = _net(manager, "10.6.0.0/24")
    port = manager.ports.create(ADMIN, {"network_id": net_id})
    bound = manager.ports.update(ADMIN, port.id, {"binding:host_id": "cmp-1"}, None)
    assert bound.vif_type == "bridge"
    lost = manager.ports.update(ADMIN, port.id, {"binding:host_id": "nowhere"}, None)
    assert lost.vif_type == "binding_failed"


def test_networks_get_distinct_vxlan_ids(manager: NetworkManager) -> None:
    ids = set()
    for _ in range(5):
        net = manager.networks.create(ADMIN, {"name": "v"})
        ids.add(net.segmentation_id)
    assert len(ids) == 5 and None not in ids


def test_a_join_token_round_trips_and_rejects_garbage() -> None:
    token = JoinToken("postgresql://db", "amqp://bus", "http://ctl:5000", "RegionOne", "nova", "pw")
    assert JoinToken.decode(token.encode()) == token
    with pytest.raises(JoinTokenError):
        JoinToken.decode("osjoin1.bm90IGpzb24")
    with pytest.raises(JoinTokenError):
        JoinToken.decode("something else")


def test_a_join_token_gives_volume_hosts_the_volume_service_password() -> None:
    token = JoinToken(
        "sqlite://", "memory://", "http://ctl:5000", "RegionOne", "nova", "pw", volume_password="v"
    )
    assert JoinToken.decode(token.encode()).volume_password == "v"
    assert host_settings(token, "h1", {"volume"}).volume.service_password == "v"
    old = JoinToken("sqlite://", "memory://", "http://ctl:5000", "RegionOne", "nova", "pw")
    assert host_settings(old, "h1", {"volume"}).volume.service_password is None
