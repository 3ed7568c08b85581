"""Stacks survive a restart: an interrupted create is marked FAILED with a reason, and
what it had made is still recorded, so deleting the stack removes it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.orchestration.helpers import api, create, delete, resources, stack
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture()
def own_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("orchestration-restart"),
        ONESTACK_COMPUTE__DRIVER="fake",
        ONESTACK_ORCHESTRATION__POLL_INTERVAL="0.1",
    ).start()
    try:
        yield running
    finally:
        running.stop()


def test_interrupted_create_is_failed_and_leaks_nothing(own_cloud: RunningCloud) -> None:
    demo: Any = own_cloud.connect("demo", "demo")
    template = {
        "heat_template_version": "2018-08-31",
        "resources": {
            "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
            "slow": {
                "type": "OS::Heat::TestResource",
                "depends_on": ["volume"],
                "properties": {"action_wait_secs": {"create": 120}},
            },
        },
    }
    name = unique("crash")
    stack_id = create(demo, name, template)
    deadline = time.monotonic() + 60
    while True:
        listed = {r["resource_name"]: r for r in resources(demo, name, stack_id)}
        if listed.get("slow", {}).get("resource_status") == "CREATE_IN_PROGRESS":
            break
        assert time.monotonic() < deadline, listed
        time.sleep(0.1)
    volume_id = listed["volume"]["physical_resource_id"]
    assert demo.block_storage.get_volume(volume_id).status == "available"
    own_cloud.kill()
    own_cloud.start()
    demo = own_cloud.connect("demo", "demo")
    shown = stack(demo, name, stack_id)
    assert shown["stack_status"] == "CREATE_FAILED"
    assert shown["stack_status_reason"] == "Engine went down during stack CREATE"
    listed = {r["resource_name"]: r for r in resources(demo, name, stack_id)}
    assert listed["slow"]["resource_status"] == "CREATE_FAILED"
    assert listed["volume"]["resource_status"] == "CREATE_COMPLETE"
    events = api(demo, "get", f"/stacks/{name}/{stack_id}/events").json()["events"]
    assert events[-1]["resource_status"] == "CREATE_FAILED"
    gone = delete(demo, name, stack_id)
    assert gone["stack_status"] == "DELETE_COMPLETE"
    assert demo.block_storage.find_volume(volume_id) is None
