"""The aggregates API (operations, search, groupby, fill, needed_overlap) and
the older aggregation API."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gnocchiclient import exceptions as gexc

from tests.support.names import unique

T0 = 1_700_000_040


@pytest.fixture()
def pair(gnocchi: Any, policy_name: str) -> Iterator[tuple[str, str, str, str]]:
    """Two resources of a fresh group, each with ``load``: a = 1,2,3,4 and b = 10,_,30,40."""
    group = unique("grp")
    rids = []
    for name, values in (("a", [1, 2, 3, 4]), ("b", [10, None, 30, 40])):
        resource = gnocchi.resource.create(
            "generic",
            {"id": str(uuid.uuid4()), "project_id": group, "user_id": name,
             "metrics": {"load": {"archive_policy_name": policy_name}}},
        )  # fmt: skip
        measures = [
            {"timestamp": T0 + i, "value": v} for i, v in enumerate(values) if v is not None
        ]
        gnocchi.metric.add_measures("load", measures, resource_id=resource["id"])
        rids.append(resource["id"])
    a_metric = gnocchi.resource.get("generic", rids[0])["metrics"]["load"]
    b_metric = gnocchi.resource.get("generic", rids[1])["metrics"]["load"]
    yield group, a_metric, b_metric, rids[0]
    for rid in rids:
        gnocchi.resource.delete(rid)


def values(result: Any) -> list[float]:
    return [m[2] for m in result]


def test_operations_on_metric_ids(gnocchi: Any, pair: tuple[str, str, str, str]) -> None:
    _, a, b, _ = pair
    summed = gnocchi.aggregates.fetch(
        ["aggregate", "sum", ["metric", [a, "mean"], [b, "mean"]]], granularity=1, fill=0
    )
    assert values(summed["measures"]["aggregated"]) == [11, 2, 33, 44]
    dropped = gnocchi.aggregates.fetch(
        ["aggregate", "mean", ["metric", [a, "mean"], [b, "mean"]]], granularity=1
    )
    assert values(dropped["measures"]["aggregated"]) == [5.5, 2, 16.5, 22]
    scaled = gnocchi.aggregates.fetch(f"(* (metric {a} mean) 10)", granularity=1)
    assert values(scaled["measures"][a]["mean"]) == [10, 20, 30, 40]
    rolled = gnocchi.aggregates.fetch(["rolling", "sum", 2, ["metric", a, "mean"]], granularity=1)
    assert values(rolled["measures"][a]["mean"]) == [3, 5, 7]
    resampled = gnocchi.aggregates.fetch(
        ["resample", "max", 2, ["metric", a, "mean"]], granularity=1
    )
    assert [(m[1], m[2]) for m in resampled["measures"][a]["mean"]] == [(2.0, 2), (2.0, 4)]
    rates = gnocchi.aggregates.fetch(["rateofchange", ["metric", b, "mean"]], granularity=1)
    assert values(rates["measures"][b]["mean"]) == [20, 10]
    nulls = gnocchi.aggregates.fetch(["metric", [a, "mean"], [b, "mean"]], granularity=1,
                                     fill="null")  # fmt: skip
    assert values(nulls["measures"][b]["mean"]) == [10, None, 30, 40]
    detailed = gnocchi.aggregates.fetch(["metric", a, "mean"], granularity=1, details=True)
    assert [m["id"] for m in detailed["references"]] == [a]


def test_needed_overlap_and_unknowns(gnocchi: Any, pair: tuple[str, str, str, str]) -> None:
    _, a, b, _ = pair
    with pytest.raises(gexc.BadRequest) as raised:
        gnocchi.aggregates.fetch(
            ["aggregate", "mean", ["metric", [a, "mean"], [b, "mean"]]],
            granularity=1, needed_overlap=100,
        )  # fmt: skip
    assert raised.value.message["cause"] == "Metrics cannot be aggregated"
    ok = gnocchi.aggregates.fetch(
        ["aggregate", "mean", ["metric", [a, "mean"], [b, "mean"]]],
        granularity=1, needed_overlap=70,
    )  # fmt: skip
    # without fill, holes are not dropped: the mean at the hole is a's alone
    assert values(ok["measures"]["aggregated"]) == [5.5, 2, 16.5, 22]
    with pytest.raises(gexc.NotFound):
        gnocchi.aggregates.fetch(["metric", str(uuid.uuid4()), "mean"])
    with pytest.raises(gexc.NotFound):
        gnocchi.aggregates.fetch(["metric", a, "avg"])
    for bad in (["metric"], ["explode", ["metric", a, "mean"]], "(aggregate mean (metric"):
        with pytest.raises(gexc.BadRequest):
            gnocchi.aggregates.fetch(bad)
    with pytest.raises(gexc.BadRequest):
        gnocchi.aggregates.fetch(["metric", a, "mean"], granularity="sometimes")
    with pytest.raises(gexc.BadRequest):
        gnocchi.aggregates.fetch(["metric", a, "mean"], fill="nothing")


def test_search_and_groupby_by_metric_name(gnocchi: Any, pair: tuple[str, str, str, str]) -> None:
    group, _, _, first = pair
    found = gnocchi.aggregates.fetch(
        ["aggregate", "max", ["metric", "load", "mean"]],
        search={"=": {"project_id": group}}, resource_type="generic", granularity=1,
    )  # fmt: skip
    assert values(found["measures"]["aggregated"]) == [10, 2, 30, 40]
    per_resource = gnocchi.aggregates.fetch(
        ["metric", "lo*", "mean"], search=f"project_id='{group}'", resource_type="generic",
        granularity=1, fill="dropna",
    )  # fmt: skip
    assert values(per_resource["measures"][first]["load"]["mean"]) == [1, 2, 3, 4]
    grouped = gnocchi.aggregates.fetch(
        ["aggregate", "sum", ["metric", "load", "mean"]],
        search={"=": {"project_id": group}}, resource_type="generic", groupby=["user_id"],
        granularity=60,
    )  # fmt: skip
    by_user = {g["group"]["user_id"]: values(g["measures"]["measures"]["aggregated"])
               for g in grouped}  # fmt: skip
    assert by_user == {"a": [2.5], "b": [pytest.approx(80 / 3)]}
    with pytest.raises(gexc.NotFound):
        gnocchi.aggregates.fetch(
            ["metric", "nothing-named-so", "mean"],
            search={"=": {"project_id": group}},
            resource_type="generic",
        )


def test_older_aggregation_api(gnocchi: Any, pair: tuple[str, str, str, str]) -> None:
    group, a, b, _ = pair
    across = gnocchi.metric.aggregation(metrics=[a, b], granularity=1, needed_overlap=0)
    assert values(across) == [5.5, 2, 16.5, 22]
    single = gnocchi.metric.aggregation(metrics=[a], granularity=1)
    assert values(single) == [1, 2, 3, 4]
    by_query = gnocchi.metric.aggregation(
        metrics="load", query={"=": {"project_id": group}}, resource_type="generic",
        granularity=1, aggregation="max", needed_overlap=0,
    )  # fmt: skip
    assert values(by_query) == [10, 2, 30, 40]
    grouped = gnocchi.metric.aggregation(
        metrics="load", query={"=": {"project_id": group}}, resource_type="generic",
        granularity=60, groupby=["user_id"],
    )  # fmt: skip
    assert {g["group"]["user_id"] for g in grouped} == {"a", "b"}
