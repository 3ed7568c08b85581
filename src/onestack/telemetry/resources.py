"""Resources: what metrics are attached to, with their history of revisions.

A resource has Gnocchi's base fields (``id``, ``original_resource_id``,
``creator``, ``user_id``, ``project_id``, ``started_at``, ``ended_at``,
``revision_start``) and its type's attributes.  A non-UUID id becomes
``uuid5(namespace, id + "\\0" + creator)`` with the given id kept as
``original_resource_id``.  Changing anything but the metrics stores the old
revision in the history (``revision_end`` = when it changed).

Listing and searching filter by the caller's visibility (``core.Visibility``),
sort by ``sort=key:dir`` (default ``revision_start:asc,started_at:asc``) and
page with ``limit``/``marker`` as Gnocchi does.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, asc, delete, desc, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.telemetry import validate as v
from onestack.telemetry.core import (
    TelemetryCore,
    Visibility,
    creator_of,
    resource_uuid,
    split_creator,
)
from onestack.telemetry.exceptions import (
    BadRequest,
    NoSuchResource,
    ResourceAlreadyExists,
)
from onestack.telemetry.models import Metric, Resource, ResourceHistory
from onestack.telemetry.resource_types import Attribute, ResourceTypeManager
from onestack.telemetry.search import ResourceFilter
from onestack.telemetry.timeutil import parse_timestamp, us_to_datetime

DEFAULT_SORT = ("revision_start:asc", "started_at:asc")
_BASE_SORT = (
    "id",
    "type",
    "creator",
    "started_at",
    "ended_at",
    "revision_start",
    "user_id",
    "project_id",
    "original_resource_id",
    "created_by_user_id",
    "created_by_project_id",
)
_BASE_KEYS = ("started_at", "ended_at", "user_id", "project_id", "metrics")


def _iso(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    #: the marker of the next page when this one is full (Gnocchi's Link header)
    next_marker: str | None
    limit: int


@dataclass(frozen=True)
class Listing:
    """The listing parameters of ``GET /v1/resource/<type>`` and the search."""

    details: bool = False
    history: bool = False
    limit: int | None = None
    marker: str | None = None
    sort: tuple[str, ...] = ()
    attrs: tuple[str, ...] = ()


def etag_of(row: Resource | ResourceHistory) -> str:
    return hashlib.sha1(f"{row.id}-{row.revision_start.isoformat()}".encode()).hexdigest()


class ResourceManager:
    def __init__(self, core: TelemetryCore, types: ResourceTypeManager) -> None:
        self.core = core
        self.types = types

    # -- rendering -------------------------------------------------------------

    def view(
        self,
        row: Resource | ResourceHistory,
        attributes: dict[str, Attribute] | None,
        metrics: dict[str, str] | None,
    ) -> dict[str, Any]:
        user, project = split_creator(row.creator)
        body: dict[str, Any] = {
            "id": row.id,
            "type": row.type,
            "creator": row.creator,
            "created_by_user_id": user,
            "created_by_project_id": project,
            "started_at": _iso(row.started_at),
            "revision_start": _iso(row.revision_start),
            "ended_at": _iso(row.ended_at),
            "revision_end": _iso(row.revision_end) if isinstance(row, ResourceHistory) else None,
            "user_id": row.user_id,
            "project_id": row.project_id,
            "original_resource_id": row.original_resource_id,
        }
        if metrics is not None:
            body["metrics"] = metrics
        stored = row.attributes or {}
        for name in attributes or {}:
            body[name] = stored.get(name)
        return body

    @staticmethod
    def metrics_of(session: Session, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {i: {} for i in ids}
        if not ids:
            return found
        for start in range(0, len(ids), 400):
            query = select(Metric.resource_id, Metric.name, Metric.id).where(
                Metric.resource_id.in_(list(ids[start : start + 400]))
            )
            for resource_id, name, metric_id in session.execute(query):
                found.setdefault(resource_id or "", {})[name or ""] = metric_id
        return found

    # -- lookups -----------------------------------------------------------------

    def find(
        self, session: Session, ctx: RequestContext, type_name: str, given_id: str, rule: str
    ) -> Resource:
        """The resource ``given_id`` of ``type_name`` if ``rule`` lets the caller act on it."""
        self.types.row(session, type_name)
        try:
            resource_id = resource_uuid(given_id, creator_of(ctx))
        except ValueError:
            raise NoSuchResource(resource_id=given_id) from None
        row = session.get(Resource, resource_id)
        if row is None or (type_name != "generic" and row.type != type_name):
            raise NoSuchResource(resource_id=resource_id)
        if not self.core.visibility(ctx, rule).allows(row.project_id, row.creator):
            raise NoSuchResource(resource_id=resource_id)
        return row

    def _shown(self, session: Session, type_name: str) -> dict[str, Attribute] | None:
        return None if type_name == "generic" else self.types.attributes(session, type_name)

    def get(self, ctx: RequestContext, type_name: str, given_id: str) -> tuple[dict[str, Any], str]:
        with self.core.db.reader() as session:
            row = self.find(session, ctx, type_name, given_id, "get resource")
            metrics = self.metrics_of(session, [row.id])[row.id]
            return self.view(row, self._shown(session, type_name), metrics), etag_of(row)

    # -- create / update / delete -------------------------------------------------

    def _values(
        self,
        body: dict[str, Any],
        attributes: dict[str, Attribute],
        creating: bool,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """(base fields, attributes) of a create or update body, validated."""
        allowed = set(_BASE_KEYS) | set(attributes)
        if creating:
            allowed.add("id")
            required = [n for n, a in attributes.items() if a.required]
            v.keys(body, [], allowed, ["id", *required])
        else:
            v.keys(body, [], allowed)
        base: dict[str, Any] = {}
        for key in ("started_at", "ended_at"):
            if key in body:
                if body[key] is None and key == "ended_at":
                    base[key] = None
                    continue
                try:
                    base[key] = us_to_datetime(parse_timestamp(body[key]))
                except ValueError as exc:
                    raise v.invalid(str(exc), [key]) from None
        for key in ("user_id", "project_id"):
            if key in body:
                if body[key] is not None and not isinstance(body[key], str):
                    raise v.invalid("expected str", [key])
                base[key] = body[key]
        values = {
            name: attr.convert(body[name], [name])
            for name, attr in attributes.items()
            if name in body
        }
        return base, values

    def create(
        self,
        ctx: RequestContext,
        type_name: str,
        body: Any,
        metrics: MetricsAttacher,
    ) -> tuple[dict[str, Any], str]:
        data = v.mapping(body, [])
        creator = creator_of(ctx)
        with self.core.db.writer() as session:
            attributes = self.types.attributes(session, type_name)
            base, values = self._values(data, attributes, creating=True)
            original = data["id"]
            if not isinstance(original, str):
                raise v.invalid("expected str", ["id"])
            try:
                resource_id = resource_uuid(original, creator)
            except ValueError as exc:
                raise v.invalid(str(exc), ["id"]) from None
            target = {"resource_type": type_name, "id": resource_id, **base, **values}
            self.core.enforce(ctx, "create resource", target)
            now = utcnow()
            started = base.get("started_at") or now
            ended = base.get("ended_at")
            if ended is not None and started > ended:
                raise BadRequest(
                    f"Value {ended.isoformat()} for attribute ended_at on resource type "
                    f"{type_name} is invalid"
                )
            if session.get(Resource, resource_id) is not None:
                raise ResourceAlreadyExists(resource_id)
            user, project = split_creator(creator)
            row = Resource(
                id=resource_id,
                type=type_name,
                creator=creator,
                created_by_user_id=user,
                created_by_project_id=project,
                started_at=started,
                revision_start=now,
                ended_at=ended,
                user_id=base.get("user_id"),
                project_id=base.get("project_id"),
                original_resource_id=original,
                attributes={k: x for k, x in values.items() if x is not None},
            )
            session.add(row)
            session.flush()
            if "metrics" in data:
                metrics.attach(session, ctx, row, data["metrics"], replace=False)
            attached = self.metrics_of(session, [row.id])[row.id]
            return self.view(row, self._shown(session, type_name), attached), etag_of(row)

    def update(
        self,
        ctx: RequestContext,
        type_name: str,
        given_id: str,
        body: Any,
        metrics: MetricsAttacher,
    ) -> tuple[dict[str, Any], str]:
        data = v.mapping(body, [])
        with self.core.db.writer() as session:
            row = self.find(session, ctx, type_name, given_id, "get resource")
            shown = self._shown(session, type_name)
            self.core.enforce(ctx, "update resource", self.view(row, shown, None))
            attributes = self.types.attributes(session, row.type) if shown is not None else {}
            base, values = self._values(data, attributes, creating=False)
            stored = dict(row.attributes or {})
            changed = any(getattr(row, k) != x for k, x in base.items()) or any(
                stored.get(k) != x for k, x in values.items()
            )
            if changed:
                now = utcnow()
                started = base.get("started_at", row.started_at)
                ended = base.get("ended_at", row.ended_at)
                if ended is not None and started > ended:
                    raise BadRequest(
                        f"Value {ended.isoformat()} for attribute ended_at on resource type "
                        f"{type_name} is invalid"
                    )
                session.add(
                    ResourceHistory(
                        id=row.id,
                        type=row.type,
                        creator=row.creator,
                        created_by_user_id=row.created_by_user_id,
                        created_by_project_id=row.created_by_project_id,
                        started_at=row.started_at,
                        revision_start=row.revision_start,
                        ended_at=row.ended_at,
                        user_id=row.user_id,
                        project_id=row.project_id,
                        original_resource_id=row.original_resource_id,
                        attributes=dict(stored),
                        revision_end=now,
                    )
                )
                for key, value in base.items():
                    setattr(row, key, value)
                for key, value in values.items():
                    if value is None:
                        stored.pop(key, None)
                    else:
                        stored[key] = value
                row.attributes = stored
                row.revision_start = now
            if "metrics" in data:
                metrics.attach(session, ctx, row, data["metrics"], replace=True)
            session.flush()
            attached = self.metrics_of(session, [row.id])[row.id]
            return self.view(row, shown, attached), etag_of(row)

    def delete(
        self, ctx: RequestContext, type_name: str, given_id: str, metrics: MetricsAttacher
    ) -> None:
        with self.core.db.writer() as session:
            row = self.find(session, ctx, type_name, given_id, "get resource")
            self.core.enforce(ctx, "delete resource", self.view(row, None, None))
            self._delete_rows(session, [row.id], metrics)

    def _delete_rows(self, session: Session, ids: list[str], metrics: MetricsAttacher) -> None:
        for start in range(0, len(ids), 400):
            chunk = ids[start : start + 400]
            keys = list(session.scalars(select(Metric.key).where(Metric.resource_id.in_(chunk))))
            metrics.forget(session, keys)
            session.execute(delete(Metric).where(Metric.resource_id.in_(chunk)))
            session.execute(delete(ResourceHistory).where(ResourceHistory.id.in_(chunk)))
            session.execute(delete(Resource).where(Resource.id.in_(chunk)))

    def delete_many(
        self, ctx: RequestContext, type_name: str, tree: Any, metrics: MetricsAttacher
    ) -> int:
        if not tree:
            raise BadRequest(
                "caution: the query can not be empty, or it will delete entire database"
            )
        with self.core.db.writer() as session:
            self.types.row(session, type_name)
            visibility = self.core.visibility(ctx, "delete resources")
            condition = self._condition(session, ctx, Resource, type_name, tree, visibility)
            ids = list(session.scalars(select(Resource.id).where(condition)))
            self._delete_rows(session, ids, metrics)
            return len(ids)

    # -- listing and search --------------------------------------------------------

    def _condition(
        self,
        session: Session,
        ctx: RequestContext,
        model: Any,
        type_name: str,
        tree: Any,
        visibility: Visibility,
    ) -> ColumnElement[bool]:
        attributes = {} if type_name == "generic" else self.types.attributes(session, type_name)
        history = model is ResourceHistory
        parts = [
            ResourceFilter(model, type_name, attributes, creator_of(ctx), history).build(tree),
            visibility.clause(
                model.project_id, model.created_by_project_id, model.created_by_user_id
            ),
        ]
        if type_name != "generic":
            parts.append(model.type == type_name)
        return and_(*parts)

    def _order(
        self, model: Any, attributes: dict[str, Attribute], sort: Sequence[str]
    ) -> list[tuple[str, Any, bool]]:
        keys: list[tuple[str, Any, bool]] = []
        for entry in sort or DEFAULT_SORT:
            name, _, direction = entry.partition(":")
            direction = direction or "asc"
            if direction not in ("asc", "desc"):
                raise BadRequest(f"Invalid pagination: `Invalid sort direction {direction}'")
            if name in _BASE_SORT:
                column = getattr(model, name)
            elif name == "revision_end" and model is ResourceHistory:
                column = model.revision_end
            elif name in attributes:
                attr = attributes[name]
                element = model.attributes[name]
                column = element.as_float() if attr.type == "number" else element.as_string()
            else:
                raise BadRequest("Invalid pagination: `Invalid sort keys'")
            keys.append((name, column, direction == "desc"))
        if not any(name == "id" for name, _, _ in keys):
            keys.append(("id", model.id, False))
        return keys

    def limit(self, given: int | None) -> int:
        maximum = self.core.settings.max_limit
        if given is None:
            return maximum
        if given < 1:
            raise BadRequest(
                "Argument value error: limit",
                {"cause": "Argument value error", "reason": "value must be at least 1"},
            )
        return min(given, maximum)

    def list_page(
        self,
        ctx: RequestContext,
        type_name: str,
        listing: Listing,
        tree: Any = None,
        rule: str = "list resource",
    ) -> Page:
        limit = self.limit(listing.limit)
        with self.core.db.reader() as session:
            self.types.row(session, type_name)
            visibility = self.core.visibility(ctx, rule)
            attributes = {} if type_name == "generic" else self.types.attributes(session, type_name)
            if listing.history:
                rows = self._history_rows(session, ctx, type_name, tree, visibility, listing)
            else:
                condition = self._condition(session, ctx, Resource, type_name, tree, visibility)
                order = self._order(Resource, attributes, listing.sort)
                query = (
                    select(Resource.id)
                    .where(condition)
                    .order_by(*[desc(c) if d else asc(c) for _, c, d in order])
                )
                ids = list(session.scalars(query))
                if listing.marker is not None:
                    if listing.marker not in ids:
                        raise BadRequest(
                            f"Invalid pagination: `Invalid marker: `{listing.marker}''"
                        )
                    ids = ids[ids.index(listing.marker) + 1 :]
                ids = ids[:limit]
                loaded = {
                    r.id: r for r in session.scalars(select(Resource).where(Resource.id.in_(ids)))
                }
                rows = [loaded[i] for i in ids if i in loaded]
            metrics = self.metrics_of(session, sorted({r.id for r in rows}))
            schemas: dict[str, dict[str, Attribute]] = {}
            items = []
            for row in rows:
                if listing.details or type_name != "generic":
                    if row.type not in schemas:
                        schemas[row.type] = self.types.attributes(session, row.type)
                    shown: dict[str, Attribute] | None = schemas[row.type]
                else:
                    shown = None
                view = self.view(row, shown, metrics.get(row.id, {}))
                if listing.attrs:
                    view = {k: x for k, x in view.items() if k in listing.attrs}
                items.append(view)
        next_marker = None
        if rows and len(rows) >= limit:
            last = rows[-1]
            if listing.history:
                revision = last.revision if isinstance(last, ResourceHistory) else -1
                next_marker = f"{last.id}@{revision}"
            else:
                next_marker = last.id
        return Page(items, next_marker, limit)

    def _history_rows(
        self,
        session: Session,
        ctx: RequestContext,
        type_name: str,
        tree: Any,
        visibility: Visibility,
        listing: Listing,
    ) -> list[Resource | ResourceHistory]:
        limit = self.limit(listing.limit)
        rows: list[Resource | ResourceHistory] = []
        for model in (Resource, ResourceHistory):
            condition = self._condition(session, ctx, model, type_name, tree, visibility)
            rows.extend(session.scalars(select(model).where(condition)))
        keys = [e.partition(":") for e in (listing.sort or DEFAULT_SORT)]

        def value(row: Resource | ResourceHistory, name: str) -> Any:
            if name == "revision_end":
                return getattr(row, "revision_end", None) or datetime.datetime.max.replace(
                    tzinfo=datetime.UTC
                )
            if hasattr(row, name) and name in (*_BASE_SORT, "revision_end"):
                return getattr(row, name)
            return (row.attributes or {}).get(name)

        def revision(row: Resource | ResourceHistory) -> int:
            return row.revision if isinstance(row, ResourceHistory) else 2**62

        rows.sort(key=lambda r: (r.id, revision(r)))
        for name, _, direction in reversed(keys):
            rows.sort(key=_keyed(value, name), reverse=direction == "desc")
        if listing.marker is not None:
            markers = [
                f"{r.id}@{r.revision if isinstance(r, ResourceHistory) else -1}" for r in rows
            ]
            if listing.marker not in markers:
                raise BadRequest(f"Invalid pagination: `Invalid marker: `{listing.marker}''")
            rows = rows[markers.index(listing.marker) + 1 :]
        return rows[:limit]

    def history(self, ctx: RequestContext, type_name: str, given_id: str, listing: Listing) -> Page:
        with self.core.db.reader() as session:
            row = self.find(session, ctx, type_name, given_id, "get resource")
        tree = {"=": {"id": row.id}}
        return self.list_page(
            ctx,
            type_name,
            Listing(
                details=listing.details,
                history=True,
                limit=listing.limit,
                marker=listing.marker,
                sort=listing.sort,
            ),
            tree,
        )

    def rows(
        self,
        session: Session,
        ctx: RequestContext,
        type_name: str,
        tree: Any,
        sort: Sequence[str] = (),
        rule: str = "search resource",
    ) -> list[Resource]:
        """Every visible resource matching ``tree`` (the aggregates API's search)."""
        visibility = self.core.visibility(ctx, rule)
        attributes = {} if type_name == "generic" else self.types.attributes(session, type_name)
        condition = self._condition(session, ctx, Resource, type_name, tree, visibility)
        order = self._order(Resource, attributes, sort)
        query = (
            select(Resource)
            .where(condition)
            .order_by(*[desc(c) if d else asc(c) for _, c, d in order])
        )
        return list(session.scalars(query))


class MetricsAttacher(Protocol):
    """What the resources manager needs of the metrics manager."""

    def attach(
        self, session: Session, ctx: RequestContext, row: Resource, given: Any, replace: bool
    ) -> None:
        """Attach ``given`` (``{name: metric id or definition}``) to the resource; with
        ``replace``, detach the metrics not named."""
        ...

    def forget(self, session: Session, keys: list[int]) -> None:
        """Remove the measures of these metrics."""
        ...


def _sort_key(value: Any) -> tuple[bool, Any]:
    return (value is None, "" if value is None else value)


def _keyed(
    value: Callable[[Resource | ResourceHistory, str], Any], name: str
) -> Callable[[Resource | ResourceHistory], tuple[bool, Any]]:
    return lambda row: _sort_key(value(row, name))
