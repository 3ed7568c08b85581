"""Alarm quotas per project (``/v2/quotas``) and the evaluation counters (``/v2/metrics``)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select

from onestack.alarming.core import AlarmingCore
from onestack.alarming.exceptions import ClientSideError
from onestack.alarming.models import Counter, Quota
from onestack.common.context import RequestContext

RESOURCES = ("alarms",)
STATES = ("insufficient data", "ok", "alarm")


class QuotaManager:
    def __init__(self, core: AlarmingCore) -> None:
        self.core = core

    def get(self, ctx: RequestContext, project_id: str | None) -> dict[str, Any]:
        project = project_id or ctx.project_id or ""
        self.core.enforce(ctx, "telemetry:get_quotas", {"project_id": project})
        with self.core.db.reader() as session:
            rows = session.scalars(select(Quota).where(Quota.project_id == project))
            quotas = [{"resource": r.resource, "limit": r.limit} for r in rows]
        return {"project_id": project, "quotas": quotas}

    def set(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        self.core.enforce(ctx, "telemetry:update_quotas")
        if not isinstance(body, dict) or not isinstance(body.get("project_id"), str):
            raise ClientSideError(error="project_id is mandatory")
        quotas = body.get("quotas")
        if not isinstance(quotas, list):
            raise ClientSideError(error="quotas must be a list")
        project = body["project_id"]
        with self.core.db.writer() as session:
            for item in quotas:
                if not isinstance(item, dict) or item.get("resource") not in RESOURCES:
                    raise ClientSideError(
                        error=f"Invalid input for field/attribute resource. Value: "
                        f"'{item.get('resource') if isinstance(item, dict) else item}'. "
                        f"Value should be one of: {', '.join(RESOURCES)}"
                    )
                limit = item.get("limit")
                if isinstance(limit, bool) or not isinstance(limit, int) or limit < -1:
                    raise ClientSideError(
                        error=f"Invalid input for field/attribute limit. Value: '{limit}'."
                    )
                row = session.get(Quota, (project, item["resource"]))
                if row is None:
                    session.add(Quota(project_id=project, resource=item["resource"], limit=limit))
                else:
                    row.limit = limit
        return self.get(ctx, project)

    def delete(self, ctx: RequestContext, project_id: str) -> None:
        self.core.enforce(ctx, "telemetry:delete_quotas")
        with self.core.db.writer() as session:
            for row in session.scalars(select(Quota).where(Quota.project_id == project_id)):
                session.delete(row)

    def metrics(self, ctx: RequestContext, all_projects: bool) -> dict[str, Any]:
        target = {"project_id": ctx.project_id}
        if all_projects:
            self.core.enforce(ctx, "telemetry:get_metrics:all_projects", target)
        else:
            self.core.enforce(ctx, "telemetry:get_metrics", target)
        with self.core.db.reader() as session:
            query = select(Counter)
            if not all_projects:
                query = query.where(Counter.project_id == ctx.project_id)
            grouped: dict[tuple[str | None, str], dict[str, int]] = defaultdict(dict)
            for row in session.scalars(query):
                grouped[(row.project_id, row.alarm_id)][row.state] = row.value
        return {
            "evaluation_results": [
                {
                    "alarm_id": alarm_id,
                    "project_id": project,
                    "state_counters": {s: states.get(s.replace(" ", "_"), 0) for s in STATES},
                }
                for (project, alarm_id), states in grouped.items()
            ]
        }
