"""Hostile bodies answer Keystone's 400, before and after authentication, and change
nothing (issue 13)."""

from __future__ import annotations

from typing import Any

from tests.support.http import RawClient
from tests.support.server import RunningCloud


def _keystone_400(response: Any, fragment: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["title"] == "Bad Request"
    assert fragment in error["message"], error


def test_a_body_nested_5000_deep_is_a_400_without_a_token(cloud: RunningCloud) -> None:
    deep = b"[" * 5000 + b"]" * 5000
    for body in (deep, b'{"auth": ' + deep + b"}"):
        response = RawClient(cloud.auth_url).post(
            "/auth/tokens", data=body, headers={"Content-Type": "application/json"}
        )
        _keystone_400(response, "nested deeper than")
        # refused as bad input: no traceback logged for it
        request_id = response.headers["x-openstack-request-id"]
        log = cloud.log_path.read_text(errors="replace")
        assert not any(request_id in line and "unexpected" in line for line in log.splitlines())
    assert "RecursionError" not in cloud.log_path.read_text(errors="replace")


def test_patching_a_project_name_to_null_is_a_400_and_keeps_the_name(
    cloud: RunningCloud, admin: Any
) -> None:
    project = admin.identity.create_project(name="robust-null-name", domain_id="default")
    try:
        raw = RawClient(cloud.auth_url, admin.session.get_token())
        for field, kind in (("name", "string"), ("enabled", "boolean")):
            response = raw.patch(f"/projects/{project.id}", json={"project": {field: None}})
            _keystone_400(response, f"None is not of type '{kind}'")
        shown = admin.identity.get_project(project.id)
        assert shown.name == "robust-null-name"
        assert shown.is_enabled is True
    finally:
        admin.identity.delete_project(project.id)


def test_a_lone_surrogate_or_a_huge_integer_in_a_body_is_a_400(
    cloud: RunningCloud, admin: Any
) -> None:
    raw = RawClient(cloud.auth_url, admin.session.get_token())
    before = {p.id for p in admin.identity.projects()}
    json_type = {"Content-Type": "application/json"}
    surrogate = b'{"project": {"name": "bad\\ud800name", "domain_id": "default"}}'
    _keystone_400(raw.post("/projects", data=surrogate, headers=json_type), "lone surrogate")
    huge = b'{"project": {"name": "huge", "domain_id": "default", "x": 18446744073709551616}}'
    _keystone_400(raw.post("/projects", data=huge, headers=json_type), "out of range")
    assert {p.id for p in admin.identity.projects()} == before
