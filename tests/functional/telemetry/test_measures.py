"""Metrics and measures: every aggregation method, resample, batches, bad input."""

from __future__ import annotations

import statistics
import uuid
from typing import Any

import numpy as np
import pytest
from gnocchiclient import exceptions as gexc

from tests.support.names import unique

T0 = 1_700_000_040  # a whole minute, as an Epoch number
VALUES = [5.0, 1.0, 9.0, 4.0, 7.0, 2.0, 8.0, 3.0, 6.0, 10.0, 0.5, 11.0]  # one every 10 s


def _expected(values: list[float], method: str) -> float:
    if method.startswith("rate:"):
        return _expected(list(np.diff(values)), method[5:])
    if method.endswith("pct"):
        return float(np.percentile(values, int(method[:-3])))
    return {
        "mean": statistics.fmean,
        "sum": sum,
        "min": min,
        "max": max,
        "first": lambda v: v[0],
        "last": lambda v: v[-1],
        "count": len,
        "std": statistics.stdev,
        "median": statistics.median,
    }[method](values)


@pytest.fixture()
def metric(gnocchi: Any, policy_name: str) -> str:
    created = gnocchi.metric.create({"archive_policy_name": policy_name, "unit": "ns"})
    measures = [{"timestamp": T0 + 10 * i, "value": v} for i, v in enumerate(VALUES)]
    gnocchi.metric.add_measures(created["id"], measures)
    return str(created["id"])


@pytest.mark.parametrize(
    "method",
    ["mean", "sum", "last", "max", "min", "std", "median", "first", "count", "5pct", "90pct",
     "rate:mean", "rate:sum", "rate:max", "rate:last", "rate:90pct"],
)  # fmt: skip
def test_every_aggregation_method_at_one_minute(gnocchi: Any, metric: str, method: str) -> None:
    measures = gnocchi.metric.get_measures(metric, aggregation=method, granularity=60)
    first_minute, second_minute = VALUES[:6], VALUES[6:]
    if method.startswith("rate:"):
        first_expected = _expected(first_minute, method)
        second_expected = _expected([first_minute[-1], *second_minute], method)
    else:
        first_expected, second_expected = (
            _expected(first_minute, method),
            _expected(second_minute, method),
        )
    assert [m[1] for m in measures] == [60.0, 60.0]
    assert [m[0].timestamp() for m in measures] == [T0, T0 + 60]
    assert measures[0][2] == pytest.approx(first_expected)
    assert measures[1][2] == pytest.approx(second_expected)


def test_measures_are_coarsest_first_with_bounds_and_resample(gnocchi: Any, metric: str) -> None:
    everything = gnocchi.metric.get_measures(metric)
    assert [m[1] for m in everything] == [60.0, 60.0] + [1.0] * len(VALUES)
    bounded = gnocchi.metric.get_measures(metric, granularity=1, start=T0 + 20, stop=T0 + 50)
    assert [m[2] for m in bounded] == VALUES[2:5]
    resampled = gnocchi.metric.get_measures(metric, granularity=1, resample=30, aggregation="max")
    assert [(m[1], m[2]) for m in resampled] == [
        (30.0, max(VALUES[0:3])), (30.0, max(VALUES[3:6])), (30.0, max(VALUES[6:9])),
        (30.0, max(VALUES[9:12])),
    ]  # fmt: skip
    assert gnocchi.metric.get_measures(metric, refresh=True) == everything


def test_named_metrics_of_a_resource_and_overwrites(gnocchi: Any, policy_name: str) -> None:
    resource = gnocchi.resource.create(
        "generic",
        {"id": str(uuid.uuid4()), "metrics": {"temp": {"archive_policy_name": policy_name}}},
    )
    try:
        gnocchi.metric.add_measures(
            "temp", [{"timestamp": T0, "value": 1}], resource_id=resource["id"]
        )
        gnocchi.metric.add_measures(
            "temp", [{"timestamp": T0, "value": 3}, {"timestamp": T0, "value": 5}],
            resource_id=resource["id"],
        )  # fmt: skip
        assert (
            gnocchi.metric.get_measures("temp", resource_id=resource["id"], granularity=1)[0][2]
            == 5
        )
        shown = gnocchi.metric.get("temp", resource_id=resource["id"])
        assert shown["resource"]["id"] == resource["id"]
        added = gnocchi.metric.create({"name": "hum", "archive_policy_name": policy_name,
                                       "resource_id": resource["id"]})  # fmt: skip
        assert added["name"] == "hum"
        with pytest.raises(gexc.NamedMetricAlreadyExists):
            gnocchi.metric.create({"name": "hum", "archive_policy_name": policy_name,
                                   "resource_id": resource["id"]})  # fmt: skip
        gnocchi.metric.delete("hum", resource_id=resource["id"])
        with pytest.raises(gexc.MetricNotFound):
            gnocchi.metric.get("hum", resource_id=resource["id"])
    finally:
        gnocchi.resource.delete(resource["id"])


def test_old_measures_outside_the_back_window_are_dropped(gnocchi: Any, policy_name: str) -> None:
    metric = gnocchi.metric.create({"archive_policy_name": policy_name})["id"]
    gnocchi.metric.add_measures(metric, [{"timestamp": T0 + 7200, "value": 1}])
    gnocchi.metric.add_measures(metric, [{"timestamp": T0, "value": 99}])  # a block older
    assert [m[2] for m in gnocchi.metric.get_measures(metric, granularity=60)] == [1.0]


def test_timespan_truncates_old_aggregates(gnocchi: Any, policy_name: str) -> None:
    metric = gnocchi.metric.create({"archive_policy_name": policy_name})["id"]
    gnocchi.metric.add_measures(
        metric, [{"timestamp": T0 + 1800 * i, "value": i} for i in range(4)]
    )
    one_second = gnocchi.metric.get_measures(metric, granularity=1)
    assert [m[0].timestamp() for m in one_second] == [T0 + 1800 * i for i in (2, 3)]


def test_batch_of_resources_creates_metrics_and_names_unknown_resources(
    gnocchi: Any, policy_name: str
) -> None:
    known = gnocchi.resource.create("generic", {"id": unique("batch-known")})
    try:
        body = {
            known["original_resource_id"]: {
                "m1": {"archive_policy_name": policy_name, "unit": "B",
                       "measures": [{"timestamp": T0, "value": 4}]},
                "m2": [{"timestamp": T0, "value": 2}],
            },
        }  # fmt: skip
        with pytest.raises(gexc.BadRequest, match="Unknown metrics"):
            gnocchi.metric.batch_resources_metrics_measures(body)
        gnocchi.metric.batch_resources_metrics_measures(body, create_metrics=True)
        shown = gnocchi.resource.get("generic", known["id"])
        assert set(shown["metrics"]) == {"m1", "m2"}
        m1 = gnocchi.metric.get(shown["metrics"]["m1"])
        assert m1["unit"] == "B" and m1["archive_policy"]["name"] == policy_name
        assert gnocchi.metric.get_measures(shown["metrics"]["m1"], granularity=1)[0][2] == 4
        missing = unique("batch-missing")
        with pytest.raises(gexc.BadRequest) as raised:
            gnocchi.metric.batch_resources_metrics_measures(
                {missing: {"x": [{"timestamp": T0, "value": 1}]}}, create_metrics=True
            )
        assert raised.value.message["cause"] == "Unknown resources"
        assert raised.value.message["detail"][0]["original_resource_id"] == missing
        gnocchi.metric.batch_metrics_measures(
            {shown["metrics"]["m2"]: [{"timestamp": T0 + 1, "value": 6}]}
        )
        m2 = gnocchi.metric.get_measures(shown["metrics"]["m2"])  # "low", by the default rule
        assert [(m[1], m[2]) for m in m2] == [(300.0, 4.0)]
        with pytest.raises(gexc.BadRequest, match="Unknown metrics"):
            gnocchi.metric.batch_metrics_measures({str(uuid.uuid4()): []})
    finally:
        gnocchi.resource.delete(known["id"])


@pytest.mark.parametrize(
    "params,error",
    [
        ({"granularity": "fortnight"}, gexc.BadRequest),
        ({"granularity": 7}, gexc.NotFound),
        ({"aggregation": "avg"}, gexc.NotFound),
        ({"start": "yesterday-ish"}, gexc.BadRequest),
        ({"resample": 10}, gexc.BadRequest),
        ({"granularity": 1, "resample": "often"}, gexc.BadRequest),
        ({"refresh": "maybe"}, gexc.BadRequest),
    ],
)
def test_bad_measure_queries_answer_gnocchi_errors(
    gnocchi: Any, metric: str, params: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        gnocchi.metric.get_measures(metric, **params)


@pytest.mark.parametrize(
    "measures",
    [
        [{"timestamp": "not a time", "value": 1}],
        [{"timestamp": T0, "value": "one"}],
        [{"timestamp": T0}],
        {"timestamp": T0, "value": 1},
        [{"timestamp": -5, "value": 1}],
    ],
)
def test_bad_measures_answer_400(gnocchi: Any, metric: str, measures: Any) -> None:
    with pytest.raises(gexc.BadRequest):
        gnocchi.metric.add_measures(metric, measures)


def test_metric_search_on_values(gnocchi: Any, metric: str) -> None:
    found = gnocchi.metric._post(
        f"v1/search/metric?metric_id={metric}&granularity=1",
        headers={"Content-Type": "application/json"},
        data='{"and": [{">=": 9}, {"<": [{"+": 1}, 12]}]}',
    ).json()
    assert sorted(m[2] for m in found[metric]) == [9.0, 10.0]


def test_unknown_metric_answers_404(gnocchi: Any) -> None:
    with pytest.raises(gexc.MetricNotFound):
        gnocchi.metric.get(str(uuid.uuid4()))
    with pytest.raises(gexc.MetricNotFound):
        gnocchi.metric._get("v1/metric/not-a-uuid/measures")
