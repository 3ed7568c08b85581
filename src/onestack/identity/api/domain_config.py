"""``/v3/domains/{domain_id}/config`` and its defaults (identity/domain_config.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.identity.api.deps import identity

router = APIRouter(prefix="/v3")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _config(body: Any) -> Any:
    """The ``config`` object (missing: empty, which the manager refuses as Keystone does)."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be an object with a 'config' object.")
    return body.get("config", {})


# The defaults first: "/domains/config/..." would otherwise match "/domains/{domain_id}/...".


@router.get("/domains/config/default")
def show_default(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"config": identity(request).domain_config.default(ctx, None, None)})


@router.get("/domains/config/{group}/default")
def show_default_group(request: Request, group: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"config": identity(request).domain_config.default(ctx, group, None)})


@router.get("/domains/config/{group}/{option}/default")
def show_default_option(
    request: Request, group: str, option: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({"config": identity(request).domain_config.default(ctx, group, option)})


@router.put("/domains/{domain_id}/config")
def create_config(
    request: Request, domain_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    config, created = identity(request).domain_config.create(ctx, domain_id, _config(body))
    return JSONResponse({"config": config}, status_code=201 if created else 200)


@router.get("/domains/{domain_id}/config")
@router.get("/domains/{domain_id}/config/{group}")
@router.get("/domains/{domain_id}/config/{group}/{option}")
def show_config(
    request: Request,
    domain_id: str,
    group: str | None = None,
    option: str | None = None,
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    config = identity(request).domain_config.show(ctx, domain_id, group, option)
    return JSONResponse({"config": config})


@router.patch("/domains/{domain_id}/config")
@router.patch("/domains/{domain_id}/config/{group}")
@router.patch("/domains/{domain_id}/config/{group}/{option}")
def update_config(
    request: Request,
    domain_id: str,
    group: str | None = None,
    option: str | None = None,
    ctx: RequestContext = Ctx,
    body: Any = Body,
) -> JSONResponse:
    config = identity(request).domain_config.update(ctx, domain_id, _config(body), group, option)
    return JSONResponse({"config": config})


@router.delete("/domains/{domain_id}/config")
@router.delete("/domains/{domain_id}/config/{group}")
@router.delete("/domains/{domain_id}/config/{group}/{option}")
def delete_config(
    request: Request,
    domain_id: str,
    group: str | None = None,
    option: str | None = None,
    ctx: RequestContext = Ctx,
) -> Response:
    identity(request).domain_config.delete(ctx, domain_id, group, option)
    return Response(status_code=204)
