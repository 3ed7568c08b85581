"""Fixtures of the networking functional tests (on the session's shared cloud)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.http import RawClient
from tests.support.names import unique
from tests.support.server import RunningCloud


@pytest.fixture()
def network(admin: Any) -> Iterator[Any]:
    net = admin.network.create_network(name=unique("net"))
    yield net
    for fip in admin.network.ips():
        if fip.port_id and admin.network.find_port(fip.port_id, network_id=net.id):
            admin.network.delete_ip(fip)
    for port in admin.network.ports(network_id=net.id):
        if port.device_owner == "network:router_interface":
            admin.network.remove_interface_from_router(port.device_id, port_id=port.id)
        elif port.device_owner != "network:dhcp":
            admin.network.delete_port(port, ignore_missing=True)
    admin.network.delete_network(net, ignore_missing=True)


@pytest.fixture()
def subnet(admin: Any, network: Any) -> Any:
    return admin.network.create_subnet(
        network_id=network.id, cidr="10.20.0.0/24", ip_version=4, name=unique("sub")
    )


@pytest.fixture()
def demo_network(demo: Any) -> Iterator[Any]:
    net = demo.network.create_network(name=unique("dnet"))
    yield net
    for port in demo.network.ports(network_id=net.id):
        if port.device_owner != "network:dhcp":
            demo.network.delete_port(port, ignore_missing=True)
    demo.network.delete_network(net, ignore_missing=True)


@pytest.fixture(scope="session")
def raw_admin(cloud: RunningCloud, admin: Any) -> RawClient:
    """Plain HTTP to the network endpoint as admin (for what the SDK hides)."""
    return RawClient(cloud.url("network"), admin.session.get_token(), timeout=30)


@pytest.fixture(scope="session")
def raw_demo(cloud: RunningCloud, demo: Any) -> RawClient:
    return RawClient(cloud.url("network"), demo.session.get_token(), timeout=30)
