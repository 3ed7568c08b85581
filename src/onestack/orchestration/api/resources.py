"""Resources and events of a stack, and the signal route instances call."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common import jsonbody
from onestack.common.app import context_of, require_context
from onestack.common.context import RequestContext
from onestack.orchestration.api import views
from onestack.orchestration.api.deps import (
    SUBPATHS,
    Body,
    Ctx,
    base,
    flag,
    query,
    redirect,
    service,
)
from onestack.orchestration.exceptions import EntityNotFound, InvalidTenant

router = APIRouter(prefix="/v1/{tenant_id}/stacks/{stack_name}/{stack_id}")


def _depth(request: Request) -> int:
    value = request.query_params.get("nested_depth")
    return int(value) if value and value.isdigit() else 0


@router.get("/resources")
async def list_resources(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    manager = service(request)
    rows = await asyncio.to_thread(
        manager.inspection.resources, ctx, stack_name, stack_id, query(request)
    )
    depth = _depth(request)
    prefix = base(request, tenant_id)
    if flag(request, "with_detail"):
        out = [
            views.resource(prefix, r, await manager.inspection.attributes(r), depth) for r in rows
        ]
    else:
        out = [views.resource(prefix, r, None, depth) for r in rows]
    return JSONResponse({"resources": out})


@router.get("/resources/{resource_name}")
async def show_resource(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    manager = service(request)
    found = await asyncio.to_thread(
        manager.inspection.resource, ctx, stack_name, stack_id, resource_name
    )
    attributes = await manager.inspection.attributes(found)
    return JSONResponse({"resource": views.resource(base(request, tenant_id), found, attributes)})


@router.get("/resources/{resource_name}/metadata")
def resource_metadata(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    found = service(request).inspection.resource(ctx, stack_name, stack_id, resource_name)
    return JSONResponse({"metadata": found.row.rsrc_metadata or {}})


@router.post("/resources/{resource_name}/signal")
async def signal_resource(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, resource_name: str
) -> Response:
    """A project member's token, or the wait condition handle's own token (instances)."""
    ctx = context_of(request)
    token = request.headers.get("x-auth-token")
    if ctx.authenticated:
        ctx = await require_context(request)
        if tenant_id != ctx.project_id and not ctx.is_admin:
            raise InvalidTenant(target=tenant_id, actual=ctx.project_id)
    raw = await request.body()
    details: Any = None
    if raw.strip():
        try:
            details = jsonbody.loads(raw)
        except jsonbody.MalformedBody:
            details = {"data": raw.decode(errors="replace")}
    await service(request).inspection.signal(
        ctx, stack_name, stack_id, resource_name, details, token
    )
    return Response(status_code=200)


@router.patch("/resources/{resource_name}")
def mark_unhealthy(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> Response:
    service(request).inspection.mark_unhealthy(ctx, stack_name, stack_id, resource_name, body)
    return Response(status_code=200)


@router.get("/events")
def list_events(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    rows = service(request).inspection.events(ctx, stack_name, stack_id, query(request))
    prefix = base(request, tenant_id)
    nested = _depth(request) > 0
    root = None
    if nested and rows:
        root = next((s for _, s in rows if s.id == stack_id), None) or rows[0][1]
    return JSONResponse({"events": [views.event(prefix, e, s, root) for e, s in rows]})


@router.get("/resources/{resource_name}/events")
def list_resource_events(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    rows = service(request).inspection.events(
        ctx, stack_name, stack_id, query(request), resource_name
    )
    prefix = base(request, tenant_id)
    return JSONResponse({"events": [views.event(prefix, e, s) for e, s in rows]})


@router.get("/resources/{resource_name}/events/{event_id}")
def show_event(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    resource_name: str,
    event_id: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    item, stack = service(request).inspection.event(
        ctx, stack_name, stack_id, resource_name, event_id
    )
    return JSONResponse({"event": views.event_detail(base(request, tenant_id), item, stack)})


lookups = APIRouter(prefix="/v1/{tenant_id}/stacks/{stack_name}")


@lookups.api_route("/{first}/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def redirect_sub(
    request: Request,
    tenant_id: str,
    stack_name: str,
    first: str,
    rest: str,
    ctx: RequestContext = Ctx,
) -> Response:
    """``/stacks/{name}/resources/...`` and the like: 302 to the stack's full address."""
    if first not in SUBPATHS:
        raise EntityNotFound(entity="Stack", name=stack_name)
    row = service(request).stacks.lookup(ctx, stack_name)
    return redirect(request, tenant_id, row.name, row.id, f"{first}/{rest}")
