"""Default policy for the demo persona, and bad input in Keystone's error format."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from openstack import exceptions as sdk_exc

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


@pytest.fixture()
def demo_client(cloud: RunningCloud) -> Client:
    return Client(cloud, token(cloud, "demo", "demo"))


@pytest.fixture()
def admin_client(cloud: RunningCloud) -> Client:
    return Client(cloud, token(cloud))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users", None),
        ("GET", "/projects", None),
        ("GET", "/domains", None),
        ("GET", "/groups", None),
        ("GET", "/role_assignments", None),
        ("GET", "/services", None),
        ("GET", "/endpoints", None),
        ("POST", "/users", {"user": {"name": "sneaky"}}),
        ("POST", "/projects", {"project": {"name": "sneaky"}}),
        ("POST", "/roles", {"role": {"name": "sneaky"}}),
        ("POST", "/domains", {"domain": {"name": "sneaky"}}),
        ("POST", "/services", {"service": {"type": "sneaky"}}),
    ],
)
def test_demo_is_refused_admin_calls(
    demo_client: Client, method: str, path: str, body: Any
) -> None:
    response = demo_client.request(method, path, json=body)
    assert_error(response, 403, "not authorized")


def test_demo_cannot_see_or_change_another_project(demo_client: Client, admin: Any) -> None:
    other = admin.identity.create_project(name=unique("private"), domain_id="default")
    try:
        assert_error(demo_client.get(f"/projects/{other.id}"), 403)
        assert_error(
            demo_client.patch(f"/projects/{other.id}", json={"project": {"description": "x"}}), 403
        )
        assert_error(demo_client.delete(f"/projects/{other.id}"), 403)
        assert_error(demo_client.put(f"/projects/{other.id}/tags/x"), 403)
    finally:
        admin.identity.delete_project(other)


def test_demo_reads_own_project_and_user(cloud: RunningCloud, demo_client: Client) -> None:
    me = demo_client.get("/auth/tokens", headers={"X-Subject-Token": demo_client.token}).json()[
        "token"
    ]
    assert demo_client.get(f"/projects/{me['project']['id']}").status_code == 200
    assert demo_client.get(f"/users/{me['user']['id']}").status_code == 200
    admin_id = (
        Client(cloud, token(cloud)).get("/users", params={"name": "admin"}).json()["users"][0]["id"]
    )
    assert_error(demo_client.get(f"/users/{admin_id}"), 403)
    assert_error(demo_client.get(f"/users/{admin_id}/application_credentials"), 403)


def test_reader_cannot_write(cloud: RunningCloud, admin: Any) -> None:
    """A system reader reads everything and writes nothing."""
    user = admin.identity.create_user(
        name=unique("reader"), password="pw-reader-1", domain_id="default"
    )
    reader = admin.identity.find_role("reader")
    Client(cloud, token(cloud)).put(f"/system/users/{user.id}/roles/{reader.id}")
    try:
        response = issue(cloud, user.name, "pw-reader-1", {"system": {"all": True}})
        client = Client(cloud, response.headers["X-Subject-Token"])
        assert client.get("/users").status_code == 200
        assert client.get("/projects").status_code == 200
        assert_error(client.post("/users", json={"user": {"name": unique("x")}}), 403)
        assert_error(client.post("/projects", json={"project": {"name": unique("x")}}), 403)
        assert_error(client.delete(f"/users/{user.id}"), 403)
    finally:
        admin.identity.delete_user(user)


def test_sdk_raises_forbidden_for_demo(demo: Any) -> None:
    with pytest.raises(sdk_exc.ForbiddenException):
        list(demo.identity.users())


def test_no_token_is_401_with_www_authenticate(cloud: RunningCloud) -> None:
    response = requests.get(f"{cloud.auth_url}/users", timeout=10)
    assert_error(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("{not json", "malformed"),
        ("[]", "user"),
        ('{"user": {}}', "name"),
        ('{"user": {"name": 5}}', "name"),
        ('{"user": {"name": "x", "enabled": "yes"}}', "enabled"),
        ('{"user": {"name": ""}}', "name"),
    ],
)
def test_bad_user_bodies_are_400(admin_client: Client, body: str, fragment: str) -> None:
    response = admin_client.post("/users", data=body, headers={"Content-Type": "application/json"})
    assert_error(response, 400, fragment)


def test_bad_auth_bodies(cloud: RunningCloud) -> None:
    url = f"{cloud.auth_url}/auth/tokens"
    assert_error(
        requests.post(url, data="{", timeout=10, headers={"Content-Type": "application/json"}), 400
    )
    assert_error(requests.post(url, json={"auth": {}}, timeout=10), 400)
    assert_error(
        requests.post(
            url, json={"auth": {"identity": {"methods": ["totp"], "totp": {}}}}, timeout=10
        ),
        401,
    )
    assert_error(
        requests.post(
            url,
            json={
                "auth": {
                    "identity": {
                        "methods": ["password"],
                        "password": {"user": {"name": "admin", "password": 5}},
                    }
                }
            },
            timeout=10,
        ),
        400,
    )


def test_unknown_ids_are_404(admin_client: Client) -> None:
    for path in (
        "/users/nope",
        "/projects/nope",
        "/groups/nope",
        "/roles/nope",
        "/domains/nope",
        "/regions/nope",
        "/services/nope",
        "/endpoints/nope",
        "/credentials/nope",
    ):
        assert_error(admin_client.get(path), 404, "nope")
    assert_error(admin_client.get("/no-such-collection"), 404)


def test_oversized_body_is_413(admin_client: Client) -> None:
    body = {"user": {"name": "big", "description": "x" * 200_000}}
    assert_error(admin_client.post("/users", json=body), 413)


def test_duplicate_names_are_409(admin_client: Client) -> None:
    name = unique("dup")
    first = admin_client.post("/users", json={"user": {"name": name}})
    assert first.status_code == 201
    try:
        assert_error(admin_client.post("/users", json={"user": {"name": name}}), 409, "duplicate")
    finally:
        admin_client.delete(f"/users/{first.json()['user']['id']}")
    project = admin_client.post("/projects", json={"project": {"name": name}})
    try:
        assert_error(admin_client.post("/projects", json={"project": {"name": name}}), 409)
    finally:
        admin_client.delete(f"/projects/{project.json()['project']['id']}")


def test_wrong_method_is_405(admin_client: Client) -> None:
    assert_error(admin_client.put("/users", json={}), 405)


def test_unimplemented_apis_are_501(admin_client: Client) -> None:
    assert_error(admin_client.get("/OS-FEDERATION/identity_providers"), 501)
    assert_error(admin_client.get("/limits"), 501)


def test_nothing_half_written_after_a_failed_create(admin_client: Client) -> None:
    name = unique("half")
    refused = admin_client.post("/users", json={"user": {"name": name, "domain_id": "nope"}})
    assert_error(refused, 404)  # Keystone: DomainNotFound
    assert admin_client.get("/users", params={"name": name}).json()["users"] == []
