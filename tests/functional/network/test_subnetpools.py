"""Subnet pools: CRUD, allocation of subnets by prefix length, overlap refusal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.network.helpers import neutron_error, unique


@pytest.fixture()
def pool(admin: Any) -> Iterator[Any]:
    made = admin.network.create_subnet_pool(
        name=unique("pool"), prefixes=["10.200.0.0/16"], default_prefix_length=24,
        minimum_prefix_length=20, maximum_prefix_length=28,
    )  # fmt: skip
    yield made
    for subnet in admin.network.subnets(subnet_pool_id=made.id):
        admin.network.delete_subnet(subnet)
    admin.network.delete_subnet_pool(made, ignore_missing=True)


def test_pool_fields_and_listing(admin: Any, pool: Any) -> None:
    shown = admin.network.get_subnet_pool(pool.id)
    assert shown.prefixes == ["10.200.0.0/16"]
    assert (
        shown.minimum_prefix_length,
        shown.default_prefix_length,
        shown.maximum_prefix_length,
    ) == (20, 24, 28)
    assert shown.ip_version == 4 and shown.is_shared is False and shown.is_default is False
    assert shown.revision_number == 0
    assert pool.id in [p.id for p in admin.network.subnet_pools(name=pool.name)]
    admin.network.set_tags(shown, ["blue", "green"])
    assert sorted(admin.network.get_subnet_pool(pool.id).tags) == ["blue", "green"]
    assert [p.id for p in admin.network.subnet_pools(tags="blue")] == [pool.id]
    aliases = {e.alias for e in admin.network.extensions()}
    assert {"subnet_allocation", "default-subnetpools"} <= aliases


def test_subnets_are_carved_without_overlap(admin: Any, network: Any, pool: Any) -> None:
    first = admin.network.create_subnet(network_id=network.id, ip_version=4, subnet_pool_id=pool.id)
    second = admin.network.create_subnet(
        network_id=network.id, ip_version=4, subnet_pool_id=pool.id, prefix_length=26
    )
    assert first.cidr == "10.200.0.0/24" and first.subnet_pool_id == pool.id
    assert second.cidr == "10.200.1.0/26"
    assert first.gateway_ip == "10.200.0.1"
    # another network, same pool: the pool's space is shared, not reused
    other = admin.network.create_network(name=unique("net"))
    try:
        third = admin.network.create_subnet(
            network_id=other.id, ip_version=4, subnet_pool_id=pool.id
        )
        assert third.cidr == "10.200.2.0/24"
        neutron_error(
            lambda: admin.network.create_subnet(
                network_id=other.id, ip_version=4, subnet_pool_id=pool.id, cidr="10.200.0.128/25"
            ),
            409,
            "SubnetAllocationError",
        )
        admin.network.delete_subnet(third)
    finally:
        admin.network.delete_network(other)
    # a pool with subnets cannot go
    neutron_error(lambda: admin.network.delete_subnet_pool(pool), 409, "SubnetPoolInUse")


def test_bad_requests(admin: Any, network: Any, pool: Any) -> None:
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, ip_version=4, subnet_pool_id=pool.id, prefix_length=30
        ),
        409,
        "SubnetAllocationError",
    )
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, ip_version=4, subnet_pool_id=pool.id, cidr="10.99.0.0/24"
        ),
        409,
        "SubnetAllocationError",
    )
    neutron_error(
        lambda: admin.network.create_subnet(
            network_id=network.id, ip_version=6, subnet_pool_id=pool.id
        ),
        400,
        "InvalidInput",
    )
    neutron_error(
        lambda: admin.network.create_subnet_pool(
            name=unique("p"), prefixes=["10.0.0.0/8", "fd00::/8"]
        ),
        400,
        "InvalidInput",
    )
    # prefixes may only grow
    neutron_error(
        lambda: admin.network.update_subnet_pool(pool, prefixes=["10.200.0.0/17"]),
        400,
        "InvalidInput",
    )
    grown = admin.network.update_subnet_pool(pool, prefixes=["10.200.0.0/16", "10.201.0.0/16"])
    assert grown.prefixes == ["10.200.0.0/15"] and grown.revision_number == 1


def test_default_pool_and_member_visibility(admin: Any, demo: Any, demo_network: Any) -> None:
    shared = admin.network.create_subnet_pool(
        name=unique("default"), prefixes=["10.210.0.0/16"], default_prefix_length=24,
        is_default=True, shared=True,
    )  # fmt: skip
    try:
        assert demo.network.get_subnet_pool(shared.id).is_default is True
        subnet = demo.network.create_subnet(
            network_id=demo_network.id, ip_version=4, use_default_subnet_pool=True
        )
        assert subnet.cidr == "10.210.0.0/24" and subnet.subnet_pool_id == shared.id
        demo.network.delete_subnet(subnet)
        private = demo.network.create_subnet_pool(name=unique("mine"), prefixes=["10.220.0.0/24"])
        assert private.project_id == demo.current_project_id
        neutron_error(
            lambda: demo.network.create_subnet_pool(
                name=unique("x"), prefixes=["10.230.0.0/24"], shared=True
            ),
            403,
            "PolicyNotAuthorized",
        )
        demo.network.delete_subnet_pool(private)
    finally:
        admin.network.delete_subnet_pool(shared)
