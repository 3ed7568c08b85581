"""Tenant isolation, the stack's trust, and wait condition signals through the API."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.orchestration.helpers import api, create, delete, heat_error, stack, wait
from tests.support.names import unique
from tests.support.server import RunningCloud

SIMPLE = {
    "heat_template_version": "2018-08-31",
    "resources": {"value": {"type": "OS::Heat::Value", "properties": {"value": "x"}}},
}


@pytest.fixture(scope="module")
def other(cloud: RunningCloud, admin: Any) -> Iterator[Any]:
    """A member of another project."""
    project = admin.identity.create_project(name=unique("other"), domain_id="default")
    password = unique("pw")
    user = admin.identity.create_user(
        name=unique("other"), password=password, domain_id="default", default_project_id=project.id
    )
    member = admin.identity.find_role("member")
    admin.identity.assign_project_role_to_user(project, user, member)
    try:
        yield cloud.connect(user.name, project.name, password=password)
    finally:
        admin.identity.delete_user(user, ignore_missing=True)
        admin.identity.delete_project(project, ignore_missing=True)


def test_another_project_cannot_see_update_signal_or_delete(demo: Any, other: Any) -> None:
    name = unique("mine")
    stack_id = create(demo, name, SIMPLE)
    wait(demo, name, stack_id)
    heat_error(api(other, "get", f"/stacks/{name}"), 404, "EntityNotFound", name)
    heat_error(api(other, "get", f"/stacks/{stack_id}"), 404, "EntityNotFound")
    heat_error(api(other, "get", f"/stacks/{name}/{stack_id}"), 404, "EntityNotFound")
    assert stack_id not in [s["id"] for s in api(other, "get", "/stacks").json()["stacks"]]
    heat_error(
        api(other, "put", f"/stacks/{name}/{stack_id}", json={"template": SIMPLE}),
        404,
        "EntityNotFound",
    )
    heat_error(api(other, "delete", f"/stacks/{name}/{stack_id}"), 404, "EntityNotFound")
    heat_error(
        api(other, "post", f"/stacks/{name}/{stack_id}/resources/value/signal", json={}),
        404,
        "EntityNotFound",
    )
    heat_error(api(other, "get", f"/stacks/{name}/{stack_id}/events"), 404, "EntityNotFound")
    # naming the owner's project in the URL is refused outright
    url = demo.orchestration.get_endpoint() + f"/stacks/{name}/{stack_id}"
    refused = httpx.get(url, headers={"X-Auth-Token": other.session.get_token()}, timeout=30)
    heat_error(refused, 403, "InvalidTenant")
    assert stack(demo, name, stack_id)["stack_status"] == "CREATE_COMPLETE"
    delete(demo, name, stack_id)


def test_the_stack_acts_with_a_trust_limited_to_the_owners_roles(demo: Any, admin: Any) -> None:
    name = unique("trust")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "flavor": {"type": "OS::Nova::Flavor", "properties": {"ram": 64, "vcpus": 1}},
        },
    }
    before = {t.id for t in demo.identity.trusts(trustor_user_id=demo.current_user_id)}
    stack_id = create(demo, name, template)
    shown = wait(demo, name, stack_id)
    # the engine acted as the owner through the trust: a member may not make flavors
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "Forbidden: resources.flavor" in shown["stack_status_reason"]
    trusts = [
        t for t in demo.identity.trusts(trustor_user_id=demo.current_user_id) if t.id not in before
    ]
    assert len(trusts) == 1
    assert sorted(r["name"] for r in trusts[0].roles) == ["member", "reader"]
    assert trusts[0].is_impersonation is True
    assert trusts[0].project_id == demo.current_project_id
    delete(demo, name, stack_id)
    after = {t.id for t in demo.identity.trusts(trustor_user_id=demo.current_user_id)}
    assert trusts[0].id not in after, "the stack's trust outlived it"
    # the same template works for an administrator
    admin_name = unique("trust-admin")
    admin_id = create(admin, admin_name, template)
    assert wait(admin, admin_name, admin_id)["stack_status"] == "CREATE_COMPLETE"
    delete(admin, admin_name, admin_id)


WAIT = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "handle": {"type": "OS::Heat::WaitConditionHandle"},
        "wait": {
            "type": "OS::Heat::WaitCondition",
            "properties": {"handle": {"get_resource": "handle"}, "count": 2, "timeout": 60},
        },
    },
    "outputs": {
        "curl": {"value": {"get_attr": ["handle", "curl_cli"]}},
        "data": {"value": {"get_attr": ["wait", "data"]}},
    },
}


def _handle(cloud: RunningCloud, demo: Any, name: str, stack_id: str) -> tuple[str, str]:
    deadline = time.monotonic() + 30
    while True:
        found = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/handle")
        if found.status_code == 200 and found.json()["resource"]["attributes"].get("token"):
            attributes = found.json()["resource"]["attributes"]
            break
        assert time.monotonic() < deadline
        time.sleep(0.1)
    endpoint = attributes["endpoint"]
    # instances reach the API through the metadata address; this test goes straight to it
    assert endpoint.startswith("http://169.254.169.254/heat/v1/")
    assert f"X-Auth-Token: {attributes['token']}" in attributes["curl_cli"]
    return cloud.url("orchestration") + endpoint.removeprefix("http://169.254.169.254/heat"), (
        attributes["token"]
    )


def test_wait_condition_signalled_with_the_handles_token(cloud: RunningCloud, demo: Any) -> None:
    name = unique("wait")
    stack_id = create(demo, name, WAIT)
    url, token = _handle(cloud, demo, name, stack_id)
    assert stack(demo, name, stack_id)["stack_status"] == "CREATE_IN_PROGRESS"
    wrong = httpx.post(url, headers={"X-Auth-Token": "not-the-token"}, json={}, timeout=30)
    assert wrong.status_code == 401
    headers = {"X-Auth-Token": token, "Content-Type": "application/json"}
    first = httpx.post(url, headers=headers, json={"status": "SUCCESS", "data": "one"}, timeout=30)
    assert first.status_code == 200, first.text
    time.sleep(0.3)
    assert stack(demo, name, stack_id)["stack_status"] == "CREATE_IN_PROGRESS"
    second = httpx.post(url, headers=headers, json={"status": "SUCCESS", "id": "b", "data": "two"})
    assert second.status_code == 200
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_COMPLETE"
    data = next(o for o in shown["outputs"] if o["output_key"] == "data")["output_value"]
    assert data == '{"1": "one", "b": "two"}'
    delete(demo, name, stack_id)


def test_wait_condition_failure_signal_fails_the_stack(cloud: RunningCloud, demo: Any) -> None:
    name = unique("waitfail")
    stack_id = create(demo, name, WAIT)
    url, token = _handle(cloud, demo, name, stack_id)
    answer = httpx.post(
        url,
        headers={"X-Auth-Token": token},
        json={"status": "FAILURE", "reason": "the disk is full"},
        timeout=30,
    )
    assert answer.status_code == 200
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_FAILED"
    assert "the disk is full" in shown["stack_status_reason"]
    delete(demo, name, stack_id)
