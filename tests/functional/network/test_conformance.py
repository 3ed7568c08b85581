"""What Tempest's network suite found missing: ``extra_dhcp_opts`` on ports, the
``ip_address_substr`` port filter, service providers, metering labels and rules, and
``distributed`` routers (recorded; the router stays centralized)."""

from __future__ import annotations

from typing import Any

from tests.functional.network.helpers import neutron_error, unique
from tests.support.http import RawClient


def _error(response: Any, status: int, kind: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()["NeutronError"]
    assert body["type"] == kind and body["message"], body


def test_extensions_are_listed(raw_demo: RawClient) -> None:
    aliases = {e["alias"] for e in raw_demo.get("/v2.0/extensions").json()["extensions"]}
    assert {
        "dvr", "extra_dhcp_opt", "ip-substring-filtering", "metering",
        "metering_source_and_destination_fields", "service-type",
    } <= aliases  # fmt: skip


def test_port_extra_dhcp_opts(raw_admin: RawClient, network: Any, subnet: Any) -> None:
    opts = [
        {"opt_name": "bootfile-name", "opt_value": "pxelinux.0"},
        {"opt_name": "tftp-server", "opt_value": "192.0.2.5", "ip_version": 4},
        {"opt_name": "dns-server", "opt_value": "2001:db8::53", "ip_version": 6},
    ]
    created = raw_admin.post(
        "/v2.0/ports", json={"port": {"network_id": network.id, "extra_dhcp_opts": opts}}
    )
    assert created.status_code == 201, created.text
    port = created.json()["port"]
    shown = {(o["opt_name"], o["ip_version"]): o["opt_value"] for o in port["extra_dhcp_opts"]}
    assert shown == {
        ("bootfile-name", 4): "pxelinux.0",
        ("tftp-server", 4): "192.0.2.5",
        ("dns-server", 6): "2001:db8::53",
    }
    # an update replaces by name and version, removes an option given without a value
    updated = raw_admin.put(
        f"/v2.0/ports/{port['id']}",
        json={"port": {"extra_dhcp_opts": [
            {"opt_name": "bootfile-name", "opt_value": "grub.efi"},
            {"opt_name": "tftp-server", "opt_value": None},
        ]}},
    ).json()["port"]  # fmt: skip
    shown = {(o["opt_name"], o["ip_version"]): o["opt_value"] for o in updated["extra_dhcp_opts"]}
    assert shown == {("bootfile-name", 4): "grub.efi", ("dns-server", 6): "2001:db8::53"}
    again = raw_admin.get(f"/v2.0/ports/{port['id']}").json()["port"]
    assert again["extra_dhcp_opts"] == updated["extra_dhcp_opts"]
    for bad in (
        [{"opt_name": "", "opt_value": "x"}],
        [{"opt_name": "a", "opt_value": "x", "ip_version": 5}],
        [{"opt_name": "a", "opt_value": "x", "colour": "red"}],
        "not-a-list",
    ):
        _error(
            raw_admin.post(
                "/v2.0/ports", json={"port": {"network_id": network.id, "extra_dhcp_opts": bad}}
            ),
            400,
            "HTTPBadRequest",  # Neutron's type for an attribute that fails validation
        )


def test_ip_address_substr_filter(admin: Any, network: Any, subnet: Any) -> None:
    first = admin.network.create_port(
        network_id=network.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.20.0.123"}]
    )
    second = admin.network.create_port(
        network_id=network.id, fixed_ips=[{"subnet_id": subnet.id, "ip_address": "10.20.0.45"}]
    )
    found = list(admin.network.ports(fixed_ips=["ip_address_substr=0.12"]))
    assert [p.id for p in found] == [first.id]
    found = list(admin.network.ports(network_id=network.id, fixed_ips=["ip_address_substr=.4"]))
    assert [p.id for p in found] == [second.id]
    both = {p.id for p in admin.network.ports(fixed_ips=["ip_address_substr=10.20.0."])}
    assert {first.id, second.id} <= both
    assert list(admin.network.ports(fixed_ips=["ip_address_substr=%"])) == []


def test_service_providers(raw_demo: RawClient) -> None:
    body = raw_demo.get("/v2.0/service-providers").json()
    assert body["service_providers"] == [
        {"service_type": "L3_ROUTER_NAT", "name": "onestack", "default": True}
    ]
    assert raw_demo.get("/v2.0/service-providers?service_type=VPN").json() == {
        "service_providers": []
    }
    fields = raw_demo.get("/v2.0/service-providers?fields=name").json()
    assert fields["service_providers"] == [{"name": "onestack"}]


def test_metering_labels_and_rules(admin: Any, raw_admin: RawClient, raw_demo: RawClient) -> None:
    created = raw_admin.post(
        "/v2.0/metering/metering-labels",
        json={"metering_label": {"name": unique("label"), "description": "d"}},
    )
    assert created.status_code == 201, created.text
    label = created.json()["metering_label"]
    assert set(label) == {"id", "name", "description", "project_id", "tenant_id", "shared"}
    assert label["shared"] is False
    path = f"/v2.0/metering/metering-labels/{label['id']}"
    try:
        listed = raw_admin.get("/v2.0/metering/metering-labels").json()["metering_labels"]
        assert label in listed
        assert raw_admin.get(path).json()["metering_label"] == label
        rule = raw_admin.post(
            "/v2.0/metering/metering-label-rules",
            json={"metering_label_rule": {"metering_label_id": label["id"],
                                          "remote_ip_prefix": "10.0.0.0/24",
                                          "direction": "egress"}},
        )  # fmt: skip
        assert rule.status_code == 201, rule.text
        body = rule.json()["metering_label_rule"]
        assert body["direction"] == "egress" and body["excluded"] is False
        assert body["remote_ip_prefix"] == "10.0.0.0/24" and body["source_ip_prefix"] is None
        with_fields = raw_admin.post(
            "/v2.0/metering/metering-label-rules",
            json={"metering_label_rule": {"metering_label_id": label["id"],
                                          "source_ip_prefix": "10.1.0.0/24",
                                          "destination_ip_prefix": "10.2.0.0/24"}},
        ).json()["metering_label_rule"]  # fmt: skip
        assert with_fields["direction"] == "ingress"
        assert with_fields["destination_ip_prefix"] == "10.2.0.0/24"
        rules = raw_admin.get(
            f"/v2.0/metering/metering-label-rules?metering_label_id={label['id']}"
        ).json()["metering_label_rules"]
        assert {r["id"] for r in rules} == {body["id"], with_fields["id"]}
        overlapping = {"metering_label_id": label["id"], "remote_ip_prefix": "10.0.0.128/25",
                       "direction": "egress"}  # fmt: skip
        _error(
            raw_admin.post("/v2.0/metering/metering-label-rules",
                           json={"metering_label_rule": overlapping}),
            409, "MeteringLabelRuleOverlaps",
        )  # fmt: skip
        mixed = {"metering_label_id": label["id"], "remote_ip_prefix": "10.9.0.0/24",
                 "source_ip_prefix": "10.8.0.0/24"}  # fmt: skip
        _error(
            raw_admin.post("/v2.0/metering/metering-label-rules",
                           json={"metering_label_rule": mixed}),
            400, "InvalidInput",
        )  # fmt: skip
        _error(
            raw_admin.post("/v2.0/metering/metering-label-rules",
                           json={"metering_label_rule": {"metering_label_id": label["id"]}}),
            400, "InvalidInput",
        )  # fmt: skip
        missing = {"metering_label_id": "11111111-2222-3333-4444-555555555555",
                   "remote_ip_prefix": "10.0.0.0/24"}  # fmt: skip
        _error(
            raw_admin.post("/v2.0/metering/metering-label-rules",
                           json={"metering_label_rule": missing}),
            404, "MeteringLabelNotFound",
        )  # fmt: skip
        # admin only, as in Neutron
        assert raw_demo.get("/v2.0/metering/metering-labels").json() == {"metering_labels": []}
        _error(raw_demo.get(path), 404, "MeteringLabelNotFound")
        _error(
            raw_demo.post("/v2.0/metering/metering-labels", json={"metering_label": {}}),
            403, "PolicyNotAuthorized",
        )  # fmt: skip
        rule_path = f"/v2.0/metering/metering-label-rules/{body['id']}"
        assert raw_admin.delete(rule_path).status_code == 204
        _error(raw_admin.get(rule_path), 404, "MeteringLabelRuleNotFound")
    finally:
        assert raw_admin.delete(path).status_code == 204
    _error(raw_admin.get(path), 404, "MeteringLabelNotFound")
    left = raw_admin.get(f"/v2.0/metering/metering-label-rules?metering_label_id={label['id']}")
    assert left.json()["metering_label_rules"] == []


def test_distributed_routers(admin: Any, demo: Any) -> None:
    centralized = admin.network.create_router(name=unique("cr"), distributed=False)
    distributed = admin.network.create_router(name=unique("dr"), distributed=True)
    try:
        assert centralized.is_distributed is False
        assert distributed.is_distributed is True
        assert admin.network.get_router(distributed).is_distributed is True
        neutron_error(
            lambda: admin.network.update_router(centralized, distributed=True),
            400,
            "BadRequest",
        )
        admin.network.update_router(centralized, is_admin_state_up=False)
        upgraded = admin.network.update_router(centralized, distributed=True)
        assert upgraded.is_distributed is True
        # only admins set or see the flag
        neutron_error(
            lambda: demo.network.create_router(name=unique("x"), distributed=True),
            403,
            "PolicyNotAuthorized",
        )
        mine = demo.network.create_router(name=unique("mine"))
        try:
            assert mine.is_distributed is None
            assert admin.network.get_router(mine).is_distributed is False
        finally:
            demo.network.delete_router(mine)
        neutron_error(
            lambda: admin.network.create_router(name=unique("ha"), is_ha=True),
            400,
            "BadRequest",
        )
    finally:
        admin.network.delete_router(centralized)
        admin.network.delete_router(distributed)


def test_rule_prefix_is_kept_as_given_with_its_normalized_cidr(demo: Any) -> None:
    group = demo.network.create_security_group(name=unique("norm"))
    try:
        rule = demo.network.create_security_group_rule(
            security_group_id=group.id, direction="ingress", ethertype="IPv4",
            protocol="tcp", port_range_min=22, port_range_max=22,
            remote_ip_prefix="10.2.3.124/24",
        )  # fmt: skip
        assert rule.remote_ip_prefix == "10.2.3.124/24"
        assert rule.normalized_cidr == "10.2.3.0/24"
        # the same network written another way is the same rule (409)
        neutron_error(
            lambda: demo.network.create_security_group_rule(
                security_group_id=group.id, direction="ingress", ethertype="IPv4",
                protocol="tcp", port_range_min=22, port_range_max=22,
                remote_ip_prefix="10.2.3.0/24",
            ),
            409, "SecurityGroupRuleExists",
        )  # fmt: skip
    finally:
        demo.network.delete_security_group(group)
