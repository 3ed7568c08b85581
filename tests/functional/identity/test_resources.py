"""Domains, projects, users and groups through openstacksdk and raw HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.identity.helpers import Client, assert_error, issue, token, unique
from tests.support.server import RunningCloud


def test_project_crud_with_filters(admin: Any) -> None:
    name = unique("proj")
    project = admin.identity.create_project(
        name=name, description="first", domain_id="default", tags=["a", "b"]
    )
    try:
        assert project.domain_id == "default" and project.parent_id == "default"
        assert project.is_enabled is True
        assert admin.identity.get_project(project.id).description == "first"
        found = list(admin.identity.projects(name=name))
        assert [p.id for p in found] == [project.id]
        updated = admin.identity.update_project(project, description="second", is_enabled=False)
        assert updated.description == "second" and updated.is_enabled is False
        disabled = {p.id for p in admin.identity.projects(is_enabled=False)}
        assert project.id in disabled
        assert project.id not in {p.id for p in admin.identity.projects(is_enabled=True)}
    finally:
        admin.identity.delete_project(project)
    with pytest.raises(sdk_exc.NotFoundException):
        admin.identity.get_project(project.id)


def test_project_hierarchy(cloud: RunningCloud, admin: Any) -> None:
    parent = admin.identity.create_project(name=unique("parent"), domain_id="default")
    child = admin.identity.create_project(name=unique("child"), parent_id=parent.id)
    try:
        assert child.parent_id == parent.id and child.domain_id == "default"
        client = Client(cloud, token(cloud))
        body = client.get(f"/projects/{child.id}", params={"parents_as_ids": ""}).json()
        assert body["project"]["parents"] == {parent.id: None}
        body = client.get(f"/projects/{parent.id}", params={"subtree_as_ids": ""}).json()
        assert body["project"]["subtree"] == {child.id: None}
        # a project with children cannot be deleted
        assert_error(client.delete(f"/projects/{parent.id}"), 403)
    finally:
        admin.identity.delete_project(child)
        admin.identity.delete_project(parent)


def test_project_tags(cloud: RunningCloud, admin: Any) -> None:
    project = admin.identity.create_project(name=unique("tagged"), domain_id="default")
    client = Client(cloud, token(cloud))
    try:
        assert client.put(f"/projects/{project.id}/tags/blue").status_code == 201
        assert client.get(f"/projects/{project.id}/tags/blue").status_code == 204
        assert client.put(f"/projects/{project.id}/tags", json={"tags": ["x", "y"]}).json() == {
            "tags": ["x", "y"]
        }
        listed = client.get("/projects", params={"tags": "x,y"}).json()["projects"]
        assert [p["id"] for p in listed] == [project.id]
        assert client.delete(f"/projects/{project.id}/tags/x").status_code == 204
        assert client.get(f"/projects/{project.id}/tags").json() == {"tags": ["y"]}
        assert_error(client.put(f"/projects/{project.id}/tags", json={"tags": ["a/b"]}), 400)
    finally:
        admin.identity.delete_project(project)


def test_domain_crud(admin: Any) -> None:
    domain = admin.identity.create_domain(name=unique("dom"), description="d")
    try:
        assert admin.identity.get_domain(domain.id).name == domain.name
        # an enabled domain cannot be deleted
        with pytest.raises(sdk_exc.ForbiddenException):
            admin.identity.delete_domain(domain)
        project = admin.identity.create_project(name="inside", domain_id=domain.id)
        assert project.domain_id == domain.id
    finally:
        admin.identity.update_domain(domain, is_enabled=False)
        admin.identity.delete_domain(domain)
    with pytest.raises(sdk_exc.NotFoundException):
        admin.identity.get_project(project.id)


def test_user_crud_and_filters(admin: Any, cloud: RunningCloud) -> None:
    name = unique("user")
    user = admin.identity.create_user(
        name=name,
        password="s3cret-pass",
        email="u@example.org",
        domain_id="default",
        description="a user",
    )
    try:
        shown = admin.identity.get_user(user.id)
        assert shown.name == name and shown.email == "u@example.org"
        assert [u.id for u in admin.identity.users(name=name)] == [user.id]
        assert user.id in {u.id for u in admin.identity.users(domain_id="default")}
        raw = Client(cloud, token(cloud)).get(f"/users/{user.id}").json()["user"]
        assert "password" not in raw and raw["password_expires_at"] is None
        assert issue(cloud, name, "s3cret-pass").status_code == 201
        admin.identity.update_user(user, is_enabled=False)
        assert_error(issue(cloud, name, "s3cret-pass"), 401)
    finally:
        admin.identity.delete_user(user)
    assert_error(issue(cloud, name, "s3cret-pass"), 401)


def test_user_changes_own_password_and_old_tokens_die(cloud: RunningCloud, admin: Any) -> None:
    name = unique("pw")
    user = admin.identity.create_user(name=name, password="old-password-1", domain_id="default")
    try:
        old = issue(cloud, name, "old-password-1").headers["X-Subject-Token"]
        me = Client(cloud, old)
        wrong = me.post(
            f"/users/{user.id}/password",
            json={"user": {"original_password": "not-it", "password": "new-password-2"}},
        )
        assert_error(wrong, 401)
        changed = me.post(
            f"/users/{user.id}/password",
            json={"user": {"original_password": "old-password-1", "password": "new-password-2"}},
        )
        assert changed.status_code == 204
        assert_error(issue(cloud, name, "old-password-1"), 401)
        assert issue(cloud, name, "new-password-2").status_code == 201
        assert_error(me.get("/auth/projects"), 401)
    finally:
        admin.identity.delete_user(user)


def test_password_is_stored_with_a_memory_hard_kdf(cloud: RunningCloud, admin: Any) -> None:
    from sqlalchemy import create_engine, text

    url = cloud.db_url or f"sqlite:///{cloud.state_dir / 'onestack.db'}"
    name = unique("kdf")
    user = admin.identity.create_user(name=name, password="plain-text-pw", domain_id="default")
    engine = create_engine(url)
    try:
        with engine.connect() as db:
            stored = db.execute(
                text("SELECT password_hash FROM identity_users WHERE id = :id"), {"id": user.id}
            ).scalar_one()
        assert stored.startswith("$argon2id$") and "plain-text-pw" not in stored
        assert "m=65536" in stored
    finally:
        engine.dispose()
        admin.identity.delete_user(user)


def test_groups_and_membership(admin: Any) -> None:
    group = admin.identity.create_group(name=unique("grp"), domain_id="default", description="g")
    user = admin.identity.create_user(name=unique("member"), domain_id="default")
    try:
        admin.identity.add_user_to_group(user, group)
        assert admin.identity.check_user_in_group(user, group)
        assert [u.id for u in admin.identity.group_users(group)] == [user.id]
        assert [g.id for g in admin.identity.user_groups(user)] == [group.id]
        admin.identity.remove_user_from_group(user, group)
        assert not admin.identity.check_user_in_group(user, group)
        updated = admin.identity.update_group(group, description="changed")
        assert updated.description == "changed"
    finally:
        admin.identity.delete_user(user)
        admin.identity.delete_group(group)


def test_user_projects(cloud: RunningCloud) -> None:
    client = Client(cloud, token(cloud, "demo", "demo"))
    me = client.get("/auth/tokens", headers={"X-Subject-Token": client.token}).json()["token"][
        "user"
    ]["id"]
    projects = client.get(f"/users/{me}/projects").json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]


def test_user_projects_of_someone_else_need_the_right(cloud: RunningCloud) -> None:
    admin = Client(cloud, token(cloud))
    demo = Client(cloud, token(cloud, "demo", "demo"))
    admin_id = admin.get("/auth/tokens", headers={"X-Subject-Token": admin.token}).json()["token"][
        "user"
    ]["id"]
    assert_error(demo.get(f"/users/{admin_id}/projects"), 403)
    missing = unique("nobody")
    assert_error(admin.get(f"/users/{missing}/projects"), 404, f"Could not find user: {missing}.")
    own = admin.get(f"/users/{admin_id}/projects", params={"name": "admin"}).json()["projects"]
    assert [p["name"] for p in own] == ["admin"]


def test_a_missing_project_tag_is_not_found(cloud: RunningCloud, admin: Any) -> None:
    project = admin.identity.create_project(name=unique("tagged"), domain_id="default")
    client = Client(cloud, token(cloud))
    try:
        assert client.put(f"/projects/{project.id}/tags/blue").status_code == 201
        assert_error(client.get(f"/projects/{project.id}/tags/green"), 404, "Could not find tag")
    finally:
        admin.identity.delete_project(project)


def test_the_catalog_of_an_unscoped_token_is_refused(cloud: RunningCloud) -> None:
    unscoped = issue(cloud, "admin", cloud.admin_password, "unscoped")
    client = Client(cloud, unscoped.headers["X-Subject-Token"])
    assert_error(client.get("/auth/catalog"), 401, "The catalog needs a scoped token.")
    assert client.get("/auth/system").json()["system"] == [{"all": True}]
