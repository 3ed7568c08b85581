"""The networking Protocol over the bus: NetworkClient -> NetworkEndpoint -> NetworkManager.

A real manager on an in-memory database with only the networking tables, a real
in-process bus on an event loop of its own, and the client called from this
(worker) thread, as a compute agent on another host would call it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from onestack.common.bus import InProcessBus, MessagingTimeout
from onestack.common.bus.bridge import LoopBridge
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.drivers.noop import NoDataPlane
from onestack.network.exceptions import (
    NetworkNotFound,
    NotSupported,
    PortNotFound,
    SecurityGroupNotFound,
)
from onestack.network.interface import NetworkRequest, PortCounters
from onestack.network.manager import NetworkManager
from onestack.network.rpcapi import (
    TOPIC,
    NetworkClient,
    NetworkEndpoint,
    port_from_wire,
    port_to_wire,
)
from tests.unit.network.conftest import LoopThread


@dataclass
class Remote:
    manager: NetworkManager
    client: NetworkClient
    elsewhere: NetworkClient
    ctx: RequestContext
    network_id: str


@pytest.fixture()
def remote(loop_thread: LoopThread) -> Iterator[Remote]:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    manager = NetworkManager(NetworkSettings(), db, Enforcer(policies.RULES))
    project = uuid.uuid4().hex
    ctx = RequestContext(
        request_id="req-rpc", user_id="u1", project_id=project, roles=("member", "reader")
    )
    network = manager.networks.create(ctx, {"name": "rpc-net"})
    manager.subnets.create(
        ctx, {"network_id": network.id, "cidr": "10.77.0.0/24", "ip_version": 4, "name": "s"}
    )
    bus = InProcessBus()

    async def start() -> None:
        await bus.start()
        await bus.serve(TOPIC, NetworkEndpoint(manager), server="node-1")

    bridge = LoopBridge(loop_thread.loop, owner="network")
    try:
        loop_thread.run(start())
        yield Remote(
            manager,
            NetworkClient(bus, bridge, "node-1"),
            NetworkClient(bus, bridge, "node-2"),
            ctx,
            network.id,
        )
    finally:
        loop_thread.run(bus.stop())
        db.dispose()


def test_allocate_and_read_back_over_the_bus(remote: Remote) -> None:
    instance = str(uuid.uuid4())
    ports = remote.client.allocate_for_instance(
        remote.ctx, instance, "node-1", [NetworkRequest(network_id=remote.network_id)]
    )
    assert len(ports) == 1
    assert ports[0].fixed_ips[0].address.startswith("10.77.0.")
    # the same typed values the in-process manager returns
    assert remote.client.get_instance_nw_info(remote.ctx, instance) == (
        remote.manager.get_instance_nw_info(remote.ctx, instance)
    )
    assert port_from_wire(port_to_wire(ports[0])) == ports[0]
    assert remote.client.get_port_info(remote.ctx, ports[0].id) == ports[0]
    addresses = remote.client.addresses_for(remote.ctx, [instance, "no-such-server"])
    assert addresses["no-such-server"] == {}
    (entry,) = addresses[instance]["rpc-net"]
    assert entry["addr"] == ports[0].fixed_ips[0].address
    assert entry["OS-EXT-IPS:type"] == "fixed"
    assert remote.client.addresses(remote.ctx, instance) == addresses[instance]
    remote.client.deallocate_for_instance(remote.ctx, instance)
    assert remote.client.get_instance_nw_info(remote.ctx, instance) == []


def test_security_groups_over_the_bus(remote: Remote) -> None:
    instance = str(uuid.uuid4())
    (port,) = remote.client.allocate_for_instance(
        remote.ctx, instance, "node-1", [NetworkRequest(network_id=remote.network_id)]
    )
    default = remote.client.find_security_group(remote.ctx, "default")
    assert default.name == "default"
    assert port.security_groups == (default.id,)
    assert remote.client.missing_security_groups(remote.ctx, ["default", "nope"]) == ["nope"]
    cleared = remote.client.set_port_security_groups(remote.ctx, port.id, [])
    assert cleared.security_groups == ()
    with pytest.raises(SecurityGroupNotFound):
        remote.client.find_security_group(remote.ctx, "nope")


def test_errors_arrive_as_the_networking_errors(remote: Remote) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(NetworkNotFound) as caught:
        remote.client.get_network_info(remote.ctx, missing)
    assert caught.value.code == 404
    assert str(caught.value) == f"Network {missing} could not be found."
    with pytest.raises(PortNotFound):
        remote.client.get_port_info(remote.ctx, missing)
    info = remote.client.get_network_info(remote.ctx, remote.network_id)
    assert (info.id, info.name, info.external) == (remote.network_id, "rpc-net", False)


def test_plugging_goes_to_the_clients_host(remote: Remote) -> None:
    instance = str(uuid.uuid4())
    ports = remote.client.allocate_for_instance(
        remote.ctx, instance, "node-1", [NetworkRequest(network_id=remote.network_id)]
    )
    # node-1 serves networking but has no data plane: the service's own answer
    with pytest.raises(NotSupported):
        remote.client.setup_instance_network(instance, ports)
    remote.client.teardown_instance_network(instance)
    # nothing serves networking on node-2: the bus says so at once
    with pytest.raises(MessagingTimeout):
        remote.elsewhere.setup_instance_network(instance, ports)
    with pytest.raises(NotSupported):
        remote.client.set_metadata_provider(None)


class CountingPlane(NoDataPlane):
    """A data plane that finds one device: the port's counters as its host reads them."""

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        return {
            port_id: PortCounters(port_id, f"tap{port_id[:11]}", rx_bytes=1500, tx_packets=3)
            for port_id, network_id in ports
            if network_id == "net-here"
        }


def test_port_counters_are_read_by_the_clients_host(loop_thread: LoopThread) -> None:
    db = Database("sqlite://")
    upgrade(db, ["onestack.network"])
    manager = NetworkManager(
        NetworkSettings(), db, Enforcer(policies.RULES), data_plane=CountingPlane()
    )
    bus = InProcessBus()

    async def start() -> None:
        await bus.start()
        await bus.serve(TOPIC, NetworkEndpoint(manager), server="node-1")

    bridge = LoopBridge(loop_thread.loop, owner="network")
    try:
        loop_thread.run(start())
        client = NetworkClient(bus, bridge, "node-1")
        found = client.port_counters([("port-a", "net-here"), ("port-b", "net-elsewhere")])
        assert found == {"port-a": PortCounters("port-a", "tapport-a", rx_bytes=1500, tx_packets=3)}
        # nothing serves networking on node-2: the bus says so at once
        with pytest.raises(MessagingTimeout):
            NetworkClient(bus, bridge, "node-2").port_counters([("port-a", "net-here")])
    finally:
        loop_thread.run(bus.stop())
        db.dispose()
