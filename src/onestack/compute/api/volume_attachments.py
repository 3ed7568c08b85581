"""``/v2.1/servers/{id}/os-volume_attachments``: attach, list, show, update, detach.

Fields by microversion, as Nova renders them: ``id`` (the volume id, until
2.89), ``serverId``, ``volumeId``, ``device``, ``tag`` (2.70), ``delete_on_
termination`` (2.79), ``attachment_id`` and ``bdm_uuid`` (2.89).  Attach
answers 200 with the attachment and completes asynchronously; update (2.85)
changes ``delete_on_termination``; swapping volumes answers 501.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotSupported
from onestack.common.microversion import APIVersion
from onestack.common.openapi import request_body
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute, data, query

router = APIRouter(prefix="/v2.1")

UUID_PATTERN = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class AttachRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volumeId: str = Field(pattern=UUID_PATTERN)
    device: str | None = None
    tag: str | None = Field(None, min_length=1, max_length=60, pattern=r"^[^,/]*$")
    delete_on_termination: StrictBool = False


class UpdateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volumeId: str = Field(pattern=UUID_PATTERN)
    device: str | None = None
    tag: str | None = None
    delete_on_termination: StrictBool | None = None
    serverId: str | None = None
    id: str | None = None


def view(row: Any, version: APIVersion) -> dict[str, Any]:
    body: dict[str, Any] = {}
    new_ids = at_least(version, "2.89")
    if not new_ids:
        body["id"] = row.volume_id
    body["volumeId"] = row.volume_id
    body["serverId"] = row.instance_id
    if row.device_name:
        body["device"] = row.device_name
    if at_least(version, "2.70"):
        body["tag"] = row.tag
    if at_least(version, "2.79"):
        body["delete_on_termination"] = row.delete_on_termination
    if new_ids:
        body["attachment_id"] = row.attachment_id
        body["bdm_uuid"] = row.id
    return body


def _non_negative(params: dict[str, str], name: str) -> int | None:
    if name not in params:
        return None
    value = params[name]
    if not value.isdigit():
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.")
    return int(value)


@router.get("/servers/{server_id}/os-volume_attachments")
def list_attachments(
    request: Request, server_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    params = dict(query(request))
    if at_least(version, "2.75"):
        extra = sorted(set(params) - {"limit", "offset"})
        if extra:
            raise BadRequest(
                f"Invalid input for query parameters {extra[0]}. Additional properties are "
                f"not allowed ('{extra[0]}' was unexpected)"
            )
    limit = _non_negative(params, "limit")
    offset = _non_negative(params, "offset") or 0
    rows = compute(request).attachments.list_attachments(ctx, server_id)
    if at_least(version, "2.89"):
        rows = [r for r in rows if r.attachment_id]
    rows = rows[offset:]
    rows = rows[: min(limit, 1000)] if limit is not None else rows[:1000]
    return JSONResponse({"volumeAttachments": [view(r, version) for r in rows]})


@router.get("/servers/{server_id}/os-volume_attachments/{volume_id}")
def show_attachment(
    request: Request,
    server_id: str,
    volume_id: str,
    ctx: RequestContext = Ctx,
    version: APIVersion = Version,
) -> JSONResponse:
    row = compute(request).attachments.show(ctx, server_id, volume_id)
    return JSONResponse({"volumeAttachment": view(row, version)})


@router.post(
    "/servers/{server_id}/os-volume_attachments",
    openapi_extra=request_body(AttachRequest, "volumeAttachment"),
)
def attach_volume(
    request: Request,
    server_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if isinstance(body, dict) and isinstance(body.get("volumeAttachment"), dict):
        given = body["volumeAttachment"]
        for key, since in (("tag", "2.49"), ("delete_on_termination", "2.79")):
            if key in given and not at_least(version, since):
                raise BadRequest(
                    "Invalid input for field/attribute volumeAttachment. Additional properties "
                    f"are not allowed ('{key}' was unexpected)"
                )
    req = data(AttachRequest, body, "volumeAttachment")
    row = compute(request).attachments.attach(
        ctx,
        server_id,
        req.volumeId,
        req.device,
        req.tag,
        req.delete_on_termination,
        multiattach_ok=at_least(version, "2.60"),
    )
    attachment: dict[str, Any] = {
        "id": row.volume_id,
        "serverId": server_id,
        "volumeId": row.volume_id,
        "device": row.device_name,
    }
    if at_least(version, "2.70"):
        attachment["tag"] = row.tag
    if at_least(version, "2.79"):
        attachment["delete_on_termination"] = row.delete_on_termination
    return JSONResponse({"volumeAttachment": attachment})


@router.put(
    "/servers/{server_id}/os-volume_attachments/{volume_id}",
    openapi_extra=request_body(UpdateRequest, "volumeAttachment"),
)
def update_attachment(
    request: Request,
    server_id: str,
    volume_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> Response:
    req = data(UpdateRequest, body, "volumeAttachment")
    if not at_least(version, "2.85") or req.volumeId != volume_id:
        compute(request).attachments.show(ctx, server_id, volume_id)
        raise NotSupported(operation="Swapping the volume of an attachment")
    changes = req.model_dump(exclude_unset=True)
    changes.pop("volumeId", None)
    compute(request).attachments.update(ctx, server_id, volume_id, changes)
    return Response(status_code=202)


@router.delete("/servers/{server_id}/os-volume_attachments/{volume_id}")
def detach_volume(
    request: Request, server_id: str, volume_id: str, ctx: RequestContext = Ctx
) -> Response:
    compute(request).attachments.detach(ctx, server_id, volume_id)
    return Response(status_code=202)
