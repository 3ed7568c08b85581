"""Fixtures of the networking functional tests (on the session's shared cloud)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.functional.network.helpers import unique
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


class Raw:
    """Plain HTTP against the network endpoint with a token (for what the SDK hides)."""

    def __init__(self, cloud: RunningCloud, token: str) -> None:
        self.base = cloud.url("network")
        self.headers = {"X-Auth-Token": token}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)


@pytest.fixture(scope="session")
def raw_admin(cloud: RunningCloud, admin: Any) -> Raw:
    return Raw(cloud, admin.session.get_token())


@pytest.fixture(scope="session")
def raw_demo(cloud: RunningCloud, demo: Any) -> Raw:
    return Raw(cloud, demo.session.get_token())
