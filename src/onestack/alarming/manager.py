"""``AlarmingManager``: the alarming service's façade over its sub-managers
(alarms, quotas and counters), and the evaluator that runs with the server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.alarming import queries
from onestack.alarming.alarms import AlarmManager
from onestack.alarming.conf import AlarmingSettings
from onestack.alarming.core import AlarmingCore
from onestack.alarming.quotas import QuotaManager
from onestack.alarming.trusts import TrustClient
from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer

if TYPE_CHECKING:
    from onestack.alarming.evaluator import AlarmEvaluator
    from onestack.common.periodic import TaskRunner

ALARM_FIELDS = {
    "alarm_id", "name", "description", "enabled", "type", "state", "severity", "user_id",
    "project_id", "timestamp", "state_timestamp", "repeat_actions", "state_reason",
}  # fmt: skip
CHANGE_FIELDS = {
    "event_id", "alarm_id", "type", "detail", "project_id", "user_id", "on_behalf_of",
    "timestamp", "severity",
}  # fmt: skip


class AlarmingManager:
    def __init__(
        self, db: Database, enforcer: Enforcer, settings: AlarmingSettings, identity_url: str
    ) -> None:
        self.core = AlarmingCore(db, enforcer, settings, identity_url)
        self.alarms = AlarmManager(self.core, TrustClient(identity_url))
        self.quotas = QuotaManager(self.core)
        #: the evaluator and its task runner while the server runs
        self.runtime: tuple[AlarmEvaluator, TaskRunner] | None = None

    # -- AlarmService ------------------------------------------------------------------

    def create_alarm(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        return self.alarms.create(ctx, body)

    def get_alarm(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]:
        return self.alarms.get(ctx, alarm_id)

    def delete_alarm(self, ctx: RequestContext, alarm_id: str) -> None:
        self.alarms.delete(ctx, alarm_id)

    # -- complex queries -----------------------------------------------------------------

    def query_alarms(self, ctx: RequestContext, body: Any) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "telemetry:query_alarm")
        return queries.run(self.alarms.visible_rows(ctx), body, ALARM_FIELDS, "timestamp")

    def query_history(self, ctx: RequestContext, body: Any) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "telemetry:query_alarm_history")
        return queries.run(self.alarms.visible_changes(ctx), body, CHANGE_FIELDS, "timestamp")
