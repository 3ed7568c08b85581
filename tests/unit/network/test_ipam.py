"""IP address management without a database."""

from __future__ import annotations

import ipaddress

import pytest

from onestack.network import ipam
from onestack.network.exceptions import InvalidInput


def test_default_pools_skip_gateway_network_and_broadcast() -> None:
    net = ipam.parse_cidr("10.0.0.0/24", 4)
    assert ipam.default_pools(net, "10.0.0.1") == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert ipam.default_pools(net, "10.0.0.100") == [
        {"start": "10.0.0.1", "end": "10.0.0.99"},
        {"start": "10.0.0.101", "end": "10.0.0.254"},
    ]
    assert ipam.default_pools(net, None) == [{"start": "10.0.0.1", "end": "10.0.0.254"}]


def test_parse_cidr_rejects_host_bits_and_wrong_version() -> None:
    with pytest.raises(InvalidInput, match=r"10\.0\.0\.0/24"):
        ipam.parse_cidr("10.0.0.5/24", 4)
    with pytest.raises(InvalidInput):
        ipam.parse_cidr("fd00::/64", 4)
    with pytest.raises(InvalidInput):
        ipam.parse_cidr("10.0.0.0/31", 4)


def test_pools_are_validated() -> None:
    net = ipam.parse_cidr("10.0.0.0/24", 4)
    with pytest.raises(ipam.OverlappingAllocationPools):
        ipam.validate_pools(
            net,
            [
                {"start": "10.0.0.10", "end": "10.0.0.20"},
                {"start": "10.0.0.15", "end": "10.0.0.30"},
            ],
            None,
        )
    with pytest.raises(ipam.OutOfBoundsAllocationPool):
        ipam.validate_pools(net, [{"start": "10.0.0.10", "end": "10.0.1.20"}], None)
    with pytest.raises(ipam.GatewayConflictWithAllocationPools):
        ipam.validate_pools(net, [{"start": "10.0.0.1", "end": "10.0.0.20"}], "10.0.0.1")


def test_candidates_lowest_free_first() -> None:
    pools = [{"start": "10.0.0.2", "end": "10.0.0.5"}]
    assert list(ipam.candidates(pools, {"10.0.0.2", "10.0.0.4"})) == ["10.0.0.3", "10.0.0.5"]
    assert ipam.pool_size(pools) == 4
    assert ipam.in_pools(ipaddress.ip_address("10.0.0.5"), pools)


def test_macs() -> None:
    mac = ipam.random_mac("fa:16:3e:00:00:00")
    assert mac.startswith("fa:16:3e:") and len(mac) == 17
    assert ipam.normalize_mac("FA-16-3E-00-11-22") == "fa:16:3e:00:11:22"
    for bad in ("01:00:5e:00:00:01", "00:00:00:00:00:00", "zz:16:3e:00:11:22", "fa:16"):
        with pytest.raises(InvalidInput):
            ipam.normalize_mac(bad)


def test_overlaps_only_within_a_family() -> None:
    assert ipam.overlaps("10.0.0.0/16", "10.0.5.0/24")
    assert not ipam.overlaps("10.0.0.0/24", "10.0.1.0/24")
    assert not ipam.overlaps("10.0.0.0/24", "fd00::/64")


def test_pick_spreads_over_the_lowest_free_addresses() -> None:
    pools = [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    picks = {ipam.pick(pools, {"10.0.0.2"}, window=8) for _ in range(200)}
    assert picks <= {f"10.0.0.{i}" for i in range(3, 11)} and len(picks) > 1
    assert ipam.pick([{"start": "10.0.0.2", "end": "10.0.0.2"}], {"10.0.0.2"}) is None
