"""Operators' and other services' routes: server diagnostics, external events,
migration records, a server's in-progress migrations and assisted volume
snapshots (the logic: ``diagnostics``, ``external_events``,
``migration_records``, ``admin_actions``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, at_least, base, compute, int_param
from onestack.compute.api.views import iso_us
from onestack.compute.external_events import NAMES, validate
from onestack.compute.migration_records import MigrationQuery

if TYPE_CHECKING:
    from onestack.compute.models import Migration

router = APIRouter(prefix="/v2.1")

#: the filters ``GET /os-migrations`` knows before 2.59 (others are ignored, as are
#: ``changes-since`` and ``changes-before`` there)
_FILTERS = ("status", "host", "source_compute", "instance_uuid", "migration_type", "hidden")
#: and those each later microversion adds (unknown ones are a 400 from 2.59)
_PAGED = {"limit": "2.59", "marker": "2.59", "changes-since": "2.59", "changes-before": "2.66"}
_PAGED |= {"user_id": "2.80", "project_id": "2.80"}
MAX_LIMIT = 1000


@router.get("/servers/{server_id}/diagnostics")
def server_diagnostics(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    found = compute(request).diagnostics.get(ctx, server_id)
    return JSONResponse(found.standard() if at_least(version, "2.48") else found.legacy())


@router.post("/os-server-external-events")
def server_external_events(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    allowed = {name for name, since in NAMES.items() if at_least(version, since)}
    events = validate(body, allowed)
    answered, status = compute(request).external_events.create(ctx, events)
    return JSONResponse({"events": answered}, status_code=status)


def _migration_query(request: Request, version: APIVersion) -> MigrationQuery:
    params = request.query_params
    paged = at_least(version, "2.59")
    known = set(_FILTERS) | {k for k, since in _PAGED.items() if at_least(version, since)}
    if not paged:  # Nova passes any parameter on to its query, which knows these two
        known |= {"user_id", "project_id"}
    if paged:
        unknown = sorted(set(params) - known)
        if unknown:
            raise BadRequest(
                f"Invalid input for query parameters: additional properties are not allowed "
                f"({', '.join(repr(k) for k in unknown)} unexpected)"
            )
        for key in _PAGED:
            if key in known and len(params.getlist(key)) > 1:
                raise BadRequest(f"Invalid input for query parameters {key}.")
    values = {k: params.get(k) for k in known if k not in ("limit", "marker")}
    limit = int_param(params.get("limit"), "limit") if paged else None
    if paged:
        limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
    return MigrationQuery(
        status=values.get("status"),
        host=values.get("host"),
        source_compute=values.get("source_compute"),
        instance_uuid=values.get("instance_uuid"),
        migration_type=values.get("migration_type"),
        hidden=values.get("hidden"),
        changes_since=values.get("changes-since"),
        changes_before=values.get("changes-before"),
        user_id=values.get("user_id"),
        project_id=values.get("project_id"),
        limit=limit,
        marker=params.get("marker") if paged else None,
        paged=paged,
    )


def _migration(row: Migration, version: APIVersion, show_hosts: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row.id,
        "status": row.status,
        "instance_uuid": row.instance_uuid,
        "source_node": row.source_node if show_hosts else None,
        "source_compute": row.source_compute if show_hosts else None,
        "dest_node": row.dest_node if show_hosts else None,
        "dest_compute": row.dest_compute if show_hosts else None,
        "dest_host": row.dest_host if show_hosts else None,
        "old_instance_type_id": None,
        "new_instance_type_id": None,
        "created_at": iso_us(row.created_at),
        "updated_at": iso_us(row.updated_at),
    }
    if at_least(version, "2.23"):
        # links only for an in-progress live migration, which onestack never has
        body["migration_type"] = row.migration_type
    if at_least(version, "2.59"):
        body["uuid"] = row.uuid
    if at_least(version, "2.80"):
        body["user_id"] = row.user_id
        body["project_id"] = row.project_id
    return body


@router.get("/os-migrations")
def list_migrations(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    q = _migration_query(request, version)
    rows, show_hosts = compute(request).migration_records.list(ctx, q)
    body: dict[str, Any] = {"migrations": [_migration(r, version, show_hosts) for r in rows]}
    if q.paged and q.limit and len(rows) == q.limit:
        from urllib.parse import urlencode

        params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
        params.append(("marker", rows[-1].uuid))
        href = f"{base(request)}/v2.1/os-migrations?{urlencode(params)}"
        body["migrations_links"] = [{"rel": "next", "href": href}]
    return JSONResponse(body)


@router.get("/servers/{server_id}/migrations")
def server_migrations(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    """A server's in-progress live migrations (2.23+): none, as onestack does not
    live-migrate."""
    if not at_least(version, "2.23"):
        raise NotFound("The resource could not be found.")
    compute(request).migration_records.server_live_migrations(ctx, server_id)
    return JSONResponse({"migrations": []})


@router.get("/servers/{server_id}/migrations/{migration_id}")
def server_migration(
    request: Request,
    server_id: str,
    migration_id: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    if not at_least(version, "2.23"):
        raise NotFound("The resource could not be found.")
    compute(request).migration_records.server_live_migrations(ctx, server_id, show=True)
    raise NotFound(
        f"In-progress live migration {migration_id} is not found for server {server_id}."
    )


@router.post("/os-assisted-volume-snapshots")
def create_assisted_volume_snapshot(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body
) -> Response:
    compute(request).admin_actions.create_volume_snapshot(ctx, body)


@router.delete("/os-assisted-volume-snapshots/{snapshot_id}")
def delete_assisted_volume_snapshot(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx
) -> Response:
    delete_info = request.query_params.get("delete_info")
    compute(request).admin_actions.delete_volume_snapshot(ctx, snapshot_id, delete_info)
