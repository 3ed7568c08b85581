"""Nova's volume proxy APIs (compute/volume_proxy.py): ``os-volumes`` and
``os-snapshots``, served up to microversion 2.35 and a 404 from 2.36 on, as Nova
does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import NotFound
from onestack.common.microversion import APIVersion
from onestack.compute.api.deps import Body, Ctx, Version, compute
from onestack.compute.api.proxies import _page, removed_in_2_36
from onestack.compute.api.views import iso_us
from onestack.volume.interface import SnapshotRecord, VolumeRecord

router = APIRouter(prefix="/v2.1")


def volume_view(volume: VolumeRecord) -> dict[str, Any]:
    """A volume in Nova's shape; a volume attached nowhere lists one empty attachment,
    as Nova does."""
    attachments: list[dict[str, Any]] = []
    for attachment in volume.attachments:
        item = {"id": volume.id, "volumeId": volume.id}
        if attachment.instance_uuid:
            item["serverId"] = attachment.instance_uuid
        if attachment.mountpoint:
            item["device"] = attachment.mountpoint
        attachments.append(item)
    return {
        "id": volume.id,
        "status": volume.status,
        "size": volume.size,
        "availabilityZone": volume.availability_zone,
        "createdAt": iso_us(volume.created_at),
        "attachments": attachments or [{}],
        "displayName": volume.name,
        "displayDescription": volume.description,
        "volumeType": volume.volume_type,
        "snapshotId": volume.snapshot_id,
        "metadata": dict(volume.metadata),
    }


def snapshot_view(snapshot: SnapshotRecord) -> dict[str, Any]:
    return {
        "id": snapshot.id,
        "volumeId": snapshot.volume_id,
        "status": snapshot.status,
        "size": snapshot.size,
        "createdAt": iso_us(snapshot.created_at),
        "displayName": snapshot.name,
        "displayDescription": snapshot.description,
    }


# -- volumes ------------------------------------------------------------------------


def _volumes(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> Any:
    removed_in_2_36(version)
    items = compute(request).volume_proxy.volumes(ctx, detail)
    return JSONResponse({"volumes": [volume_view(v) for v in _page(request, items)]})


@router.get("/os-volumes")
def list_volumes(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _volumes(request, ctx, version, False)


@router.get("/os-volumes/detail")
def list_volumes_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _volumes(request, ctx, version, True)


@router.post("/os-volumes")
def create_volume(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    volume = compute(request).volume_proxy.create(ctx, body)
    return JSONResponse({"volume": volume_view(volume)})


@router.get("/os-volumes/", include_in_schema=False)
@router.delete("/os-volumes/", include_in_schema=False)
@router.get("/os-snapshots/", include_in_schema=False)
@router.delete("/os-snapshots/", include_in_schema=False)
def volume_without_id() -> Response:
    """An empty id: Nova's 404 (not a redirect to the collection)."""
    raise NotFound("The resource could not be found.")


@router.get("/os-volumes/{volume_id}")
def show_volume(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    volume = compute(request).volume_proxy.get(ctx, volume_id)
    return JSONResponse({"volume": volume_view(volume)})


@router.delete("/os-volumes/{volume_id}")
def delete_volume(
    request: Request, volume_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).volume_proxy.delete(ctx, volume_id)
    return Response(status_code=202)


# -- snapshots ----------------------------------------------------------------------


def _snapshots(request: Request, ctx: RequestContext, version: APIVersion, detail: bool) -> Any:
    removed_in_2_36(version)
    items = compute(request).volume_proxy.snapshots(ctx, detail)
    return JSONResponse({"snapshots": [snapshot_view(s) for s in _page(request, items)]})


@router.get("/os-snapshots")
def list_snapshots(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _snapshots(request, ctx, version, False)


@router.get("/os-snapshots/detail")
def list_snapshots_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _snapshots(request, ctx, version, True)


@router.post("/os-snapshots")
def create_snapshot(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    snapshot = compute(request).volume_proxy.create_snapshot(ctx, body)
    return JSONResponse({"snapshot": snapshot_view(snapshot)})


@router.get("/os-snapshots/{snapshot_id}")
def show_snapshot(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    removed_in_2_36(version)
    snapshot = compute(request).volume_proxy.snapshot(ctx, snapshot_id)
    return JSONResponse({"snapshot": snapshot_view(snapshot)})


@router.delete("/os-snapshots/{snapshot_id}")
def delete_snapshot(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> Response:
    removed_in_2_36(version)
    compute(request).volume_proxy.delete_snapshot(ctx, snapshot_id)
    return Response(status_code=202)
