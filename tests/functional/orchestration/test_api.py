"""The Heat v1 API through openstacksdk's session (raw requests where shapes matter)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.functional.orchestration.helpers import api, create, delete, heat_error, resources, wait
from tests.support.names import unique
from tests.support.server import RunningCloud

SIMPLE = {
    "heat_template_version": "2016-10-14",
    "description": "two values",
    "parameters": {"word": {"type": "string", "default": "hello", "label": "Word"}},
    "resources": {
        "rand": {"type": "OS::Heat::RandomString", "properties": {"length": 10}},
        "value": {
            "type": "OS::Heat::Value",
            "properties": {
                "value": {
                    "str_replace": {
                        "template": "W-R",
                        "params": {
                            "W": {"get_param": "word"},
                            "R": {"get_attr": ["rand", "value"]},
                        },
                    }
                }
            },
        },
    },
    "outputs": {"joined": {"description": "the value", "value": {"get_attr": ["value", "value"]}}},
}


def test_version_document_and_build_info(cloud: RunningCloud, demo: Any) -> None:
    root = httpx.get(cloud.url("orchestration") + "/", timeout=30)
    assert root.status_code == 300
    assert root.json()["versions"][0]["id"] == "v1.0"
    assert api(demo, "get", "/build_info").json()["engine"]["revision"]


def test_redirects_show_outputs_and_deleted_stack(cloud: RunningCloud, demo: Any) -> None:
    name = unique("api")
    stack_id = create(demo, name, SIMPLE, parameters={"word": "hi"}, tags="a,b")
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_COMPLETE"
    assert shown["parameters"]["word"] == "hi"
    assert shown["parameters"]["OS::stack_id"] == stack_id
    assert shown["parameters"]["OS::stack_name"] == name
    assert shown["outputs"][0]["output_value"].startswith("hi-")
    assert shown["tags"] == ["a", "b"]
    # every name-or-id form answers 302 to /stacks/{name}/{id}[...]
    token = demo.session.get_token()
    base = demo.orchestration.get_endpoint()
    for path, method in (
        (name, "GET"),
        (stack_id, "GET"),
        (f"{name}/resources", "GET"),
        (f"{name}/resources/rand", "GET"),
        (f"{name}/events", "GET"),
        (f"{name}/actions", "POST"),
        (name, "DELETE"),
    ):
        raw = httpx.request(
            method,
            f"{base}/stacks/{path}?x=1",
            headers={"X-Auth-Token": token},
            timeout=30,
            follow_redirects=False,
        )
        assert raw.status_code == 302, (path, raw.text)
        suffix = path.partition("/")[2]
        expected = f"/stacks/{name}/{stack_id}" + (f"/{suffix}" if suffix else "") + "?x=1"
        assert raw.headers["location"].endswith(expected)
    outputs = api(demo, "get", f"/stacks/{name}/{stack_id}/outputs").json()["outputs"]
    assert outputs == [{"output_key": "joined", "description": "the value"}]
    one = api(demo, "get", f"/stacks/{name}/{stack_id}/outputs/joined").json()["output"]
    assert one["output_value"] == shown["outputs"][0]["output_value"]
    assert api(demo, "get", f"/stacks/{name}/{stack_id}/template").json() == SIMPLE
    assert api(demo, "get", f"/stacks/{name}/{stack_id}/environment").json()["parameters"] == {}
    found = api(demo, "get", "/stacks", params={"tags": "a"}).json()["stacks"]
    assert stack_id in [s["id"] for s in found]
    gone = delete(demo, name, stack_id)
    assert gone["stack_status"] == "DELETE_COMPLETE"
    assert gone["deletion_time"]
    heat_error(api(demo, "get", f"/stacks/{name}"), 404, "EntityNotFound", name)
    by_id = httpx.get(
        f"{base}/stacks/{stack_id}",
        headers={"X-Auth-Token": token},
        timeout=30,
        follow_redirects=True,
    )
    assert by_id.status_code == 200 and by_id.json()["stack"]["deletion_time"]
    listed = api(demo, "get", "/stacks", params={"show_deleted": "true"}).json()["stacks"]
    assert stack_id in [s["id"] for s in listed]


def test_events_with_marker_sort_and_stack_events(demo: Any) -> None:
    name = unique("ev")
    stack_id = create(demo, name, SIMPLE)
    wait(demo, name, stack_id)
    events = api(demo, "get", f"/stacks/{name}/{stack_id}/events").json()["events"]
    statuses = [(e["resource_name"], e["resource_status"]) for e in events]
    assert statuses[0] == (name, "CREATE_IN_PROGRESS")
    assert statuses[-1] == (name, "CREATE_COMPLETE")
    stack_event = events[-1]
    assert stack_event["physical_resource_id"] == stack_id
    assert stack_event["resource_status_reason"] == "Stack CREATE completed successfully"
    assert ("rand", "CREATE_COMPLETE") in statuses
    assert statuses.index(("rand", "CREATE_COMPLETE")) < statuses.index(
        ("value", "CREATE_IN_PROGRESS")
    )
    after = api(
        demo,
        "get",
        f"/stacks/{name}/{stack_id}/events",
        params={"marker": events[1]["id"], "limit": 2},
    ).json()["events"]
    assert [e["id"] for e in after] == [e["id"] for e in events[2:4]]
    desc = api(demo, "get", f"/stacks/{name}/{stack_id}/events", params={"sort_dir": "desc"})
    assert [e["id"] for e in desc.json()["events"]] == [e["id"] for e in reversed(events)]
    one = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand/events").json()["events"]
    assert [e["resource_status"] for e in one] == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE"]
    detail = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand/events/{one[0]['id']}")
    assert detail.json()["event"]["resource_type"] == "OS::Heat::RandomString"
    delete(demo, name, stack_id)


def test_resources_show_attributes_metadata_and_mark_unhealthy(demo: Any) -> None:
    name = unique("res")
    stack_id = create(demo, name, SIMPLE)
    wait(demo, name, stack_id)
    listed = resources(demo, name, stack_id)
    assert {r["resource_name"] for r in listed} == {"rand", "value"}
    rand = next(r for r in listed if r["resource_name"] == "rand")
    assert rand["required_by"] == ["value"]
    assert rand["physical_resource_id"]
    shown = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand").json()["resource"]
    assert len(shown["attributes"]["value"]) == 10
    assert resources(demo, name, stack_id, type="OS::Heat::Value")[0]["resource_name"] == "value"
    meta = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand/metadata").json()
    assert meta == {"metadata": {}}
    marked = api(
        demo,
        "patch",
        f"/stacks/{name}/{stack_id}/resources/rand",
        json={"mark_unhealthy": True, "resource_status_reason": "broken disk"},
    )
    assert marked.status_code == 200
    shown = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand").json()["resource"]
    assert shown["resource_status"] == "CHECK_FAILED"
    assert shown["resource_status_reason"] == "broken disk"
    old_value = shown["attributes"]["value"]
    # an update replaces the unhealthy resource
    assert api(demo, "patch", f"/stacks/{name}/{stack_id}", json={}).status_code == 202
    assert wait(demo, name, stack_id)["stack_status"] == "UPDATE_COMPLETE"
    shown = api(demo, "get", f"/stacks/{name}/{stack_id}/resources/rand").json()["resource"]
    assert (
        shown["resource_status"] == "CREATE_COMPLETE" and shown["attributes"]["value"] != old_value
    )
    delete(demo, name, stack_id)


def test_validate_preview_and_update_preview(demo: Any) -> None:
    checked = api(demo, "post", "/validate", json={"template": SIMPLE}).json()
    assert checked["Description"] == "two values"
    assert checked["Parameters"]["word"] == {
        "Type": "String",
        "Description": "",
        "NoEcho": "false",
        "Label": "Word",
        "Default": "hello",
    }
    assert "resource_registry" in checked["Environment"]
    name = unique("prev")
    preview = api(demo, "post", "/stacks/preview", json={"stack_name": name, "template": SIMPLE})
    assert preview.status_code == 200, preview.text
    names = {r["resource_name"] for r in preview.json()["stack"]["resources"]}
    assert names == {"rand", "value"}
    assert api(demo, "get", "/stacks", params={"name": name}).json()["stacks"] == []
    stack_id = create(demo, name, SIMPLE)
    wait(demo, name, stack_id)
    changed = dict(SIMPLE, resources={**SIMPLE["resources"], "extra": {"type": "OS::Heat::None"}})
    changed["resources"]["rand"] = {"type": "OS::Heat::RandomString", "properties": {"length": 12}}
    diff = api(demo, "put", f"/stacks/{name}/{stack_id}/preview", json={"template": changed})
    changes = diff.json()["resource_changes"]
    assert [r["resource_name"] for r in changes["added"]] == ["extra"]
    assert [r["resource_name"] for r in changes["replaced"]] == ["rand"]
    assert [r["resource_name"] for r in changes["unchanged"]] == ["value"]
    delete(demo, name, stack_id)


def test_update_in_place_replace_and_rollback(demo: Any) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {
            "v": {"type": "string", "default": "one"},
            "fail": {"type": "boolean", "default": False},
        },
        "resources": {
            "test": {"type": "OS::Heat::TestResource", "properties": {"value": {"get_param": "v"}}},
            "later": {
                "type": "OS::Heat::TestResource",
                "depends_on": ["test"],
                "properties": {"fail": {"get_param": "fail"}},
            },
        },
        "outputs": {"out": {"value": {"get_attr": ["test", "output"]}}},
    }
    name = unique("upd")
    stack_id = create(demo, name, template, disable_rollback=False)
    wait(demo, name, stack_id)
    first = resources(demo, name, stack_id, name="test")[0]["physical_resource_id"]
    assert (
        api(
            demo, "patch", f"/stacks/{name}/{stack_id}", json={"parameters": {"v": "two"}}
        ).status_code
        == 202
    )
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "UPDATE_COMPLETE"
    assert shown["outputs"][0]["output_value"] == "two"
    assert resources(demo, name, stack_id, name="test")[0]["physical_resource_id"] == first
    # a failing update rolls back to the previous definition
    failing = api(
        demo,
        "patch",
        f"/stacks/{name}/{stack_id}",
        json={"parameters": {"v": "three", "fail": True}},
    )
    assert failing.status_code == 202
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
    assert shown["outputs"][0]["output_value"] == "two"
    assert shown["parameters"]["v"] == "two"
    # an update while one runs is a 409
    slow = dict(template)
    slow["resources"] = {
        **template["resources"],
        "slow": {"type": "OS::Heat::TestResource", "properties": {"wait_secs": 2}},
    }
    assert (
        api(demo, "put", f"/stacks/{name}/{stack_id}", json={"template": slow}).status_code == 202
    )
    heat_error(
        api(demo, "put", f"/stacks/{name}/{stack_id}", json={"template": slow}),
        409,
        "ActionInProgress",
        name,
    )
    wait(demo, name, stack_id)
    delete(demo, name, stack_id)


def test_actions_check_suspend_resume_and_snapshots(demo: Any) -> None:
    name = unique("act")
    stack_id = create(demo, name, SIMPLE)
    wait(demo, name, stack_id)
    for action, status in (
        ("check", "CHECK_COMPLETE"),
        ("suspend", "SUSPEND_COMPLETE"),
        ("resume", "RESUME_COMPLETE"),
    ):
        answer = api(demo, "post", f"/stacks/{name}/{stack_id}/actions", json={action: None})
        assert answer.status_code == 200, answer.text
        assert wait(demo, name, stack_id)["stack_status"] == status
    heat_error(
        api(demo, "post", f"/stacks/{name}/{stack_id}/actions", json={"dance": None}),
        400,
        "HTTPBadRequest",
        "dance",
    )
    snap = api(demo, "post", f"/stacks/{name}/{stack_id}/snapshots", json={"name": "s1"}).json()
    assert snap["status"] == "COMPLETE" and snap["name"] == "s1"
    listed = api(demo, "get", f"/stacks/{name}/{stack_id}/snapshots").json()["snapshots"]
    assert [s["id"] for s in listed] == [snap["id"]]
    changed = dict(SIMPLE, parameters={"word": {"type": "string", "default": "changed"}})
    assert (
        api(demo, "put", f"/stacks/{name}/{stack_id}", json={"template": changed}).status_code
        == 202
    )
    assert wait(demo, name, stack_id)["outputs"][0]["output_value"].startswith("changed-")
    restore = api(demo, "post", f"/stacks/{name}/{stack_id}/snapshots/{snap['id']}/restore")
    assert restore.status_code == 202
    assert wait(demo, name, stack_id)["outputs"][0]["output_value"].startswith("hello-")
    assert (
        api(demo, "delete", f"/stacks/{name}/{stack_id}/snapshots/{snap['id']}").status_code == 204
    )
    heat_error(
        api(demo, "delete", f"/stacks/{name}/{stack_id}/abandon"), 400, "NotSupported", "Abandon"
    )
    delete(demo, name, stack_id)


def test_resource_types_template_versions_and_functions(demo: Any, admin: Any) -> None:
    types = api(demo, "get", "/resource_types").json()["resource_types"]
    assert "OS::Nova::Server" in types and "OS::Heat::RandomString" in types
    assert "OS::Nova::Flavor" not in types  # administrators only
    assert "OS::Nova::Flavor" in api(admin, "get", "/resource_types").json()["resource_types"]
    only = api(demo, "get", "/resource_types", params={"name": "OS::Neutron::*"}).json()
    assert only["resource_types"] and all(
        t.startswith("OS::Neutron::") for t in only["resource_types"]
    )
    schema = api(demo, "get", "/resource_types/OS::Nova::Server").json()
    assert schema["properties"]["flavor"]["update_allowed"] is True
    assert "addresses" in schema["attributes"]
    hot = api(
        demo,
        "get",
        "/resource_types/OS::Heat::RandomString/template",
        params={"template_type": "hot"},
    ).json()
    assert hot["resources"]["resource"]["type"] == "OS::Heat::RandomString"
    versions = api(demo, "get", "/template_versions").json()["template_versions"]
    assert {
        "version": "heat_template_version.2021-04-16",
        "type": "hot",
        "aliases": ["heat_template_version.wallaby"],
    } in versions
    old = api(demo, "get", "/template_versions/heat_template_version.2013-05-23/functions").json()
    names = {f["functions"] for f in old["template_functions"]}
    assert "Fn::Join" in names and "str_split" not in names
    new = api(demo, "get", "/template_versions/heat_template_version.2018-08-31/functions").json()
    names = {f["functions"] for f in new["template_functions"]}
    assert {"str_split", "list_concat", "make_url", "contains"} <= names and "Fn::Join" not in names


def test_software_configs_and_deployments(demo: Any) -> None:
    config = api(
        demo,
        "post",
        "/software_configs",
        json={
            "name": "cfg",
            "group": "script",
            "config": "#!/bin/sh\necho $foo",
            "inputs": [{"name": "foo"}],
        },
    ).json()["software_config"]
    assert config["group"] == "script" and config["inputs"] == [{"name": "foo"}]
    deployment = api(
        demo,
        "post",
        "/software_deployments",
        json={
            "config_id": config["id"],
            "server_id": "srv-1",
            "action": "CREATE",
            "status": "IN_PROGRESS",
            "input_values": {"foo": "bar"},
        },
    )
    body = deployment.json()["software_deployment"]
    meta = api(demo, "get", "/software_deployments/metadata/srv-1").json()["metadata"]
    assert meta[0]["config"] == "#!/bin/sh\necho $foo"
    assert {"name": "foo", "value": "bar"} in [
        {k: i[k] for k in ("name", "value")} for i in meta[0]["inputs"]
    ]
    updated = api(
        demo,
        "put",
        f"/software_deployments/{body['id']}",
        json={"status": "COMPLETE", "output_values": {"result": "ok"}},
    )
    assert updated.json()["software_deployment"]["output_values"] == {"result": "ok"}
    assert api(demo, "delete", f"/software_deployments/{body['id']}").status_code == 204
    assert api(demo, "delete", f"/software_configs/{config['id']}").status_code == 204
    heat_error(api(demo, "get", f"/software_configs/{config['id']}"), 404, "EntityNotFound")


def test_stack_lists_paging_and_sorting(demo: Any) -> None:
    template = {"heat_template_version": "2018-08-31", "resources": {}}
    prefix = unique("page")
    made = [(f"{prefix}-{i}", create(demo, f"{prefix}-{i}", template)) for i in range(3)]
    for name, stack_id in made:
        wait(demo, name, stack_id)
    ordered = api(demo, "get", "/stacks", params={"sort_keys": "stack_name", "sort_dir": "asc"})
    mine = [s["stack_name"] for s in ordered.json()["stacks"] if s["stack_name"].startswith(prefix)]
    assert mine == sorted(mine)
    page = api(
        demo, "get", "/stacks", params={"limit": 1, "sort_keys": "stack_name", "sort_dir": "asc"}
    ).json()["stacks"]
    following = api(
        demo,
        "get",
        "/stacks",
        params={"limit": 1, "marker": page[0]["id"], "sort_keys": "stack_name", "sort_dir": "asc"},
    ).json()["stacks"]
    assert following[0]["stack_name"] > page[0]["stack_name"]
    counted = api(demo, "get", "/stacks", params={"with_count": "true"}).json()
    assert counted["count"] >= 3
    for name, stack_id in made:
        delete(demo, name, stack_id)


def test_cancel_update_rolls_back(demo: Any) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "parameters": {"secs": {"type": "number", "default": 0}},
        "resources": {
            "slow": {
                "type": "OS::Heat::TestResource",
                "properties": {
                    "value": {"get_param": "secs"},
                    "action_wait_secs": {"update": {"get_param": "secs"}},
                },
            }
        },
        "outputs": {"value": {"value": {"get_attr": ["slow", "output"]}}},
    }
    name = unique("cancel")
    stack_id = create(demo, name, template)
    wait(demo, name, stack_id)
    answer = api(demo, "patch", f"/stacks/{name}/{stack_id}", json={"parameters": {"secs": 30}})
    assert answer.status_code == 202
    deadline = time.monotonic() + 10
    while resources(demo, name, stack_id)[0]["resource_status"] != "UPDATE_IN_PROGRESS":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    cancel = api(demo, "post", f"/stacks/{name}/{stack_id}/actions", json={"cancel_update": None})
    assert cancel.status_code == 200, cancel.text
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
    assert shown["parameters"]["secs"] == "0"
    assert shown["outputs"][0]["output_value"] == "0"
    # nothing to cancel any more
    heat_error(
        api(demo, "post", f"/stacks/{name}/{stack_id}/actions", json={"cancel_update": None}),
        400,
        "HTTPBadRequest",
        "Cancelling update",
    )
    delete(demo, name, stack_id)


def test_nested_depth_of_resources_and_events(demo: Any) -> None:
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "group": {
                "type": "OS::Heat::ResourceGroup",
                "properties": {"count": 2, "resource_def": {"type": "OS::Heat::RandomString"}},
            }
        },
    }
    name = unique("depth")
    stack_id = create(demo, name, template)
    wait(demo, name, stack_id)
    top = resources(demo, name, stack_id)
    assert [r["resource_name"] for r in top] == ["group"]
    deep = resources(demo, name, stack_id, nested_depth=1, with_detail="true")
    members = [r for r in deep if r["resource_type"] == "OS::Heat::RandomString"]
    assert sorted(r["resource_name"] for r in members) == ["0", "1"]
    assert all(
        r["parent_resource"] == "group" and len(r["attributes"]["value"]) == 32 for r in members
    )
    events = api(
        demo, "get", f"/stacks/{name}/{stack_id}/events", params={"nested_depth": 1}
    ).json()["events"]
    nested = [e for e in events if e.get("stack_name", name) != name]
    assert {e["resource_name"] for e in nested} >= {"0", "1"}
    assert all(any(link["rel"] == "root_stack" for link in e["links"]) for e in events)
    delete(demo, name, stack_id)
