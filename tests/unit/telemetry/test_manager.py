"""The telemetry manager alone, on a database with its own tables only: measures are
aggregated as they arrive, and what is read back is what numpy computes from the raw
values; out-of-order and late measures, the timespan and tenant isolation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import inspect

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.telemetry import policies
from onestack.telemetry.conf import TelemetrySettings
from onestack.telemetry.exceptions import NoSuchMetric
from onestack.telemetry.manager import TelemetryManager
from onestack.telemetry.metrics import MeasureQuery

ADMIN = RequestContext(
    request_id="req-admin", user_id="u0", project_id="p-admin", roles=("admin", "member")
)
OWNER = RequestContext(
    request_id="req-owner", user_id="u1", project_id="p-owner", roles=("member", "reader")
)
OTHER = RequestContext(
    request_id="req-other", user_id="u2", project_id="p-other", roles=("member", "reader")
)
T0 = 1_700_000_000 // 3600 * 3600


@pytest.fixture()
def manager(tmp_path: Path) -> Iterator[TelemetryManager]:
    db = Database(f"sqlite:///{tmp_path / 'telemetry.db'}")
    upgrade(db, ["onestack.telemetry"])
    built = TelemetryManager(db, Enforcer(policies.RULES), TelemetrySettings())
    built.prepare()
    try:
        yield built
    finally:
        db.dispose()


def _metric(manager: TelemetryManager, ctx: RequestContext = OWNER) -> str:
    """A metric of ``ctx``'s project whose policy keeps 1-minute points for an hour and
    1-hour points for a day, every aggregation method."""
    manager.archive_policies.create(
        ADMIN,
        {
            "name": "unit",
            "aggregation_methods": ["*"],
            "definition": [
                {"granularity": "1 minute", "timespan": "1 hour"},
                {"granularity": "1 hour", "timespan": "1 day"},
            ],
        },
    )
    return str(manager.metrics.create(ctx, {"archive_policy_name": "unit"})["id"])


def _read(manager: TelemetryManager, metric: str, aggregation: str, granularity: int) -> Any:
    query = MeasureQuery(aggregation=aggregation, granularity=str(granularity))
    return [(p[0], p[2]) for p in manager.metrics.measures(OWNER, metric, query)]


def test_the_database_holds_only_the_telemetry_tables(manager: TelemetryManager) -> None:
    with manager.core.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {
        t
        for t in tables
        if not t.startswith(("telemetry_", "quota_", "alembic_", "injected_faults"))
    } == set()
    assert {"telemetry_raw", "telemetry_aggregates", "telemetry_metrics"} <= tables


def test_every_method_matches_numpy_over_the_raw_values(manager: TelemetryManager) -> None:
    metric = _metric(manager)
    rng = np.random.default_rng(15)
    values = rng.normal(50, 20, 180)
    stamps = T0 + np.arange(180) * 20  # three measures a minute for an hour
    order = rng.permutation(180)  # arrival order does not matter
    for chunk in np.array_split(order, 6):
        manager.metrics.add_measures(
            OWNER, metric, [{"timestamp": int(stamps[i]), "value": float(values[i])}
                            for i in sorted(chunk)]
        )  # fmt: skip
    minutes = values.reshape(60, 3)
    expected = {
        "mean": minutes.mean(axis=1),
        "sum": minutes.sum(axis=1),
        "min": minutes.min(axis=1),
        "max": minutes.max(axis=1),
        "first": minutes[:, 0],
        "last": minutes[:, -1],
        "count": np.full(60, 3.0),
        "median": np.median(minutes, axis=1),
        "std": minutes.std(axis=1, ddof=1),
        "95pct": np.percentile(minutes, 95, axis=1),
    }
    for method, wanted in expected.items():
        got = _read(manager, metric, method, 60)
        assert len(got) == 60, method
        assert np.allclose([v for _, v in got], wanted), method
    hour = _read(manager, metric, "mean", 3600)
    assert len(hour) == 1 and hour[0][1] == pytest.approx(values.mean())
    # rate: methods aggregate the differences of consecutive raw values, each stamped
    # with the later one (Gnocchi's GroupedTimeSeries.derived)
    differences, buckets = np.diff(values), np.arange(1, 180) // 3
    rate_sum = [v for _, v in _read(manager, metric, "rate:sum", 60)]
    assert np.allclose(rate_sum, np.bincount(buckets, differences))
    rate_last = [v for _, v in _read(manager, metric, "rate:last", 60)]
    assert np.allclose(rate_last, minutes[:, 2] - minutes[:, 1])


def test_a_late_measure_rewrites_its_bucket_and_old_points_expire(
    manager: TelemetryManager,
) -> None:
    metric = _metric(manager)
    manager.metrics.add_measures(OWNER, metric, [{"timestamp": T0 + 5, "value": 1.0},
                                                 {"timestamp": T0 + 65, "value": 4.0}])  # fmt: skip
    manager.metrics.add_measures(OWNER, metric, [{"timestamp": T0 + 10, "value": 3.0}])
    assert [v for _, v in _read(manager, metric, "mean", 60)] == [2.0, 4.0]
    # two hours later the 1-minute points of the first hour are past the timespan
    manager.metrics.add_measures(OWNER, metric, [{"timestamp": T0 + 7200, "value": 9.0}])
    minutes = _read(manager, metric, "mean", 60)
    assert [v for _, v in minutes] == [9.0]
    assert [v for _, v in _read(manager, metric, "mean", 3600)] == [pytest.approx(8 / 3), 9.0]


def test_another_project_neither_reads_nor_writes_a_metric(manager: TelemetryManager) -> None:
    metric = _metric(manager)
    with pytest.raises(NoSuchMetric):
        manager.metrics.add_measures(OTHER, metric, [{"timestamp": T0, "value": 1.0}])
    with pytest.raises(NoSuchMetric):
        manager.metrics.measures(OTHER, metric, MeasureQuery())
    assert manager.metrics.measures(ADMIN, metric, MeasureQuery()) == []
