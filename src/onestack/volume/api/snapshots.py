"""``/v3/{project_id}/snapshots`` and ``/v3/{project_id}/backups``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotSupported
from onestack.common.microversion import APIVersion
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

router = APIRouter()


# -- snapshots ------------------------------------------------------------------


@router.post("/v3/snapshots")
def create_snapshot(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    data = section(body, "snapshot")
    snap = service(request).snapshots.create(ctx, data, in_use_ok=at_least(version, "3.66"))
    body = {"snapshot": views.snapshot(snap, version, ctx, extended=False)}
    return JSONResponse(body, status_code=202)


def _snapshots(request: Request, ctx: RequestContext, version: APIVersion) -> JSONResponse:
    items = service(request).snapshots.list(ctx, query(request))
    detail = request.url.path.endswith("/detail")
    body: dict[str, Any] = {
        "snapshots": [views.snapshot(s, version, ctx, extended=detail) for s in items]
    }
    links = next_link(request, "snapshots", items, limit_of(request))
    if links:
        body["snapshots_links"] = links
    return JSONResponse(body)


@router.get("/v3/snapshots")
def snapshots(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _snapshots(request, ctx, version)


@router.get("/v3/snapshots/detail")
def snapshots_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _snapshots(request, ctx, version)


@router.get("/v3/snapshots/{snapshot_id}")
def show_snapshot(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    snap = service(request).snapshots.get(ctx, snapshot_id)
    return JSONResponse({"snapshot": views.snapshot(snap, version, ctx)})


@router.put("/v3/snapshots/{snapshot_id}")
def update_snapshot(
    request: Request,
    snapshot_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    data = section(body, "snapshot")
    if not data:
        raise BadRequest("Missing request body to update the snapshot.")
    snap = service(request).snapshots.update(ctx, snapshot_id, data)
    return JSONResponse({"snapshot": views.snapshot(snap, version, ctx, extended=False)})


@router.delete("/v3/snapshots/{snapshot_id}")
def delete_snapshot(request: Request, snapshot_id: str, ctx: RequestContext = Ctx) -> Response:
    service(request).snapshots.delete(ctx, snapshot_id)
    return Response(status_code=202)


@router.post("/v3/snapshots/{snapshot_id}/action")
def snapshot_action(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the request body.")
    name = next(iter(body))
    args = body[name] if body[name] is not None else {}
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute {name}: must be an object.")
    snapshots = service(request).snapshots
    if name == "os-reset_status":
        if "status" not in args:
            raise BadRequest("Must specify 'status'")
        snapshots.reset_status(ctx, snapshot_id, args["status"])
    elif name == "os-update_snapshot_status":
        if "status" not in args:
            raise BadRequest("'status' must be specified.")
        snapshots.update_status(ctx, snapshot_id, args["status"], args.get("progress"))
    elif name == "os-force_delete":
        snapshots.force_delete(ctx, snapshot_id)
    elif name == "os-unmanage":
        raise NotSupported(operation="Unmanaging snapshots")
    else:
        raise BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)


@router.get("/v3/snapshots/{snapshot_id}/metadata")
def snapshot_metadata(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({"metadata": service(request).snapshots.metadata(ctx, snapshot_id)})


@router.post("/v3/snapshots/{snapshot_id}/metadata")
@router.put("/v3/snapshots/{snapshot_id}/metadata")
def set_snapshot_metadata(
    request: Request, snapshot_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "metadata")
    replace = request.method == "PUT"
    result = service(request).snapshots.set_metadata(ctx, snapshot_id, data, replace=replace)
    return JSONResponse({"metadata": result})


@router.get("/v3/snapshots/{snapshot_id}/metadata/{key}")
def snapshot_metadata_item(
    request: Request, snapshot_id: str, key: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    metadata = service(request).snapshots.metadata(ctx, snapshot_id)
    if key not in metadata:
        from onestack.volume.exceptions import MetadataNotFound

        raise MetadataNotFound(key=key)
    return JSONResponse({"meta": {key: metadata[key]}})


@router.put("/v3/snapshots/{snapshot_id}/metadata/{key}")
def set_snapshot_metadata_item(
    request: Request, snapshot_id: str, key: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "meta")
    if key not in data or len(data) != 1:
        raise BadRequest("Request body and URI mismatch")
    service(request).snapshots.set_metadata(ctx, snapshot_id, data, replace=False)
    return JSONResponse({"meta": data})


@router.delete("/v3/snapshots/{snapshot_id}/metadata/{key}")
def delete_snapshot_metadata_item(
    request: Request, snapshot_id: str, key: str, ctx: RequestContext = Ctx
) -> Response:
    service(request).snapshots.delete_metadata(ctx, snapshot_id, key)
    return Response(status_code=200)


# -- backups --------------------------------------------------------------------


@router.post("/v3/backups")
def create_backup(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    backup = service(request).backups.create(ctx, section(body, "backup"))
    prefix = project_prefix(request)
    body_out = {
        "id": backup.id,
        "name": backup.name,
        "links": views.links(prefix, "backups", backup.id),
    }
    return JSONResponse({"backup": body_out}, status_code=202)


def _backups(
    request: Request, ctx: RequestContext, version: APIVersion, detail: bool
) -> JSONResponse:
    svc = service(request)
    items = svc.backups.list(ctx, query(request))
    prefix = project_prefix(request)
    if detail:
        dependents = svc.backups.dependents([b.id for b in items])
        rendered = [views.backup(b, dependents, version, ctx, prefix) for b in items]
    else:
        rendered = [
            {"id": b.id, "name": b.name, "links": views.links(prefix, "backups", b.id)}
            for b in items
        ]
    body: dict[str, Any] = {"backups": rendered}
    links = next_link(request, "backups" + ("/detail" if detail else ""), items, limit_of(request))
    if links:
        body["backups_links"] = links
    if at_least(version, "3.45") and parse_bool(request.query_params.get("with_count", "false")):
        body["count"] = len(
            svc.backups.list(
                ctx, [(k, v) for k, v in query(request) if k not in ("limit", "marker")]
            )
        )
    return JSONResponse(body)


@router.get("/v3/backups")
def backups(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _backups(request, ctx, version, False)


@router.get("/v3/backups/detail")
def backups_detail(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    return _backups(request, ctx, version, True)


@router.get("/v3/backups/{backup_id}")
def show_backup(
    request: Request, backup_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    svc = service(request)
    backup = svc.backups.get(ctx, backup_id)
    dependents = svc.backups.dependents([backup.id])
    prefix = project_prefix(request)
    return JSONResponse({"backup": views.backup(backup, dependents, version, ctx, prefix)})


@router.put("/v3/backups/{backup_id}")
def update_backup(
    request: Request,
    backup_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not at_least(version, "3.9"):
        raise NotSupported(operation="Updating a backup before microversion 3.9")
    svc = service(request)
    backup = svc.backups.update(ctx, backup_id, section(body, "backup"))
    dependents = svc.backups.dependents([backup.id])
    prefix = project_prefix(request)
    return JSONResponse({"backup": views.backup(backup, dependents, version, ctx, prefix)})


@router.delete("/v3/backups/{backup_id}")
def delete_backup(request: Request, backup_id: str, ctx: RequestContext = Ctx) -> Response:
    force = parse_bool(request.query_params.get("force", "false"), "force")
    service(request).backups.delete(ctx, backup_id, force)
    return Response(status_code=202)


@router.post("/v3/backups/{backup_id}/restore")
def restore_backup(
    request: Request, backup_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "restore")
    volume_id, name = data.get("volume_id"), data.get("name")
    if volume_id and name:
        raise BadRequest("Cannot give both volume_id and name to restore a backup.")
    backup, volume = service(request).backups.restore(ctx, backup_id, volume_id, name)
    out = {"backup_id": backup.id, "volume_id": volume.id, "volume_name": volume.name}
    return JSONResponse({"restore": out}, status_code=202)


@router.post("/v3/backups/{backup_id}/action")
def backup_action(
    request: Request, backup_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> Response:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("There is either no action or more than one action in the request body.")
    name = next(iter(body))
    args = body[name] if body[name] is not None else {}
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute {name}: must be an object.")
    backups = service(request).backups
    if name == "os-force_delete":
        backups.delete(ctx, backup_id, force=True)
    elif name == "os-reset_status":
        if "status" not in args:
            raise BadRequest("Must specify 'status'")
        backups.reset_status(ctx, backup_id, args["status"])
    else:
        raise BadRequest(f"There is no such action: {name}")
    return Response(status_code=202)


@router.get("/v3/backups/{backup_id}/export_record")
def export_backup_record(
    request: Request, backup_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    record = service(request).backups.export_record(ctx, backup_id)
    return JSONResponse({"backup-record": record})


@router.post("/v3/backups/import_record")
def import_backup_record(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "backup-record")
    for key in ("backup_service", "backup_url"):
        if key not in data:
            raise BadRequest(f"Incorrect request body format: '{key}' is required.")
    backup = service(request).backups.import_record(ctx, data["backup_service"], data["backup_url"])
    out = {
        "id": backup.id,
        "name": backup.name,
        "links": views.links(project_prefix(request), "backups", backup.id),
    }
    return JSONResponse({"backup": out}, status_code=201)
