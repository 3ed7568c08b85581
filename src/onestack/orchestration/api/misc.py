"""Versions, build info, validate, resource types, template versions, services, and
software configs and deployments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import base_url
from onestack.common.context import RequestContext
from onestack.orchestration.api import views
from onestack.orchestration.api.deps import Body, Ctx, flag, query, service
from onestack.orchestration.exceptions import HTTPBadRequest

versions = APIRouter()
router = APIRouter(prefix="/v1/{tenant_id}")


def _versions(request: Request) -> dict[str, Any]:
    return {
        "versions": [
            {
                "id": "v1.0",
                "status": "CURRENT",
                "links": [{"href": f"{base_url(request)}/v1/", "rel": "self"}],
            }
        ]
    }


@versions.get("/")
def root(request: Request) -> JSONResponse:
    return JSONResponse(_versions(request), status_code=300)


@versions.get("/v1")
@versions.get("/v1/")
def version(request: Request) -> JSONResponse:
    return JSONResponse(_versions(request))


@router.get("/build_info")
def build_info(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(service(request).build_info(ctx))


@router.get("/services")
def services(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"services": service(request).services(ctx)})


@router.post("/validate")
async def validate(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if not isinstance(body, dict):
        raise HTTPBadRequest(detail="The request body must be an object.")
    result = await service(request).templates.validate(ctx, body, flag(request, "show_nested"))
    return JSONResponse(result)


@router.get("/resource_types")
async def resource_types(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(
        {"resource_types": await service(request).templates.types(ctx, query(request))}
    )


@router.get("/resource_types/{type_name}")
def resource_schema(
    request: Request, tenant_id: str, type_name: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(service(request).templates.schema(ctx, type_name))


@router.get("/resource_types/{type_name}/template")
def resource_template(
    request: Request, tenant_id: str, type_name: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    kind = request.query_params.get("template_type", "cfn")
    if kind not in ("hot", "cfn"):
        raise HTTPBadRequest(detail=f"Template type is not supported: {kind}")
    return JSONResponse(service(request).templates.generated(ctx, type_name, kind))


@router.get("/template_versions")
def template_versions(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"template_versions": service(request).templates.versions(ctx)})


@router.get("/template_versions/{version}/functions")
def template_functions(
    request: Request, tenant_id: str, version: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    items = service(request).templates.functions(ctx, version, flag(request, "with_condition_func"))
    return JSONResponse({"template_functions": items})


# -- software configs and deployments ---------------------------------------------------------


@router.post("/software_configs")
def create_config(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = service(request).software.create_config(ctx, body)
    return JSONResponse({"software_config": views.software_config(row)})


@router.get("/software_configs")
def list_configs(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    limit = request.query_params.get("limit")
    rows = service(request).software.list_configs(
        ctx, int(limit) if limit and limit.isdigit() else None, request.query_params.get("marker")
    )
    return JSONResponse(
        {
            "software_configs": [
                {
                    k: v
                    for k, v in views.software_config(r).items()
                    if k in ("id", "name", "group", "creation_time")
                }
                for r in rows
            ]
        }
    )


@router.get("/software_configs/{config_id}")
def show_config(
    request: Request, tenant_id: str, config_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    row = service(request).software.get_config(ctx, config_id)
    return JSONResponse({"software_config": views.software_config(row)})


@router.delete("/software_configs/{config_id}", status_code=204)
def delete_config(
    request: Request, tenant_id: str, config_id: str, ctx: RequestContext = Ctx
) -> Response:
    service(request).software.delete_config(ctx, config_id)
    return Response(status_code=204)


@router.post("/software_deployments")
def create_deployment(
    request: Request, tenant_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = service(request).software.create_deployment(ctx, body)
    return JSONResponse({"software_deployment": views.software_deployment(row)})


@router.get("/software_deployments")
def list_deployments(request: Request, tenant_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = service(request).software.list_deployments(ctx, request.query_params.get("server_id"))
    return JSONResponse({"software_deployments": [views.software_deployment(r) for r in rows]})


@router.get("/software_deployments/metadata/{server_id}")
def deployment_metadata(
    request: Request, tenant_id: str, server_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({"metadata": service(request).software.metadata(ctx, server_id)})


@router.get("/software_deployments/{deployment_id}")
def show_deployment(
    request: Request, tenant_id: str, deployment_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    row = service(request).software.get_deployment(ctx, deployment_id)
    return JSONResponse({"software_deployment": views.software_deployment(row)})


@router.put("/software_deployments/{deployment_id}")
def update_deployment(
    request: Request,
    tenant_id: str,
    deployment_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> JSONResponse:
    row = service(request).software.update_deployment(ctx, deployment_id, body)
    return JSONResponse({"software_deployment": views.software_deployment(row)})


@router.delete("/software_deployments/{deployment_id}", status_code=204)
def delete_deployment(
    request: Request, tenant_id: str, deployment_id: str, ctx: RequestContext = Ctx
) -> Response:
    service(request).software.delete_deployment(ctx, deployment_id)
    return Response(status_code=204)
