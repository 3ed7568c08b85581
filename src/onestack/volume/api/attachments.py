"""``/v3/{project_id}/attachments`` (microversion 3.27 and later)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.volume.api import views
from onestack.volume.api.deps import Body, Ctx, Version, at_least, section, service

router = APIRouter()


def _require(version: APIVersion, minimum: str = "3.27") -> None:
    if not at_least(version, minimum):
        # Cinder: the resource does not exist before its microversion
        raise NotFound("The resource could not be found.")


@router.post("/v3/attachments")
def create(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    _require(version)
    data = section(body, "attachment")
    volume_id = data.get("volume_uuid")
    if not isinstance(volume_id, str) or not volume_id:
        raise BadRequest(
            "Invalid input for field/attribute volume_uuid: 'volume_uuid' is a required property"
        )
    instance = data.get("instance_uuid")
    mode = str(data.get("mode", "rw")) if at_least(version, "3.54") else "rw"
    connector = data.get("connector")
    attachment = service(request).attachments.create(ctx, volume_id, instance, connector, mode)
    return JSONResponse({"attachment": views.attachment(attachment)})


@router.get("/v3/attachments")
def index(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _require(version)
    items = service(request).attachments.list_attachments(ctx, dict(request.query_params))
    return JSONResponse({"attachments": [views.attachment(a, detail=False) for a in items]})


@router.get("/v3/attachments/detail")
def detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _require(version)
    items = service(request).attachments.list_attachments(ctx, dict(request.query_params))
    return JSONResponse({"attachments": [views.attachment(a) for a in items]})


@router.get("/v3/attachments/{attachment_id}")
def show(
    request: Request, attachment_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _require(version)
    attachment = service(request).attachments.get(ctx, attachment_id)
    return JSONResponse({"attachment": views.attachment(attachment)})


@router.put("/v3/attachments/{attachment_id}")
def update(
    request: Request,
    attachment_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    _require(version)
    data = section(body, "attachment")
    if "connector" not in data:
        raise BadRequest(
            "Invalid input for field/attribute connector: 'connector' is a required property"
        )
    attachment = service(request).attachments.update(ctx, attachment_id, data["connector"])
    return JSONResponse({"attachment": views.attachment(attachment)})


@router.post("/v3/attachments/{attachment_id}/action")
def action(
    request: Request,
    attachment_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> Response:
    _require(version, "3.44")
    if not isinstance(body, dict) or "os-complete" not in body:
        raise BadRequest("Invalid attachment action; only os-complete is supported.")
    service(request).attachments.complete(ctx, attachment_id)
    return Response(status_code=204)


@router.delete("/v3/attachments/{attachment_id}")
def delete(
    request: Request, attachment_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    _require(version)
    remaining = service(request).attachments.delete(ctx, attachment_id)
    return JSONResponse({"attachments": [views.attachment(a, detail=False) for a in remaining]})
