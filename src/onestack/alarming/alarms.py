"""Alarms: create, list (``q.field``/``q.op``/``q.value``), show, update (PUT), delete,
state, history — with Aodh's defaults, checks, ownership and trusts.

Ownership follows Aodh: a non-administrator creates alarms in its own project as
itself (naming another project answers 401), and sees only its project's alarms;
``trust+`` actions get a Keystone trust from the caller to the ``aodh`` user.
Every change is recorded in the alarm's history (``record_history``).
"""

from __future__ import annotations

import datetime
import json
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.alarming import cron, rules
from onestack.alarming.core import AlarmingCore, new_id
from onestack.alarming.exceptions import (
    AlarmNotFound,
    ClientSideError,
    InvalidInput,
    NotAuthorizedAction,
    OverQuota,
    ProjectNotAuthorized,
)
from onestack.alarming.models import Alarm, AlarmChange, Quota
from onestack.alarming.notifier import SCHEMES
from onestack.alarming.trusts import TrustClient, is_trust, owned_trusts, scrub
from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import NotSupported

STATES = ("ok", "alarm", "insufficient data")
SEVERITIES = ("low", "moderate", "critical")
REASON_DEFAULT = "Not evaluated yet"
REASON_MANUAL = "Manually set via API"
ACTION_FIELDS = ("ok_actions", "alarm_actions", "insufficient_data_actions")
QUERY_FIELDS = frozenset(
    (
        "all_projects",
        "user_id",
        "project_id",
        "type",
        "name",
        "enabled",
        "state",
        "severity",
        "timestamp",
        "repeat_actions",
    )
)
SORT_KEYS = frozenset(
    (
        "name",
        "timestamp",
        "state",
        "severity",
        "type",
        "alarm_id",
        "user_id",
        "project_id",
        "enabled",
        "state_timestamp",
        "repeat_actions",
        "description",
    )
)
_UNSUPPORTED_TYPES = ("event", "prometheus", "loadbalancer_member_health", "threshold")
_FIELDS = frozenset(
    (
        "alarm_id",
        "name",
        "description",
        "enabled",
        "ok_actions",
        "alarm_actions",
        "insufficient_data_actions",
        "repeat_actions",
        "type",
        "time_constraints",
        "project_id",
        "user_id",
        "timestamp",
        "state",
        "state_timestamp",
        "state_reason",
        "severity",
        "evaluate_timestamp",
    )
) | {f"{t}_rule" for t in (*rules.RULE_TYPES, *_UNSUPPORTED_TYPES)}


def stamp(value: datetime.datetime | None) -> str | None:
    """WSME's datetime: ISO 8601 without a zone (UTC)."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).replace(tzinfo=None).isoformat()


def alarm_view(row: Alarm) -> dict[str, Any]:
    body: dict[str, Any] = {
        "alarm_actions": [scrub(a) for a in row.alarm_actions or []],
        "ok_actions": [scrub(a) for a in row.ok_actions or []],
        "name": row.name,
        "timestamp": stamp(row.timestamp),
        "description": row.description or rules.default_description(row.type),
        "time_constraints": list(row.time_constraints or []),
        "enabled": row.enabled,
        "state_timestamp": stamp(row.state_timestamp),
        f"{row.type}_rule": row.rule,
        "alarm_id": row.alarm_id,
        "state": row.state,
        "insufficient_data_actions": [scrub(a) for a in row.insufficient_data_actions or []],
        "repeat_actions": row.repeat_actions,
        "user_id": row.user_id,
        "project_id": row.project_id,
        "type": row.type,
        "severity": row.severity,
        "state_reason": row.state_reason,
        "evaluate_timestamp": stamp(row.evaluate_timestamp),
    }
    return body


def change_view(row: AlarmChange) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "alarm_id": row.alarm_id,
        "type": row.type,
        "detail": row.detail,
        "project_id": row.project_id,
        "user_id": row.user_id,
        "on_behalf_of": row.on_behalf_of,
        "timestamp": stamp(row.timestamp),
        "severity": row.severity,
    }


@dataclass(frozen=True)
class Query:
    """One ``q.field``/``q.op``/``q.value``(/``q.type``) filter of the alarm list."""

    field: str
    op: str
    value: str
    type: str | None = None

    def converted(self) -> Any:
        kind = self.type
        if kind in (None, ""):
            if self.value in ("True", "true"):
                return True
            if self.value in ("False", "false"):
                return False
            return self.value
        try:
            if kind == "integer":
                return int(self.value)
            if kind == "float":
                return float(self.value)
            if kind == "boolean":
                lowered = self.value.lower()
                if lowered not in (
                    "1",
                    "0",
                    "true",
                    "false",
                    "t",
                    "f",
                    "yes",
                    "no",
                    "y",
                    "n",
                    "on",
                    "off",
                ):
                    raise ValueError(self.value)
                return lowered in ("1", "true", "t", "yes", "y", "on")
            if kind == "string":
                return self.value
            if kind == "datetime":
                return datetime.datetime.fromisoformat(self.value)
        except ValueError:
            raise ClientSideError(
                error=f"Unable to convert the value {self.value} to the expected data type {kind}."
            ) from None
        raise ClientSideError(
            error=f"The data type {kind} is not supported. The supported data type list is: "
            "['integer', 'float', 'string', 'boolean', 'datetime']"
        )


class AlarmManager:
    def __init__(self, core: AlarmingCore, trusts: TrustClient) -> None:
        self.core = core
        self.trusts = trusts

    # -- lookups ------------------------------------------------------------------------

    def _row(self, session: Session, ctx: RequestContext, alarm_id: str, rule: str) -> Alarm:
        row = session.get(Alarm, alarm_id)
        limited = self.core.limited_to_project(ctx)
        if row is None or (limited is not None and row.project_id != limited):
            raise AlarmNotFound(alarm_id=alarm_id)
        self.core.enforce(ctx, rule, {"user_id": row.user_id, "project_id": row.project_id})
        return row

    def get(self, ctx: RequestContext, alarm_id: str) -> dict[str, Any]:
        with self.core.db.reader() as session:
            return alarm_view(self._row(session, ctx, alarm_id, "telemetry:get_alarm"))

    # -- input -----------------------------------------------------------------------

    def _actions(self, ctx: RequestContext, data: dict[str, Any]) -> dict[str, list[str]]:
        limited = self.core.limited_to_project(ctx)
        maximum = self.core.settings.alarm_max_actions
        result: dict[str, list[str]] = {}
        for field in ACTION_FIELDS:
            given = data.get(field) or []
            if not isinstance(given, list) or not all(isinstance(a, str) for a in given):
                raise InvalidInput(field=field, value=given, reason="Wrong type. Expected a list.")
            actions = list(dict.fromkeys(given))
            if 0 < maximum < len(actions):
                raise ClientSideError(error=f"{field} count exceeds maximum value {maximum}")
            for action in actions:
                try:
                    url = urlsplit(action)
                except ValueError:
                    raise ClientSideError(error=f"Unable to parse action {action}") from None
                if url.scheme not in SCHEMES:
                    raise ClientSideError(error=f"Unsupported action {action}")
                if limited and url.scheme in ("log", "test"):
                    raise NotAuthorizedAction(action=action)
            result[field] = actions
        return result

    def _time_constraints(self, given: Any) -> list[dict[str, Any]]:
        if given in (None, []):
            return []
        if not isinstance(given, list):
            raise InvalidInput(field="time_constraints", value=given, reason="Wrong type.")
        constraints = []
        for item in given:
            if (
                not isinstance(item, dict)
                or "name" not in item
                or "start" not in item
                or ("duration" not in item)
            ):
                raise InvalidInput(
                    field="time_constraints", value=item, reason="Mandatory field missing."
                )
            try:
                cron.parse(str(item["start"]))
            except ValueError as exc:
                raise InvalidInput(field="start", value=item["start"], reason=str(exc)) from None
            duration = item["duration"]
            if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
                raise InvalidInput(field="duration", value=duration,
                                   reason="Value should be greater or equal to 0")  # fmt: skip
            timezone = item.get("timezone") or ""
            if timezone:
                try:
                    cron.within(str(item["start"]), 0, timezone, utcnow())
                except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                    raise ClientSideError(error=f"Timezone {timezone} is not valid") from None
            constraints.append(
                {
                    "name": str(item["name"]),
                    "description": item.get("description")
                    or f"Time constraint at {item['start']} lasting for {duration} seconds",
                    "start": str(item["start"]),
                    "duration": duration,
                    "timezone": timezone,
                }
            )
        names = [c["name"] for c in constraints]
        if len(names) != len(set(names)):
            raise ClientSideError(error="Time constraint names must be unique for a given alarm.")
        return constraints

    def _validated(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        """The alarm's fields from a create or update body, checked (Aodh's Alarm type)."""
        if not isinstance(body, dict):
            raise ClientSideError(error="The alarm must be a JSON object")
        unknown = set(body) - _FIELDS
        if unknown:
            raise ClientSideError(
                error=f"Unknown attribute for argument data: {', '.join(sorted(unknown))}"
            )
        if body.get("name") is None:
            raise InvalidInput(field="name", value="Unset", reason="Mandatory field missing.")
        alarm_type = body.get("type")
        if alarm_type is None:
            raise InvalidInput(field="type", value="Unset", reason="Mandatory field missing.")
        if alarm_type in _UNSUPPORTED_TYPES:
            raise NotSupported(operation=f"Alarms of type {alarm_type}")
        if alarm_type not in rules.RULE_TYPES:
            raise InvalidInput(
                field="type",
                value=alarm_type,
                reason=f"Value should be one of: {', '.join(rules.RULE_TYPES)}",
            )
        set_rules = [k for k in body if k.endswith("_rule") and body[k] is not None]
        if f"{alarm_type}_rule" not in set_rules:
            raise ClientSideError(
                error=f"{alarm_type}_rule must be set for {alarm_type} type alarm"
            )
        if len(set_rules) > 1:
            first, second = sorted(set_rules)[:2]
            raise ClientSideError(error=f"{first} and {second} cannot be set at the same time")
        rule_data = body[f"{alarm_type}_rule"]
        methods = self.core.aggregation_methods
        if alarm_type == "composite":
            rule: Any = rules.composite_rule(rule_data, methods)
        else:
            rule = rules.threshold_rule(alarm_type, rule_data, methods)
        for field, allowed in (("severity", SEVERITIES), ("state", STATES)):
            value = body.get(field)
            if value is not None and value not in allowed:
                raise InvalidInput(
                    field=field, value=value, reason=f"Value should be one of: {', '.join(allowed)}"
                )
        for field in ("enabled", "repeat_actions"):
            if field in body and body[field] is not None and not isinstance(body[field], bool):
                raise InvalidInput(field=field, value=body[field], reason="Wrong type.")
        description = body.get("description")
        if description is not None and not isinstance(description, str):
            raise InvalidInput(field="description", value=description, reason="Wrong type.")
        return {
            "name": str(body["name"]),
            "type": alarm_type,
            "rule": rule,
            "description": description,
            "enabled": body.get("enabled", True) if body.get("enabled") is not None else True,
            "repeat_actions": bool(body.get("repeat_actions") or False),
            "severity": body.get("severity") or "low",
            "state": body.get("state") or "insufficient data",
            "time_constraints": self._time_constraints(body.get("time_constraints")),
            **self._actions(ctx, body),
        }

    def _owner(self, ctx: RequestContext, body: dict[str, Any]) -> tuple[str | None, str | None]:
        """(user_id, project_id) of a new alarm (Aodh's ``_set_ownership``)."""
        limited = self.core.limited_to_project(ctx)
        owners: list[str | None] = []
        for aspect, caller in (("user", ctx.user_id), ("project", ctx.project_id)):
            requested = body.get(f"{aspect}_id")
            if limited and requested is not None and requested != caller:
                raise ProjectNotAuthorized(aspect=aspect, id=requested)
            owners.append(requested if requested is not None else caller)
        return owners[0], owners[1]

    def _scope(
        self, ctx: RequestContext, alarm_type: str, rule: Any, project_id: str | None
    ) -> str | None:
        """The project a non-administrator's alarm may read resources of (Aodh's
        ``get_auth_project``); for a query rule, the query is scoped to it here."""
        limited = self.core.limited_to_project(ctx)
        scope = limited
        if limited is None and project_id != ctx.project_id:
            scope = project_id  # an admin acting on behalf of another project
        if scope and alarm_type == "gnocchi_aggregation_by_resources_threshold":
            rule["query"] = json.dumps(self._scoped_query(json.loads(rule["query"]), scope))
        if scope and alarm_type == "composite":
            self._scope_composite(rule, scope)
        return scope

    def _scope_composite(self, rule: Any, scope: str) -> None:
        if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in ("and", "or"):
            for item in next(iter(rule.values())):
                self._scope_composite(item, scope)
        elif isinstance(rule, dict) and rule.get("type") == (
            "gnocchi_aggregation_by_resources_threshold"
        ):
            rule["query"] = json.dumps(self._scoped_query(json.loads(rule["query"]), scope))

    def _scoped_query(self, query: Any, project: str) -> Any:
        owner = self.core.settings.gnocchi_external_project_owner
        allowed: Any = {"=": {"created_by_project_id": project}}
        service_project = self._service_project_id(owner)
        if service_project:
            allowed = {
                "or": [
                    allowed,
                    {
                        "and": [
                            {"=": {"created_by_project_id": service_project}},
                            {"=": {"project_id": project}},
                        ]
                    },
                ]
            }
        return {"and": [allowed, query]} if query else allowed

    def _service_project_id(self, name: str) -> str | None:
        """The id of the project the metering poller records resources from (by name)."""
        return self.core.project_id(name)

    # -- create / update / delete ------------------------------------------------------------

    def _over_quota(self, session: Session, project_id: str | None, user_id: str | None) -> bool:
        settings = self.core.settings
        project_alarms = (
            session.scalar(
                select(func.count()).select_from(Alarm).where(Alarm.project_id == project_id)
            )
            or 0
        )
        user_alarms = (
            session.scalar(select(func.count()).select_from(Alarm).where(Alarm.user_id == user_id))
            or 0
        )
        quota = session.get(Quota, (project_id or "", "alarms"))
        if quota is not None:
            if quota.limit != -1 and project_alarms >= quota.limit:
                return True
        elif settings.project_alarm_quota != -1 and project_alarms >= settings.project_alarm_quota:
            return True
        return settings.user_alarm_quota != -1 and user_alarms >= settings.user_alarm_quota

    def _with_trusts(
        self, ctx: RequestContext, actions: dict[str, list[str]], previous: set[str]
    ) -> dict[str, list[str]]:
        """Actions with the alarm's trust in their ``trust+`` URLs (Aodh's ``update_actions``);
        trusts no longer used are deleted."""
        trust_id = next(iter(previous), None)
        used = False
        result: dict[str, list[str]] = {}
        for field in ACTION_FIELDS:
            rewritten = []
            for action in actions[field]:
                url = urlsplit(action)
                if is_trust(url):
                    if "@" in url.netloc:
                        raise ClientSideError(error="trust URL cannot contain a trust ID.")
                    if trust_id is None:
                        trustee = self.core.session().user_id
                        trust_id = self.trusts.create(ctx, trustee)
                    secret = "" if used else ":delete"
                    used = True
                    action = SplitResult(
                        url.scheme, f"{trust_id}{secret}@{url.netloc}", url.path, url.query,
                        url.fragment,
                    ).geturl()  # fmt: skip
                rewritten.append(action)
            result[field] = rewritten
        stale = set(previous)
        if used and trust_id is not None:
            stale.discard(trust_id)
        for old in stale:
            self.trusts.delete(ctx, old)
        return result

    def _record(
        self,
        session: Session,
        ctx: RequestContext,
        alarm: Alarm,
        kind: str,
        detail: dict[str, Any],
        on_behalf_of: str | None,
        when: datetime.datetime,
    ) -> None:
        if not self.core.settings.record_history:
            return
        session.add(
            AlarmChange(
                event_id=new_id(),
                alarm_id=alarm.alarm_id,
                on_behalf_of=on_behalf_of,
                project_id=ctx.project_id,
                user_id=ctx.user_id,
                type=kind,
                detail=json.dumps(detail),
                timestamp=when,
                severity=detail.get("severity", alarm.severity),
            )
        )

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        self.core.enforce(ctx, "telemetry:create_alarm")
        fields = self._validated(ctx, body)
        user_id, project_id = self._owner(ctx, body)
        now = utcnow()
        scope = self._scope(ctx, fields["type"], fields["rule"], project_id)
        actions = {f: fields.pop(f) for f in ACTION_FIELDS}
        with self.core.db.reader() as session:
            if self._over_quota(session, project_id, user_id):
                raise OverQuota(user_id=user_id, project_id=project_id)
        # the trust is made through the identity API: never inside a write transaction
        actions = self._with_trusts(ctx, actions, set())
        try:
            with self.core.db.writer() as session:
                row = Alarm(
                    alarm_id=new_id(),
                    user_id=user_id,
                    project_id=project_id,
                    timestamp=now,
                    state_timestamp=now,
                    evaluate_timestamp=now,
                    state_reason=REASON_DEFAULT,
                    scope_project_id=scope,
                    **fields,
                    **actions,
                )
                session.add(row)
                session.flush()
                view = alarm_view(row)
                detail = {k: x for k, x in view.items() if k not in ("evaluate_timestamp",)}
                self._record(session, ctx, row, "creation", detail, ctx.project_id, now)
                return view
        except BaseException:
            for trust_id in owned_trusts([a for group in actions.values() for a in group]):
                self.trusts.delete(ctx, trust_id)
            raise

    def update(self, ctx: RequestContext, alarm_id: str, body: Any) -> dict[str, Any]:
        with self.core.db.reader() as session:
            current = self._row(session, ctx, alarm_id, "telemetry:change_alarm")
            previous = owned_trusts(
                [*current.ok_actions, *current.alarm_actions, *current.insufficient_data_actions]
            )
        fields = self._validated(ctx, body)
        actions = {f: fields.pop(f) for f in ACTION_FIELDS}
        # the alarm's own trust is kept where its trust+ actions stay (through the
        # identity API: never inside a write transaction)
        actions = self._with_trusts(ctx, actions, previous)
        limited = self.core.limited_to_project(ctx)
        user_id = ctx.user_id if limited else (body.get("user_id") or current.user_id)
        project_id = ctx.project_id if limited else (body.get("project_id") or current.project_id)
        scope = self._scope(ctx, fields["type"], fields["rule"], project_id)
        with self.core.db.writer() as session:
            row = self._row(session, ctx, alarm_id, "telemetry:change_alarm")
            old = alarm_view(row)
            now = utcnow()
            if fields["state"] != row.state:
                row.state_timestamp = now
                row.state_reason = REASON_MANUAL
            row.scope_project_id = scope
            for key, value in {**fields, **actions}.items():
                setattr(row, key, value)
            row.user_id, row.project_id, row.timestamp = user_id, project_id, now
            session.flush()
            view = alarm_view(row)
            change = {
                k: v
                for k, v in view.items()
                if v != old.get(k) and k not in ("timestamp", "state_timestamp")
            }
            if change:
                self._record(session, ctx, row, "rule change", change, row.project_id, now)
            return view

    def delete(self, ctx: RequestContext, alarm_id: str) -> None:
        with self.core.db.writer() as session:
            row = self._row(session, ctx, alarm_id, "telemetry:delete_alarm")
            trusts = owned_trusts(
                [*row.ok_actions, *row.alarm_actions, *row.insufficient_data_actions]
            )
            self._record(session, ctx, row, "deletion", {"state": row.state}, ctx.project_id,
                         utcnow())  # fmt: skip
            session.delete(row)
        for trust_id in trusts:
            self.trusts.delete(ctx, trust_id)

    # -- state and history ----------------------------------------------------------------

    def get_state(self, ctx: RequestContext, alarm_id: str) -> str:
        with self.core.db.reader() as session:
            return self._row(session, ctx, alarm_id, "telemetry:get_alarm_state").state

    def set_state(self, ctx: RequestContext, alarm_id: str, state: Any) -> str:
        if state not in STATES:
            raise ClientSideError(error="state invalid")
        with self.core.db.writer() as session:
            row = self._row(session, ctx, alarm_id, "telemetry:change_alarm_state")
            now = utcnow()
            row.state, row.state_timestamp, row.state_reason = state, now, REASON_MANUAL
            detail = {"state": state, "state_reason": REASON_MANUAL}
            self._record(session, ctx, row, "state transition", detail, row.project_id, now)
            return str(row.state)

    def history(
        self, ctx: RequestContext, alarm_id: str, queries: list[Query], limit: int | None,
        sort: list[str],
    ) -> list[dict[str, Any]]:  # fmt: skip
        with self.core.db.reader() as session:
            self._row(session, ctx, alarm_id, "telemetry:alarm_history")
        # history outlives a deleted alarm; what another project did stays hidden
        limited = self.core.limited_to_project(ctx)
        with self.core.db.reader() as session:
            query = select(AlarmChange).where(AlarmChange.alarm_id == alarm_id)
            if limited is not None:
                query = query.where(AlarmChange.on_behalf_of == limited)
            rows = list(session.scalars(query))
        items = [change_view(r) for r in rows]
        items = _filter(items, queries, allowed=("type", "severity", "timestamp", "user_id",
                                                 "project_id", "on_behalf_of"))  # fmt: skip
        items = _sorted(items, sort or ["timestamp:desc"], {"timestamp", "type", "severity",
                                                          "event_id"})  # fmt: skip
        return items[:limit] if limit else items

    # -- listing ------------------------------------------------------------------------------

    def list_alarms(
        self, ctx: RequestContext, queries: list[Query], limit: int | None, marker: str | None,
        sort: list[str],
    ) -> list[dict[str, Any]]:  # fmt: skip
        self.core.enforce(ctx, "telemetry:get_alarms")
        fields = {q.field for q in queries}
        if not fields <= QUERY_FIELDS:
            raise InvalidInput(
                field="field", value=sorted(fields),
                reason=f"only fields {sorted(QUERY_FIELDS)} are allowed",
            )  # fmt: skip
        ops = {q.op for q in queries}
        if ops - {"eq"}:
            raise InvalidInput(field="op", value=sorted(ops),
                               reason="only operations ['eq'] are allowed")  # fmt: skip
        filters = [q for q in queries if q.field != "all_projects"]
        all_projects = any(
            q.field == "all_projects" and q.converted() in (True, "True", "true", "1")
            for q in queries
        )
        limited = self.core.limited_to_project(ctx)
        if all_projects:
            self.core.enforce(ctx, "telemetry:get_alarms:all_projects")
        else:
            asked = [q for q in filters if q.field == "project_id"]
            if not asked:
                filters.append(Query("project_id", "eq", ctx.project_id or ""))
            elif limited is not None and asked[0].value != ctx.project_id:
                raise ProjectNotAuthorized(aspect="project", id=asked[0].value)
        with self.core.db.reader() as session:
            rows = list(session.scalars(select(Alarm)))
        items = [alarm_view(r) for r in rows]
        items = _filter(items, filters, allowed=QUERY_FIELDS)
        items = _sorted(items, sort or ["timestamp:desc"], SORT_KEYS)
        if marker is not None:
            ids = [i["alarm_id"] for i in items]
            if marker not in ids:
                raise ClientSideError(error=f"Invalid marker: {marker}")
            items = items[ids.index(marker) + 1 :]
        return items[:limit] if limit else items

    def visible_rows(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every alarm the caller may see (the complex query's input)."""
        limited = self.core.limited_to_project(ctx)
        with self.core.db.reader() as session:
            query = select(Alarm)
            if limited is not None:
                query = query.where(Alarm.project_id == limited)
            return [alarm_view(r) for r in session.scalars(query)]

    def visible_changes(self, ctx: RequestContext) -> list[dict[str, Any]]:
        limited = self.core.limited_to_project(ctx)
        with self.core.db.reader() as session:
            query = select(AlarmChange)
            if limited is not None:
                query = query.where(AlarmChange.on_behalf_of == limited)
            return [change_view(r) for r in session.scalars(query)]


def _filter(
    items: list[dict[str, Any]], queries: list[Query], allowed: Any
) -> list[dict[str, Any]]:
    for query in queries:
        value = query.converted()
        if query.field == "timestamp" and isinstance(value, datetime.datetime):
            wanted: Any = stamp(value.replace(tzinfo=value.tzinfo or datetime.UTC))
        else:
            wanted = value
        items = [i for i in items if _equal(i.get(query.field), wanted)]
    return items


def _equal(actual: Any, wanted: Any) -> bool:
    if isinstance(actual, bool) or isinstance(wanted, bool):
        return str(actual).lower() == str(wanted).lower()
    return bool(actual == wanted or str(actual) == str(wanted))


def _sorted(
    items: list[dict[str, Any]], sort: list[str], keys: set[str] | frozenset[str]
) -> list[dict[str, Any]]:
    for entry in reversed(sort):
        name, _, direction = entry.partition(":")
        if name not in keys:
            raise ClientSideError(error=f"Invalid sort key {name}")
        if direction not in ("", "asc", "desc"):
            raise ClientSideError(error=f"Invalid sort direction {direction}")
        items = sorted(
            items,
            key=_key_of(name),
            reverse=direction == "desc",
        )
    return items


def _key_of(name: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    return lambda item: (item.get(name) is None, str(item.get(name)))
