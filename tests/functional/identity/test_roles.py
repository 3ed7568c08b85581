"""Roles, implied roles, grants and /v3/role_assignments."""

from __future__ import annotations

from typing import Any

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


def test_role_crud_and_immutable_defaults(cloud: RunningCloud, admin: Any) -> None:
    role = admin.identity.create_role(name=unique("role"), description="custom")
    try:
        assert admin.identity.get_role(role.id).description == "custom"
        assert role.id in {r.id for r in admin.identity.roles()}
        assert [r.id for r in admin.identity.roles(name=role.name)] == [role.id]
        updated = admin.identity.update_role(role, description="changed")
        assert updated.description == "changed"
    finally:
        admin.identity.delete_role(role)
    client = Client(cloud, token(cloud))
    admin_role = client.get("/roles", params={"name": "admin"}).json()["roles"][0]
    assert_error(client.delete(f"/roles/{admin_role['id']}"), 403, "immutable")


def test_grants_on_project_domain_and_system(cloud: RunningCloud, admin: Any) -> None:
    user = admin.identity.create_user(
        name=unique("granted"), password="pw-granted-1", domain_id="default"
    )
    project = admin.identity.create_project(name=unique("gp"), domain_id="default")
    member = admin.identity.find_role("member")
    reader = admin.identity.find_role("reader")
    client = Client(cloud, token(cloud))
    try:
        scope = {"project": {"id": project.id}}
        assert_error(issue(cloud, user.name, "pw-granted-1", scope), 401)
        admin.identity.assign_project_role_to_user(project, user, member)
        assert admin.identity.validate_user_has_project_role(project, user, member)
        body = issue(cloud, user.name, "pw-granted-1", scope).json()["token"]
        assert {r["name"] for r in body["roles"]} == {"member", "reader"}  # implied reader
        grants = client.get(f"/projects/{project.id}/users/{user.id}/roles").json()["roles"]
        assert [g["name"] for g in grants] == ["member"]
        # a removed grant takes effect on the next validation of an existing token
        held = issue(cloud, user.name, "pw-granted-1", scope).headers["X-Subject-Token"]
        admin.identity.unassign_project_role_from_user(project, user, member)
        assert_error(Client(cloud, held).get("/auth/projects"), 401)
        # domain and system grants
        path = f"/domains/default/users/{user.id}/roles/{reader.id}"
        assert client.put(path).status_code == 204
        assert client.head(path).status_code == 204
        domain_token = issue(cloud, user.name, "pw-granted-1", {"domain": {"id": "default"}})
        assert domain_token.json()["token"]["domain"]["id"] == "default"
        assert client.delete(path).status_code == 204
        assert client.head(path).status_code == 404
        system_path = f"/system/users/{user.id}/roles/{reader.id}"
        assert client.put(system_path).status_code == 204
        system = issue(cloud, user.name, "pw-granted-1", {"system": {"all": True}})
        assert [r["name"] for r in system.json()["token"]["roles"]] == ["reader"]
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)


def test_group_grant_gives_members_the_role(cloud: RunningCloud, admin: Any) -> None:
    group = admin.identity.create_group(name=unique("g"), domain_id="default")
    user = admin.identity.create_user(name=unique("gm"), password="pw-gm-12", domain_id="default")
    project = admin.identity.create_project(name=unique("gproj"), domain_id="default")
    member = admin.identity.find_role("member")
    try:
        admin.identity.add_user_to_group(user, group)
        admin.identity.assign_project_role_to_group(project, group, member)
        scope = {"project": {"id": project.id}}
        assert issue(cloud, user.name, "pw-gm-12", scope).status_code == 201
        client = Client(cloud, token(cloud))
        effective = client.get(
            "/role_assignments",
            params={"effective": "", "user.id": user.id, "include_names": "true"},
        ).json()
        rows = effective["role_assignments"]
        assert {(r["role"]["name"], r["scope"]["project"]["name"]) for r in rows} == {
            ("member", project.name),
            ("reader", project.name),
        }
        assert all("membership" in r["links"] for r in rows)
        direct = client.get("/role_assignments", params={"group.id": group.id}).json()
        assert [(r["group"]["id"], r["role"]["id"]) for r in direct["role_assignments"]] == [
            (group.id, member.id)
        ]
    finally:
        admin.identity.delete_project(project)
        admin.identity.delete_user(user)
        admin.identity.delete_group(group)


def test_inherited_domain_grant_reaches_projects(cloud: RunningCloud, admin: Any) -> None:
    domain = admin.identity.create_domain(name=unique("idom"))
    project = admin.identity.create_project(name="p1", domain_id=domain.id)
    user = admin.identity.create_user(
        name=unique("inh"), password="pw-inh-123", domain_id="default"
    )
    member = admin.identity.find_role("member")
    client = Client(cloud, token(cloud))
    try:
        path = (
            f"/OS-INHERIT/domains/{domain.id}/users/{user.id}/roles/{member.id}"
            "/inherited_to_projects"
        )
        assert client.put(path).status_code == 204
        scope = {"project": {"id": project.id}}
        assert issue(cloud, user.name, "pw-inh-123", scope).status_code == 201
        rows = client.get(
            "/role_assignments",
            params={"user.id": user.id, "scope.OS-INHERIT:inherited_to": "projects"},
        ).json()
        assert [r["scope"]["OS-INHERIT:inherited_to"] for r in rows["role_assignments"]] == [
            "projects"
        ]
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_project(project)
        admin.identity.update_domain(domain, is_enabled=False)
        admin.identity.delete_domain(domain)


def test_implied_roles(cloud: RunningCloud, admin: Any) -> None:
    prior = admin.identity.create_role(name=unique("prior"))
    implied = admin.identity.create_role(name=unique("implied"))
    client = Client(cloud, token(cloud))
    try:
        created = client.put(f"/roles/{prior.id}/implies/{implied.id}")
        assert created.status_code == 201
        assert created.json()["role_inference"]["implies"]["id"] == implied.id
        listed = client.get(f"/roles/{prior.id}/implies").json()["role_inference"]
        assert [r["id"] for r in listed["implies"]] == [implied.id]
        assert client.head(f"/roles/{prior.id}/implies/{implied.id}").status_code == 204
        # a cycle is refused
        assert_error(client.put(f"/roles/{implied.id}/implies/{prior.id}"), 400, "cycle")
        rules = client.get("/role_inferences").json()["role_inferences"]
        assert any(r["prior_role"]["id"] == prior.id for r in rules)
        assert client.delete(f"/roles/{prior.id}/implies/{implied.id}").status_code == 204
    finally:
        admin.identity.delete_role(prior)
        admin.identity.delete_role(implied)


def test_role_assignment_filters(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud))
    rows = client.get("/role_assignments", params={"scope.system": "all"}).json()
    assert rows["role_assignments"] and all(
        r["scope"] == {"system": {"all": True}} for r in rows["role_assignments"]
    )
    demo = client.get("/projects", params={"name": "demo"}).json()["projects"][0]
    rows = client.get(
        "/role_assignments", params={"scope.project.id": demo["id"], "include_names": "1"}
    ).json()
    names = {(r["user"]["name"], r["role"]["name"]) for r in rows["role_assignments"]}
    assert ("demo", "member") in names
