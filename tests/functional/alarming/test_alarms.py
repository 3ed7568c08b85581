"""Alarms through aodhclient: CRUD, filters, state, history, queries, quotas, errors,
isolation."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aodhclient import exceptions as aexc

from tests.support.names import unique


def resources_rule(**extra: Any) -> dict[str, Any]:
    return {
        "metric": "cpu",
        "resource_id": str(uuid.uuid4()),
        "resource_type": "instance",
        "threshold": 80,
        "aggregation_method": "mean",
        **extra,
    }


def new_alarm(client: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "name": unique("alarm"),
        "type": "gnocchi_resources_threshold",
        "gnocchi_resources_threshold_rule": resources_rule(),
        **fields,
    }
    created: dict[str, Any] = client.alarm.create(body)
    return created


@pytest.fixture()
def cleanup(alarms: Any) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for alarm_id in made:
        try:
            alarms.alarm.delete(alarm_id)
        except aexc.NotFound:
            pass


def test_create_show_update_delete(alarms_demo: Any, cleanup: list[str]) -> None:
    created = new_alarm(alarms_demo, severity="moderate", alarm_actions=["http://192.0.2.1/x"])
    cleanup.append(created["alarm_id"])
    assert created["state"] == "insufficient data"
    assert created["state_reason"] == "Not evaluated yet"
    assert created["description"] == "gnocchi_resources_threshold alarm rule"
    rule = created["gnocchi_resources_threshold_rule"]
    assert rule["comparison_operator"] == "eq" and rule["granularity"] == 60
    assert rule["evaluation_periods"] == 1 and rule["threshold"] == 80.0
    assert "gnocchi_aggregation_by_metrics_threshold_rule" not in created
    shown = alarms_demo.alarm.get(created["alarm_id"])
    assert shown == created
    updated = alarms_demo.alarm.update(
        created["alarm_id"],
        {"name": "renamed", "gnocchi_resources_threshold_rule": {"threshold": 50,
                                                                 "comparison_operator": "gt"}},
    )  # fmt: skip
    assert updated["name"] == "renamed"
    assert updated["gnocchi_resources_threshold_rule"]["threshold"] == 50.0
    assert updated["gnocchi_resources_threshold_rule"]["comparison_operator"] == "gt"
    assert alarms_demo.alarm.get_state(created["alarm_id"]) == "insufficient data"
    assert alarms_demo.alarm.set_state(created["alarm_id"], "alarm") == "alarm"
    shown = alarms_demo.alarm.get(created["alarm_id"])
    assert shown["state"] == "alarm" and shown["state_reason"] == "Manually set via API"
    history = alarms_demo.alarm_history.get(created["alarm_id"])
    kinds = [h["type"] for h in history]
    assert kinds[0] == "state transition" and kinds[-1] == "creation" and "rule change" in kinds
    assert json.loads(history[0]["detail"])["state"] == "alarm"
    alarms_demo.alarm.delete(created["alarm_id"])
    with pytest.raises(aexc.NotFound):
        alarms_demo.alarm.get(created["alarm_id"])


def test_list_filters_and_all_projects(alarms: Any, alarms_demo: Any, cleanup: list[str]) -> None:
    mine = new_alarm(alarms_demo, severity="critical")
    theirs = new_alarm(alarms)
    cleanup += [mine["alarm_id"], theirs["alarm_id"]]
    listed = {a["alarm_id"] for a in alarms_demo.alarm.list()}
    assert mine["alarm_id"] in listed and theirs["alarm_id"] not in listed
    critical = alarms_demo.alarm.list(filters={"severity": "critical", "name": mine["name"]})
    assert [a["alarm_id"] for a in critical] == [mine["alarm_id"]]
    assert alarms_demo.alarm.list(filters={"severity": "low", "name": mine["name"]}) == []
    everything = {a["alarm_id"] for a in alarms.alarm.list(filters={"all_projects": True})}
    assert {mine["alarm_id"], theirs["alarm_id"]} <= everything
    with pytest.raises(aexc.ClientException) as raised:
        alarms_demo.alarm.list(filters={"project_id": theirs["project_id"]})
    assert raised.value.code == 401
    with pytest.raises(aexc.ClientException) as raised:
        alarms_demo.alarm.list(filters={"all_projects": True})
    assert raised.value.code == 403
    with pytest.raises(aexc.NotFound):
        alarms_demo.alarm.get(theirs["alarm_id"])
    with pytest.raises(aexc.NotFound):
        alarms_demo.alarm.delete(theirs["alarm_id"])
    with pytest.raises(aexc.NotFound):
        alarms_demo.alarm_history.get(theirs["alarm_id"])
    queried = alarms_demo.alarm.query(json.dumps({"=": {"alarm_id": theirs["alarm_id"]}}))
    assert queried == []
    found = alarms.alarm.query(json.dumps({"and": [{"=": {"name": theirs["name"]}},
                                                    {"=": {"severity": "low"}}]}))  # fmt: skip
    assert [a["alarm_id"] for a in found] == [theirs["alarm_id"]]
    page = alarms.alarm.list(filters={"all_projects": True}, limit=1, sorts=["name:asc"])
    assert len(page) == 1


def test_other_rule_types_and_composite(alarms: Any, cleanup: list[str]) -> None:
    by_metrics = alarms.alarm.create(
        {"name": unique("m"), "type": "gnocchi_aggregation_by_metrics_threshold",
         "gnocchi_aggregation_by_metrics_threshold_rule": {
             "metrics": [str(uuid.uuid4())], "threshold": 1, "aggregation_method": "max",
             "granularity": 300, "evaluation_periods": 3, "comparison_operator": "ge"}}
    )  # fmt: skip
    cleanup.append(by_metrics["alarm_id"])
    assert by_metrics["gnocchi_aggregation_by_metrics_threshold_rule"]["evaluation_periods"] == 3
    query = json.dumps({"=": {"server_group": "web"}})
    by_resources = alarms.alarm.create(
        {"name": unique("r"), "type": "gnocchi_aggregation_by_resources_threshold",
         "gnocchi_aggregation_by_resources_threshold_rule": {
             "metric": "cpu", "query": query, "resource_type": "instance", "threshold": 1,
             "aggregation_method": "rate:mean"}}
    )  # fmt: skip
    cleanup.append(by_resources["alarm_id"])
    assert by_resources["gnocchi_aggregation_by_resources_threshold_rule"]["query"] == query
    composite = alarms.alarm.create(
        {"name": unique("c"), "type": "composite",
         "composite_rule": {"or": [
             {"type": "gnocchi_resources_threshold", **resources_rule()},
             {"and": [{"type": "gnocchi_resources_threshold", **resources_rule(threshold=5)},
                      {"type": "gnocchi_aggregation_by_metrics_threshold",
                       "metrics": [str(uuid.uuid4())], "threshold": 2,
                       "aggregation_method": "mean"}]}]}}
    )  # fmt: skip
    cleanup.append(composite["alarm_id"])
    leaf = composite["composite_rule"]["or"][0]
    assert leaf["type"] == "gnocchi_resources_threshold" and leaf["granularity"] == 60


def test_a_projects_query_is_scoped_to_the_project(alarms_demo: Any, cleanup: list[str]) -> None:
    query = json.dumps({"=": {"server_group": "web"}})
    created = alarms_demo.alarm.create(
        {"name": unique("scoped"), "type": "gnocchi_aggregation_by_resources_threshold",
         "gnocchi_aggregation_by_resources_threshold_rule": {
             "metric": "cpu", "query": query, "resource_type": "instance", "threshold": 1,
             "aggregation_method": "mean"}}
    )  # fmt: skip
    cleanup.append(created["alarm_id"])
    scoped = json.loads(created["gnocchi_aggregation_by_resources_threshold_rule"]["query"])
    allowed, original = scoped["and"]
    assert original == json.loads(query)
    assert {"=": {"created_by_project_id": created["project_id"]}} in allowed["or"]


@pytest.mark.parametrize(
    "body",
    [
        {"type": "gnocchi_resources_threshold"},  # no name
        {"name": "x"},  # no type
        {"name": "x", "type": "nonsense"},
        {"name": "x", "type": "gnocchi_resources_threshold"},  # no rule
        {"name": "x", "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": resources_rule(aggregation_method="avg")},
        {"name": "x", "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": resources_rule(comparison_operator="bigger")},
        {"name": "x", "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": resources_rule(evaluation_periods=0)},
        {"name": "x", "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": {"metric": "cpu", "aggregation_method": "mean"}},
        {"name": "x", "type": "gnocchi_aggregation_by_resources_threshold",
         "gnocchi_aggregation_by_resources_threshold_rule": {
             "metric": "cpu", "query": "{not json", "resource_type": "instance",
             "threshold": 1, "aggregation_method": "mean"}},
        {"name": "x", "type": "composite", "composite_rule": {"xor": []}},
        {"name": "x", "type": "composite", "composite_rule": {"or": [{"threshold": 1}]}},
        {"name": "x", "type": "gnocchi_resources_threshold", "severity": "dramatic",
         "gnocchi_resources_threshold_rule": resources_rule()},
        {"name": "x", "type": "gnocchi_resources_threshold", "alarm_actions": ["ftp://x/y"],
         "gnocchi_resources_threshold_rule": resources_rule()},
        {"name": "x", "type": "gnocchi_resources_threshold",
         "time_constraints": [{"name": "t", "start": "99 * * * *", "duration": 10}],
         "gnocchi_resources_threshold_rule": resources_rule()},
    ],
)  # fmt: skip
def test_invalid_alarms_answer_400_with_aodh_fault(alarms: Any, body: dict[str, Any]) -> None:
    with pytest.raises(aexc.BadRequest) as raised:
        alarms.alarm._post(
            "v2/alarms", headers={"Content-Type": "application/json"}, data=json.dumps(body)
        )
    assert raised.value.message  # Aodh's faultstring


def test_unsupported_alarm_types_answer_501(alarms: Any) -> None:
    with pytest.raises(aexc.ClientException) as raised:
        alarms.alarm.create({"name": "x", "type": "event", "event_rule": {"event_type": "*"}})
    assert raised.value.code == 501


def test_a_project_may_not_log_or_act_for_another(alarms_demo: Any) -> None:
    with pytest.raises(aexc.ClientException) as raised:
        new_alarm(alarms_demo, alarm_actions=["log://"])
    assert raised.value.code == 401
    with pytest.raises(aexc.ClientException) as raised:
        new_alarm(alarms_demo, project_id=str(uuid.uuid4()))
    assert raised.value.code == 401


def test_state_set_rejects_unknown_states(alarms: Any, cleanup: list[str]) -> None:
    created = new_alarm(alarms)
    cleanup.append(created["alarm_id"])
    with pytest.raises(aexc.BadRequest):
        alarms.alarm.set_state(created["alarm_id"], "panic")


def test_quotas(alarms: Any, alarms_demo: Any, cleanup: list[str]) -> None:
    first = new_alarm(alarms_demo)
    cleanup.append(first["alarm_id"])
    project = first["project_id"]
    count = len(alarms_demo.alarm.list())
    alarms.quota.create(project, [{"resource": "alarms", "limit": count}])
    try:
        assert alarms.quota.list(project) == {
            "project_id": project, "quotas": [{"resource": "alarms", "limit": count}]
        }  # fmt: skip
        with pytest.raises(aexc.ClientException) as raised:
            new_alarm(alarms_demo)
        assert raised.value.code == 403
        with pytest.raises(aexc.ClientException) as raised:
            alarms_demo.quota.create(project, [{"resource": "alarms", "limit": 10}])
        assert raised.value.code == 403
    finally:
        alarms.quota.create(project, [{"resource": "alarms", "limit": -1}])
    # -1: no limit again
    cleanup.append(new_alarm(alarms_demo)["alarm_id"])


def test_capabilities(alarms: Any) -> None:
    caps = alarms.capabilities.list()
    assert caps["api"]["alarms:query:complex"] is True
