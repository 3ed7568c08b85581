"""``/v3/OS-EP-FILTER``: endpoint groups and project-endpoint associations
(identity/endpoint_filter.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, query, self_url

router = APIRouter(prefix="/v3/OS-EP-FILTER")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _data(model: type[Any], body: Any) -> dict[str, Any]:
    return dict(parse_body(model, body, wrapper="endpoint_group").model_dump(exclude_unset=True))


def _groups(request: Request, items: list[Any]) -> JSONResponse:
    return JSONResponse(
        views.collection(
            "endpoint_groups",
            items,
            lambda g: views.endpoint_group(base(request), g),
            self_url(request),
        )
    )


def _projects(request: Request, items: list[Any]) -> JSONResponse:
    return JSONResponse(
        views.collection(
            "projects", items, lambda p: views.project(base(request), p), self_url(request)
        )
    )


def _endpoints(request: Request, items: list[Any]) -> JSONResponse:
    return JSONResponse(
        views.collection(
            "endpoints", items, lambda e: views.endpoint(base(request), e), self_url(request)
        )
    )


# -- endpoint groups ----------------------------------------------------


@router.get("/endpoint_groups")
def list_endpoint_groups(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return _groups(request, identity(request).endpoint_filter.list_groups(ctx, query(request)))


@router.post("/endpoint_groups")
def create_endpoint_group(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    group = identity(request).endpoint_filter.create_group(
        ctx, _data(schemas.EndpointGroupCreate, body)
    )
    return JSONResponse(
        {"endpoint_group": views.endpoint_group(base(request), group)}, status_code=201
    )


@router.get("/endpoint_groups/{group_id}")
def show_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    group = identity(request).endpoint_filter.show_group(ctx, group_id)
    return JSONResponse({"endpoint_group": views.endpoint_group(base(request), group)})


@router.head("/endpoint_groups/{group_id}")
def check_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).endpoint_filter.show_group(ctx, group_id)
    return Response(status_code=200)


@router.patch("/endpoint_groups/{group_id}")
def update_endpoint_group(
    request: Request, group_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    group = identity(request).endpoint_filter.update_group(
        ctx, group_id, _data(schemas.EndpointGroupUpdate, body)
    )
    return JSONResponse({"endpoint_group": views.endpoint_group(base(request), group)})


@router.delete("/endpoint_groups/{group_id}")
def delete_endpoint_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).endpoint_filter.delete_group(ctx, group_id)
    return Response(status_code=204)


@router.get("/endpoint_groups/{group_id}/endpoints")
def endpoints_in_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return _endpoints(request, identity(request).endpoint_filter.endpoints_in_group(ctx, group_id))


@router.get("/endpoint_groups/{group_id}/projects")
def projects_of_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return _projects(request, identity(request).endpoint_filter.projects_of_group(ctx, group_id))


@router.put("/endpoint_groups/{group_id}/projects/{project_id}")
def add_group_to_project(
    request: Request, group_id: str, project_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.add_group_to_project(ctx, group_id, project_id)
    return Response(status_code=204)


@router.get("/endpoint_groups/{group_id}/projects/{project_id}")
def show_project_in_group(
    request: Request, group_id: str, project_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    project = identity(request).endpoint_filter.project_in_group(ctx, group_id, project_id)
    return JSONResponse({"project": views.project(base(request), project)})


@router.head("/endpoint_groups/{group_id}/projects/{project_id}")
def check_project_in_group(
    request: Request, group_id: str, project_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.project_in_group(ctx, group_id, project_id)
    return Response(status_code=200)


@router.delete("/endpoint_groups/{group_id}/projects/{project_id}")
def remove_group_from_project(
    request: Request, group_id: str, project_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.remove_group_from_project(ctx, group_id, project_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/endpoint_groups")
def groups_of_project(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return _groups(request, identity(request).endpoint_filter.groups_of_project(ctx, project_id))


# -- project-endpoint associations --------------------------------------


@router.put("/projects/{project_id}/endpoints/{endpoint_id}")
def add_endpoint_to_project(
    request: Request, project_id: str, endpoint_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.add_endpoint_to_project(ctx, project_id, endpoint_id)
    return Response(status_code=204)


@router.head("/projects/{project_id}/endpoints/{endpoint_id}")
@router.get("/projects/{project_id}/endpoints/{endpoint_id}")
def check_endpoint_in_project(
    request: Request, project_id: str, endpoint_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.check_endpoint_in_project(ctx, project_id, endpoint_id)
    return Response(status_code=204)


@router.delete("/projects/{project_id}/endpoints/{endpoint_id}")
def remove_endpoint_from_project(
    request: Request, project_id: str, endpoint_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).endpoint_filter.remove_endpoint_from_project(ctx, project_id, endpoint_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/endpoints")
def endpoints_of_project(
    request: Request, project_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return _endpoints(
        request, identity(request).endpoint_filter.endpoints_of_project(ctx, project_id)
    )


@router.get("/endpoints/{endpoint_id}/projects")
def projects_of_endpoint(
    request: Request, endpoint_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return _projects(
        request, identity(request).endpoint_filter.projects_of_endpoint(ctx, endpoint_id)
    )
