"""Metrics and their measures: create, list, delete; add and read measures; batches.

Measures are stored and aggregated synchronously (``storage.MeasureStore``)
inside the request's transaction, so a 202 means the aggregates are already
readable and ``refresh=true`` has nothing left to process.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import PolicyNotAuthorized
from onestack.telemetry import validate as v
from onestack.telemetry.aggregation import Series, dedup_last, resample
from onestack.telemetry.archive_policies import ArchivePolicyManager, Policy, policy_view
from onestack.telemetry.core import TelemetryCore, creator_of, resource_uuid, split_creator
from onestack.telemetry.exceptions import (
    AggregationDoesNotExist,
    ArgumentError,
    BadRequest,
    Conflict,
    InvalidInput,
    NamedMetricAlreadyExists,
    NoSuchArchivePolicy,
    NoSuchMetric,
    NotFound,
    UnknownMetrics,
    UnknownResources,
)
from onestack.telemetry.models import ArchivePolicy, Metric, Resource
from onestack.telemetry.resources import ResourceManager
from onestack.telemetry.search import MeasurePredicate
from onestack.telemetry.storage import MeasureStore, Target
from onestack.telemetry.timeutil import (
    US,
    floor,
    format_measure_time,
    parse_timespan,
    parse_timestamp,
)

Measure = list[Any]  # [timestamp, granularity, value]


def _key_of(metric_id: str) -> int:
    return uuid.UUID(metric_id).int >> 65


def parse_measures(data: Any, path: list[str]) -> Series:
    """A body's measures ``[{"timestamp", "value"}]`` as a sorted series (last wins)."""
    if not isinstance(data, list):
        raise InvalidInput("unexpected measures format", path)
    stamps: list[int] = []
    values: list[float] = []
    for item in data:
        if not isinstance(item, dict) or "timestamp" not in item or "value" not in item:
            raise InvalidInput("unexpected measures format", path)
        try:
            stamps.append(parse_timestamp(item["timestamp"]))
        except ValueError as exc:
            raise InvalidInput(f"unexpected timestamp '{exc}'", path) from None
        value = item["value"]
        try:
            if isinstance(value, bool):
                raise TypeError
            values.append(float(value))
        except (TypeError, ValueError):
            raise InvalidInput("unexpected measures value", path) from None
    return dedup_last(stamps, values)


@dataclass(frozen=True)
class MeasureQuery:
    start: str | None = None
    stop: str | None = None
    aggregation: str = "mean"
    granularity: str | None = None
    resample: str | None = None
    refresh: str | None = None


def bounds(start: str | None, stop: str | None) -> tuple[int | None, int | None]:
    def one(name: str, value: str | None) -> int | None:
        if value is None:
            return None
        try:
            return parse_timestamp(value)
        except ValueError:
            raise ArgumentError(name, "Must be a datetime or a timestamp") from None

    return one("start", start), one("stop", stop)


def granularity_of(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_timespan(value)
    except ValueError as exc:
        raise ArgumentError("granularity", str(exc)) from None


def metric_view(
    row: Metric,
    policy: ArchivePolicy | None = None,
    resource: dict[str, Any] | bool | None = False,
) -> dict[str, Any]:
    """Gnocchi's metric: ``archive_policy`` when given (else its name), ``resource``
    when given (``False``: only ``resource_id``)."""
    user, project = split_creator(row.creator)
    body: dict[str, Any] = {
        "id": row.id,
        "creator": row.creator,
        "name": row.name,
        "unit": row.unit,
        "created_by_user_id": user,
        "created_by_project_id": project,
    }
    if resource is False:
        body["resource_id"] = row.resource_id
    else:
        body["resource"] = resource
    if policy is None:
        body["archive_policy_name"] = row.archive_policy_name
    else:
        body["archive_policy"] = policy_view(policy)
    return body


class MetricManager:
    """Metrics, measures and batches; also attaches metrics to resources."""

    def __init__(
        self,
        core: TelemetryCore,
        policies: ArchivePolicyManager,
        resources: ResourceManager,
        store: MeasureStore,
    ) -> None:
        self.core = core
        self.policies = policies
        self.resources = resources
        self.store = store

    # -- visibility ---------------------------------------------------------------

    def _target(self, session: Session, row: Metric) -> dict[str, Any]:
        user, project = split_creator(row.creator)
        resource_project = None
        if row.resource_id is not None:
            resource = session.get(Resource, row.resource_id)
            resource_project = resource.project_id if resource is not None else None
        return {
            "id": row.id,
            "creator": row.creator,
            "created_by_user_id": user,
            "created_by_project_id": project,
            "resource": {"project_id": resource_project},
            "name": row.name,
            "archive_policy_name": row.archive_policy_name,
        }

    def _visible(self, session: Session, ctx: RequestContext, row: Metric, rule: str) -> bool:
        return self.core.allowed(ctx, rule, self._target(session, row))

    def _row(self, session: Session, ctx: RequestContext, metric_id: str, rule: str) -> Metric:
        try:
            canonical = str(uuid.UUID(metric_id))
        except ValueError:
            raise NoSuchMetric(metric=metric_id) from None
        row = session.get(Metric, canonical)
        if row is None or not self._visible(session, ctx, row, "get metric"):
            raise NoSuchMetric(metric=metric_id)
        if rule != "get metric":
            self.core.enforce(ctx, rule, self._target(session, row))
        return row

    def _named(
        self,
        session: Session,
        ctx: RequestContext,
        type_name: str,
        resource_id: str,
        name: str,
        rule: str,
    ) -> Metric:
        resource = self.resources.find(session, ctx, type_name, resource_id, "get resource")
        row = session.scalar(
            select(Metric).where(Metric.resource_id == resource.id, Metric.name == name)
        )
        if row is None:
            raise NoSuchMetric(metric=name)
        self.core.enforce(ctx, rule, self._target(session, row))
        return row

    def lookup(
        self,
        session: Session,
        ctx: RequestContext,
        metric_id: str | None,
        named: tuple[str, str, str] | None,
        rule: str,
    ) -> Metric:
        if named is not None:
            return self._named(session, ctx, *named, rule)
        assert metric_id is not None
        return self._row(session, ctx, metric_id, rule)

    # -- create / show / list / delete ----------------------------------------------

    def _policy_name(self, session: Session, name: str | None, given: Any) -> str:
        if given is not None:
            if not isinstance(given, str):
                raise v.invalid("expected str", ["archive_policy_name"])
            return given
        found = self.policies.policy_name_for(session, name)
        if found is None:
            raise BadRequest(
                "No archive policy name specified and no archive policy rule found "
                f"matching the metric name {name}"
            )
        return found

    def _new(
        self,
        session: Session,
        creator: str,
        name: str | None,
        unit: str | None,
        policy_name: str,
        resource_id: str | None,
    ) -> Metric:
        if session.get(ArchivePolicy, policy_name) is None:
            raise BadRequest(
                f"Archive policy {policy_name} does not exist",
                {"cause": "Archive policy does not exist", "detail": policy_name},
            )
        if resource_id is not None and name is not None:
            exists = session.scalar(
                select(Metric.id).where(Metric.resource_id == resource_id, Metric.name == name)
            )
            if exists is not None:
                raise NamedMetricAlreadyExists(name)
        while True:
            metric_id = str(uuid.uuid4())
            key = _key_of(metric_id)
            if session.scalar(select(Metric.id).where(Metric.key == key)) is None:
                break
        user, project = split_creator(creator)
        row = Metric(
            id=metric_id,
            key=key,
            archive_policy_name=policy_name,
            creator=creator,
            created_by_user_id=user,
            created_by_project_id=project,
            resource_id=resource_id,
            name=name,
            unit=unit,
            last_raw=None,
            dropped=0,
        )
        session.add(row)
        session.flush()
        return row

    def _definition(self, data: Any, path: list[str]) -> dict[str, Any]:
        spec = v.mapping(data, path)
        v.keys(spec, path, ("archive_policy_name", "resource_id", "name", "unit"))
        for key in ("archive_policy_name", "name", "unit", "resource_id"):
            if key in spec and spec[key] is not None and not isinstance(spec[key], str):
                raise v.invalid("expected str", [*path, key])
        if spec.get("unit") is not None and len(spec["unit"]) > 31:
            raise v.invalid("length of value must be at most 31", [*path, "unit"])
        if spec.get("name") and "/" in spec["name"]:
            raise BadRequest("'/' is not supported in metric name")
        return spec

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        spec = self._definition(body, [])
        creator = creator_of(ctx)
        name = spec.get("name")
        with self.core.db.writer() as session:
            policy_name = self._policy_name(session, name, spec.get("archive_policy_name"))
            resource_id = None
            original = None
            if spec.get("resource_id") is not None:
                original = spec["resource_id"]
                try:
                    resource_id = resource_uuid(original, creator)
                except ValueError as exc:
                    raise v.invalid(str(exc), ["resource_id"]) from None
                if name is None:
                    raise BadRequest(
                        "Name cannot be null if resource_id is not null",
                        {
                            "cause": "Attribute value error",
                            "detail": "name",
                            "reason": "Name cannot be null if resource_id is not null",
                        },
                    )
                if session.get(Resource, resource_id) is None:
                    raise BadRequest(f"Resource {resource_id} does not exist")
            user, project = split_creator(creator)
            self.core.enforce(
                ctx,
                "create metric",
                {
                    "creator": creator,
                    "created_by_user_id": user,
                    "created_by_project_id": project,
                    "archive_policy_name": policy_name,
                    "resource_id": resource_id,
                    "original_resource_id": original,
                    "name": name,
                    "unit": spec.get("unit"),
                },
            )
            try:
                row = self._new(session, creator, name, spec.get("unit"), policy_name, resource_id)
            except NamedMetricAlreadyExists as exc:
                raise BadRequest(
                    exc.message, {"cause": "Named metric already exists", "detail": name}
                ) from None
            return metric_view(row)

    def show(
        self,
        ctx: RequestContext,
        metric_id: str | None,
        named: tuple[str, str, str] | None = None,
    ) -> dict[str, Any]:
        with self.core.db.reader() as session:
            row = self.lookup(session, ctx, metric_id, named, "get metric")
            return self._detailed(session, row)

    def _detailed(self, session: Session, row: Metric) -> dict[str, Any]:
        policy = session.get(ArchivePolicy, row.archive_policy_name)
        resource: dict[str, Any] | None = None
        if row.resource_id is not None:
            resource_row = session.get(Resource, row.resource_id)
            if resource_row is not None:
                resource = self.resources.view(resource_row, None, None)
        return metric_view(row, policy, resource)

    def list_page(
        self, ctx: RequestContext, filters: dict[str, str], limit: int | None, marker: str | None,
        sort: Sequence[str],
    ) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
        allowed = ("user_id", "project_id", "creator", "name", "id", "unit",
                   "archive_policy_name", "status")  # fmt: skip
        filters = {k: x for k, x in filters.items() if k in allowed}
        if filters.get("status", "active") not in ("active", "delete"):
            raise BadRequest(
                "Invalid input: not a valid value for dictionary value @ data['status']"
            )
        visibility = self.core.visibility(ctx, "list metric", owner_key="resource.project_id")
        conditions: list[ColumnElement[bool]] = [
            visibility.clause(
                Resource.project_id, Metric.created_by_project_id, Metric.created_by_user_id
            )
        ]
        user, project = filters.pop("user_id", None), filters.pop("project_id", None)
        if user is not None or project is not None:
            conditions.append(Metric.creator == f"{user or ''}:{project or ''}")
            filters.pop("creator", None)
        if filters.get("status") == "delete":
            conditions.append(Metric.id.is_(None))  # deletion is immediate: none pending
        filters.pop("status", None)
        for key, value in filters.items():
            conditions.append(getattr(Metric, key) == value)
        order: list[Any] = []
        for entry in sort or ("id:asc",):
            name, _, direction = entry.partition(":")
            if name not in ("id", "name", "unit", "creator", "archive_policy_name", "resource_id"):
                raise BadRequest("Invalid pagination: `Invalid sort keys'")
            column = getattr(Metric, name)
            order.append(column.desc() if direction == "desc" else column.asc())
        if not any(e.partition(":")[0] == "id" for e in sort):
            order.append(Metric.id.asc())
        page = self.resources.limit(limit)
        with self.core.db.reader() as session:
            query = (
                select(Metric)
                .outerjoin(Resource, Resource.id == Metric.resource_id)
                .where(and_(*conditions))
                .order_by(*order)
            )
            rows = list(session.scalars(query))
            if marker is not None:
                ids = [r.id for r in rows]
                if marker not in ids:
                    raise BadRequest(f"Invalid pagination: `Invalid marker: `{marker}''")
                rows = rows[ids.index(marker) + 1 :]
            rows = rows[:page]
            policies = {
                p.name: p
                for p in session.scalars(
                    select(ArchivePolicy).where(
                        ArchivePolicy.name.in_({r.archive_policy_name for r in rows})
                    )
                )
            }
            items = [metric_view(r, policies[r.archive_policy_name]) for r in rows]
        next_marker = rows[-1].id if rows and len(rows) >= page else None
        return items, next_marker

    def delete(self, ctx: RequestContext, metric_id: str | None,
               named: tuple[str, str, str] | None = None) -> None:  # fmt: skip
        with self.core.db.writer() as session:
            row = self.lookup(session, ctx, metric_id, named, "delete metric")
            self.store.delete(session, [row.key])
            session.delete(row)

    # -- resources' metrics (MetricsAttacher) --------------------------------------

    def attach(
        self, session: Session, ctx: RequestContext, row: Resource, given: Any, replace: bool
    ) -> None:
        definitions = v.mapping(given, ["metrics"])
        if replace:
            session.execute(
                update(Metric).where(Metric.resource_id == row.id).values(resource_id=None)
            )
        for name, spec in definitions.items():
            path = ["metrics", name]
            if "/" in name:
                raise BadRequest("'/' is not supported in metric name")
            if isinstance(spec, str):
                try:
                    metric_id = str(uuid.UUID(spec))
                except ValueError:
                    raise v.invalid("not a valid value", path) from None
                metric = session.get(Metric, metric_id)
                if metric is None or metric.creator != row.creator:
                    raise BadRequest(f"Metric {metric_id} does not exist")
                clash = session.scalar(
                    select(Metric.id).where(
                        Metric.resource_id == row.id, Metric.name == name, Metric.id != metric_id
                    )
                )
                if clash is not None:
                    raise NamedMetricAlreadyExists(name)
                metric.resource_id = row.id
                metric.name = name
                session.flush()
                continue
            data = self._definition(spec, path)
            policy_name = self._policy_name(session, name, data.get("archive_policy_name"))
            if session.get(ArchivePolicy, policy_name) is None:
                raise BadRequest(f"Archive policy {policy_name} does not exist")
            self._new(session, row.creator or "", name, data.get("unit"), policy_name, row.id)

    def forget(self, session: Session, keys: list[int]) -> None:
        self.store.delete(session, keys)

    def resource_metrics(
        self, ctx: RequestContext, type_name: str, resource_id: str
    ) -> list[dict[str, Any]]:
        with self.core.db.reader() as session:
            resource = self.resources.find(session, ctx, type_name, resource_id, "get resource")
            rows = session.scalars(
                select(Metric).where(Metric.resource_id == resource.id).order_by(Metric.id)
            )
            return [metric_view(r, session.get(ArchivePolicy, r.archive_policy_name)) for r in rows]

    def add_to_resource(
        self, ctx: RequestContext, type_name: str, resource_id: str, body: Any
    ) -> list[dict[str, Any]]:
        with self.core.db.writer() as session:
            resource = self.resources.find(session, ctx, type_name, resource_id, "get resource")
            self.core.enforce(ctx, "update resource", self.resources.view(resource, None, None))
            try:
                self.attach(session, ctx, resource, body, replace=False)
            except NamedMetricAlreadyExists as exc:
                raise Conflict(exc.message) from None
            rows = session.scalars(
                select(Metric).where(Metric.resource_id == resource.id).order_by(Metric.id)
            )
            return [metric_view(r, session.get(ArchivePolicy, r.archive_policy_name)) for r in rows]

    # -- measures -----------------------------------------------------------------------

    def _ingest(self, session: Session, batches: list[tuple[Metric, Series]]) -> None:
        if not batches:
            return
        ids = sorted({m.id for m, _ in batches})
        locked = {
            m.id: m
            for m in session.scalars(
                select(Metric).where(Metric.id.in_(ids)).order_by(Metric.id).with_for_update()
            )
        }
        policies = self.policies.policies({m.archive_policy_name for m in locked.values()})
        self.store.ingest(
            session,
            [
                (
                    Target(
                        m.id,
                        locked[m.id].key,
                        policies[locked[m.id].archive_policy_name],
                        locked[m.id].last_raw,
                    ),
                    series,
                )
                for m, series in batches
                if m.id in locked
            ],
        )

    def add_measures(
        self,
        ctx: RequestContext,
        metric_id: str | None,
        body: Any,
        named: tuple[str, str, str] | None = None,
    ) -> None:
        series = parse_measures(body, [])
        with self.core.db.writer() as session:
            row = self.lookup(session, ctx, metric_id, named, "post measures")
            self._ingest(session, [(row, series)])

    def batch_metrics(self, ctx: RequestContext, body: Any) -> None:
        data = v.mapping(body, [])
        wanted: dict[str, Series] = {}
        for metric_id, measures in data.items():
            try:
                canonical = str(uuid.UUID(metric_id))
            except ValueError:
                raise v.invalid("not a valid value", [metric_id]) from None
            wanted[canonical] = parse_measures(measures, [metric_id])
        with self.core.db.writer() as session:
            rows = list(session.scalars(select(Metric).where(Metric.id.in_(list(wanted)))))
            missing = set(wanted) - {r.id for r in rows}
            if missing:
                raise UnknownMetrics(sorted(missing))
            for row in rows:
                self.core.enforce(ctx, "post measures", self._target(session, row))
            self._ingest(session, [(r, wanted[r.id]) for r in rows])

    def batch_resources(self, ctx: RequestContext, body: Any, create_metrics: bool) -> None:
        data = v.mapping(body, [])
        creator = creator_of(ctx)
        parsed: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        for original, metrics in data.items():
            try:
                resource_id = resource_uuid(original, creator)
            except ValueError as exc:
                raise v.invalid(str(exc), [original]) from None
            entries = v.mapping(metrics, [original])
            parsed[(original, resource_id)] = {}
            for name, value in entries.items():
                path = [original, name]
                if isinstance(value, dict):
                    v.keys(value, path, ("archive_policy_name", "unit", "measures"), ("measures",))
                    spec = {
                        "archive_policy_name": value.get("archive_policy_name"),
                        "unit": value.get("unit"),
                        "series": parse_measures(value["measures"], [*path, "measures"]),
                    }
                else:
                    spec = {"series": parse_measures(value, path)}
                parsed[(original, resource_id)][name] = spec
        with self.core.db.writer() as session:
            unknown_resources: list[dict[str, str]] = []
            unknown_metrics: list[str] = []
            batches: list[tuple[Metric, Series]] = []
            resource_ids = [rid for _, rid in parsed]
            existing = {
                (m.resource_id, m.name): m
                for m in session.scalars(select(Metric).where(Metric.resource_id.in_(resource_ids)))
            }
            present = set(session.scalars(select(Resource.id).where(Resource.id.in_(resource_ids))))
            for (original, resource_id), metrics in parsed.items():
                for name, spec in metrics.items():
                    metric = existing.get((resource_id, name))
                    if metric is None:
                        if not create_metrics:
                            unknown_metrics.append(f"{resource_id}/{name}")
                            continue
                        if resource_id not in present:
                            unknown_resources.append(
                                {"resource_id": resource_id, "original_resource_id": original}
                            )
                            break
                        policy = self._policy_name(session, name, spec.get("archive_policy_name"))
                        unit = spec.get("unit")
                        if unit is not None and not isinstance(unit, str):
                            raise v.invalid("expected str", [original, name, "unit"])
                        metric = self._new(session, creator, name, unit, policy, resource_id)
                        existing[(resource_id, name)] = metric
                    batches.append((metric, spec["series"]))
            if unknown_resources:
                raise UnknownResources(unknown_resources)
            if unknown_metrics:
                raise UnknownMetrics(unknown_metrics)
            for metric, _ in batches:
                self.core.enforce(ctx, "post measures", self._target(session, metric))
            self._ingest(session, batches)

    def _aggregations(
        self, row: Metric, policy: Policy, aggregation: str, granularity: int | None
    ) -> list[int]:
        if aggregation not in policy.methods:
            raise NotFound(
                f"Aggregation method {aggregation} does not exist for this metric",
                {
                    "cause": "Aggregation method does not exist for this metric",
                    "detail": {"metric": row.id, "aggregation_method": aggregation},
                },
            )
        if granularity is None:
            return sorted(policy.granularities, reverse=True)
        if policy.item(granularity) is None:
            raise AggregationDoesNotExist(
                method=aggregation, granularity=granularity / US, metric=row.id
            )
        return [granularity]

    def measures(
        self,
        ctx: RequestContext,
        metric_id: str | None,
        query: MeasureQuery,
        named: tuple[str, str, str] | None = None,
    ) -> list[Measure]:
        resample_to: int | None = None
        if query.resample is not None:
            if query.granularity is None:
                raise BadRequest("A granularity must be specified to resample")
            try:
                resample_to = parse_timespan(query.resample)
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        start, stop = bounds(query.start, query.stop)
        granularity = granularity_of(query.granularity)
        if query.refresh is not None:
            v.parse_bool("refresh", query.refresh)
        with self.core.db.reader() as session:
            row = self.lookup(session, ctx, metric_id, named, "get measures")
            policy = self.policies.policy(row.archive_policy_name)
            granularities = self._aggregations(row, policy, query.aggregation, granularity)
            return [
                point
                for g in granularities
                for point in self.series_points(
                    session, row.key, policy, g, query.aggregation, start, stop, resample_to
                )
            ]

    def read(
        self,
        session: Session,
        key: int,
        policy: Policy,
        granularity: int,
        method: str,
        start: int | None,
        stop: int | None,
        resample_to: int | None = None,
    ) -> Series:
        """One aggregate series as Gnocchi's storage returns it (timespan-truncated,
        optionally resampled, bounded by start/stop)."""
        item = policy.item(granularity)
        fetch_from = None if start is None else floor(start, max(granularity, resample_to or 0))
        series = self.store.fetch(session, key, granularity, method, fetch_from, stop)
        if item is not None and item.timespan is not None and len(series):
            series = series.after(int(series.timestamps[-1]) - item.timespan)
        if resample_to is not None:
            series = resample(series, resample_to, method)
            if start is not None:
                series = series.since(floor(start, resample_to))
            series = series.until(stop)
        return series

    def series_points(
        self,
        session: Session,
        key: int,
        policy: Policy,
        granularity: int,
        method: str,
        start: int | None,
        stop: int | None,
        resample_to: int | None = None,
    ) -> list[Measure]:
        series = self.read(session, key, policy, granularity, method, start, stop, resample_to)
        shown = (resample_to or granularity) / US
        return [
            [format_measure_time(ts), shown, value]
            for ts, value in zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
        ]

    # -- search on measures -------------------------------------------------------------

    def search(
        self,
        ctx: RequestContext,
        metric_ids: list[str],
        body: Any,
        query: MeasureQuery,
    ) -> dict[str, list[Measure]]:
        if body is None:
            raise BadRequest("No query specified in body")
        predicate = MeasurePredicate(body)
        start, stop = bounds(query.start, query.stop)
        granularity = granularity_of(query.granularity)
        result: dict[str, list[Measure]] = {}
        with self.core.db.reader() as session:
            rows = []
            for metric_id in metric_ids:
                try:
                    row = session.get(Metric, str(uuid.UUID(metric_id)))
                except ValueError:
                    row = None
                if row is None:
                    continue
                if not self._visible(session, ctx, row, "search metric"):
                    raise PolicyNotAuthorized(action="search metric")
                rows.append(row)
            for row in rows:
                policy = self.policies.policy(row.archive_policy_name)
                wanted = (
                    [granularity] if granularity is not None
                    else sorted(policy.granularities, reverse=True)
                )  # fmt: skip
                points: list[Measure] = []
                for g in wanted:
                    if policy.item(g) is None or query.aggregation not in policy.methods:
                        raise BadRequest(
                            AggregationDoesNotExist(
                                method=query.aggregation, granularity=g / US, metric=row.id
                            ).message
                        )
                    points.extend(
                        p
                        for p in self.series_points(
                            session, row.key, policy, g, query.aggregation, start, stop
                        )
                        if predicate(p[2])
                    )
                result[row.id] = points
        return result

    def policy_of(self, session: Session, row: Metric) -> Policy:
        found = session.get(ArchivePolicy, row.archive_policy_name)
        if found is None:
            raise NoSuchArchivePolicy(name=row.archive_policy_name)
        return Policy.of(found)
