"""Archive policies and archive policy rules through gnocchiclient."""

from __future__ import annotations

from typing import Any

import pytest
from gnocchiclient import exceptions as gexc

from tests.support.names import unique

DEFAULTS = {"bool", "low", "medium", "high", "ceilometer-low", "ceilometer-low-rate"}


def test_defaults_of_gnocchi_and_ceilometer_exist(gnocchi: Any) -> None:
    names = {p["name"] for p in gnocchi.archive_policy.list()}
    assert names >= DEFAULTS
    rate = gnocchi.archive_policy.get("ceilometer-low-rate")
    assert rate["definition"] == [
        {"granularity": "0:05:00", "points": 8640, "timespan": "30 days, 0:00:00"}
    ]
    assert sorted(rate["aggregation_methods"]) == ["mean", "rate:mean"]
    assert sorted(gnocchi.archive_policy.get("low")["aggregation_methods"]) == sorted(
        ["mean", "min", "max", "sum", "std", "count"]
    )
    rules = gnocchi.archive_policy_rule.list()
    assert {"name": "default", "metric_pattern": "*", "archive_policy_name": "low"} in rules


def test_durations_in_both_forms_and_methods_arithmetic(gnocchi: Any) -> None:
    name = unique("ap")
    created = gnocchi.archive_policy.create(
        {
            "name": name,
            "aggregation_methods": ["-std", "+90pct", "+rate:max"],
            "definition": [
                {"granularity": 30, "timespan": "1 day"},
                {"granularity": "1 hour", "points": 48},
            ],
        }
    )
    try:
        assert created["definition"] == [
            {"granularity": "0:00:30", "points": 2880, "timespan": "1 day, 0:00:00"},
            {"granularity": "1:00:00", "points": 48, "timespan": "2 days, 0:00:00"},
        ]
        assert sorted(created["aggregation_methods"]) == sorted(
            ["mean", "min", "max", "sum", "count", "90pct", "rate:max"]
        )
        updated = gnocchi.archive_policy.update(
            name,
            {
                "definition": [
                    {"granularity": "30s", "points": 10},
                    {"granularity": 3600, "points": 5},
                ]
            },
        )
        assert updated["definition"][0]["timespan"] == "0:05:00"
        with pytest.raises(gexc.BadRequest, match="Cannot add or drop granularities"):
            gnocchi.archive_policy.update(name, {"definition": [{"granularity": 60, "points": 1}]})
        with pytest.raises(gexc.ArchivePolicyAlreadyExists):
            gnocchi.archive_policy.create(
                {"name": name, "definition": [{"granularity": 1, "points": 1}]}
            )
    finally:
        gnocchi.archive_policy.delete(name)
    with pytest.raises(gexc.ArchivePolicyNotFound):
        gnocchi.archive_policy.get(name)


@pytest.mark.parametrize(
    "definition",
    [
        [],
        [{"granularity": "soon", "points": 3}],
        [{"granularity": 0, "points": 3}],
        [{"granularity": 60, "points": 2, "timespan": 600}],
        [{"points": 3}],
        [{"granularity": 60}, {"granularity": "1 minute"}],
        [{"granularity": 60, "cowsay": "moo"}],
    ],
)
def test_bad_definitions_answer_400(gnocchi: Any, definition: Any) -> None:
    with pytest.raises(gexc.BadRequest):
        gnocchi.archive_policy.create({"name": unique("bad"), "definition": definition})


def test_unknown_aggregation_method_answers_400_with_gnocchi_description(gnocchi: Any) -> None:
    with pytest.raises(gexc.BadRequest) as raised:
        gnocchi.archive_policy.create(
            {
                "name": unique("bad"),
                "aggregation_methods": ["avg"],
                "definition": [{"granularity": 1, "points": 1}],
            }
        )
    assert raised.value.message["cause"] == "Invalid input"
    assert raised.value.message["detail"] == ["aggregation_methods", "0"]


def test_policy_in_use_cannot_be_deleted_and_rules_pick_policies(
    gnocchi: Any, policy_name: str
) -> None:
    rule = unique("rule")
    pattern = f"{rule}.*"
    created = gnocchi.archive_policy_rule.create(
        {"name": rule, "metric_pattern": pattern, "archive_policy_name": policy_name}
    )
    assert created == {"name": rule, "metric_pattern": pattern, "archive_policy_name": policy_name}
    metric = gnocchi.metric.create({"name": f"{rule}.cpu"})
    try:
        assert metric["archive_policy"]["name"] == policy_name
        with pytest.raises(gexc.BadRequest, match="in use"):
            gnocchi.archive_policy.delete(policy_name)
        assert gnocchi.archive_policy_rule.get(rule)["archive_policy_name"] == policy_name
        other = gnocchi.metric.create({"name": "something-else"})
        assert other["archive_policy"]["name"] == "low"
        gnocchi.metric.delete(other["id"])
    finally:
        gnocchi.metric.delete(metric["id"])
        gnocchi.archive_policy_rule.delete(rule)
    with pytest.raises(gexc.ArchivePolicyRuleNotFound):
        gnocchi.archive_policy_rule.get(rule)


def test_rule_to_an_unknown_policy_answers_400(gnocchi: Any) -> None:
    with pytest.raises(gexc.BadRequest, match="does not exist"):
        gnocchi.archive_policy_rule.create(
            {"name": unique("r"), "metric_pattern": "x*", "archive_policy_name": unique("none")}
        )


def test_only_admins_manage_policies(gnocchi_demo: Any) -> None:
    assert {p["name"] for p in gnocchi_demo.archive_policy.list()} >= DEFAULTS
    with pytest.raises(gexc.Forbidden):
        gnocchi_demo.archive_policy.create(
            {"name": unique("demo"), "definition": [{"granularity": 1, "points": 1}]}
        )
    with pytest.raises(gexc.Forbidden):
        gnocchi_demo.archive_policy.delete("low")
