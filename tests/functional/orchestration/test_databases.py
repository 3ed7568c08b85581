"""The engine on PostgreSQL and MariaDB: a nested stack created, updated (a
replacement and a resize of the group) and deleted, with its events in order."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from tests.functional.orchestration.helpers import api, create, delete, resources, wait
from tests.support.databases import mariadb_database, postgres_database
from tests.support.names import unique
from tests.support.server import new_cloud

TEMPLATE = {
    "heat_template_version": "2018-08-31",
    "parameters": {"count": {"type": "number", "default": 2}, "len": {"type": "number"}},
    "resources": {
        "group": {
            "type": "OS::Heat::ResourceGroup",
            "properties": {
                "count": {"get_param": "count"},
                "resource_def": {
                    "type": "OS::Heat::RandomString",
                    "properties": {"length": {"get_param": "len"}},
                },
            },
        },
        "volume": {"type": "OS::Cinder::Volume", "properties": {"size": 1}},
    },
    "outputs": {"values": {"value": {"get_attr": ["group", "value"]}}},
}


@pytest.mark.parametrize(
    "database",
    [
        pytest.param(postgres_database, marks=pytest.mark.postgres, id="postgresql"),
        pytest.param(mariadb_database, marks=pytest.mark.mariadb, id="mariadb"),
    ],
)
def test_stack_lifecycle_on_a_server_database(
    tmp_path: Path, database: Callable[[], AbstractContextManager[str]]
) -> None:
    with database() as url:
        cloud = new_cloud(
            tmp_path,
            db_url=url,
            ONESTACK_COMPUTE__DRIVER="fake",
            ONESTACK_ORCHESTRATION__POLL_INTERVAL="0.1",
        ).start()
        try:
            demo = cloud.connect("demo", "demo")
            name = unique("db")
            stack_id = create(demo, name, TEMPLATE, parameters={"len": 8})
            shown = wait(demo, name, stack_id)
            assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
            first = shown["outputs"][0]["output_value"]
            assert len(first) == 2 and all(len(v) == 8 for v in first)
            answer = api(
                demo,
                "patch",
                f"/stacks/{name}/{stack_id}",
                json={"parameters": {"count": 3, "len": 12}},
            )
            assert answer.status_code == 202
            shown = wait(demo, name, stack_id)
            assert shown["stack_status"] == "UPDATE_COMPLETE", shown["stack_status_reason"]
            values = shown["outputs"][0]["output_value"]
            assert len(values) == 3 and all(len(v) == 12 for v in values)
            assert len(resources(demo, name, stack_id, nested_depth=1)) == 2 + 3
            events = api(demo, "get", f"/stacks/{name}/{stack_id}/events").json()["events"]
            assert events[0]["resource_status"] == "CREATE_IN_PROGRESS"
            assert events[-1]["resource_status"] == "UPDATE_COMPLETE"
            assert delete(demo, name, stack_id)["stack_status"] == "DELETE_COMPLETE"
        finally:
            cloud.stop()
