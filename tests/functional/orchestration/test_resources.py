"""Resource types beyond the user stories: key pairs, containers, software configs,
auto scaling, deletion policies, images from a URL, identity resources (admin)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.orchestration.helpers import api, create, delete, resources, wait
from tests.support.names import unique


def _outputs(shown: dict[str, Any]) -> dict[str, Any]:
    return {o["output_key"]: o.get("output_value") for o in shown["outputs"]}


def test_keypair_container_and_software_configs(demo: Any) -> None:
    name = unique("misc")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "key": {
                "type": "OS::Nova::KeyPair",
                "properties": {"name": name, "save_private_key": True},
            },
            "bucket": {"type": "OS::Swift::Container", "properties": {"PurgeOnDelete": True}},
            "script": {
                "type": "OS::Heat::SoftwareConfig",
                "properties": {"group": "script", "config": "#!/bin/sh\necho one"},
            },
            "cloud": {
                "type": "OS::Heat::CloudConfig",
                "properties": {"cloud_config": {"runcmd": ["echo two"]}},
            },
            "mime": {
                "type": "OS::Heat::MultipartMime",
                "properties": {
                    "parts": [
                        {"config": {"get_resource": "script"}},
                        {"config": {"get_resource": "cloud"}},
                    ]
                },
            },
        },
        "outputs": {
            "public_key": {"value": {"get_attr": ["key", "public_key"]}},
            "private_key": {"value": {"get_attr": ["key", "private_key"]}},
            "bucket": {"value": {"get_resource": "bucket"}},
            "mime": {"value": {"get_resource": "mime"}},
        },
    }
    stack_id = create(demo, name, template)
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    values = _outputs(shown)
    assert demo.compute.find_keypair(name) is not None
    assert values["public_key"].startswith("ssh-") and "PRIVATE KEY" in values["private_key"]
    container = values["bucket"]
    demo.object_store.upload_object(container=container, name="o", data=b"x")
    mime = api(demo, "get", f"/software_configs/{values['mime']}").json()["software_config"]
    assert "echo one" in mime["config"] and "runcmd" in mime["config"]
    assert "multipart/mixed" in mime["config"]
    delete(demo, name, stack_id)
    assert demo.compute.find_keypair(name) is None
    assert name not in [c.name for c in demo.object_store.containers()]
    assert api(demo, "get", f"/software_configs/{values['mime']}").status_code == 404


def test_auto_scaling_group_scales_on_a_policy_signal(demo: Any) -> None:
    name = unique("asg")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "group": {
                "type": "OS::Heat::AutoScalingGroup",
                "properties": {
                    "min_size": 1,
                    "max_size": 3,
                    "resource": {"type": "OS::Heat::RandomString"},
                },
            },
            "up": {
                "type": "OS::Heat::ScalingPolicy",
                "properties": {
                    "auto_scaling_group_id": {"get_resource": "group"},
                    "adjustment_type": "change_in_capacity",
                    "scaling_adjustment": 1,
                },
            },
        },
        "outputs": {
            "size": {"value": {"get_attr": ["group", "current_size"]}},
            "url": {"value": {"get_attr": ["up", "signal_url"]}},
        },
    }
    stack_id = create(demo, name, template)
    shown = wait(demo, name, stack_id)
    assert _outputs(shown)["size"] == 1
    url = _outputs(shown)["url"]
    assert url.endswith(f"/stacks/{name}/{stack_id}/resources/up/signal")
    events = f"/stacks/{name}/{stack_id}/resources/up/events"
    for count, expected in enumerate((2, 3, 3), 1):  # never above max_size
        answer = api(demo, "post", f"/stacks/{name}/{stack_id}/resources/up/signal", json={})
        assert answer.status_code == 200, answer.text
        # the engine handles the signal after answering: wait for its event
        deadline = time.monotonic() + 30
        while True:
            done = [
                e
                for e in api(demo, "get", events).json()["events"]
                if e["resource_status"] == "SIGNAL_COMPLETE"
            ]
            if len(done) == count:
                break
            assert time.monotonic() < deadline, "the signal was not handled"
            time.sleep(0.1)
        assert _outputs(wait(demo, name, stack_id))["size"] == expected
    nested = resources(demo, name, stack_id, nested_depth=1)
    assert len([r for r in nested if r["resource_type"] == "OS::Heat::RandomString"]) == 3
    delete(demo, name, stack_id)


def test_deletion_policy_retain_and_snapshot(demo: Any) -> None:
    name = unique("keep")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "kept": {
                "type": "OS::Cinder::Volume",
                "deletion_policy": "Retain",
                "properties": {"size": 1},
            },
            "snapped": {
                "type": "OS::Cinder::Volume",
                "deletion_policy": "Snapshot",
                "properties": {"size": 1},
            },
        },
        "outputs": {
            "kept": {"value": {"get_resource": "kept"}},
            "snapped": {"value": {"get_resource": "snapped"}},
        },
    }
    stack_id = create(demo, name, template)
    values = _outputs(wait(demo, name, stack_id))
    delete(demo, name, stack_id)
    kept = demo.block_storage.get_volume(values["kept"])
    assert kept.status == "available"
    snapshots = [s for s in demo.block_storage.snapshots() if s.volume_id == values["snapped"]]
    assert len(snapshots) == 1
    demo.block_storage.delete_volume(kept)
    demo.block_storage.delete_snapshot(snapshots[0])


@pytest.fixture()
def image_server() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"\x00" * 4096 + b"onestack-web-image"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/disk.raw"
    finally:
        server.shutdown()
        server.server_close()


def test_web_image_and_identity_resources(admin: Any, image_server: str) -> None:
    name = unique("admin")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "image": {
                "type": "OS::Glance::WebImage",
                "properties": {
                    "location": image_server,
                    "disk_format": "raw",
                    "container_format": "bare",
                },
            },
            "project": {"type": "OS::Keystone::Project", "properties": {"name": name}},
            "role": {"type": "OS::Keystone::Role"},
            "user": {
                "type": "OS::Keystone::User",
                "properties": {
                    "name": name,
                    "password": "secret-pw",
                    "default_project": {"get_resource": "project"},
                    "roles": [
                        {"role": {"get_resource": "role"}, "project": {"get_resource": "project"}}
                    ],
                },
            },
        },
        "outputs": {
            "image": {"value": {"get_resource": "image"}},
            "user": {"value": {"get_resource": "user"}},
        },
    }
    stack_id = create(admin, name, template)
    shown = wait(admin, name, stack_id)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    values = _outputs(shown)
    image = admin.image.get_image(values["image"])
    assert image.status == "active" and image.size == 4096 + len(b"onestack-web-image")
    user = admin.identity.get_user(values["user"])
    assert user.name == name
    assignments = list(admin.identity.role_assignments(user_id=user.id))
    assert len(assignments) == 1
    delete(admin, name, stack_id)
    assert admin.image.find_image(values["image"]) is None
    assert admin.identity.find_user(values["user"]) is None
    assert admin.identity.find_project(name) is None


def test_template_by_url_and_inline_nested_stack(demo: Any) -> None:
    inner = (
        "heat_template_version: 2018-08-31\n"
        "resources: {v: {type: OS::Heat::Value, properties: {value: inner}}}\n"
        "outputs: {out: {value: {get_attr: [v, value]}}}\n"
    )
    outer = (
        "heat_template_version: 2018-08-31\n"
        "resources:\n"
        "  child:\n"
        "    type: OS::Heat::Stack\n"
        f"    properties: {{template: {json.dumps(inner)}}}\n"
        "outputs:\n"
        "  nested: {value: {get_attr: [child, outputs, out]}}\n"
    )

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = outer.encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        name = unique("url")
        url = f"http://127.0.0.1:{server.server_address[1]}/outer.yaml"
        answer = api(demo, "post", "/stacks", json={"stack_name": name, "template_url": url})
        assert answer.status_code == 201, answer.text
        stack_id = answer.json()["stack"]["id"]
    finally:
        server.shutdown()
        server.server_close()
    shown = wait(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    assert _outputs(shown)["nested"] == "inner"
    nested = api(demo, "get", "/stacks", params={"show_nested": "true"}).json()["stacks"]
    assert [s for s in nested if s["parent"] == stack_id]
    delete(demo, name, stack_id)
