"""IPv6 subnets: SLAAC (EUI-64) addresses, address modes and their validation."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique


def _slaac(admin: Any, network: Any, cidr: str = "fd00:20::/64") -> Any:
    return admin.network.create_subnet(
        network_id=network.id, cidr=cidr, ip_version=6, name=unique("v6"),
        ipv6_ra_mode="slaac", ipv6_address_mode="slaac",
    )  # fmt: skip


def test_ports_get_the_eui64_address_of_their_mac(admin: Any, network: Any, subnet: Any) -> None:
    v6 = _slaac(admin, network)
    assert (v6.ipv6_ra_mode, v6.ipv6_address_mode) == ("slaac", "slaac")
    assert v6.gateway_ip == "fd00:20::1"
    port = admin.network.create_port(network_id=network.id, mac_address="fa:16:3e:11:22:33")
    by_subnet = {ip["subnet_id"]: ip["ip_address"] for ip in port.fixed_ips}
    assert by_subnet[v6.id] == "fd00:20::f816:3eff:fe11:2233"
    assert by_subnet[subnet.id].startswith("10.20.0.")
    # asking for the SLAAC subnet by id gives the same address
    other = admin.network.create_port(
        network_id=network.id, mac_address="fa:16:3e:aa:bb:cc", fixed_ips=[{"subnet_id": v6.id}]
    )
    assert other.fixed_ips == [{"subnet_id": v6.id, "ip_address": "fd00:20::f816:3eff:feaa:bbcc"}]


def test_a_router_leg_on_a_slaac_subnet_holds_the_gateway(admin: Any, network: Any) -> None:
    v6 = _slaac(admin, network, "fd00:21::/64")
    router = admin.network.create_router(name=unique("r6"))
    try:
        admin.network.add_interface_to_router(router, subnet_id=v6.id)
        (leg,) = admin.network.ports(device_id=router.id, network_id=network.id)
        assert leg.fixed_ips == [{"subnet_id": v6.id, "ip_address": "fd00:21::1"}]
    finally:
        admin.network.remove_interface_from_router(router, subnet_id=v6.id)
        admin.network.delete_router(router)


def test_slaac_addresses_cannot_be_chosen(admin: Any, network: Any) -> None:
    v6 = _slaac(admin, network, "fd00:22::/64")
    body = neutron_error(
        lambda: admin.network.create_port(
            network_id=network.id, fixed_ips=[{"subnet_id": v6.id, "ip_address": "fd00:22::99"}]
        ),
        400,
        "InvalidInput",
    )
    assert "automatic addresses" in body["message"]


def test_address_modes_are_validated(admin: Any, network: Any) -> None:
    body = neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id,
            cidr="fd00:23::/80",
            ip_version=6,
            ipv6_ra_mode="slaac",
            ipv6_address_mode="slaac",
        ),
        400,
        "InvalidInput",
    )
    assert "/64" in body["message"]
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id,
            cidr="fd00:24::/64",
            ip_version=6,
            ipv6_ra_mode="slaac",
            ipv6_address_mode="dhcpv6-stateful",
        ),
        400,
        "InvalidInput",
    )
    assert not [s for s in admin.network.subnets(network_id=network.id)]
