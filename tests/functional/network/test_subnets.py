"""Subnets: defaults, IPv4 and IPv6, pools, overlap rules, validation."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique
from tests.support.http import RawClient as Raw


def test_defaults_gateway_and_pools(admin: Any, network: Any) -> None:
    sub = admin.network.create_subnet(
        network_id=network.id, cidr="10.30.0.0/24", ip_version=4, name=unique("s")
    )
    assert sub.gateway_ip == "10.30.0.1"
    assert sub.allocation_pools == [{"start": "10.30.0.2", "end": "10.30.0.254"}]
    assert sub.is_dhcp_enabled is True and sub.dns_nameservers == [] and sub.host_routes == []
    assert admin.network.get_network(network.id).subnet_ids == [sub.id]


def test_explicit_attributes_and_update(admin: Any, network: Any) -> None:
    sub = admin.network.create_subnet(
        network_id=network.id, cidr="192.168.7.0/24", ip_version=4, gateway_ip="192.168.7.254",
        allocation_pools=[{"start": "192.168.7.10", "end": "192.168.7.20"}],
        dns_nameservers=["192.0.2.53"],
        host_routes=[{"destination": "198.51.100.0/24", "nexthop": "192.168.7.5"}],
        is_dhcp_enabled=False,
    )  # fmt: skip
    assert sub.gateway_ip == "192.168.7.254" and sub.is_dhcp_enabled is False
    assert sub.host_routes == [{"destination": "198.51.100.0/24", "nexthop": "192.168.7.5"}]
    updated = admin.network.update_subnet(sub, dns_nameservers=["192.0.2.1", "192.0.2.2"])
    assert updated.dns_nameservers == ["192.0.2.1", "192.0.2.2"]
    assert updated.revision_number == 1


def test_ipv6_subnet(admin: Any, network: Any) -> None:
    sub = admin.network.create_subnet(
        network_id=network.id, cidr="fd00:10::/64", ip_version=6,
        ipv6_address_mode="dhcpv6-stateful", ipv6_ra_mode="dhcpv6-stateful",
    )  # fmt: skip
    assert sub.gateway_ip == "fd00:10::1" and sub.ip_version == 6
    port = admin.network.create_port(network_id=network.id)
    assert port.fixed_ips[0]["ip_address"].startswith("fd00:10::")


def test_overlapping_subnets_in_one_network(admin: Any, network: Any, subnet: Any) -> None:
    body = neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, cidr="10.20.0.128/25", ip_version=4
        ),
        400,
        "InvalidInput",
    )
    assert "overlaps with another subnet" in body["message"]


def test_same_cidr_in_two_projects(admin: Any, demo: Any, network: Any, subnet: Any) -> None:
    other = demo.network.create_network(name=unique("dnet"))
    try:
        sub = demo.network.create_subnet(network_id=other.id, cidr=subnet.cidr, ip_version=4)
        assert sub.cidr == subnet.cidr
    finally:
        demo.network.delete_network(other)


def test_invalid_subnets(admin: Any, network: Any, raw_admin: Raw) -> None:
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, cidr="10.1.2.3/24", ip_version=4
        ),
        400,
        "InvalidInput",
    )
    neutron_error(
        lambda: admin.network.create_subnet(network_id=network.id, cidr="banana", ip_version=4),
        400,
        "InvalidInput",
    )
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, cidr="10.9.0.0/24", ip_version=4, gateway_ip="10.10.0.1"
        ),
        400,
        "InvalidInput",
    )
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id,
            cidr="10.9.0.0/24",
            ip_version=4,
            allocation_pools=[{"start": "10.9.0.1", "end": "10.9.0.20"}],
        ),
        409,
        "GatewayConflictWithAllocationPools",
    )
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, cidr="10.9.0.0/24", ip_version=6
        ),
        400,
        "InvalidInput",
    )
    missing = raw_admin.request(
        "POST", "/v2.0/subnets", json={"subnet": {"network_id": network.id, "ip_version": 4}}
    )
    assert missing.status_code == 400
    assert admin.network.get_network(network.id).subnet_ids == []


def test_subnet_on_unknown_network(admin: Any) -> None:
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id="2f2b8a8e-0000-4000-8000-000000000000", cidr="10.0.0.0/24", ip_version=4
        ),
        404,
        "NetworkNotFound",
    )


def test_delete_subnet_in_use(admin: Any, network: Any, subnet: Any) -> None:
    port = admin.network.create_port(network_id=network.id)
    neutron_error(lambda: admin.network.delete_subnet(subnet), 409, "SubnetInUse")
    admin.network.delete_port(port)
    admin.network.delete_subnet(subnet)
    assert admin.network.find_subnet(subnet.id) is None
