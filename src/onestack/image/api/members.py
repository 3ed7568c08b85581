"""``/v2/images/{image_id}/members``: share an image with other projects."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.image.api import views
from onestack.image.api.deps import manager

router = APIRouter(prefix="/v2/images/{image_id}/members")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _field(body: Any, name: str) -> Any:
    if not isinstance(body, dict) or name not in body:
        raise BadRequest(f"The request body needs '{name}'.")
    return body[name]


@router.get("")
def list_members(request: Request, image_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).members.list(ctx, image_id)
    return JSONResponse(
        {"members": [views.member(r) for r in rows], "schema": "/v2/schemas/members"}
    )


@router.post("")
def add_member(
    request: Request, image_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).members.add(ctx, image_id, _field(body, "member"))
    return JSONResponse(views.member(row))


@router.get("/{member_id}")
def show_member(
    request: Request, image_id: str, member_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(views.member(manager(request).members.show(ctx, image_id, member_id)))


@router.put("/{member_id}")
def update_member(
    request: Request, image_id: str, member_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).members.update(ctx, image_id, member_id, _field(body, "status"))
    return JSONResponse(views.member(row))


@router.delete("/{member_id}")
def delete_member(
    request: Request, image_id: str, member_id: str, ctx: RequestContext = Ctx
) -> Response:
    manager(request).members.delete(ctx, image_id, member_id)
    return Response(status_code=204)
