"""Stack action timeouts: an action running past its time fails with "Timed out", the
resource in flight is marked failed, and rollback (when enabled) removes what was
made.  Heat's ``timeout_mins`` counts in minutes; this cloud sets the default action
timeout (used when a stack gives none) to a few seconds, which runs the same code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.orchestration.helpers import create, delete, resources, wait
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud


@pytest.fixture(scope="module")
def quick(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("orchestration-timeouts"),
        ONESTACK_COMPUTE__DRIVER="fake",
        ONESTACK_ORCHESTRATION__POLL_INTERVAL="0.1",
        ONESTACK_ORCHESTRATION__STACK_ACTION_TIMEOUT="3",
    ).start()
    try:
        yield running
    finally:
        running.stop()


TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "resources": {
        "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
        "slow": {
            "type": "OS::Heat::TestResource",
            "depends_on": ["volume"],
            "properties": {"action_wait_secs": {"create": 60}},
        },
    },
}


def test_an_action_past_its_time_fails(quick: RunningCloud) -> None:
    demo: Any = quick.connect("demo", "demo")
    name = unique("late")
    stack_id = create(demo, name, TEMPLATE)
    shown = wait(demo, name, stack_id, timeout=30)
    assert shown["stack_status"] == "CREATE_FAILED"
    assert shown["stack_status_reason"] == "Timed out"
    listed = {r["resource_name"]: r for r in resources(demo, name, stack_id)}
    assert listed["slow"]["resource_status"] == "CREATE_FAILED"
    assert "cancelled" in listed["slow"]["resource_status_reason"]
    volume = listed["volume"]["physical_resource_id"]
    delete(demo, name, stack_id)
    assert demo.block_storage.find_volume(volume) is None


def test_a_timed_out_create_rolls_back(quick: RunningCloud) -> None:
    demo: Any = quick.connect("demo", "demo")
    name = unique("late-rb")
    before = {v.id for v in demo.block_storage.volumes()}
    stack_id = create(demo, name, TEMPLATE, disable_rollback=False)
    shown = wait(demo, name, stack_id, timeout=60)
    assert shown["stack_status"] == "ROLLBACK_COMPLETE", shown["stack_status_reason"]
    assert resources(demo, name, stack_id) == []
    assert {v.id for v in demo.block_storage.volumes()} == before
    delete(demo, name, stack_id)
