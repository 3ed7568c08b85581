"""Application credentials, EC2 credentials and /v3/credentials."""

from __future__ import annotations

import json
from typing import Any

import openstack
import requests

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


def _app_cred_auth(cloud: RunningCloud, cred_id: str, secret: str) -> requests.Response:
    return requests.post(
        f"{cloud.auth_url}/auth/tokens",
        timeout=30,
        json={
            "auth": {
                "identity": {
                    "methods": ["application_credential"],
                    "application_credential": {"id": cred_id, "secret": secret},
                }
            }
        },
    )


def test_application_credential_lifecycle(cloud: RunningCloud, admin: Any) -> None:
    user = admin.identity.create_user(name=unique("ac"), password="pw-ac-1234", domain_id="default")
    project = admin.identity.create_project(name=unique("acp"), domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    try:
        mine = issue(cloud, user.name, "pw-ac-1234", {"project": {"id": project.id}})
        client = Client(cloud, mine.headers["X-Subject-Token"])
        created = client.post(
            f"/users/{user.id}/application_credentials",
            json={"application_credential": {"name": "ci", "roles": [{"name": "reader"}]}},
        )
        assert created.status_code == 201, created.text
        cred = created.json()["application_credential"]
        assert cred["secret"] and cred["project_id"] == project.id
        assert [r["name"] for r in cred["roles"]] == ["reader"]
        shown = client.get(f"/users/{user.id}/application_credentials/{cred['id']}").json()
        assert "secret" not in shown["application_credential"]  # shown once only
        # authenticate with it: scoped to its project, with only its roles
        body = _app_cred_auth(cloud, cred["id"], cred["secret"])
        assert body.status_code == 201
        token_body = body.json()["token"]
        assert token_body["project"]["id"] == project.id
        assert [r["name"] for r in token_body["roles"]] == ["reader"]
        assert token_body["application_credential"]["restricted"] is True
        assert token_body["methods"] == ["application_credential"]
        # the same through openstacksdk
        conn = openstack.connect(
            auth_type="v3applicationcredential",
            auth={
                "auth_url": cloud.auth_url,
                "application_credential_id": cred["id"],
                "application_credential_secret": cred["secret"],
            },
            region_name="RegionOne",
        )
        assert conn.session.get_project_id() == project.id
        # a restricted credential cannot make another
        restricted = Client(cloud, body.headers["X-Subject-Token"])
        refused = restricted.post(
            f"/users/{user.id}/application_credentials",
            json={"application_credential": {"name": "second"}},
        )
        assert_error(refused, 403)
        assert_error(_app_cred_auth(cloud, cred["id"], "wrong-secret"), 401)
        # deleting it kills its tokens
        assert (
            client.delete(f"/users/{user.id}/application_credentials/{cred['id']}").status_code
            == 204
        )
        assert_error(restricted.get("/auth/projects"), 401)
        assert_error(_app_cred_auth(cloud, cred["id"], cred["secret"]), 401)
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_app_cred_refuses_roles_the_user_lacks(cloud: RunningCloud) -> None:
    demo = Client(cloud, token(cloud, "demo", "demo"))
    me = demo.get("/auth/tokens", headers={"X-Subject-Token": demo.token}).json()["token"]["user"][
        "id"
    ]
    refused = demo.post(
        f"/users/{me}/application_credentials",
        json={"application_credential": {"name": unique("x"), "roles": [{"name": "admin"}]}},
    )
    assert_error(refused, 403)


def test_ec2_credentials(cloud: RunningCloud, admin: Any) -> None:
    client = Client(cloud, token(cloud, "demo", "demo"))
    info = client.get("/auth/tokens", headers={"X-Subject-Token": client.token}).json()["token"]
    user_id, project_id = info["user"]["id"], info["project"]["id"]
    created = client.post(f"/users/{user_id}/credentials/OS-EC2", json={"tenant_id": project_id})
    assert created.status_code == 201
    cred = created.json()["credential"]
    assert cred["tenant_id"] == project_id and cred["access"] and cred["secret"]
    listed = client.get(f"/users/{user_id}/credentials/OS-EC2").json()["credentials"]
    assert cred["access"] in {c["access"] for c in listed}
    shown = client.get(f"/users/{user_id}/credentials/OS-EC2/{cred['access']}").json()
    assert shown["credential"]["secret"] == cred["secret"]
    # it also shows in /v3/credentials as type ec2 with its blob
    stored = client.get("/credentials", params={"type": "ec2"}).json()["credentials"]
    blobs = [json.loads(c["blob"]) for c in stored]
    assert cred["access"] in {b["access"] for b in blobs}
    # another user cannot read it
    other = admin.identity.create_user(name=unique("o"), password="pw-other-1", domain_id="default")
    admin.identity.assign_project_role_to_user(
        project_id, other, admin.identity.find_role("member")
    )
    try:
        theirs = Client(
            cloud,
            issue(cloud, other.name, "pw-other-1", {"project": {"id": project_id}}).headers[
                "X-Subject-Token"
            ],
        )
        assert_error(theirs.get(f"/users/{user_id}/credentials/OS-EC2/{cred['access']}"), 403)
    finally:
        admin.identity.delete_user(other)
    assert client.delete(f"/users/{user_id}/credentials/OS-EC2/{cred['access']}").status_code == 204
    assert_error(client.get(f"/users/{user_id}/credentials/OS-EC2/{cred['access']}"), 404)


def test_credentials_crud(cloud: RunningCloud, admin: Any) -> None:
    client = Client(cloud, token(cloud))
    me = client.get("/auth/tokens", headers={"X-Subject-Token": client.token}).json()["token"][
        "user"
    ]["id"]
    created = client.post(
        "/credentials",
        json={"credential": {"user_id": me, "type": "totp-seed", "blob": "secret-blob"}},
    )
    assert created.status_code == 201
    cred = created.json()["credential"]
    assert cred["blob"] == "secret-blob"
    updated = client.patch(f"/credentials/{cred['id']}", json={"credential": {"blob": "b2"}})
    assert updated.json()["credential"]["blob"] == "b2"
    assert client.delete(f"/credentials/{cred['id']}").status_code == 204
    assert_error(client.get(f"/credentials/{cred['id']}"), 404)
