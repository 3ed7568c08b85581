"""``/v3/auth``: tokens, and what a token may be scoped to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.pagination import parse_bool
from onestack.identity.api import views
from onestack.identity.api.deps import base, identity, self_url

router = APIRouter(prefix="/v3/auth")


def _subject(request: Request) -> str:
    token = request.headers.get("x-subject-token")
    if not token:
        raise BadRequest("X-Subject-Token header is required.")
    return token


def _flag(request: Request, name: str) -> bool:
    if name not in request.query_params:
        return False
    value = request.query_params[name]
    return value == "" or parse_bool(value, name)


@router.post("/tokens")
def issue_token(request: Request, body: Any = Depends(json_body)) -> JSONResponse:
    if not isinstance(body, dict) or not isinstance(body.get("auth"), dict):
        raise BadRequest("'auth' is a required property.")
    manager = identity(request)
    token, data = manager.tokens.authenticate(body["auth"])
    catalog = (
        None
        if _flag(request, "nocatalog")
        else manager.catalog.catalog_for(data.project.id if data.project else None)
    )
    return JSONResponse(
        views.token(data, catalog), status_code=201, headers={"X-Subject-Token": token}
    )


@router.get("/tokens")
async def validate_token(
    request: Request, ctx: RequestContext = Depends(require_context)
) -> JSONResponse:
    manager = identity(request)
    token = _subject(request)
    data = await manager.tokens.check_async(
        ctx, token, "identity:validate_token", allow_expired=_flag(request, "allow_expired")
    )
    catalog = (
        None
        if _flag(request, "nocatalog")
        else manager.catalog.catalog_for(data.project.id if data.project else None)
    )
    return JSONResponse(views.token(data, catalog), headers={"X-Subject-Token": token})


@router.head("/tokens")
async def check_token(request: Request, ctx: RequestContext = Depends(require_context)) -> Response:
    token = _subject(request)
    await identity(request).tokens.check_async(
        ctx, token, "identity:check_token", allow_expired=_flag(request, "allow_expired")
    )
    return Response(status_code=200, headers={"X-Subject-Token": token})


@router.delete("/tokens", status_code=204)
def revoke_token(request: Request, ctx: RequestContext = Depends(require_context)) -> Response:
    identity(request).tokens.revoke_token(ctx, _subject(request))
    return Response(status_code=204)


@router.get("/catalog")
def auth_catalog(request: Request, ctx: RequestContext = Depends(require_context)) -> JSONResponse:
    return JSONResponse(
        {
            "catalog": identity(request).catalog.catalog_of_token(ctx),
            "links": {"self": self_url(request), "previous": None, "next": None},
        }
    )


@router.get("/projects")
def auth_projects(request: Request, ctx: RequestContext = Depends(require_context)) -> JSONResponse:
    projects = identity(request).assignments.scopable_projects(ctx)
    return JSONResponse(
        views.collection(
            "projects", projects, lambda p: views.project(base(request), p), self_url(request)
        )
    )


@router.get("/domains")
def auth_domains(request: Request, ctx: RequestContext = Depends(require_context)) -> JSONResponse:
    domains = identity(request).assignments.scopable_domains(ctx)
    return JSONResponse(
        views.collection(
            "domains", domains, lambda d: views.domain(base(request), d), self_url(request)
        )
    )


@router.get("/system")
def auth_system(request: Request, ctx: RequestContext = Depends(require_context)) -> JSONResponse:
    has_role = identity(request).assignments.scopable_system(ctx)
    return JSONResponse(
        {
            "system": [{"all": True}] if has_role else [],
            "links": {"self": self_url(request), "previous": None, "next": None},
        }
    )
