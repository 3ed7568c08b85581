"""Security groups and rules."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique


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
            "InvalidInput",
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
