"""Version discovery and the token API, driven over HTTP and through openstacksdk."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import requests

from onestack.identity.fernet import KeyRepository, TokenFormatter, TokenPayload
from tests.functional.identity.helpers import Client, assert_error, issue, token
from tests.support.server import RunningCloud


def test_root_lists_v3_with_300(cloud: RunningCloud) -> None:
    response = requests.get(cloud.url("identity") + "/", timeout=10)
    assert response.status_code == 300
    values = response.json()["versions"]["values"]
    assert [v["id"] for v in values] == ["v3.14"]
    assert values[0]["status"] == "stable"
    assert values[0]["links"][0]["href"].endswith("/v3/")


def test_v3_document(cloud: RunningCloud) -> None:
    response = requests.get(cloud.auth_url, timeout=10)
    assert response.status_code == 200
    version = response.json()["version"]
    assert version["id"] == "v3.14"
    assert version["media-types"][0]["type"] == "application/vnd.openstack.identity-v3+json"
    assert response.headers["X-Openstack-Request-Id"].startswith("req-")


def test_password_token_is_project_scoped_with_catalog(cloud: RunningCloud) -> None:
    response = issue(
        cloud,
        "admin",
        cloud.admin_password,
        {"project": {"name": "admin", "domain": {"name": "Default"}}},
    )
    assert response.status_code == 201
    assert response.headers["X-Subject-Token"]
    body = response.json()["token"]
    assert body["methods"] == ["password"]
    assert body["user"]["name"] == "admin"
    assert body["user"]["domain"] == {"id": "default", "name": "Default"}
    assert body["project"]["name"] == "admin"
    assert {r["name"] for r in body["roles"]} >= {"admin", "member", "reader"}
    types = {entry["type"] for entry in body["catalog"]}
    assert "identity" in types
    identity = next(e for e in body["catalog"] if e["type"] == "identity")
    assert {e["interface"] for e in identity["endpoints"]} == {"public", "internal", "admin"}
    expires = datetime.strptime(body["expires_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    issued = datetime.strptime(body["issued_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    assert timedelta(minutes=59) < expires - issued <= timedelta(hours=1)
    assert len(body["audit_ids"]) == 1


def test_nocatalog(cloud: RunningCloud) -> None:
    response = issue(
        cloud,
        "admin",
        cloud.admin_password,
        {"project": {"name": "admin", "domain": {"id": "default"}}},
        nocatalog="1",
    )
    assert response.status_code == 201
    assert "catalog" not in response.json()["token"]


def test_wrong_password_is_401(cloud: RunningCloud) -> None:
    assert_error(issue(cloud, "admin", "not-the-password"), 401)
    assert_error(issue(cloud, "nobody-at-all", "x"), 401)


def test_unscoped_domain_and_system_tokens(cloud: RunningCloud) -> None:
    unscoped = issue(cloud, "admin", cloud.admin_password, "unscoped").json()["token"]
    assert "project" not in unscoped and "roles" not in unscoped and "catalog" not in unscoped
    system = issue(cloud, "admin", cloud.admin_password, {"system": {"all": True}})
    assert system.status_code == 201
    assert system.json()["token"]["system"] == {"all": True}
    # demo has no role on the domain: refused
    refused = issue(cloud, "demo", cloud.demo_password, {"domain": {"id": "default"}})
    assert_error(refused, 401)


def test_default_project_scope_without_scope(cloud: RunningCloud) -> None:
    body = issue(cloud, "demo", cloud.demo_password).json()["token"]
    assert body["project"]["name"] == "demo"
    assert [r["name"] for r in body["roles"]] == ["member", "reader"]


def test_validate_check_and_revoke(cloud: RunningCloud) -> None:
    admin = Client(cloud, token(cloud))
    subject = token(cloud, "demo", "demo")
    shown = admin.get("/auth/tokens", headers={"X-Subject-Token": subject})
    assert shown.status_code == 200
    assert shown.json()["token"]["user"]["name"] == "demo"
    assert shown.headers["X-Subject-Token"] == subject
    assert admin.head("/auth/tokens", headers={"X-Subject-Token": subject}).status_code == 200
    # the token works, then is revoked, then is refused everywhere
    demo = Client(cloud, subject)
    assert demo.get("/auth/projects").status_code == 200
    assert admin.delete("/auth/tokens", headers={"X-Subject-Token": subject}).status_code == 204
    assert_error(admin.get("/auth/tokens", headers={"X-Subject-Token": subject}), 404)
    assert_error(demo.get("/auth/projects"), 401)


def test_user_validates_own_token_but_not_others(cloud: RunningCloud) -> None:
    mine = token(cloud, "demo", "demo")
    demo = Client(cloud, mine)
    assert demo.get("/auth/tokens", headers={"X-Subject-Token": mine}).status_code == 200
    other = token(cloud)
    assert_error(demo.get("/auth/tokens", headers={"X-Subject-Token": other}), 403)


def test_token_method_rescopes_and_keeps_expiry(cloud: RunningCloud) -> None:
    unscoped = issue(cloud, "admin", cloud.admin_password, "unscoped")
    first = unscoped.headers["X-Subject-Token"]
    rescope = requests.post(
        f"{cloud.auth_url}/auth/tokens",
        timeout=10,
        json={
            "auth": {
                "identity": {"methods": ["token"], "token": {"id": first}},
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        },
    )
    assert rescope.status_code == 201
    body = rescope.json()["token"]
    # a rescoped token lists the original token's methods too
    assert set(body["methods"]) == {"password", "token"}
    assert body["project"]["name"] == "admin"
    assert body["expires_at"] == unscoped.json()["token"]["expires_at"]
    assert unscoped.json()["token"]["audit_ids"][0] in body["audit_ids"]


def test_expired_token_is_refused(cloud: RunningCloud) -> None:
    """A token made with the server's own keys but already expired gets 401/404."""
    keys = KeyRepository(cloud.state_dir / "fernet-keys")
    me = (
        Client(cloud, token(cloud))
        .get("/auth/tokens", headers={"X-Subject-Token": token(cloud)})
        .json()["token"]
    )
    past = datetime.now(UTC) - timedelta(minutes=5)
    expired = TokenFormatter(keys).issue(
        TokenPayload(
            user_id=me["user"]["id"],
            methods=("password",),
            expires_at=past,
            issued_at=past - timedelta(hours=1),
            audit_ids=("expiredtest",),
            project_id=me["project"]["id"],
        )
    )
    assert_error(Client(cloud, expired).get("/auth/projects"), 401)
    admin = Client(cloud, token(cloud))
    assert_error(admin.get("/auth/tokens", headers={"X-Subject-Token": expired}), 404)
    allowed = admin.get(
        "/auth/tokens", headers={"X-Subject-Token": expired}, params={"allow_expired": "true"}
    )
    assert allowed.status_code == 200


def test_garbage_token_is_401(cloud: RunningCloud) -> None:
    assert_error(Client(cloud, "gAAAAAnotatoken").get("/auth/projects"), 401)


def test_auth_catalog_projects_domains_system(cloud: RunningCloud) -> None:
    admin = Client(cloud, token(cloud))
    catalog = admin.get("/auth/catalog").json()["catalog"]
    assert any(e["type"] == "identity" for e in catalog)
    projects = {p["name"] for p in admin.get("/auth/projects").json()["projects"]}
    assert "admin" in projects
    assert admin.get("/auth/system").json()["system"] == [{"all": True}]
    demo = Client(cloud, token(cloud, "demo", "demo"))
    assert {p["name"] for p in demo.get("/auth/projects").json()["projects"]} == {"demo"}
    assert demo.get("/auth/system").json()["system"] == []
    assert demo.get("/auth/domains").json()["domains"] == []


def test_sdk_lists_projects_and_catalog(admin: object) -> None:
    names = {p.name for p in admin.identity.projects()}  # type: ignore[attr-defined]
    assert {"admin", "demo", "service"} <= names
    services = {s.type for s in admin.identity.services()}  # type: ignore[attr-defined]
    assert "identity" in services
