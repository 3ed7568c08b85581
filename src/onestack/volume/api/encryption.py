"""``/v3/{project_id}/types/{type_id}/encryption``: a volume type's encryption
type (encryption.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.volume.api.deps import Body, Ctx, section, service
from onestack.volume.api.views import ts
from onestack.volume.encryption import as_dict
from onestack.volume.exceptions import VolumeTypeEncryptionNotFound

router = APIRouter()


@router.get("/v3/types/{type_id}/encryption")
def show(request: Request, type_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    row = service(request).encryption.get(ctx, type_id)
    if row is None:
        return JSONResponse({})  # Cinder: an empty object for a type without one
    body = as_dict(row)
    body.update(
        deleted=False,
        created_at=ts(row.created_at),
        updated_at=ts(row.updated_at),
        deleted_at=None,
    )
    return JSONResponse(body)


@router.get("/v3/types/{type_id}/encryption/{key}")
def show_item(request: Request, type_id: str, key: str, ctx: RequestContext = Ctx) -> JSONResponse:
    row = service(request).encryption.get(ctx, type_id)
    values = as_dict(row) if row is not None else {}
    if key not in values:
        raise VolumeTypeEncryptionNotFound(type_id=type_id)
    return JSONResponse({key: values[key]})


@router.post("/v3/types/{type_id}/encryption")
def create(
    request: Request, type_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = service(request).encryption.create(ctx, type_id, section(body, "encryption"))
    return JSONResponse({"encryption": as_dict(row)})


@router.put("/v3/types/{type_id}/encryption/{encryption_id}")
def update(
    request: Request, type_id: str, encryption_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    values = service(request).encryption.update(ctx, type_id, section(body, "encryption"))
    return JSONResponse({"encryption": values})


@router.delete("/v3/types/{type_id}/encryption/{encryption_id}")
def delete(
    request: Request, type_id: str, encryption_id: str, ctx: RequestContext = Ctx
) -> Response:
    service(request).encryption.delete(ctx, type_id)
    return Response(status_code=202)
