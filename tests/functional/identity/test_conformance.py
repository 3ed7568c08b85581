"""What Tempest's identity suite found missing: the default roles Keystone's bootstrap
makes, ``/v3/policies`` and OS-EP-FILTER (endpoint groups, project-endpoint
associations and the filtered catalog)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


@pytest.fixture
def client(cloud: RunningCloud) -> Client:
    return Client(cloud, token(cloud))


def test_bootstrap_makes_manager_and_reselleradmin_roles(client: Client) -> None:
    roles = {r["name"]: r for r in client.get("/roles").json()["roles"]}
    assert {"admin", "manager", "member", "reader", "service", "ResellerAdmin"} <= set(roles)
    assert roles["manager"]["options"] == {"immutable": True}
    assert roles["ResellerAdmin"]["options"] == {}
    rules = {
        r["prior_role"]["name"]: sorted(i["name"] for i in r["implies"])
        for r in client.get("/role_inferences").json()["role_inferences"]
    }
    # Keystone 2023.2's chain: admin -> manager -> member -> reader, nothing direct
    assert rules["admin"] == ["manager"]
    assert rules["manager"] == ["member"]
    assert rules["member"] == ["reader"]


def test_admin_token_carries_the_implied_manager_role(cloud: RunningCloud) -> None:
    body = issue(
        cloud,
        "admin",
        cloud.admin_password,
        {"project": {"name": "admin", "domain": {"id": "default"}}},
    ).json()
    assert {"admin", "manager", "member", "reader"} <= {r["name"] for r in body["token"]["roles"]}


def test_policy_crud(client: Client, cloud: RunningCloud) -> None:
    kind = unique("application/x-test")
    created = client.post("/policies", json={"policy": {"blob": '{"a": "b"}', "type": kind}})
    assert created.status_code == 201, created.text
    policy = created.json()["policy"]
    assert set(policy) >= {"id", "type", "blob", "links"}
    assert policy["type"] == kind and policy["blob"] == '{"a": "b"}'
    assert policy["links"]["self"].endswith(f"/v3/policies/{policy['id']}")
    try:
        listed = client.get("/policies", params={"type": kind}).json()
        assert [p["id"] for p in listed["policies"]] == [policy["id"]]
        assert "links" in listed
        assert client.get(f"/policies/{policy['id']}").json()["policy"]["blob"] == '{"a": "b"}'
        updated = client.patch(
            f"/policies/{policy['id']}", json={"policy": {"type": kind + "2"}}
        ).json()["policy"]
        assert updated["type"] == kind + "2" and updated["blob"] == '{"a": "b"}'
        # a member may not write policies; a missing blob is a 400
        demo = Client(cloud, token(cloud, "demo", "demo"))
        assert_error(demo.post("/policies", json={"policy": {"blob": "x", "type": "t"}}), 403)
        assert_error(client.post("/policies", json={"policy": {"type": "t"}}), 400)
    finally:
        assert client.delete(f"/policies/{policy['id']}").status_code == 204
    assert_error(client.get(f"/policies/{policy['id']}"), 404)


@pytest.fixture
def service_with_endpoints(client: Client) -> Iterator[tuple[str, list[str]]]:
    service = client.post("/services", json={"service": {"type": unique("epf"), "name": "x"}})
    service_id = service.json()["service"]["id"]
    endpoints = [
        client.post(
            "/endpoints",
            json={
                "endpoint": {
                    "service_id": service_id,
                    "interface": interface,
                    "url": f"http://198.51.100.7:9/{interface}",
                }
            },
        ).json()["endpoint"]["id"]
        for interface in ("public", "internal")
    ]
    try:
        yield service_id, endpoints
    finally:
        client.delete(f"/services/{service_id}")


def test_endpoint_group_crud(client: Client, service_with_endpoints: Any) -> None:
    service_id, endpoints = service_with_endpoints
    body = {
        "endpoint_group": {
            "name": unique("group"),
            "description": "public ones",
            "filters": {"service_id": service_id, "interface": "public"},
        }
    }
    created = client.post("/OS-EP-FILTER/endpoint_groups", json=body)
    assert created.status_code == 201, created.text
    group = created.json()["endpoint_group"]
    assert group["name"] == body["endpoint_group"]["name"]
    assert group["filters"] == {"service_id": service_id, "interface": "public"}
    assert group["links"]["self"].endswith(f"/v3/OS-EP-FILTER/endpoint_groups/{group['id']}")
    path = f"/OS-EP-FILTER/endpoint_groups/{group['id']}"
    try:
        listed = client.get("/OS-EP-FILTER/endpoint_groups").json()["endpoint_groups"]
        assert group in listed
        assert client.get(path).json()["endpoint_group"] == group
        assert client.head(path).status_code == 200
        members = client.get(f"{path}/endpoints").json()["endpoints"]
        assert [e["id"] for e in members] == [endpoints[0]]
        updated = client.patch(
            path,
            json={"endpoint_group": {"name": "renamed", "filters": {"service_id": service_id}}},
        ).json()["endpoint_group"]
        assert updated["name"] == "renamed" and updated["filters"] == {"service_id": service_id}
        assert sorted(e["id"] for e in client.get(f"{path}/endpoints").json()["endpoints"]) == (
            sorted(endpoints)
        )
        assert_error(
            client.post(
                "/OS-EP-FILTER/endpoint_groups",
                json={"endpoint_group": {"name": "bad", "filters": {"colour": "red"}}},
            ),
            400,
            "colour",
        )
    finally:
        assert client.delete(path).status_code == 204
    assert_error(client.get(path), 404)
    assert client.head(path).status_code == 404


def test_project_endpoint_associations_filter_the_catalog(
    cloud: RunningCloud, client: Client, service_with_endpoints: Any
) -> None:
    service_id, endpoints = service_with_endpoints
    name = unique("epfproj")
    project = client.post(
        "/projects", json={"project": {"name": name, "domain_id": "default"}}
    ).json()["project"]
    admin_id = client.get("/users", params={"name": "admin"}).json()["users"][0]["id"]
    role_id = client.get("/roles", params={"name": "admin"}).json()["roles"][0]["id"]
    client.put(f"/projects/{project['id']}/users/{admin_id}/roles/{role_id}")
    scope = {"project": {"id": project["id"]}}
    link = f"/OS-EP-FILTER/projects/{project['id']}/endpoints/{endpoints[1]}"
    try:
        # no association: the whole catalog
        catalog = issue(cloud, "admin", cloud.admin_password, scope).json()["token"]["catalog"]
        assert len(catalog) > 1
        assert client.put(link).status_code == 204
        assert client.head(link).status_code == 204
        listed = client.get(f"/OS-EP-FILTER/projects/{project['id']}/endpoints").json()
        assert [e["id"] for e in listed["endpoints"]] == [endpoints[1]]
        projects = client.get(f"/OS-EP-FILTER/endpoints/{endpoints[1]}/projects").json()
        assert [p["id"] for p in projects["projects"]] == [project["id"]]
        catalog = issue(cloud, "admin", cloud.admin_password, scope).json()["token"]["catalog"]
        assert [(s["id"], [e["id"] for e in s["endpoints"]]) for s in catalog] == [
            (service_id, [endpoints[1]])
        ]
        # an endpoint group adds its endpoints to the project's catalog
        group = client.post(
            "/OS-EP-FILTER/endpoint_groups",
            json={"endpoint_group": {"name": unique("g"), "filters": {"interface": "public"}}},
        ).json()["endpoint_group"]
        gpath = f"/OS-EP-FILTER/endpoint_groups/{group['id']}/projects/{project['id']}"
        try:
            assert client.put(gpath).status_code == 204
            assert client.get(gpath).json()["project"]["id"] == project["id"]
            groups = client.get(f"/OS-EP-FILTER/projects/{project['id']}/endpoint_groups").json()
            assert [g["id"] for g in groups["endpoint_groups"]] == [group["id"]]
            in_group = client.get(f"/OS-EP-FILTER/endpoint_groups/{group['id']}/projects").json()
            assert [p["id"] for p in in_group["projects"]] == [project["id"]]
            catalog = issue(cloud, "admin", cloud.admin_password, scope).json()["token"]["catalog"]
            shown = {e["id"] for s in catalog for e in s["endpoints"]}
            assert endpoints[0] in shown and endpoints[1] in shown
            assert {e["interface"] for s in catalog for e in s["endpoints"]} == {
                "public",
                "internal",
            }
            assert client.delete(gpath).status_code == 204
            assert_error(client.get(gpath), 404)
        finally:
            client.delete(f"/OS-EP-FILTER/endpoint_groups/{group['id']}")
        assert client.delete(link).status_code == 204
        assert client.head(link).status_code == 404
        assert_error(client.put(f"/OS-EP-FILTER/projects/{project['id']}/endpoints/nope"), 404)
    finally:
        client.delete(f"/projects/{project['id']}")


def test_project_acting_as_domain(client: Client, cloud: RunningCloud) -> None:
    name = unique("isdomain")
    created = client.post("/projects", json={"project": {"name": name, "is_domain": True}})
    assert created.status_code == 201, created.text
    project = created.json()["project"]
    assert project["is_domain"] is True
    assert project["domain_id"] is None and project["parent_id"] is None
    pid = project["id"]
    try:
        as_domains = {d["id"]: d for d in client.get("/domains").json()["domains"]}
        assert as_domains[pid]["name"] == name
        listed = client.get("/projects", params={"is_domain": "true"}).json()["projects"]
        assert pid in {p["id"] for p in listed}
        assert "default" in {p["id"] for p in listed}
        plain = client.get("/projects").json()["projects"]
        assert pid not in {p["id"] for p in plain}
        assert all(p["is_domain"] is False for p in plain)
        shown = client.get(f"/projects/{pid}").json()["project"]
        assert shown["is_domain"] is True and shown["name"] == name
        # a project inside it has it as domain and parent
        inner = client.post("/projects", json={"project": {"name": "in", "domain_id": pid}})
        assert inner.json()["project"]["parent_id"] == pid
        subtree = client.get(f"/projects/{pid}", params={"subtree_as_ids": ""}).json()
        assert subtree["project"]["subtree"] == {inner.json()["project"]["id"]: None}
        assert_error(
            client.post(
                "/projects",
                json={"project": {"name": unique("x"), "is_domain": True, "domain_id": "default"}},
            ),
            400,
        )
        updated = client.patch(f"/projects/{pid}", json={"project": {"description": "d"}})
        assert updated.json()["project"]["description"] == "d"
        assert client.get(f"/domains/{pid}").json()["domain"]["description"] == "d"
        assert_error(client.patch(f"/projects/{pid}", json={"project": {"is_domain": False}}), 400)
        # deleting it deletes the domain, once disabled (as a domain is deleted)
        assert_error(client.delete(f"/projects/{pid}"), 403)
    finally:
        client.patch(f"/projects/{pid}", json={"project": {"enabled": False}})
        assert client.delete(f"/projects/{pid}").status_code == 204
    assert_error(client.get(f"/domains/{pid}"), 404)
    assert_error(client.get(f"/projects/{pid}"), 404)


def test_project_show_and_list_have_keystones_fields(client: Client) -> None:
    project = client.post(
        "/projects", json={"project": {"name": unique("fields"), "tags": ["a", "b"]}}
    ).json()["project"]
    try:
        shown = client.get(f"/projects/{project['id']}").json()["project"]
        listed = next(
            p for p in client.get("/projects").json()["projects"] if p["id"] == project["id"]
        )
        fields = {"parent_id", "is_domain", "description", "links", "name", "enabled",
                  "domain_id", "id", "tags"}  # fmt: skip
        assert set(shown) == fields
        assert shown == listed
    finally:
        client.delete(f"/projects/{project['id']}")
