"""Details of Keystone's API that clients rely on (shapes, status codes, rules)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tests.functional.identity.helpers import Client, assert_error, token, unique
from tests.support.server import RunningCloud


def _user_with_role(admin: Any, password: str) -> tuple[Any, Any]:
    user = admin.identity.create_user(name=unique("u"), password=password, domain_id="default")
    project = admin.identity.create_project(name=unique("p"), domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    return user, project


def test_ec2_credential_access_key_can_be_updated(cloud: RunningCloud, admin: Any) -> None:
    user, project = _user_with_role(admin, "pw-ec2-1234")
    client = Client(cloud, token(cloud))
    try:
        old, new = unique("access"), unique("access")
        created = client.post(
            "/credentials",
            json={
                "credential": {
                    "user_id": user.id,
                    "project_id": project.id,
                    "type": "ec2",
                    "blob": json.dumps({"access": old, "secret": "s1"}),
                }
            },
        )
        assert created.status_code == 201, created.text
        cred_id = created.json()["credential"]["id"]
        updated = client.patch(
            f"/credentials/{cred_id}",
            json={"credential": {"blob": json.dumps({"access": new, "secret": "s2"})}},
        )
        assert updated.status_code == 200, updated.text
        body = updated.json()["credential"]
        assert body["id"] == cred_id
        assert json.loads(body["blob"]) == {"access": new, "secret": "s2"}
        # look-ups by access key follow the new key
        shown = client.get(f"/users/{user.id}/credentials/OS-EC2/{new}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["credential"]["secret"] == "s2"
        assert_error(client.get(f"/users/{user.id}/credentials/OS-EC2/{old}"), 404)
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_endpoint_update_creates_an_unknown_region(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud))
    service = client.post("/services", json={"service": {"type": unique("t"), "name": "x"}})
    service_id = service.json()["service"]["id"]
    first, second = unique("region"), unique("region")
    created = client.post(
        "/endpoints",
        json={
            "endpoint": {
                "service_id": service_id,
                "interface": "public",
                "url": "http://example.test/a",
                "region": first,
            }
        },
    )
    assert created.status_code == 201, created.text
    endpoint_id = created.json()["endpoint"]["id"]
    try:
        updated = client.patch(
            f"/endpoints/{endpoint_id}", json={"endpoint": {"region": second, "enabled": False}}
        )
        assert updated.status_code == 200, updated.text
        assert updated.json()["endpoint"]["region"] == second
        assert updated.json()["endpoint"]["region_id"] == second
        assert client.get(f"/regions/{second}").status_code == 200
    finally:
        client.delete(f"/endpoints/{endpoint_id}")
        client.delete(f"/services/{service_id}")
        client.delete(f"/regions/{first}")
        client.delete(f"/regions/{second}")


def test_domain_specific_roles_are_not_effective(cloud: RunningCloud, admin: Any) -> None:
    client = Client(cloud, token(cloud))
    domain = admin.identity.create_domain(name=unique("d"))
    user = admin.identity.create_user(name=unique("u"), password="pw-dr-1234", domain_id=domain.id)
    project = admin.identity.create_project(name=unique("p"), domain_id=domain.id)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    try:
        role = client.post("/roles", json={"role": {"name": "dr", "domain_id": domain.id}})
        role_id = role.json()["role"]["id"]
        grant = client.put(f"/projects/{project.id}/users/{user.id}/roles/{role_id}")
        assert grant.status_code == 204, grant.text
        direct = client.get(
            "/role_assignments",
            params={"user.id": user.id, "scope.project.id": project.id},
        ).json()["role_assignments"]
        assert role_id in {a["role"]["id"] for a in direct}
        effective = client.get(
            "/role_assignments?effective",
            params={"user.id": user.id, "scope.project.id": project.id},
        ).json()["role_assignments"]
        assert role_id not in {a["role"]["id"] for a in effective}
        assert effective  # the global member role stays
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)
        admin.identity.update_domain(domain, enabled=False)
        admin.identity.delete_domain(domain)


def test_global_role_cannot_imply_a_domain_role(cloud: RunningCloud, admin: Any) -> None:
    client = Client(cloud, token(cloud))
    domain = admin.identity.create_domain(name=unique("d"))
    global_role = client.post("/roles", json={"role": {"name": unique("g")}}).json()["role"]
    domain_role = client.post(
        "/roles", json={"role": {"name": "dr", "domain_id": domain.id}}
    ).json()["role"]
    try:
        allowed = client.put(f"/roles/{domain_role['id']}/implies/{global_role['id']}")
        assert allowed.status_code == 201, allowed.text
        # forbidden, whether or not the rule would also close a cycle
        refused = client.put(f"/roles/{global_role['id']}/implies/{domain_role['id']}")
        assert_error(refused, 403, "domain-specific")
    finally:
        client.delete(f"/roles/{domain_role['id']}")
        client.delete(f"/roles/{global_role['id']}")
        admin.identity.update_domain(domain, enabled=False)
        admin.identity.delete_domain(domain)


def test_rescoped_token_keeps_the_original_methods(cloud: RunningCloud, admin: Any) -> None:
    user, project = _user_with_role(admin, "pw-rs-1234")
    try:
        unscoped = requests.post(
            f"{cloud.auth_url}/auth/tokens",
            timeout=30,
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"id": user.id, "password": "pw-rs-1234"}},
                    }
                }
            },
        )
        assert unscoped.json()["token"]["methods"] == ["password"]
        rescoped = requests.post(
            f"{cloud.auth_url}/auth/tokens",
            timeout=30,
            json={
                "auth": {
                    "identity": {
                        "methods": ["token"],
                        "token": {"id": unscoped.headers["X-Subject-Token"]},
                    },
                    "scope": {"project": {"id": project.id}},
                }
            },
        )
        assert rescoped.status_code == 201, rescoped.text
        assert set(rescoped.json()["token"]["methods"]) == {"password", "token"}
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_admin_changes_a_password_with_the_original(cloud: RunningCloud, admin: Any) -> None:
    user = admin.identity.create_user(
        name=unique("pw"), password="old-pw-1234", domain_id="default"
    )
    try:
        client = Client(cloud, token(cloud))
        changed = client.post(
            f"/users/{user.id}/password",
            json={"user": {"original_password": "old-pw-1234", "password": "new-pw-1234"}},
        )
        assert changed.status_code == 204, changed.text
        login = requests.post(
            f"{cloud.auth_url}/auth/tokens",
            timeout=30,
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"id": user.id, "password": "new-pw-1234"}},
                    }
                }
            },
        )
        assert login.status_code == 201
        wrong = client.post(
            f"/users/{user.id}/password",
            json={"user": {"original_password": "nope", "password": "other-pw-1234"}},
        )
        assert_error(wrong, 401)
    finally:
        admin.identity.delete_user(user)


def test_user_in_a_missing_domain_is_404(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud))
    response = client.post(
        "/users", json={"user": {"name": unique("u"), "domain_id": "0" * 32, "password": "x"}}
    )
    assert_error(response, 404, "domain")


def test_domain_name_longer_than_64_is_400(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud))
    assert_error(client.post("/domains", json={"domain": {"name": "a" * 65}}), 400)


def test_application_credential_expiry_echoes_without_zone(cloud: RunningCloud, admin: Any) -> None:
    user, project = _user_with_role(admin, "pw-ae-1234")
    try:
        mine = requests.post(
            f"{cloud.auth_url}/auth/tokens",
            timeout=30,
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"id": user.id, "password": "pw-ae-1234"}},
                    },
                    "scope": {"project": {"id": project.id}},
                }
            },
        )
        client = Client(cloud, mine.headers["X-Subject-Token"])
        expires = (datetime.now(UTC) + timedelta(hours=1)).replace(tzinfo=None, microsecond=123456)
        created = client.post(
            f"/users/{user.id}/application_credentials",
            json={"application_credential": {"name": "e", "expires_at": expires.isoformat()}},
        )
        assert created.status_code == 201, created.text
        assert created.json()["application_credential"]["expires_at"] == expires.isoformat()
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_rescoping_a_revoked_token_is_404(cloud: RunningCloud) -> None:
    first = token(cloud)
    client = Client(cloud, token(cloud))
    revoked = client.delete("/auth/tokens", headers={"X-Subject-Token": first})
    assert revoked.status_code == 204
    response = requests.post(
        f"{cloud.auth_url}/auth/tokens",
        timeout=30,
        json={"auth": {"identity": {"methods": ["token"], "token": {"id": first}}}},
    )
    assert_error(response, 404)
