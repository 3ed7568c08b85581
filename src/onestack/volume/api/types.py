"""``/v3/{project_id}/types``: volume types, extra specs and access."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.volume.api import views
from onestack.volume.api.deps import Body, Ctx, section, service

router = APIRouter()


@router.get("/v3/types")
def index(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    types = service(request).types.list_types(ctx, request.query_params.get("is_public"))
    return JSONResponse({"volume_types": [views.volume_type(t, ctx) for t in types]})


@router.post("/v3/types")
def create(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    vtype = service(request).types.create(ctx, section(body, "volume_type"))
    return JSONResponse({"volume_type": views.volume_type(vtype, ctx, "create")})


@router.get("/v3/types/{type_id}")
def show(request: Request, type_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    vtype = service(request).types.get(ctx, type_id)
    return JSONResponse({"volume_type": views.volume_type(vtype, ctx)})


@router.put("/v3/types/{type_id}")
def update(
    request: Request, type_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "volume_type")
    if not any(k in data for k in ("name", "description", "is_public")):
        raise BadRequest(
            "Specify volume type name, description, is_public or a combination thereof."
        )
    vtype = service(request).types.update(ctx, type_id, data)
    return JSONResponse({"volume_type": views.volume_type(vtype, ctx, "update")})


@router.delete("/v3/types/{type_id}")
def delete(request: Request, type_id: str, ctx: RequestContext = Ctx) -> Response:
    service(request).types.delete(ctx, type_id)
    return Response(status_code=202)


@router.get("/v3/types/{type_id}/extra_specs")
def specs(request: Request, type_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"extra_specs": service(request).types.specs(ctx, type_id)})


@router.post("/v3/types/{type_id}/extra_specs")
def set_specs(
    request: Request, type_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if isinstance(body, dict) and body.get("extra_specs", {}) is None:
        raise BadRequest("Invalid input for field/attribute extra_specs. Value: None.")
    data = section(body, "extra_specs")
    return JSONResponse({"extra_specs": service(request).types.set_specs(ctx, type_id, data)})


@router.get("/v3/types/{type_id}/extra_specs/{key}")
def spec(request: Request, type_id: str, key: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({key: service(request).types.spec(ctx, type_id, key)})


@router.put("/v3/types/{type_id}/extra_specs/{key}")
def set_spec(
    request: Request, type_id: str, key: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if not isinstance(body, dict) or key not in body or len(body) != 1:
        raise BadRequest("Request body and URI mismatch")
    return JSONResponse(service(request).types.set_specs(ctx, type_id, body))


@router.delete("/v3/types/{type_id}/extra_specs/{key}")
def delete_spec(request: Request, type_id: str, key: str, ctx: RequestContext = Ctx) -> Response:
    service(request).types.delete_spec(ctx, type_id, key)
    return Response(status_code=202)


@router.get("/v3/types/{type_id}/os-volume-type-access")
def access(request: Request, type_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = service(request).types.access(ctx, type_id)
    items = [{"volume_type_id": r.volume_type_id, "project_id": r.project_id} for r in rows]
    return JSONResponse({"volume_type_access": items})


@router.post("/v3/types/{type_id}/action")
def action(request: Request, type_id: str, ctx: RequestContext = Ctx, body: Any = Body) -> Response:
    types = service(request).types
    if isinstance(body, dict) and "addProjectAccess" in body:
        project = section(body, "addProjectAccess").get("project")
        if not isinstance(project, str) or not project:
            raise BadRequest("Missing required element 'project' in request body.")
        types.add_access(ctx, type_id, project)
    elif isinstance(body, dict) and "removeProjectAccess" in body:
        project = section(body, "removeProjectAccess").get("project")
        if not isinstance(project, str) or not project:
            raise BadRequest("Missing required element 'project' in request body.")
        types.remove_access(ctx, type_id, project)
    else:
        raise BadRequest("Invalid action for a volume type.")
    return Response(status_code=202)
