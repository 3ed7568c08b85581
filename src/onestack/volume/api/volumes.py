"""``/v3/{project_id}/volumes``: volumes, their metadata and their actions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import parse_body
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotSupported
from onestack.common.microversion import APIVersion
from onestack.common.openapi import request_body
from onestack.common.pagination import parse_bool
from onestack.volume.api import views
from onestack.volume.api.deps import (
    Body,
    Ctx,
    Version,
    at_least,
    limit_of,
    next_link,
    project_prefix,
    query,
    section,
    service,
)
from onestack.volume.api.schemas import VolumeCreate

if TYPE_CHECKING:
    from onestack.volume.models import Volume

router = APIRouter()


def _one(
    request: Request,
    ctx: RequestContext,
    version: APIVersion,
    volume: Volume,
    *,
    extended: bool = True,
) -> dict[str, Any]:
    svc = service(request)
    details = svc.volumes.details([volume])
    prefix = project_prefix(request)
    return views.volume(volume, details, ctx, version, prefix, extended=extended)


@router.post("/v3/volumes", openapi_extra=request_body(VolumeCreate, "volume"))
def create(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    data = dict(section(body, "volume"))
    parse_body(VolumeCreate, data)
    if data.get("backup_id") and not at_least(version, "3.47"):
        raise BadRequest("Creating a volume from a backup requires microversion 3.47.")
    volume = service(request).volumes.create(ctx, data)
    body = {"volume": _one(request, ctx, version, volume, extended=False)}
    return JSONResponse(body, status_code=202)


def _list(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> JSONResponse:
    svc = service(request)
    limit = limit_of(request)
    volumes = svc.volumes.list(ctx, query(request))
    prefix = project_prefix(request)
    if detail:
        details = svc.volumes.details(volumes)
        items = [views.volume(v, details, ctx, version, prefix) for v in volumes]
    else:
        items = [views.volume_summary(v, prefix) for v in volumes]
    body: dict[str, Any] = {"volumes": items}
    links = next_link(request, "volumes" + ("/detail" if detail else ""), volumes, limit)
    if links:
        body["volumes_links"] = links
    if at_least(version, "3.45") and parse_bool(request.query_params.get("with_count", "false")):
        unpaged = [(k, v) for k, v in query(request) if k not in ("limit", "marker")]
        body["count"] = len(svc.volumes.list(ctx, unpaged))
    return JSONResponse(body)


@router.get("/v3/volumes")
def index(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _list(request, ctx, version, False)


@router.get("/v3/volumes/detail")
def detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _list(request, ctx, version, True)


@router.get("/v3/volumes/summary")
def summary(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    if not at_least(version, "3.12"):
        raise NotSupported(operation="The volume summary before microversion 3.12")
    volumes = service(request).volumes.list(ctx, query(request))
    metadata: dict[str, list[str]] = {}
    for volume in volumes:
        for key, value in volume.metadata_.items():
            metadata.setdefault(key, [])
            if value not in metadata[key]:
                metadata[key].append(value)
    body = {"total_size": sum(v.size for v in volumes), "total_count": len(volumes)}
    if at_least(version, "3.36"):
        body["metadata"] = metadata  # type: ignore[assignment]
    return JSONResponse({"volume-summary": body})


@router.get("/v3/volumes/{volume_id}")
def show(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    volume = service(request).volumes.get(ctx, volume_id)
    return JSONResponse({"volume": _one(request, ctx, version, volume)})


@router.put("/v3/volumes/{volume_id}")
def update(
    request: Request,
    volume_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    data = section(body, "volume")
    if not data:
        raise BadRequest("Missing request body to update the volume.")
    volume = service(request).volumes.update(ctx, volume_id, data)
    return JSONResponse({"volume": _one(request, ctx, version, volume, extended=False)})


@router.delete("/v3/volumes/{volume_id}")
def delete(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    params = request.query_params
    cascade = parse_bool(params.get("cascade", "false"), "cascade")
    force = at_least(version, "3.23") and parse_bool(params.get("force", "false"), "force")
    service(request).volumes.delete(ctx, volume_id, cascade=cascade, force=force)
    return Response(status_code=202)


# -- metadata -----------------------------------------------------------------


@router.get("/v3/volumes/{volume_id}/metadata")
def metadata(request: Request, volume_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"metadata": service(request).volumes.metadata(ctx, volume_id)})


@router.post("/v3/volumes/{volume_id}/metadata")
def add_metadata(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "metadata")
    result = service(request).volumes.set_metadata(ctx, volume_id, data, replace=False)
    return JSONResponse({"metadata": result})


@router.put("/v3/volumes/{volume_id}/metadata")
def replace_metadata(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "metadata")
    result = service(request).volumes.set_metadata(ctx, volume_id, data, replace=True)
    return JSONResponse({"metadata": result})


@router.get("/v3/volumes/{volume_id}/metadata/{key}")
def metadata_item(
    request: Request, volume_id: str, key: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    value = service(request).volumes.metadata_item(ctx, volume_id, key)
    return JSONResponse({"meta": {key: value}})


@router.put("/v3/volumes/{volume_id}/metadata/{key}")
def set_metadata_item(
    request: Request, volume_id: str, key: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "meta")
    if key not in data or len(data) != 1:
        raise BadRequest("Request body and URI mismatch")
    service(request).volumes.set_metadata(ctx, volume_id, data, replace=False)
    return JSONResponse({"meta": data})


@router.delete("/v3/volumes/{volume_id}/metadata/{key}")
def delete_metadata_item(
    request: Request, volume_id: str, key: str, ctx: RequestContext = Ctx
) -> Response:
    service(request).volumes.delete_metadata(ctx, volume_id, key)
    return Response(status_code=200)
