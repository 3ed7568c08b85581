"""Hostile bodies and queries answer Neutron's 400 and create nothing (issue 13)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.support.http import RawClient
from tests.support.server import RunningCloud

JSON = {"Content-Type": "application/json"}


def _neutron_400(response: Any, fragment: str, kind: str | None = None) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["NeutronError"]
    assert fragment in error["message"], error
    if kind is not None:
        assert error["type"] == kind, error
    assert error["detail"] == ""


def test_a_body_nested_5000_deep_is_a_400_and_unread_without_a_token(
    cloud: RunningCloud, raw_admin: RawClient, admin: Any
) -> None:
    deep = b'{"network": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    before = {n.id for n in admin.network.networks()}
    response = raw_admin.post("/v2.0/networks", data=deep, headers=JSON)
    _neutron_400(response, "nested deeper than", "MalformedRequestBody")
    # Without a token the body is not even read: 401, as behind Neutron's auth middleware.
    anonymous = RawClient(cloud.url("network"))
    for path in ("/v2.0/networks", "/v2.0/routers/x/add_router_interface"):
        method = anonymous.post if path.endswith("networks") else anonymous.put
        response = method(path, data=deep, headers=JSON)
        assert response.status_code == 401, response.text
        assert response.json()["NeutronError"]["type"] == "Unauthorized"
    assert {n.id for n in admin.network.networks()} == before


@pytest.mark.parametrize(
    ("collection", "key", "finder"),
    [
        ("networks", "network", "networks"),
        ("routers", "router", "routers"),
        ("security-groups", "security_group", "security_groups"),
    ],
)
def test_a_lone_surrogate_in_a_name_is_a_400_and_creates_nothing(
    raw_admin: RawClient, admin: Any, collection: str, key: str, finder: str
) -> None:
    before = {r.id for r in getattr(admin.network, finder)()}
    body = b'{"%s": {"name": "x\\ud800y"}}' % key.encode()
    response = raw_admin.post(f"/v2.0/{collection}", data=body, headers=JSON)
    _neutron_400(response, "lone surrogate", "MalformedRequestBody")
    assert {r.id for r in getattr(admin.network, finder)()} == before


def test_a_subnet_pool_quota_past_64_bits_is_a_400_and_creates_nothing(
    raw_admin: RawClient, admin: Any
) -> None:
    body = (
        b'{"subnetpool": {"name": "huge-quota", "prefixes": ["10.231.0.0/16"],'
        b' "default_quota": 18446744073709551616}}'
    )
    response = raw_admin.post("/v2.0/subnetpools", data=body, headers=JSON)
    _neutron_400(response, "out of range")
    assert list(admin.network.subnet_pools(name="huge-quota")) == []


@pytest.mark.parametrize("limit", ["18446744073709551616", "9223372036854775808", "-1"])
def test_a_limit_past_64_bits_is_a_400(raw_admin: RawClient, limit: str) -> None:
    response = raw_admin.get("/v2.0/networks", params={"limit": limit})
    _neutron_400(response, "Limit must be an integer 0 or greater")


def test_the_largest_64_bit_limit_lists_networks(raw_admin: RawClient, network: Any) -> None:
    response = raw_admin.get("/v2.0/networks", params={"limit": str(2**63 - 1)})
    assert response.status_code == 200, response.text
    assert network.id in {n["id"] for n in response.json()["networks"]}


def test_a_refused_create_for_another_project_leaves_no_default_security_group(
    raw_admin: RawClient, raw_demo: RawClient, admin: Any
) -> None:
    for client in (raw_demo, raw_admin):
        stranger = uuid.uuid4().hex
        for collection, key, extra in (
            ("ports", "port", {"network_id": str(uuid.uuid4())}),
            ("ports", "port", {"name": None}),
            ("security-groups", "security_group", {"name": 5}),
        ):
            body = {key: {"project_id": stranger, **extra}}
            response = client.post(f"/v2.0/{collection}", json=body)
            assert 400 <= response.status_code < 500, response.text
            assert "NeutronError" in response.json()
        assert list(admin.network.security_groups(project_id=stranger)) == []
