"""The alarm evaluator: every ``alarming.evaluation_interval`` seconds, each enabled
alarm against the Metric API's aggregates (Aodh's threshold and composite
evaluators).

For a threshold rule the window is ``granularity * (evaluation_periods + 1)``
seconds back from now; the points at the rule's granularity are kept and the
last ``evaluation_periods`` of them compared with the threshold:

- fewer points than ``evaluation_periods``: ``insufficient data``;
- all outside: ``alarm``; all inside: ``ok``;
- mixed: the alarm keeps its state (or, from ``insufficient data``, takes the
  newest point's side).

A transition (or every evaluation with ``repeat_actions``) runs the actions of
the new state.  Alarms are claimed by updating their ``evaluate_timestamp``
only when it is still the one read, so several controllers never evaluate the
same alarm in one cycle.  A non-administrator's alarm only reads resources and
metrics of its own project.
"""

from __future__ import annotations

import datetime
import json
import logging
import operator
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from onestack.alarming import cron
from onestack.alarming.core import AlarmingCore, new_id
from onestack.alarming.models import Alarm, AlarmChange, Counter
from onestack.alarming.notifier import Notifier
from onestack.common.db import utcnow
from onestack.common.keystone_client import ServiceError

LOG = logging.getLogger(__name__)

UNKNOWN, OK, ALARM = "insufficient data", "ok", "alarm"
COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    "gt": operator.gt,
    "lt": operator.lt,
    "ge": operator.ge,
    "le": operator.le,
    "eq": operator.eq,
    "ne": operator.ne,
}
ACTIONS = {OK: "ok_actions", ALARM: "alarm_actions", UNKNOWN: "insufficient_data_actions"}
STATE_CHANGE = {
    ALARM: "outside their threshold.",
    OK: "inside their threshold.",
    UNKNOWN: "state evaluated to unknown.",
}


class InsufficientData(Exception):
    def __init__(self, reason: str, statistics: list[float]) -> None:
        super().__init__(reason)
        self.reason = reason
        self.statistics = statistics


def _plain(method: str) -> str:
    """Aodh's ``aggregation_method.lstrip('rate:')``: the series a ``rate:`` aggregate
    is computed over."""
    return method.lstrip("rate:")


class Evaluation:
    """One threshold rule's outcome."""

    def __init__(
        self,
        state: str | None,
        trending: str | None,
        statistics: list[float],
        outside: int,
        unknown_reason: str | None = None,
    ) -> None:
        self.state = state
        self.trending = trending
        self.statistics = statistics
        self.outside = outside
        self.unknown_reason = unknown_reason


class AlarmEvaluator:
    def __init__(
        self, core: AlarmingCore, notifier: Notifier, now: Callable[[], datetime.datetime] = utcnow
    ) -> None:
        self.core = core
        self.notifier = notifier
        self.now = now
        #: alarms evaluated since start (tests and status read it)
        self.evaluations = 0

    # -- the cycle -------------------------------------------------------------------

    def run(self) -> int:
        """Evaluate the alarms due now; how many were evaluated."""
        interval = self.core.settings.evaluation_interval
        before = self.now() - datetime.timedelta(seconds=interval / 2)
        with self.core.db.reader() as session:
            due = list(
                session.scalars(
                    select(Alarm).where(Alarm.enabled.is_(True), Alarm.evaluate_timestamp < before)
                )
            )
        done = 0
        for alarm in due:
            if not self._claim(alarm):
                continue
            try:
                self.evaluate(alarm)
            except Exception:
                LOG.exception("alarming: failed to evaluate alarm %s", alarm.alarm_id)
            done += 1
        self.evaluations += done
        return done

    def _claim(self, alarm: Alarm) -> bool:
        with self.core.db.writer() as session:
            claimed = session.execute(
                update(Alarm)
                .where(
                    Alarm.alarm_id == alarm.alarm_id,
                    Alarm.evaluate_timestamp == alarm.evaluate_timestamp,
                )
                .values(evaluate_timestamp=self.now())
                .execution_options(synchronize_session=False)
            )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]

    def evaluate(self, alarm: Alarm) -> None:
        if not self._within_constraints(alarm):
            return
        if alarm.type == "composite":
            self._composite(alarm)
            return
        evaluation = self.evaluate_rule(alarm.type, alarm.rule, alarm.scope_project_id)
        self._transition(alarm, evaluation)
        if evaluation.state is not None:
            self._count(alarm, evaluation.state)

    def _within_constraints(self, alarm: Alarm) -> bool:
        if not alarm.time_constraints:
            return True
        now = self.now()
        return any(
            cron.within(tc["start"], int(tc["duration"]), tc.get("timezone") or "", now)
            for tc in alarm.time_constraints
        )

    # -- statistics -------------------------------------------------------------------

    def _window(self, rule: dict[str, Any]) -> tuple[str, str]:
        now = self.now()
        seconds = rule["granularity"] * (rule["evaluation_periods"] + 1) + (
            self.core.settings.additional_ingestion_lag
        )
        return (now - datetime.timedelta(seconds=seconds)).isoformat(), now.isoformat()

    def _statistics(self, rule_type: str, rule: dict[str, Any], scope: str | None) -> Any:
        session = self.core.session()
        start, stop = self._window(rule)
        method = rule["aggregation_method"]
        params = {"granularity": rule["granularity"], "start": start, "stop": stop}
        try:
            if rule_type == "gnocchi_resources_threshold":
                resource_id = rule["resource_id"]
                if scope and not self._owned_resource(resource_id, scope):
                    raise InsufficientData(f"resource {resource_id} does not exists", [])
                return session.request(
                    "metric",
                    "GET",
                    f"/v1/resource/generic/{resource_id}/metric/{rule['metric']}/measures",
                    params={**params, "aggregation": method},
                )
            if rule_type == "gnocchi_aggregation_by_metrics_threshold":
                metrics = rule["metrics"]
                if scope and not all(self._owned_metric(m, scope) for m in metrics):
                    raise InsufficientData(f"At least of metrics in {metrics} does not exist", [])
                operations = [
                    "aggregate",
                    method,
                    ["metric", *[[m, _plain(method)] for m in metrics]],
                ]
                return session.request(
                    "metric", "POST", "/v1/aggregates",
                    json={"operations": operations}, params={**params, "needed_overlap": 0},
                )  # fmt: skip
            operations = ["aggregate", method, ["metric", rule["metric"], _plain(method)]]
            return session.request(
                "metric", "POST", "/v1/aggregates",
                json={"operations": operations, "search": json.loads(rule["query"]),
                      "resource_type": rule["resource_type"]},
                params={**params, "needed_overlap": 0},
            )  # fmt: skip
        except ServiceError as exc:
            if exc.status == 404:
                raise InsufficientData(f"{rule.get('metric') or rule.get('metrics')} "
                                       f"does not exist: {exc.message}", []) from None  # fmt: skip
            LOG.warning("alarming: alarm statistics retrieval failed: %s", exc)
            raise InsufficientData(f"alarm statistics retrieval failed: {exc}", []) from None

    def _owned_resource(self, resource_id: str, project: str) -> bool:
        try:
            found = self.core.session().request(
                "metric", "GET", f"/v1/resource/generic/{resource_id}"
            )
        except ServiceError:
            return False
        return project in (found.get("project_id"), found.get("created_by_project_id"))

    def _owned_metric(self, metric_id: str, project: str) -> bool:
        try:
            found = self.core.session().request("metric", "GET", f"/v1/metric/{metric_id}")
        except ServiceError:
            return False
        resource = found.get("resource") or {}
        return project in (resource.get("project_id"), found.get("created_by_project_id"))

    @staticmethod
    def _sanitize(rule: dict[str, Any], statistics: Any) -> list[float]:
        if isinstance(statistics, dict):
            statistics = statistics["measures"]["aggregated"]
        values = [
            float(point[2])
            for point in statistics or []
            if float(point[1]) == float(rule["granularity"]) and point[2] is not None
        ]
        if not values:
            raise InsufficientData(f"No datapoint for granularity {rule['granularity']}", [])
        return values[-rule["evaluation_periods"] :]

    def evaluate_rule(self, rule_type: str, rule: dict[str, Any], scope: str | None) -> Evaluation:
        try:
            statistics = self._sanitize(rule, self._statistics(rule_type, rule, scope))
            if len(statistics) < rule["evaluation_periods"]:
                raise InsufficientData(
                    f"{rule['evaluation_periods']} datapoints are unknown", statistics
                )
        except InsufficientData as exc:
            return Evaluation(UNKNOWN, None, exc.statistics, 0, exc.reason)
        compare = COMPARATORS[rule["comparison_operator"]]
        compared = [compare(value, rule["threshold"]) for value in statistics]
        outside = sum(1 for c in compared if c)
        if all(compared) or not any(compared):
            return Evaluation(ALARM if all(compared) else OK, None, statistics, outside)
        return Evaluation(None, ALARM if compared[-1] else OK, statistics, outside)

    # -- transitions --------------------------------------------------------------------

    @staticmethod
    def _reason(alarm: Alarm, evaluation: Evaluation, state: str) -> tuple[str, dict[str, Any]]:
        statistics = evaluation.statistics
        if state == OK:
            disposition, count = "inside", len(statistics) - evaluation.outside
        else:
            disposition, count = "outside", evaluation.outside
        last = statistics[-1] if statistics else None
        data = {"type": "threshold", "disposition": disposition, "count": count,
                "most_recent": last}  # fmt: skip
        verb = "Transition to" if alarm.state != state else "Remaining as"
        return (
            f"{verb} {state} due to {count} samples {disposition} threshold, most recent: {last}",
            data,
        )

    def _transition(self, alarm: Alarm, evaluation: Evaluation) -> None:
        unknown = alarm.state == UNKNOWN
        continuous = alarm.repeat_actions
        state = evaluation.state
        if evaluation.trending:
            if unknown or continuous:
                new = evaluation.trending if unknown else alarm.state
                reason, data = self._reason(alarm, evaluation, new)
                self._refresh(alarm, new, reason, data)
            return
        if state == UNKNOWN and not unknown:
            last = evaluation.statistics[-1] if evaluation.statistics else None
            data = {"type": "threshold", "disposition": "unknown",
                    "count": alarm.rule.get("evaluation_periods"), "most_recent": last}  # fmt: skip
            self._refresh(alarm, UNKNOWN, evaluation.unknown_reason or "", data)
        elif state and (alarm.state != state or continuous):
            reason, data = self._reason(alarm, evaluation, state)
            self._refresh(alarm, state, reason, data)

    def _refresh(self, alarm: Alarm, state: str, reason: str, data: dict[str, Any]) -> None:
        previous = alarm.state
        if previous != state:
            LOG.info("alarm %s transitioning to %s because %s", alarm.alarm_id, state, reason)
            now = self.now()
            with self.core.db.writer() as session:
                row = session.get(Alarm, alarm.alarm_id)
                if row is None:
                    LOG.warning("alarming: alarm %s was deleted meanwhile", alarm.alarm_id)
                    return
                row.state, row.state_reason, row.state_timestamp = state, reason, now
                if self.core.settings.record_history:
                    service = self.core.session()
                    session.add(
                        AlarmChange(
                            event_id=new_id(),
                            alarm_id=alarm.alarm_id,
                            on_behalf_of=alarm.project_id,
                            project_id=service.project_id,
                            user_id=service.user_id,
                            type="state transition",
                            detail=json.dumps({"state": state, "transition_reason": reason}),
                            timestamp=now,
                            severity=alarm.severity,
                        )
                    )
            alarm.state = state
        actions = list(getattr(alarm, ACTIONS[state]) or [])
        if not actions:
            return
        self.notifier.notify(
            actions,
            {
                "alarm_name": alarm.name,
                "alarm_id": alarm.alarm_id,
                "severity": alarm.severity,
                "previous": previous,
                "current": state,
                "reason": reason,
                "reason_data": data,
            },
        )

    def _count(self, alarm: Alarm, state: str) -> None:
        key = state.replace(" ", "_")
        with self.core.db.writer() as session:
            counter = session.get(Counter, (alarm.alarm_id, key))
            if counter is None:
                session.add(Counter(alarm_id=alarm.alarm_id, state=key, project_id=alarm.project_id,
                                    value=1))  # fmt: skip
            else:
                counter.value += 1

    # -- composite rules -----------------------------------------------------------------

    def _composite(self, alarm: Alarm) -> None:
        leaves: list[tuple[str, dict[str, Any], Evaluation]] = []

        def walk(rule: Any) -> tuple[Callable[[], bool], Callable[[], bool], str]:
            if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in ("and", "or"):
                key = next(iter(rule))
                parts = [walk(r) for r in rule[key]]
                text = "(" + f" {key} ".join(p[2] for p in parts) + ")"
                if key == "and":
                    return (lambda: all(p[0]() for p in parts),
                            lambda: any(p[1]() for p in parts), text)  # fmt: skip
                return (lambda: any(p[0]() for p in parts),
                        lambda: all(p[1]() for p in parts), text)  # fmt: skip
            evaluation = self.evaluate_rule(rule["type"], rule, alarm.scope_project_id)
            name = f"rule{len(leaves) + 1}"
            leaves.append((name, rule, evaluation))
            return (lambda: evaluation.state == ALARM, lambda: evaluation.state == OK, name)

        is_alarm, is_ok, expression = walk(alarm.rule)
        for _, _, evaluation in leaves:
            if evaluation.trending is not None:
                if alarm.state == UNKNOWN:
                    evaluation.state = evaluation.trending
                elif evaluation.trending == ALARM:
                    evaluation.state = OK
                elif evaluation.trending == OK:
                    evaluation.state = ALARM
                else:
                    evaluation.state = alarm.state
        for state, holds in ((ALARM, is_alarm), (OK, is_ok)):
            if holds():
                self._composite_refresh(alarm, state, expression, leaves)
                self._count(alarm, state)
                return
        if alarm.state != UNKNOWN:
            self._composite_refresh(alarm, UNKNOWN, expression, leaves)
        self._count(alarm, UNKNOWN)

    def _composite_refresh(
        self,
        alarm: Alarm,
        state: str,
        expression: str,
        leaves: list[tuple[str, dict[str, Any], Evaluation]],
    ) -> None:
        causes = {name: rule for name, rule, evaluation in leaves if evaluation.state == state}
        verb = "transition to" if alarm.state != state else "remaining as"
        reason = (
            f"Composite rule alarm with composition form: {expression} {verb} {state}, due to "
            f"rules: {', '.join(sorted(causes))} {STATE_CHANGE[state]}"
        )
        data = {"type": "composite", "composition_form": expression, "causative_rules": causes}
        if alarm.state != state or alarm.repeat_actions:
            self._refresh(alarm, state, reason, data)
