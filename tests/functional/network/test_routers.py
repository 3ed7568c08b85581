"""Routers, interfaces, static routes and floating IPs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.network.helpers import neutron_error, unique


@pytest.fixture()
def router(admin: Any) -> Iterator[Any]:
    public = admin.network.find_network("public")
    router = admin.network.create_router(
        name=unique("r"), external_gateway_info={"network_id": public.id}
    )
    yield router
    for fip in admin.network.ips(router_id=router.id):
        admin.network.delete_ip(fip)
    for port in admin.network.ports(device_id=router.id, device_owner="network:router_interface"):
        admin.network.remove_interface_from_router(router, port_id=port.id)
    admin.network.delete_router(router, ignore_missing=True)


def test_gateway_info(admin: Any, router: Any) -> None:
    info = router.external_gateway_info
    assert info["enable_snat"] is True
    assert info["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    updated = admin.network.update_router(
        router, external_gateway_info={"network_id": info["network_id"], "enable_snat": False}
    )
    assert updated.external_gateway_info["enable_snat"] is False


def test_interfaces(admin: Any, router: Any, network: Any, subnet: Any) -> None:
    info = admin.network.add_interface_to_router(router, subnet_id=subnet.id)
    assert info["subnet_id"] == subnet.id and info["id"] == router.id
    port = admin.network.get_port(info["port_id"])
    assert port.fixed_ips[0]["ip_address"] == subnet.gateway_ip
    assert port.device_owner == "network:router_interface"
    neutron_error(
        lambda: admin.network.add_interface_to_router(router, subnet_id=subnet.id),
        400,
        "BadRequest",
    )
    neutron_error(lambda: admin.network.delete_router(router), 409, "RouterInUse")
    neutron_error(lambda: admin.network.delete_network(network), 409, "NetworkInUse")
    admin.network.remove_interface_from_router(router, subnet_id=subnet.id)
    assert admin.network.find_port(info["port_id"]) is None


def test_interface_by_port(admin: Any, router: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": "10.20.0.9"}])
    info = admin.network.add_interface_to_router(router, port_id=port.id)
    assert info["port_id"] == port.id
    assert admin.network.get_port(port.id).device_id == router.id
    admin.network.remove_interface_from_router(router, port_id=port.id)


def test_interface_on_subnet_without_gateway(admin: Any, router: Any, network: Any) -> None:
    sub = admin.network.create_subnet(
        network_id=network.id, cidr="10.60.0.0/24", ip_version=4, gateway_ip=None
    )
    assert sub.gateway_ip is None
    body = neutron_error(
        lambda: admin.network.add_interface_to_router(router, subnet_id=sub.id), 400, "BadRequest"
    )
    assert body["message"] == (
        "Bad router request: Subnet for router interface must have a gateway IP."
    )


def test_static_routes(admin: Any, router: Any, subnet: Any) -> None:
    admin.network.add_interface_to_router(router, subnet_id=subnet.id)
    updated = admin.network.update_router(
        router, routes=[{"destination": "203.0.113.0/24", "nexthop": "10.20.0.50"}]
    )
    assert updated.routes == [{"destination": "203.0.113.0/24", "nexthop": "10.20.0.50"}]
    neutron_error(
        lambda: admin.network.update_router(
            router, routes=[{"destination": "203.0.113.0/24", "nexthop": "192.0.2.1"}]
        ),
        400,
        "InvalidInput",
    )


def test_floating_ips(admin: Any, router: Any, network: Any, subnet: Any) -> None:
    public = admin.network.find_network("public")
    port = admin.network.create_port(network_id=network.id)
    neutron_error(
        lambda: admin.network.create_ip(floating_network_id=public.id, port_id=port.id),
        404,
        "ExternalGatewayForFloatingIPNotFound",
    )
    admin.network.add_interface_to_router(router, subnet_id=subnet.id)
    fip = admin.network.create_ip(floating_network_id=public.id, port_id=port.id)
    assert fip.floating_ip_address.startswith("172.24.4.")
    assert fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
    assert fip.router_id == router.id and fip.status == "ACTIVE"
    assert [f.id for f in admin.network.ips(port_id=port.id)] == [fip.id]
    neutron_error(
        lambda: admin.network.remove_interface_from_router(router, subnet_id=subnet.id),
        409,
        "RouterInterfaceInUseByFloatingIP",
    )
    free = admin.network.update_ip(fip, port_id=None)
    assert free.port_id is None and free.status == "DOWN" and free.router_id is None
    admin.network.delete_ip(fip)
    neutron_error(lambda: admin.network.get_ip(fip.id), 404, "FloatingIPNotFound")


def test_floating_ip_needs_external_network(admin: Any, network: Any, subnet: Any) -> None:
    body = neutron_error(
        lambda: admin.network.create_ip(floating_network_id=network.id), 400, "BadRequest"
    )
    assert "not a valid external network" in body["message"]


def test_demo_cannot_touch_admin_router(demo: Any, router: Any) -> None:
    neutron_error(lambda: demo.network.get_router(router.id), 404, "RouterNotFound")
