"""The range of `public`: free ones are kept, the default moves on, an explicit one refuses."""

from __future__ import annotations

import ipaddress

import pytest

from onestack.network.public_range import (
    HeldRange,
    PublicRangeInUse,
    check_existing,
    choose,
    parse_addresses,
)

IP_OUTPUT = """\
1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
4: eth0    inet 192.0.2.2/24 brd 192.0.2.255 scope global eth0\\       valid_lft forever
7: osx-0123456789a@if6    inet 172.24.4.1/24 scope global osx-0123456789a\\       valid_lft
8: osx-bbbbbbbbbbb@if9    inet 172.24.5.1/24 scope global osx-bbbbbbbbbbb\\       valid_lft
4: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever preferred_lft forever
"""


def held(*cidrs: str) -> list[HeldRange]:
    return [HeldRange(ipaddress.ip_network(c), f"holder of {c}") for c in cidrs]


def test_a_free_range_is_kept_without_a_notice() -> None:
    choice = choose("172.24.4.0/24", held("192.0.2.0/24"), explicit=False)
    assert (choice.cidr, choice.notice) == ("172.24.4.0/24", "")


def test_the_default_range_in_use_moves_to_the_first_free_one_and_says_so() -> None:
    choice = choose("172.24.4.0/24", held("172.24.4.0/24", "172.24.5.0/24"), explicit=False)
    assert choice.cidr == "172.24.6.0/24"
    assert "172.24.4.0/24" in choice.notice and "holder of 172.24.4.0/24" in choice.notice
    assert "172.24.6.0/24" in choice.notice and "--public-cidr" in choice.notice


def test_an_overlapping_wider_range_counts_as_in_use() -> None:
    choice = choose("172.24.4.0/24", held("172.24.0.0/21"), explicit=False)
    assert choice.cidr == "172.24.8.0/24"


def test_an_explicit_range_in_use_refuses_naming_the_holder_and_the_fix() -> None:
    with pytest.raises(PublicRangeInUse) as caught:
        choose("10.20.0.0/24", held("10.20.0.0/16"), explicit=True)
    message = str(caught.value)
    assert "10.20.0.0/24" in message and "holder of 10.20.0.0/16" in message
    assert "--public-cidr" in message and "onestack doctor --fix" in message


def test_no_free_fallback_refuses() -> None:
    with pytest.raises(PublicRangeInUse, match="every range"):
        choose("172.24.4.0/24", held("172.24.0.0/16"), explicit=False)


def test_an_existing_public_range_in_use_refuses_and_a_free_one_passes() -> None:
    check_existing("172.24.7.0/24", held("172.24.4.0/24"))
    with pytest.raises(PublicRangeInUse, match="onestack down"):
        check_existing("172.24.4.0/24", held("172.24.4.0/24"))


def test_host_addresses_except_loopback_link_local_and_our_own_link() -> None:
    found = parse_addresses(IP_OUTPUT, own_devices={"osx-bbbbbbbbbbb"})
    assert [str(h.network) for h in found] == ["192.0.2.0/24", "172.24.4.0/24"]
    assert "osx-0123456789a" in found[1].holder and "172.24.4.1/24" in found[1].holder
