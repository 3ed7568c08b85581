"""Security groups and rules."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions

from tests.functional.network.helpers import neutron_error, unique
from tests.support.http import RawClient as Raw


def test_default_group_and_its_rules(demo: Any) -> None:
    groups = [g for g in demo.network.security_groups() if g.name == "default"]
    assert len(groups) == 1
    rules = groups[0].security_group_rules
    summary = sorted((r["direction"], r["ethertype"], r["remote_group_id"]) for r in rules)
    assert summary == [
        ("egress", "IPv4", None), ("egress", "IPv6", None),
        ("ingress", "IPv4", groups[0].id), ("ingress", "IPv6", groups[0].id),
    ]  # fmt: skip
    neutron_error(
        lambda: demo.network.delete_security_group(groups[0]),
        409,
        "SecurityGroupCannotRemoveDefault",
    )


def test_group_and_rule_lifecycle(admin: Any) -> None:
    group = admin.network.create_security_group(name=unique("sg"), description="web")
    try:
        assert len(group.security_group_rules) == 2
        rule = admin.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", protocol="tcp",
            port_range_min=80, port_range_max=443, remote_ip_prefix="192.0.2.0/24",
        )  # fmt: skip
        assert (rule.protocol, rule.port_range_min, rule.port_range_max) == ("tcp", 80, 443)
        assert rule.ether_type == "IPv4" and rule.remote_ip_prefix == "192.0.2.0/24"
        body = neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                protocol="tcp",
                port_range_min=80,
                port_range_max=443,
                remote_ip_prefix="192.0.2.0/24",
            ),
            409,
            "SecurityGroupRuleExists",
        )
        assert rule.id in body["message"]
        listed = list(admin.network.security_group_rules(security_group_id=group.id))
        assert len(listed) == 3
        admin.network.delete_security_group_rule(rule)
        neutron_error(
            lambda: admin.network.get_security_group_rule(rule.id),
            404,
            "SecurityGroupRuleNotFound",
        )
        renamed = admin.network.update_security_group(group, name=unique("sg2"))
        assert renamed.revision_number >= 1
    finally:
        admin.network.delete_security_group(group)


def test_invalid_rules(admin: Any) -> None:
    group = admin.network.create_security_group(name=unique("sg"))
    try:
        neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol="bogus"
            ),
            400,
            "SecurityGroupRuleInvalidProtocol",
        )
        neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                protocol="tcp",
                port_range_min=90,
                port_range_max=80,
            ),
            400,
            "SecurityGroupInvalidPortRange",
        )
        neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                ether_type="IPv6",
                remote_ip_prefix="10.0.0.0/8",
            ),
            400,
            "InvalidInput",
        )
        neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id, direction="sideways"
            ),
            400,
            "HTTPBadRequest",
        )
    finally:
        admin.network.delete_security_group(group)


def test_group_in_use_and_isolation(admin: Any, demo: Any, network: Any, subnet: Any) -> None:
    group = admin.network.create_security_group(name=unique("sg"))
    port = admin.network.create_port(network_id=network.id, security_group_ids=[group.id])
    neutron_error(lambda: admin.network.delete_security_group(group), 409, "SecurityGroupInUse")
    neutron_error(lambda: demo.network.get_security_group(group.id), 404, "SecurityGroupNotFound")
    admin.network.update_port(port, security_group_ids=[])
    admin.network.delete_security_group(group)


def test_remote_group_rule(admin: Any) -> None:
    a = admin.network.create_security_group(name=unique("a"))
    b = admin.network.create_security_group(name=unique("b"))
    try:
        rule = admin.network.create_security_group_rule(
            security_group_id=a.id, direction="ingress", protocol="icmp", remote_group_id=b.id
        )
        assert rule.remote_group_id == b.id
    finally:
        admin.network.delete_security_group(b)
        rules = admin.network.get_security_group(a.id).security_group_rules
        assert all(r["remote_group_id"] != b.id for r in rules)
        admin.network.delete_security_group(a)


def test_group_named_default_is_a_conflict(admin: Any) -> None:
    body = neutron_error(
        lambda: admin.network.create_security_group(name="default"),
        409,
        "SecurityGroupDefaultAlreadyExists",
    )
    assert body["message"] == "Default security group already exists."
    group = admin.network.create_security_group(name=unique("sg"))
    try:
        neutron_error(
            lambda: admin.network.update_security_group(group, name="default"),
            409,
            "SecurityGroupDefaultAlreadyExists",
        )
    finally:
        admin.network.delete_security_group(group)


def test_renaming_the_default_group_is_a_conflict(demo: Any) -> None:
    default = next(g for g in demo.network.security_groups() if g.name == "default")
    neutron_error(
        lambda: demo.network.update_security_group(default, name=unique("sg")),
        409,
        "SecurityGroupCannotUpdateDefault",
    )


@pytest.mark.parametrize(
    ("protocol", "low", "high", "message"),
    [
        ("tcp", -16, 80, "Invalid value for port -16"),
        ("tcp", 80, 65536, "Invalid value for port 65536"),
        ("tcp", 80, 79, "port_range_min must be <= port_range_max"),
        ("tcp", None, 6, "port_range_min must be <= port_range_max"),
        ("icmp", 1, 256, "Invalid value for ICMP code"),
        ("icmp", 300, 1, "Invalid value for ICMP type"),
        ("icmp", -1, 25, "Invalid value for port -1"),
        ("icmp", None, 6, "ICMP type (port-range-min) is missing"),
    ],
)
def test_rule_port_range_errors_name_the_bad_value(
    admin: Any, protocol: str, low: int | None, high: int | None, message: str
) -> None:
    group = admin.network.create_security_group(name=unique("sg"))
    try:
        with pytest.raises(exceptions.BadRequestException) as info:
            admin.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", protocol=protocol,
                port_range_min=low, port_range_max=high,
            )  # fmt: skip
        assert info.value.response is not None
        assert message in info.value.response.json()["NeutronError"]["message"]
    finally:
        admin.network.delete_security_group(group)


@pytest.mark.parametrize("remote", ["bad_group_id", "9f0c7a52-3d5e-4a55-9b8e-0c2f1d7e6a41"])
def test_rule_with_unknown_remote_group_is_not_found(admin: Any, remote: str) -> None:
    group = admin.network.create_security_group(name=unique("sg"))
    try:
        neutron_error(
            lambda: admin.network.create_security_group_rule(
                security_group_id=group.id,
                direction="ingress",
                protocol="tcp",
                remote_group_id=remote,
            ),
            404,
            "SecurityGroupNotFound",
        )
    finally:
        admin.network.delete_security_group(group)


def test_bulk_rules_with_a_duplicate_create_nothing(admin: Any, raw_admin: Raw) -> None:
    group = admin.network.create_security_group(name=unique("bulkrules"))
    try:
        rule = {"security_group_id": group.id, "direction": "ingress", "protocol": "tcp",
                "port_range_min": 22, "port_range_max": 22}  # fmt: skip
        response = raw_admin.request(
            "POST", "/v2.0/security-group-rules", json={"security_group_rules": [rule, rule]}
        )
        assert response.status_code == 409
        assert response.json()["NeutronError"]["type"] == "SecurityGroupRuleExists"
        rules = admin.network.security_group_rules(security_group_id=group.id)
        assert [r for r in rules if r.direction == "ingress"] == []
    finally:
        admin.network.delete_security_group(group)
