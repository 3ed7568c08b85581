"""``/v1/{tenant_id}/stacks``: stacks, their actions, outputs, templates and snapshots.

Every form that names a stack by name or id alone answers 302 to
``/stacks/{name}/{id}[/...]`` (any method, the query string kept), as Heat does.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body
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
from onestack.orchestration.exceptions import EntityNotFound, HTTPBadRequest

router = APIRouter(prefix="/v1/{tenant_id}")
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


@router.get("/stacks")
@router.get("/stacks/detail")
def list_stacks(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    manager = service(request)
    params = query(request)
    rows = manager.stacks.list_stacks(ctx, params)
    body: dict[str, Any] = {
        "stacks": [views.stack_summary(base(request, tenant_id), r) for r in rows]
    }
    if flag(request, "with_count"):
        body["count"] = manager.stacks.count(ctx, params)
    return JSONResponse(body)


@router.post("/stacks", status_code=201)
async def create_stack(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if not isinstance(body, dict):
        raise HTTPBadRequest(detail="The request body must be an object.")
    row = await service(request).stacks.create(ctx, body)
    url = views.stack_url(base(request, tenant_id), row)
    return JSONResponse(
        {"stack": {"id": row.id, "links": [{"href": url, "rel": "self"}]}},
        status_code=201,
        headers={"Location": url},
    )


@router.post("/stacks/preview")
async def preview_stack(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if not isinstance(body, dict):
        raise HTTPBadRequest(detail="The request body must be an object.")
    parsed, stack_id = await service(request).stacks.preview(ctx, body)
    definition = parsed.definition
    graph = definition.graph()
    resources = []
    for name, resource_def in definition.resources.items():
        try:
            props = definition.properties_of(name, validating=True)
        except Exception:  # a property that needs other resources is shown unresolved
            props = {}
        resources.append(
            {
                "resource_name": name,
                "resource_type": resource_def.type,
                "resource_action": "INIT",
                "resource_status": "COMPLETE",
                "resource_status_reason": "",
                "physical_resource_id": "",
                "logical_resource_id": name,
                "description": resource_def.description,
                "required_by": sorted(graph.required_by(name)),
                "properties": props,
                "metadata": {},
                "stack_name": parsed.name,
                "stack_identity": {
                    "stack_name": parsed.name,
                    "stack_id": stack_id,
                    "tenant": ctx.project_id,
                    "path": "",
                },
                "resource_identity": {
                    "stack_name": parsed.name,
                    "stack_id": stack_id,
                    "tenant": ctx.project_id,
                    "path": f"/resources/{name}",
                },
                "creation_time": None,
                "updated_time": None,
            }
        )
    body_out = {
        "id": stack_id,
        "stack_name": parsed.name,
        "description": definition.template.description,
        "template_description": definition.template.description,
        "parameters": definition.params.shown(),
        "disable_rollback": parsed.disable_rollback,
        "timeout_mins": parsed.timeout_mins,
        "capabilities": [],
        "notification_topics": [],
        "creation_time": None,
        "updated_time": None,
        "deletion_time": None,
        "stack_owner": ctx.user_name,
        "parent": None,
        "tags": parsed.tags,
        "links": [],
        "resources": resources,
    }
    return JSONResponse({"stack": body_out})


@router.api_route("/stacks/{stack_name}", methods=METHODS)
def lookup(
    request: Request, tenant_id: str, stack_name: str, ctx: RequestContext = Ctx
) -> Response:
    row = service(request).stacks.lookup(ctx, stack_name)
    return redirect(request, tenant_id, row.name, row.id)


def _redirect_sub(
    request: Request, tenant_id: str, name: str, first: str, rest: str, ctx: RequestContext
) -> Response:
    row = service(request).stacks.lookup(ctx, name)
    return redirect(request, tenant_id, row.name, row.id, f"{first}/{rest}" if rest else first)


@router.get("/stacks/{stack_name}/{stack_id}")
async def show_stack(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> Response:
    if stack_id in SUBPATHS:
        return await asyncio.to_thread(
            _redirect_sub, request, tenant_id, stack_name, stack_id, "", ctx
        )
    detail = await service(request).stacks.detail(
        ctx, stack_name, stack_id, resolve_outputs=flag(request, "resolve_outputs", True)
    )
    return JSONResponse({"stack": views.stack_detail(base(request, tenant_id), detail)})


@router.post("/stacks/{stack_name}/{stack_id}")
def post_sub(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> Response:
    if stack_id in SUBPATHS:
        return _redirect_sub(request, tenant_id, stack_name, stack_id, "", ctx)
    raise EntityNotFound(entity="Stack", name=stack_name)


@router.put("/stacks/{stack_name}/{stack_id}", status_code=202)
@router.patch("/stacks/{stack_name}/{stack_id}", status_code=202)
async def update_stack(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> Response:
    if stack_id in SUBPATHS:
        return await asyncio.to_thread(
            _redirect_sub, request, tenant_id, stack_name, stack_id, "", ctx
        )
    body = await json_body(request)
    if not isinstance(body, dict):
        raise HTTPBadRequest(detail="The request body must be an object.")
    await service(request).stacks.update(
        ctx, stack_name, stack_id, body, patch=request.method == "PATCH"
    )
    return Response(status_code=202)


@router.put("/stacks/{stack_name}/{stack_id}/preview")
@router.patch("/stacks/{stack_name}/{stack_id}/preview")
async def preview_update(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> JSONResponse:
    if not isinstance(body, dict):
        raise HTTPBadRequest(detail="The request body must be an object.")
    changes = await service(request).stacks.preview_update(
        ctx, stack_name, stack_id, body, patch=request.method == "PATCH"
    )
    return JSONResponse({"resource_changes": changes})


@router.delete("/stacks/{stack_name}/{stack_id}", status_code=204)
async def delete_stack(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> Response:
    if stack_id in SUBPATHS:
        return await asyncio.to_thread(
            _redirect_sub, request, tenant_id, stack_name, stack_id, "", ctx
        )
    await service(request).stacks.delete(ctx, stack_name, stack_id)
    return Response(status_code=204)


@router.delete("/stacks/{stack_name}/{stack_id}/abandon")
async def abandon_stack(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(await service(request).stacks.abandon(ctx, stack_name, stack_id))


@router.get("/stacks/{stack_name}/{stack_id}/export")
def export_stack(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(service(request).stacks.export(ctx, stack_name, stack_id))


@router.get("/stacks/{stack_name}/{stack_id}/template")
def stack_template(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(service(request).stacks.get(ctx, stack_name, stack_id, "template").template)


@router.get("/stacks/{stack_name}/{stack_id}/environment")
def stack_environment(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    row = service(request).stacks.get(ctx, stack_name, stack_id, "environment")
    return JSONResponse(row.environment)


@router.get("/stacks/{stack_name}/{stack_id}/files")
def stack_files(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(service(request).stacks.get(ctx, stack_name, stack_id, "files").files)


@router.post("/stacks/{stack_name}/{stack_id}/actions")
async def stack_action(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> Response:
    await service(request).stacks.action(ctx, stack_name, stack_id, body)
    return Response(status_code=200)


@router.get("/stacks/{stack_name}/{stack_id}/outputs")
async def list_outputs(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    outputs = await service(request).stacks.output_list(ctx, stack_name, stack_id)
    return JSONResponse({"outputs": outputs})


@router.get("/stacks/{stack_name}/{stack_id}/outputs/{output_key}")
async def show_output(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    output_key: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    output = await service(request).stacks.output(ctx, stack_name, stack_id, output_key)
    return JSONResponse({"output": output})


# -- snapshots ----------------------------------------------------------------------------------


@router.post("/stacks/{stack_name}/{stack_id}/snapshots")
def create_snapshot(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> JSONResponse:
    row = service(request).templates.snapshot(ctx, stack_name, stack_id, body)
    return JSONResponse(views.snapshot(row))


@router.get("/stacks/{stack_name}/{stack_id}/snapshots")
def list_snapshots(
    request: Request, tenant_id: str, stack_name: str, stack_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    rows = service(request).templates.snapshots(ctx, stack_name, stack_id)
    return JSONResponse({"snapshots": [views.snapshot(r) for r in rows]})


@router.get("/stacks/{stack_name}/{stack_id}/snapshots/{snapshot_id}")
def show_snapshot(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    snapshot_id: str,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    row = service(request).templates.get_snapshot(ctx, stack_name, stack_id, snapshot_id)
    return JSONResponse({"snapshot": views.snapshot(row)})


@router.delete("/stacks/{stack_name}/{stack_id}/snapshots/{snapshot_id}", status_code=204)
def delete_snapshot(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    snapshot_id: str,
    ctx: RequestContext = Ctx,
) -> Response:
    service(request).templates.delete_snapshot(ctx, stack_name, stack_id, snapshot_id)
    return Response(status_code=204)


@router.post("/stacks/{stack_name}/{stack_id}/snapshots/{snapshot_id}/restore", status_code=202)
async def restore_snapshot(
    request: Request,
    tenant_id: str,
    stack_name: str,
    stack_id: str,
    snapshot_id: str,
    ctx: RequestContext = Ctx,
) -> Response:
    await service(request).templates.restore(ctx, stack_name, stack_id, snapshot_id)
    return Response(status_code=202)
