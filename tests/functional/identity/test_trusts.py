"""OS-TRUST: trusts through openstacksdk, raw requests and the `openstack trust` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.functional.identity.helpers import unique
from tests.functional.identity.test_cli import as_json, openstack
from tests.support.server import RunningCloud


@pytest.fixture()
def trustee(admin: Any) -> Iterator[tuple[Any, str]]:
    """A user with no role anywhere, and its password."""
    password = unique("pw")
    user = admin.identity.create_user(
        name=unique("trustee"), password=password, domain_id="default"
    )
    try:
        yield user, password
    finally:
        admin.identity.delete_user(user, ignore_missing=True)


def trust_token(cloud: RunningCloud, user_id: str, password: str, trust_id: str) -> httpx.Response:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"id": user_id, "password": password}},
            },
            "scope": {"OS-TRUST:trust": {"id": trust_id}},
        }
    }
    return httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)


def test_trust_lifecycle_with_openstacksdk(
    cloud: RunningCloud, demo: Any, trustee: tuple[Any, str]
) -> None:
    user, password = trustee
    trust = demo.identity.create_trust(
        trustor_user_id=demo.current_user_id,
        trustee_user_id=user.id,
        project_id=demo.current_project_id,
        roles=[{"name": "member"}],
        impersonation=True,
    )
    assert trust.project_id == demo.current_project_id
    assert [r["name"] for r in trust.roles] == ["member"]
    assert trust.is_impersonation is True
    shown = demo.identity.get_trust(trust.id)
    assert shown.trustee_user_id == user.id
    listed = [t.id for t in demo.identity.trusts(trustor_user_id=demo.current_user_id)]
    assert trust.id in listed

    answer = trust_token(cloud, user.id, password, trust.id)
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    assert token["OS-TRUST:trust"] == {
        "id": trust.id,
        "impersonation": True,
        "trustee_user": {"id": user.id},
        "trustor_user": {"id": demo.current_user_id},
    }
    assert token["user"]["id"] == demo.current_user_id  # impersonation
    assert token["project"]["id"] == demo.current_project_id
    # the trust's role and what it implies, nothing else of the trustor's
    assert sorted(r["name"] for r in token["roles"]) == ["member", "reader"]
    subject = answer.headers["X-Subject-Token"]
    # the trust-scoped token works on another service (the image API here)
    images = httpx.get(
        f"{cloud.url('image')}/v2/images", headers={"X-Auth-Token": subject}, timeout=30
    )
    assert images.status_code == 200
    # a trust-scoped token cannot be rescoped to something else
    rescope = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": subject}},
            "scope": {"project": {"id": demo.current_project_id}},
        }
    }
    refused = httpx.post(f"{cloud.auth_url}/auth/tokens", json=rescope, timeout=30)
    assert refused.status_code == 403, refused.text

    demo.identity.delete_trust(trust)
    check = httpx.get(
        f"{cloud.url('image')}/v2/images", headers={"X-Auth-Token": subject}, timeout=30
    )
    assert check.status_code == 401, "a deleted trust's token still works"
    assert trust_token(cloud, user.id, password, trust.id).status_code == 404


def test_only_the_trustee_uses_it_and_only_with_the_trustors_roles(
    cloud: RunningCloud, admin: Any, demo: Any, trustee: tuple[Any, str]
) -> None:
    user, password = trustee
    # the trustor cannot delegate a role it does not hold
    raw = demo.identity.post(
        "/OS-TRUST/trusts",
        json={
            "trust": {
                "trustor_user_id": demo.current_user_id,
                "trustee_user_id": user.id,
                "project_id": demo.current_project_id,
                "impersonation": False,
                "roles": [{"name": "admin"}],
            }
        },
        raise_exc=False,
    )
    assert raw.status_code == 403, raw.text
    assert raw.json()["error"]["code"] == 403
    # nor create one in another user's name
    other = demo.identity.post(
        "/OS-TRUST/trusts",
        json={
            "trust": {
                "trustor_user_id": user.id,
                "trustee_user_id": demo.current_user_id,
                "impersonation": False,
            }
        },
        raise_exc=False,
    )
    assert other.status_code == 403
    trust = demo.identity.create_trust(
        trustor_user_id=demo.current_user_id,
        trustee_user_id=user.id,
        project_id=demo.current_project_id,
        roles=[{"name": "member"}],
        impersonation=False,
    )
    # the trustor itself is not the trustee
    demo_password = cloud.demo_password
    assert trust_token(cloud, demo.current_user_id, demo_password, trust.id).status_code == 403
    answer = trust_token(cloud, user.id, password, trust.id)
    assert answer.status_code == 201
    token = answer.json()["token"]
    assert token["user"]["id"] == user.id  # no impersonation
    subject = answer.headers["X-Subject-Token"]
    # the trust-scoped token has the trustor's member role, not admin: listing all
    # projects stays refused
    projects = httpx.get(
        f"{cloud.auth_url}/projects", headers={"X-Auth-Token": subject}, timeout=30
    )
    assert projects.status_code == 403
    # a trust ends with its trustor's access: take the role away, the token dies
    member = admin.identity.find_role("member")
    admin.identity.unassign_project_role_from_user(
        demo.current_project_id, demo.current_user_id, member.id
    )
    try:
        gone = httpx.get(
            f"{cloud.url('image')}/v2/images", headers={"X-Auth-Token": subject}, timeout=30
        )
        assert gone.status_code == 401
        assert trust_token(cloud, user.id, password, trust.id).status_code == 403
    finally:
        admin.identity.assign_project_role_to_user(
            demo.current_project_id, demo.current_user_id, member.id
        )
    demo.identity.delete_trust(trust)


def test_remaining_uses_expiry_and_redelegation(
    cloud: RunningCloud, demo: Any, trustee: tuple[Any, str], admin: Any
) -> None:
    user, password = trustee
    once = demo.identity.create_trust(
        trustor_user_id=demo.current_user_id,
        trustee_user_id=user.id,
        project_id=demo.current_project_id,
        roles=[{"name": "member"}],
        impersonation=False,
        remaining_uses=1,
    )
    assert trust_token(cloud, user.id, password, once.id).status_code == 201
    assert trust_token(cloud, user.id, password, once.id).status_code == 403
    soon = (datetime.now(UTC) + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    short = demo.identity.create_trust(
        trustor_user_id=demo.current_user_id,
        trustee_user_id=user.id,
        project_id=demo.current_project_id,
        roles=[{"name": "member"}],
        impersonation=False,
        expires_at=soon,
    )
    answer = trust_token(cloud, user.id, password, short.id)
    assert answer.status_code == 201
    assert answer.json()["token"]["expires_at"] <= soon
    # redelegation: allowed once here, then no further
    body = {
        "trust": {
            "trustor_user_id": demo.current_user_id,
            "trustee_user_id": user.id,
            "project_id": demo.current_project_id,
            "impersonation": False,
            "roles": [{"name": "member"}],
            "allow_redelegation": True,
            "redelegation_count": 1,
        }
    }
    made = demo.identity.post("/OS-TRUST/trusts", json=body).json()["trust"]
    assert made["allow_redelegation"] is True and made["redelegation_count"] == 1
    token = trust_token(cloud, user.id, password, made["id"]).headers["X-Subject-Token"]
    third = admin.identity.create_user(name=unique("third"), password="x", domain_id="default")
    try:
        again = {
            "trust": {
                "trustor_user_id": user.id,
                "trustee_user_id": third.id,
                "project_id": demo.current_project_id,
                "impersonation": False,
                "roles": [{"name": "member"}],
            }
        }
        headers = {"X-Auth-Token": token}
        url = f"{cloud.auth_url}/OS-TRUST/trusts"
        second = httpx.post(url, json=again, headers=headers, timeout=30)
        assert second.status_code == 201, second.text
        assert second.json()["trust"]["redelegated_trust_id"] == made["id"]
        assert second.json()["trust"]["redelegation_count"] == 0
        # the once-redelegated trust may not be redelegated again
        token2 = trust_token(cloud, third.id, "x", second.json()["trust"]["id"])
        assert token2.status_code == 201, token2.text
        again["trust"]["trustor_user_id"] = third.id
        again["trust"]["trustee_user_id"] = user.id
        headers2 = {"X-Auth-Token": token2.headers["X-Subject-Token"]}
        refused = httpx.post(url, json=again, headers=headers2, timeout=30)
        assert refused.status_code == 403
        # deleting the original ends the redelegated one too
        demo.identity.delete_trust(made["id"])
        assert trust_token(cloud, third.id, "x", second.json()["trust"]["id"]).status_code == 404
    finally:
        admin.identity.delete_user(third, ignore_missing=True)
    bad = dict(body["trust"], remaining_uses=2)
    conflict = demo.identity.post("/OS-TRUST/trusts", json={"trust": bad}, raise_exc=False)
    assert conflict.status_code == 400


@pytest.mark.cli
def test_trust_cli(cloud: RunningCloud, admin: Any, trustee: tuple[Any, str]) -> None:
    user, _ = trustee
    made = as_json(
        openstack(
            cloud, "onestack", "trust", "create", "--project", "admin", "--role", "member",
            "--impersonate", "admin", user.id, "-f", "json",
        )
    )  # fmt: skip
    assert made["project_id"] == admin.current_project_id
    assert "member" in json.dumps(made["roles"]) or "member" in str(made.get("roles"))
    listed = as_json(openstack(cloud, "onestack", "trust", "list", "-f", "json"))
    assert made["id"] in [t["ID"] for t in listed]
    shown = as_json(openstack(cloud, "onestack", "trust", "show", made["id"], "-f", "json"))
    assert shown["trustee_user_id"] == user.id and shown["is_impersonation"] is True
    openstack(cloud, "onestack", "trust", "delete", made["id"])
    gone = openstack(cloud, "onestack", "trust", "show", made["id"], check=False)
    assert gone.returncode != 0
