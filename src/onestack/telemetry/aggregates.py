"""Cross-metric aggregation: ``POST /v1/aggregates`` and the older ``/v1/aggregation``.

``fetch`` reads the series an operation references — metrics by id, or by name
(``fnmatch`` wildcards) on the resources a search selects, optionally grouped
by resource attributes — on the granularities they have in common, puts them
on one time grid and evaluates the operation (``operations.py``).  ``fill``
fills holes (a number, ``null``, ``ffill``, ``bfill``, ``full_ffill``,
``full_bfill``) or drops them (``dropna``, the default); without ``fill``,
``needed_overlap`` is the percentage of timestamps all series must share.
"""

from __future__ import annotations

import fnmatch
import itertools
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.telemetry import operations as ops
from onestack.telemetry import validate as v
from onestack.telemetry.archive_policies import Policy
from onestack.telemetry.exceptions import (
    AggregationDoesNotExist,
    ArgumentError,
    BadRequest,
    NoSuchMetric,
    NotFound,
    UnAggregableTimeseries,
)
from onestack.telemetry.metrics import MetricManager, bounds, granularity_of, metric_view
from onestack.telemetry.models import ArchivePolicy, Metric, Resource
from onestack.telemetry.resources import ResourceManager
from onestack.telemetry.search import parse_filter, validate_tree
from onestack.telemetry.timeutil import US, floor, format_measure_time, parse_timespan

_FILLS = ("null", "dropna", "ffill", "bfill", "full_ffill", "full_bfill")
_DROPPING = ("dropna", "ffill", "bfill", "full_ffill", "full_bfill")


@dataclass
class Reference:
    metric: Metric
    policy: Policy
    aggregation: str
    resource: Resource | None = None
    wildcard: str | None = None

    @property
    def name(self) -> str:
        return self.metric.id if self.resource is None else (self.metric.name or "")

    @property
    def lookup_key(self) -> tuple[str, str]:
        return (self.wildcard or self.name, self.aggregation)


@dataclass(frozen=True)
class AggregateQuery:
    start: str | None = None
    stop: str | None = None
    granularity: str | None = None
    needed_overlap: str | None = None
    fill: str | None = None
    groupby: tuple[str, ...] = ()
    details: str | None = None
    use_history: str | None = None


def parse_fill(value: str | None) -> float | str | None:
    if value is None:
        return None
    if value in _FILLS:
        return value
    try:
        return float(value)
    except ValueError:
        raise ArgumentError(
            "fill",
            "Must be a float, 'dropna', 'null', 'ffill', 'bfill', 'full_ffill' or 'full_bfill'",
        ) from None


def parse_overlap(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ArgumentError("needed_overlap", "Must be a number") from None


def _forward_fill(grid: Any) -> Any:
    for row in grid:
        last = np.nan
        for i, value in enumerate(row):
            if np.isnan(value):
                row[i] = last
            else:
                last = value
    return grid


def _backward_fill(grid: Any) -> Any:
    return _forward_fill(grid[:, ::-1])[:, ::-1]


def _points(timestamps: Any, granularity: int, values: Any, drop: bool) -> list[list[Any]]:
    result = []
    for ts, value in zip(timestamps.tolist(), np.asarray(values).tolist(), strict=True):
        number = float(value)
        if drop and (math.isnan(number) or math.isinf(number)):
            continue
        result.append(
            [format_measure_time(ts), granularity / US, None if math.isnan(number) else number]
        )
    return result


class AggregatesManager:
    def __init__(self, metrics: MetricManager, resources: ResourceManager) -> None:
        self.metrics = metrics
        self.resources = resources
        self.core = metrics.core

    # -- reading and combining series -------------------------------------------------

    def _measures(
        self,
        session: Session,
        refs: list[Reference],
        node: Any,
        start: int | None,
        stop: int | None,
        granularity: int | None,
        needed_overlap: float,
        fill: float | str | None,
    ) -> dict[str, Any]:
        if granularity is None:
            counts: dict[int, int] = defaultdict(int)
            for ref in refs:
                for g in ref.policy.granularities:
                    counts[g] += 1
            granularities = [g for g, n in counts.items() if n == len(refs)]
            if not granularities:
                raise UnAggregableTimeseries(
                    [[ref.name, ref.aggregation] for ref in refs], "No granularity match"
                )
        else:
            granularities = [granularity]
        missing = []
        for ref in refs:
            if ref.aggregation not in ref.policy.methods:
                raise NotFound(
                    AggregationDoesNotExist(
                        method=ref.aggregation,
                        granularity=ref.policy.granularities[0] / US,
                        metric=ref.metric.id,
                    ).message,
                    {
                        "cause": "Metrics with unknown aggregation",
                        "detail": [[ref.metric.id, ref.aggregation]],
                    },
                )
            for g in granularities:
                if ref.policy.item(g) is None:
                    missing.append([ref.name, ref.aggregation, g / US])
                    break
        if missing:
            raise UnAggregableTimeseries(missing, "Granularities are missing")
        results: dict[int, tuple[int, Any, Any, list[Reference]]] = {}
        aggregated = False
        for g in sorted(granularities, reverse=True):
            series = [
                self.metrics.read(
                    session, ref.metric.key, ref.policy, g, ref.aggregation, start, stop
                )
                for ref in refs
            ]
            if start is not None:
                series = [s.since(floor(start, g)) for s in series]
            times = np.unique(np.concatenate([s.timestamps for s in series])) if series else (
                np.empty(0, dtype=np.int64)
            )  # fmt: skip
            filler = np.nan if fill is None or isinstance(fill, str) else float(fill)
            grid = np.full((len(series), len(times)), filler)
            for i, s in enumerate(series):
                grid[i][np.searchsorted(times, s.timestamps)] = s.values
            if fill == "ffill":
                grid = _forward_fill(grid)
            elif fill == "bfill":
                grid = _backward_fill(grid)
            elif fill == "full_ffill":
                grid = _backward_fill(_forward_fill(grid))
            elif fill == "full_bfill":
                grid = _forward_fill(_backward_fill(grid))
            values = grid.T
            if fill is None:
                overlap = np.flatnonzero(~np.any(np.isnan(values), axis=1))
                keys = [list(ref.lookup_key) for ref in refs]
                if overlap.size == 0 and needed_overlap > 0:
                    raise UnAggregableTimeseries(keys, "No overlap")
                if times.size:
                    if stop is None and overlap.size:
                        times, values = times[: overlap[-1] + 1], values[: overlap[-1] + 1]
                    if start is None and overlap.size:
                        times, values = times[overlap[0] :], values[overlap[0] :]
                    percent = overlap.size * 100.0 / times.size
                    if percent < needed_overlap:
                        raise UnAggregableTimeseries(
                            keys,
                            f"Less than {needed_overlap:f}% of datapoints overlap in this "
                            f"timespan ({percent:.2f}%)",
                        )
            state = ops.Evaluated(g, times, values, False)
            done = ops.evaluate(node, state, [ref.lookup_key for ref in refs])
            aggregated = aggregated or done.aggregated
            results[g] = (done.granularity, done.timestamps, np.asarray(done.values).T, refs)
        drop = fill in _DROPPING
        if aggregated:
            points: list[list[Any]] = []
            for g in sorted(results, reverse=True):
                shown, times, values, _ = results[g]
                points.extend(_points(times, shown, values[0], drop))
            return {"aggregated": points}
        by_metric: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        by_resource: dict[str, dict[str, dict[str, list[Any]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        for g in sorted(results, reverse=True):
            shown, times, values, refs_g = results[g]
            for i, ref in enumerate(refs_g):
                points = _points(times, shown, values[i], drop)
                if ref.resource is None:
                    by_metric[ref.name][ref.aggregation].extend(points)
                else:
                    by_resource[ref.resource.id][ref.name][ref.aggregation].extend(points)
        if by_resource:
            return {k: {n: dict(a) for n, a in x.items()} for k, x in by_resource.items()}
        return {k: dict(x) for k, x in by_metric.items()}

    def _policies(self, session: Session, metrics: list[Metric]) -> dict[str, Policy]:
        names = {m.archive_policy_name for m in metrics}
        rows = session.scalars(select(ArchivePolicy).where(ArchivePolicy.name.in_(names)))
        return {row.name: Policy.of(row) for row in rows}

    # -- POST /v1/aggregates -------------------------------------------------------------

    def fetch(self, ctx: RequestContext, body: Any, query: AggregateQuery) -> Any:
        data = v.mapping(body, [])
        fill = parse_fill(query.fill)
        needed = parse_overlap(query.needed_overlap)
        if fill is None and needed is None:
            fill = "dropna"
        start, stop = bounds(query.start, query.stop)
        granularity = granularity_of(query.granularity)
        details = v.parse_bool("details", query.details)
        v.parse_bool("use_history", query.use_history)
        if "resource_type" in data or "search" in data:
            v.keys(data, [], ("operations", "resource_type", "search"),
                   ("operations", "resource_type", "search"))  # fmt: skip
        else:
            v.keys(data, [], ("operations",), ("operations",))
        node = ops.validate(data["operations"])
        refs = ops.references(node)
        if not refs:
            raise BadRequest(
                "Operations is invalid",
                {
                    "cause": "Operations is invalid",
                    "reason": "At least one 'metric' is required",
                    "detail": data["operations"],
                },
            )
        overlap = 100.0 if needed is None else needed
        with self.core.db.reader() as session:
            if "resource_type" not in data:
                return self._by_ids(session, ctx, refs, node, start, stop, granularity, overlap,
                                    fill, details)  # fmt: skip
            type_name = data["resource_type"]
            if not isinstance(type_name, str):
                raise v.invalid("expected str", ["resource_type"])
            try:
                self.resources.types.row(session, type_name)
            except NotFound as exc:
                raise BadRequest(exc.message) from None
            search = data["search"]
            tree = parse_filter(search) if isinstance(search, str) else validate_tree(search)
            groupby = sorted(set(query.groupby))
            resources = self.resources.rows(session, ctx, type_name, tree, groupby)
            if not groupby:
                return self._by_name(session, resources, refs, node, start, stop, granularity,
                                     overlap, fill, details)  # fmt: skip
            results = []
            for key, group in itertools.groupby(resources, lambda r: self._group(r, groupby)):
                try:
                    measures = self._by_name(session, list(group), refs, node, start, stop,
                                             granularity, overlap, fill, details)  # fmt: skip
                except NoSuchMetric:
                    continue
                results.append({"group": dict(key), "measures": measures})
            if not results:
                raise NoSuchMetric(metric=sorted({m for m, _ in refs}))
            return results

    @staticmethod
    def _group(resource: Resource, groupby: list[str]) -> tuple[tuple[str, Any], ...]:
        def value(name: str) -> Any:
            if hasattr(resource, name) and name not in ("attributes", "metadata"):
                found = getattr(resource, name)
                return found.isoformat() if hasattr(found, "isoformat") else found
            return (resource.attributes or {}).get(name)

        return tuple((name, value(name)) for name in groupby)

    def _by_ids(
        self,
        session: Session,
        ctx: RequestContext,
        pairs: list[tuple[str, str]],
        node: Any,
        start: int | None,
        stop: int | None,
        granularity: int | None,
        overlap: float,
        fill: float | str | None,
        details: bool,
    ) -> dict[str, Any]:
        ids = set()
        for metric_id, _ in pairs:
            try:
                ids.add(str(uuid.UUID(metric_id)))
            except ValueError as exc:
                raise BadRequest(
                    "Invalid metric references",
                    {"cause": "Invalid metric references", "reason": str(exc),
                     "detail": [list(p) for p in pairs]},
                ) from None  # fmt: skip
        rows = {m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(ids)))}
        visible = {
            i: m for i, m in rows.items() if self.metrics._visible(session, ctx, m, "get metric")
        }
        missing = sorted(ids - set(visible))
        if missing:
            raise NotFound(
                "Unknown metrics",
                {"cause": "Unknown metrics", "reason": "Provided metrics don't exists",
                 "detail": missing},
            )  # fmt: skip
        policies = self._policies(session, list(visible.values()))
        refs = [
            Reference(
                visible[str(uuid.UUID(m))],
                policies[visible[str(uuid.UUID(m))].archive_policy_name],
                a,
            )
            for m, a in pairs
        ]
        # the operation names metrics as the caller wrote them: key by that spelling
        for ref, (given, _) in zip(refs, pairs, strict=True):
            ref.wildcard = given
        response: dict[str, Any] = {
            "measures": self._measures(session, refs, node, start, stop, granularity, overlap, fill)
        }
        if details:
            response["references"] = [
                metric_view(m, session.get(ArchivePolicy, m.archive_policy_name))
                for m in visible.values()
            ]
        return response

    def _by_name(
        self,
        session: Session,
        resources: list[Resource],
        wildcards: list[tuple[str, str]],
        node: Any,
        start: int | None,
        stop: int | None,
        granularity: int | None,
        overlap: float,
        fill: float | str | None,
        details: bool,
    ) -> dict[str, Any]:
        ids = [r.id for r in resources]
        attached: dict[str, list[Metric]] = defaultdict(list)
        for begin in range(0, len(ids), 400):
            chunk = ids[begin : begin + 400]
            for metric in session.scalars(select(Metric).where(Metric.resource_id.in_(chunk))):
                attached[metric.resource_id or ""].append(metric)
        policies = self._policies(session, [m for ms in attached.values() for m in ms])
        refs = []
        for resource in resources:
            for wildcard, aggregation in wildcards:
                for metric in sorted(attached.get(resource.id, []), key=lambda m: m.name or ""):
                    if fnmatch.fnmatch(metric.name or "", wildcard):
                        refs.append(
                            Reference(
                                metric,
                                policies[metric.archive_policy_name],
                                aggregation,
                                resource,
                                wildcard,
                            )
                        )
        if not refs:
            raise NoSuchMetric(metric=sorted({w for w, _ in wildcards}))
        response: dict[str, Any] = {
            "measures": self._measures(session, refs, node, start, stop, granularity, overlap, fill)
        }
        if details:
            seen = {ref.resource.id: ref.resource for ref in refs if ref.resource is not None}
            response["references"] = [self.resources.view(r, None, None) for r in seen.values()]
        return response

    # -- the older /v1/aggregation API -------------------------------------------------------

    def aggregation(
        self,
        ctx: RequestContext,
        metric_ids: list[str] | None,
        resource: tuple[str, str, Any] | None,
        aggregation: str,
        reaggregation: str | None,
        query: AggregateQuery,
        resample: str | None,
        refresh: str | None,
    ) -> Any:
        """``GET|POST /v1/aggregation/metric`` (``metric_ids``) or
        ``POST /v1/aggregation/resource/<type>/metric/<name>`` (``resource``)."""
        if refresh is not None:
            v.parse_bool("refresh", refresh)
        fill = parse_fill(query.fill)
        needed = parse_overlap(query.needed_overlap)
        overlap = 100.0 if needed is None else needed
        start, stop = bounds(query.start, query.stop)
        granularity = granularity_of(query.granularity)
        resample_to = None
        if resample is not None:
            if granularity is None:
                raise BadRequest("A granularity must be specified to resample")
            try:
                resample_to = parse_timespan(resample)
            except ValueError as exc:
                raise BadRequest(str(exc)) from None
        with self.core.db.reader() as session:
            if metric_ids is not None:
                canonical = []
                for metric_id in metric_ids:
                    try:
                        canonical.append(str(uuid.UUID(metric_id)))
                    except ValueError:
                        raise BadRequest(f"Invalid input: invalid metric id {metric_id}") from None
                rows = {
                    m.id: m for m in session.scalars(select(Metric).where(Metric.id.in_(canonical)))
                }
                for metric_id in canonical:
                    if metric_id not in rows:
                        raise NoSuchMetric(metric=metric_id)
                metrics = [rows[i] for i in dict.fromkeys(canonical)]
                return self._cross(session, ctx, metrics, aggregation, reaggregation, start,
                                   stop, granularity, overlap, fill, resample_to)  # fmt: skip
            assert resource is not None
            type_name, metric_name, tree = resource
            self.resources.types.row(session, type_name)
            groupby = sorted(set(query.groupby))
            resources = self.resources.rows(session, ctx, type_name, tree, groupby)

            def named(group: list[Resource]) -> list[Metric]:
                ids = [r.id for r in group]
                if not ids:
                    return []
                found = {
                    m.resource_id: m
                    for m in session.scalars(
                        select(Metric).where(
                            Metric.resource_id.in_(ids), Metric.name == metric_name
                        )
                    )
                }
                return [found[i] for i in ids if i in found]

            if not groupby:
                return self._cross(
                    session, ctx, named(resources), aggregation, reaggregation,
                    start, stop, granularity, overlap, fill, resample_to,
                )  # fmt: skip
            results = []
            for key, group in itertools.groupby(resources, lambda r: self._group(r, groupby)):
                results.append(
                    {
                        "group": dict(key),
                        "measures": self._cross(
                            session,
                            ctx,
                            named(list(group)),
                            aggregation,
                            reaggregation,
                            start,
                            stop,
                            granularity,
                            overlap,
                            fill,
                            resample_to,
                        ),
                    }
                )
            return results

    def _cross(
        self,
        session: Session,
        ctx: RequestContext,
        metrics: list[Metric],
        aggregation: str,
        reaggregation: str | None,
        start: int | None,
        stop: int | None,
        granularity: int | None,
        overlap: float,
        fill: float | str | None,
        resample_to: int | None,
    ) -> list[list[Any]]:
        for metric in metrics:
            if not self.metrics._visible(session, ctx, metric, "get metric"):
                raise NoSuchMetric(metric=metric.id)
        if not metrics:
            return []
        policies = self._policies(session, metrics)
        if len(metrics) == 1:
            metric = metrics[0]
            policy = policies[metric.archive_policy_name]
            if aggregation not in policy.methods:
                raise NotFound(
                    f"Aggregation method {aggregation} does not exist for this metric",
                    {
                        "cause": "Aggregation method does not exist for this metric",
                        "detail": {"metric": metric.id, "aggregation_method": aggregation},
                    },
                )
            wanted = [granularity] if granularity is not None else sorted(
                policy.granularities, reverse=True
            )  # fmt: skip
            points: list[list[Any]] = []
            for g in wanted:
                if policy.item(g) is None:
                    raise AggregationDoesNotExist(method=aggregation, granularity=g / US,
                                                  metric=metric.id)  # fmt: skip
                points.extend(
                    self.metrics.series_points(
                        session, metric.key, policy, g, aggregation, start, stop, resample_to
                    )
                )
            return points
        refs = [Reference(m, policies[m.archive_policy_name], aggregation) for m in metrics]
        inner: list[Any] = ["metric", *[[m.id, aggregation] for m in metrics]]
        if resample_to is not None:
            inner = ["resample", aggregation, resample_to, inner]
        node = ["aggregate", reaggregation or aggregation, inner]
        result = self._measures(session, refs, node, start, stop, granularity, overlap, fill)
        aggregated: list[list[Any]] = result["aggregated"]
        return aggregated
