"""The alarm evaluator alone: the alarming manager on a database with its own tables
only, the Metric API replaced by a fake session that answers what the evaluator asks.
State transitions, the actions they run (once, or at every evaluation with
``repeat_actions``), composite rules, and a project's alarm never reading a resource
of another project."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect

from onestack.alarming import policies
from onestack.alarming.conf import AlarmingSettings
from onestack.alarming.evaluator import AlarmEvaluator
from onestack.alarming.manager import AlarmingManager
from onestack.alarming.notifier import Notifier
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.keystone_client import ServiceError
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer

OWNER = RequestContext(
    request_id="req-owner", user_id="u1", project_id="p-owner", roles=("member", "reader")
)
HOOK = "http://hooks.example"
MINE, THEIRS = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"


class FakeMetricSession:
    """What the evaluator reads of the Metric API: measures per resource, owners."""

    user_id, project_id = "aodh-user", "p-service"

    def __init__(self) -> None:
        self.values: dict[str, list[float]] = {}
        self.owners = {MINE: "p-owner", THEIRS: "p-other"}

    def request(self, service: str, method: str, path: str, **_: Any) -> Any:
        parts = path.strip("/").split("/")
        if path == "/v1/capabilities":
            return {"aggregation_methods": ["mean", "max", "last", "rate:mean"]}
        if parts[:3] == ["v1", "resource", "generic"] and parts[3] in self.owners:
            if len(parts) == 4:
                return {"id": parts[3], "project_id": self.owners[parts[3]]}
            return [["2026-01-01T00:00:00+00:00", 60.0, v] for v in self.values[parts[3]]]
        raise ServiceError(404, "not found")

    def close(self) -> None:
        pass


class RecordingNotifier(Notifier):
    """Records the actions it is asked to run instead of calling their URLs."""

    def _one(self, action: str, payload: dict[str, Any]) -> None:
        self.sent.append((action, payload))


class Clock:
    def __init__(self) -> None:
        self.value = datetime.datetime.now(datetime.UTC)

    def __call__(self) -> datetime.datetime:
        return self.value

    def tick(self) -> None:
        self.value += datetime.timedelta(seconds=61)


@pytest.fixture()
def metric() -> FakeMetricSession:
    return FakeMetricSession()


@pytest.fixture()
def manager(tmp_path: Path, metric: FakeMetricSession) -> Iterator[AlarmingManager]:
    db = Database(f"sqlite:///{tmp_path / 'alarming.db'}")
    upgrade(db, ["onestack.alarming"])
    built = AlarmingManager(db, Enforcer(policies.RULES), AlarmingSettings(), "http://identity")
    built.core.session_factory = lambda trust: metric  # type: ignore[assignment,return-value]
    try:
        yield built
    finally:
        db.dispose()


@pytest.fixture()
def run(manager: AlarmingManager) -> tuple[AlarmEvaluator, Clock]:
    clock = Clock()
    notifier = RecordingNotifier(lambda trust: pytest.fail("no trust is used here"))
    return AlarmEvaluator(manager.core, notifier, now=clock), clock


def _rule(resource_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "metric": "cpu", "resource_id": resource_id, "resource_type": "instance",
        "threshold": 50, "comparison_operator": "gt", "aggregation_method": "mean",
        "granularity": 60, "evaluation_periods": 2, **extra,
    }  # fmt: skip


def _alarm(manager: AlarmingManager, rule: dict[str, Any], **extra: Any) -> str:
    body = {"name": "a", "type": "gnocchi_resources_threshold",
            "gnocchi_resources_threshold_rule": rule, "alarm_actions": [f"{HOOK}/alarm"],
            "ok_actions": [f"{HOOK}/ok"], "insufficient_data_actions": [f"{HOOK}/unknown"],
            **extra}  # fmt: skip
    return str(manager.alarms.create(OWNER, body)["alarm_id"])


def _cycle(evaluator: AlarmEvaluator, clock: Clock) -> list[str]:
    """One evaluation a minute later; the states the actions were run for."""
    clock.tick()
    sent = len(evaluator.notifier.sent)
    evaluator.run()
    return [payload["current"] for _, payload in evaluator.notifier.sent[sent:]]


def test_the_database_holds_only_the_alarming_tables(manager: AlarmingManager) -> None:
    with manager.core.db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert {
        t
        for t in tables
        if not t.startswith(("alarming_", "quota_", "alembic_", "injected_faults"))
    } == set()


def test_a_threshold_alarm_moves_and_acts_once_per_change(
    manager: AlarmingManager, metric: FakeMetricSession, run: tuple[AlarmEvaluator, Clock]
) -> None:
    evaluator, clock = run
    alarm = _alarm(manager, _rule(MINE))
    metric.values[MINE] = [10, 20]
    assert _cycle(evaluator, clock) == ["ok"]
    metric.values[MINE] = [10, 20, 90]  # the last two disagree: a trend, not a change
    assert _cycle(evaluator, clock) == []
    assert manager.get_alarm(OWNER, alarm)["state"] == "ok"
    metric.values[MINE] = [10, 90, 95]
    assert _cycle(evaluator, clock) == ["alarm"]
    assert _cycle(evaluator, clock) == []  # still alarm: no action again
    state = manager.get_alarm(OWNER, alarm)
    assert state["state"] == "alarm"
    assert state["state_reason"].startswith("Transition to alarm due to 2 samples outside")
    metric.values[MINE] = [20, 30]
    assert _cycle(evaluator, clock) == ["ok"]
    metric.values[MINE] = []
    assert _cycle(evaluator, clock) == ["insufficient data"]


def test_from_insufficient_data_a_trend_decides(
    manager: AlarmingManager, metric: FakeMetricSession, run: tuple[AlarmEvaluator, Clock]
) -> None:
    evaluator, clock = run
    _alarm(manager, _rule(MINE))
    metric.values[MINE] = [10, 90]  # the most recent is outside
    assert _cycle(evaluator, clock) == ["alarm"]


def test_repeat_actions_act_at_every_evaluation(
    manager: AlarmingManager, metric: FakeMetricSession, run: tuple[AlarmEvaluator, Clock]
) -> None:
    evaluator, clock = run
    _alarm(manager, _rule(MINE), repeat_actions=True)
    metric.values[MINE] = [90, 95]
    assert _cycle(evaluator, clock) == ["alarm"]
    assert _cycle(evaluator, clock) == ["alarm"]


def test_a_composite_rule_combines_its_rules(
    manager: AlarmingManager, metric: FakeMetricSession, run: tuple[AlarmEvaluator, Clock]
) -> None:
    evaluator, clock = run
    metric.values[MINE] = [90, 95]
    inner = [{"type": "gnocchi_resources_threshold", **_rule(MINE)},
             {"type": "gnocchi_resources_threshold", **_rule(MINE, threshold=99)}]  # fmt: skip
    either = manager.alarms.create(
        OWNER, {"name": "or", "type": "composite", "composite_rule": {"or": inner}}
    )["alarm_id"]
    both = manager.alarms.create(
        OWNER, {"name": "and", "type": "composite", "composite_rule": {"and": inner}}
    )["alarm_id"]
    _cycle(evaluator, clock)
    assert manager.get_alarm(OWNER, either)["state"] == "alarm"
    assert manager.get_alarm(OWNER, both)["state"] == "ok"


def test_an_alarm_never_reads_a_resource_of_another_project(
    manager: AlarmingManager, metric: FakeMetricSession, run: tuple[AlarmEvaluator, Clock]
) -> None:
    evaluator, clock = run
    metric.values[THEIRS] = [90, 95]
    alarm = _alarm(manager, _rule(THEIRS), state="ok")
    assert _cycle(evaluator, clock) == ["insufficient data"]
    assert "does not exists" in manager.get_alarm(OWNER, alarm)["state_reason"]
