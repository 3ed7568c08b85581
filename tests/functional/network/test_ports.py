"""Ports: address and MAC allocation, errors, security, binding."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique
from tests.support.http import RawClient


def test_port_gets_address_mac_and_default_group(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(network_id=network.id, name=unique("p"))
    assert len(port.fixed_ips) == 1
    assert port.fixed_ips[0]["subnet_id"] == subnet.id
    assert port.fixed_ips[0]["ip_address"].startswith("10.20.0.")
    assert port.mac_address.startswith("fa:16:3e:")
    assert port.status == "DOWN" and port.binding_vif_type == "unbound"
    default = admin.network.find_security_group("default", project_id=admin.current_project_id)
    assert port.security_group_ids == [default.id]


def test_requested_ip_and_mac(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(
        network_id=network.id, fixed_ips=[{"ip_address": "10.20.0.77"}],
        mac_address="fa:16:3e:00:11:22",
    )  # fmt: skip
    assert port.fixed_ips == [{"subnet_id": subnet.id, "ip_address": "10.20.0.77"}]
    assert port.mac_address == "fa:16:3e:00:11:22"
    body = neutron_error(
        lambda: admin.network.create_port(
            network_id=network.id, fixed_ips=[{"ip_address": "10.20.0.77"}]
        ),
        409,
        "IpAddressInUse",
    )
    assert "10.20.0.77" in body["message"]
    neutron_error(
        lambda: admin.network.create_port(network_id=network.id, mac_address="fa:16:3e:00:11:22"),
        409,
        "MacAddressInUse",
    )
    found = list(admin.network.ports(fixed_ips="ip_address=10.20.0.77"))
    assert [p.id for p in found] == [port.id]


def test_ip_outside_the_cidr(admin: Any, network: Any, subnet: Any) -> None:
    neutron_error(
        lambda: admin.network.create_port(
            network_id=network.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.99.0.5"}]
        ),
        400,
        "InvalidIpForSubnet",
    )
    neutron_error(
        lambda: admin.network.create_port(
            network_id=network.id, fixed_ips=[{"ip_address": "10.99.0.5"}]
        ),
        400,
        "InvalidIpForNetwork",
    )


def test_full_subnet(admin: Any, network: Any) -> None:
    sub = admin.network.create_subnet(
        network_id=network.id, cidr="10.40.0.0/29", ip_version=4, is_dhcp_enabled=False,
        allocation_pools=[{"start": "10.40.0.2", "end": "10.40.0.3"}],
    )  # fmt: skip
    for _ in range(2):
        admin.network.create_port(network_id=network.id)
    body = neutron_error(
        lambda: admin.network.create_port(network_id=network.id), 409, "IpAddressGenerationFailure"
    )
    assert network.id in body["message"]
    assert len(list(admin.network.ports(network_id=network.id))) == 2
    del sub


def test_port_on_invisible_network(demo: Any, network: Any) -> None:
    neutron_error(lambda: demo.network.create_port(network_id=network.id), 404, "NetworkNotFound")


def test_port_security_and_address_pairs(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(
        network_id=network.id, allowed_address_pairs=[{"ip_address": "10.20.0.200"}]
    )
    assert port.allowed_address_pairs == [
        {"ip_address": "10.20.0.200", "mac_address": port.mac_address}
    ]
    open_port = admin.network.create_port(
        network_id=network.id, port_security_enabled=False, security_group_ids=[]
    )
    assert open_port.is_port_security_enabled is False and open_port.security_group_ids == []
    group = admin.network.create_security_group(name=unique("sg"))
    try:
        neutron_error(
            lambda: admin.network.update_port(open_port, security_group_ids=[group.id]),
            400,
            "PortSecurityAndIPRequiredForSecurityGroups",
        )
    finally:
        admin.network.delete_security_group(group)


def test_binding_is_admin_only(admin: Any, demo: Any, demo_network: Any) -> None:
    demo.network.create_subnet(network_id=demo_network.id, cidr="10.50.0.0/24", ip_version=4)
    port = demo.network.create_port(network_id=demo_network.id)
    neutron_error(
        lambda: demo.network.update_port(port, binding_host_id="somehost"),
        403,
        "PolicyNotAuthorized",
    )
    bound = admin.network.update_port(port, binding_host_id="host-1", device_owner="compute:nova")
    assert bound.binding_host_id == "host-1" and bound.binding_vif_type == "bridge"
    assert demo.network.get_port(port.id).binding_host_id is None


def test_update_fixed_ips(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(network_id=network.id)
    old = port.fixed_ips[0]["ip_address"]
    updated = admin.network.update_port(port, fixed_ips=[{"ip_address": "10.20.0.99"}])
    assert [ip["ip_address"] for ip in updated.fixed_ips] == ["10.20.0.99"]
    again = admin.network.create_port(network_id=network.id, fixed_ips=[{"ip_address": old}])
    assert again.fixed_ips[0]["ip_address"] == old


def test_router_ports_cannot_be_deleted_directly(admin: Any, network: Any, subnet: Any) -> None:
    router = admin.network.create_router(name=unique("r"))
    try:
        info = admin.network.add_interface_to_router(router, subnet_id=subnet.id)
        neutron_error(lambda: admin.network.delete_port(info["port_id"]), 409, "ServicePortInUse")
        admin.network.remove_interface_from_router(router, subnet_id=subnet.id)
    finally:
        admin.network.delete_router(router)


def test_bulk_ports_with_a_taken_address_create_nothing(
    admin: Any, network: Any, subnet: Any, raw_admin: RawClient
) -> None:
    items = [
        {"network_id": network.id, "name": "bulk-a", "fixed_ips": [{"ip_address": "10.20.0.50"}]},
        {"network_id": network.id, "name": "bulk-b", "fixed_ips": [{"ip_address": "10.20.0.50"}]},
    ]
    response = raw_admin.request("POST", "/v2.0/ports", json={"ports": items})
    assert response.status_code == 409
    error = response.json()["NeutronError"]
    assert error["type"] == "IpAddressInUse"
    assert "10.20.0.50" in error["message"]
    names = {p.name for p in admin.network.ports(network_id=network.id)}
    assert not names & {"bulk-a", "bulk-b"}
    # and a good bulk list gets two different addresses
    good = [{"network_id": network.id, "name": "bulk-c"}, {"network_id": network.id,
                                                           "name": "bulk-d"}]  # fmt: skip
    response = raw_admin.request("POST", "/v2.0/ports", json={"ports": good})
    assert response.status_code == 201
    created = response.json()["ports"]
    addresses = {p["fixed_ips"][0]["ip_address"] for p in created}
    assert len(addresses) == 2
