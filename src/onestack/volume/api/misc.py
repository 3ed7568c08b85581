"""Quotas, limits, availability zones, services, transfers and extensions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.microversion import APIVersion
from onestack.common.pagination import parse_bool
from onestack.volume.api import views
from onestack.volume.api.deps import Body, Ctx, Version, at_least, project_prefix, section, service
from onestack.volume.quotas import ORDER

router = APIRouter()


# -- quotas -----------------------------------------------------------------------


def _quota_set(
    request: Request, ctx: RequestContext, project_id: str, usage: bool
) -> dict[str, Any]:
    core = service(request).core
    core.enforce(ctx, "volume_extension:quotas:show", project_id)
    engine = core.quotas.engine
    with core.db.reader() as session:
        if usage:
            used = engine.usage(session, project_id)
            body: dict[str, Any] = {
                name: {
                    "limit": used[name].limit,
                    "in_use": used[name].in_use,
                    "reserved": 0,
                    "allocated": 0,
                }
                for name in ORDER
            }
        else:
            limits = engine.limits(session, project_id)
            body = {name: limits[name] for name in ORDER}
    body["id"] = project_id
    return body


@router.get("/v3/os-quota-sets/{project_id}")
def show_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    usage = parse_bool(request.query_params.get("usage", "false"), "usage")
    return JSONResponse({"quota_set": _quota_set(request, ctx, project_id, usage)})


@router.get("/v3/os-quota-sets/{project_id}/defaults")
def quota_defaults(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    core = service(request).core
    with core.db.reader() as session:
        values = core.quotas.engine.defaults(session)
    body: dict[str, Any] = {name: values[name] for name in ORDER}
    body["id"] = project_id
    return JSONResponse({"quota_set": body})


def _limits(body: Any, key: str) -> dict[str, int]:
    data = section(body, key)
    out = {}
    for name, value in data.items():
        if name in ("id", "tenant_id", "class_name"):
            continue
        if name not in ORDER:
            raise BadRequest(f"Bad key(s) in quota set: {name}")
        if isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < -1:
            raise BadRequest(f"Quota limit {value!r} for {name} must be an integer >= -1.")
        out[name] = value
    return out


@router.put("/v3/os-quota-sets/{project_id}")
def update_quota(
    request: Request, project_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    core = service(request).core
    core.enforce(ctx, "volume_extension:quotas:update", project_id)
    limits = _limits(body, "quota_set")
    with core.db.writer() as session:
        core.quotas.engine.set_limits(session, project_id, limits)
        values = core.quotas.engine.limits(session, project_id)
    return JSONResponse({"quota_set": {name: values[name] for name in ORDER}})


@router.delete("/v3/os-quota-sets/{project_id}")
def delete_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    core = service(request).core
    core.enforce(ctx, "volume_extension:quotas:delete", project_id)
    with core.db.writer() as session:
        core.quotas.engine.reset(session, project_id)
    return Response(status_code=200)


@router.get("/v3/os-quota-class-sets/{class_name}")
def show_quota_class(request: Request, class_name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    core = service(request).core
    with core.db.reader() as session:
        values = core.quotas.engine.defaults(session)
    body: dict[str, Any] = {name: values[name] for name in ORDER}
    body["id"] = class_name
    return JSONResponse({"quota_class_set": body})


@router.put("/v3/os-quota-class-sets/{class_name}")
def update_quota_class(
    request: Request, class_name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    core = service(request).core
    core.enforce(ctx, "volume_extension:quotas:update")
    limits = _limits(body, "quota_class_set")
    with core.db.writer() as session:
        core.quotas.engine.set_defaults(session, limits)
        values = core.quotas.engine.defaults(session)
    return JSONResponse({"quota_class_set": {name: values[name] for name in ORDER}})


@router.get("/v3/limits")
def limits(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    core = service(request).core
    project_id = ctx.project_id or ""
    if ctx.is_admin and request.query_params.get("project_id"):
        project_id = request.query_params["project_id"]
    with core.db.reader() as session:
        used = core.quotas.engine.usage(session, project_id)
    absolute = {
        "maxTotalVolumes": used["volumes"].limit,
        "maxTotalSnapshots": used["snapshots"].limit,
        "maxTotalVolumeGigabytes": used["gigabytes"].limit,
        "maxTotalBackups": used["backups"].limit,
        "maxTotalBackupGigabytes": used["backup_gigabytes"].limit,
        "totalVolumesUsed": used["volumes"].in_use,
        "totalSnapshotsUsed": used["snapshots"].in_use,
        "totalGigabytesUsed": used["gigabytes"].in_use,
        "totalBackupsUsed": used["backups"].in_use,
        "totalBackupGigabytesUsed": used["backup_gigabytes"].in_use,
    }
    return JSONResponse({"limits": {"rate": [], "absolute": absolute}})


# -- availability zones and services ---------------------------------------------------


@router.get("/v3/os-availability-zone")
def zones(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    svc = service(request)
    svc.core.enforce(ctx, "volume_extension:availability_zone_list")
    items = [
        {"zoneName": name, "zoneState": {"available": up}} for name, up in svc.services.zones()
    ]
    return JSONResponse({"availabilityZoneInfo": items})


@router.get("/v3/os-services")
def services(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    svc = service(request)
    params = request.query_params
    rows = svc.services.list(ctx, params.get("host"), params.get("binary"))
    items = [views.service(r, svc.services.is_up(r)) for r in rows]
    if at_least(version, "3.7"):
        for item in items:
            item["cluster"] = None
    return JSONResponse({"services": items})


@router.put("/v3/os-services/{action}")
def service_action(
    request: Request, action: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    if action not in ("enable", "disable", "disable-log-reason"):
        raise BadRequest(f"Unknown action {action}")
    if not isinstance(body, dict) or not body.get("host") or not body.get("binary"):
        raise BadRequest("Missing required element 'host' or 'binary' in request body.")
    reason = body.get("disabled_reason") if action == "disable-log-reason" else None
    if action == "disable-log-reason" and (
        not isinstance(reason, str) or not reason.strip() or len(reason) > 255
    ):
        raise BadRequest("Disabled reason contains invalid characters or is too long")
    row = service(request).services.set_enabled(
        ctx, str(body["host"]), str(body["binary"]), action == "enable", reason
    )
    out = {
        "host": row.host,
        "binary": row.binary,
        "service": row.binary,  # Cinder's older name of ``binary``
        "status": "disabled" if row.disabled else "enabled",
        "disabled": row.disabled,
    }
    if reason:
        out["disabled_reason"] = reason
    return JSONResponse(out)


@router.get("/v3/extensions")
def extensions(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    names = [
        ("AvailabilityZones", "os-availability-zone"),
        ("Backups", "backups"),
        ("Quotas", "os-quota-sets"),
        ("Services", "os-services"),
        ("VolumeTransfer", "os-volume-transfer"),
        ("TypesManage", "os-types-manage"),
        ("VolumeActions", "os-volume-actions"),
        ("VolumeHostAttribute", "os-vol-host-attr"),
        ("VolumeTenantAttribute", "os-vol-tenant-attr"),
        ("UsedLimits", "os-used-limits"),
    ]
    items = [
        {
            "name": n,
            "alias": a,
            "description": n,
            "links": [],
            "updated": "2013-01-01T00:00:00+00:00",
        }
        for n, a in names
    ]
    return JSONResponse({"extensions": items})


# -- transfers ------------------------------------------------------------------------------


def _transfer_paths(path: str) -> str:
    return "volume-transfers" if "/volume-transfers" in path else "os-volume-transfer"


@router.post("/v3/os-volume-transfer")
@router.post("/v3/volume-transfers")
def create_transfer(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    data = dict(section(body, "transfer"))
    if not at_least(version, "3.55"):
        data.pop("no_snapshots", None)
    transfer, key = service(request).transfers.create(ctx, data)
    collection = _transfer_paths(request.url.path)
    out = views.transfer(transfer, project_prefix(request), collection, version)
    out["auth_key"] = key
    return JSONResponse({"transfer": out}, status_code=202)


@router.get("/v3/os-volume-transfer")
@router.get("/v3/volume-transfers")
@router.get("/v3/os-volume-transfer/detail")
@router.get("/v3/volume-transfers/detail")
def transfers(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    all_projects = parse_bool(request.query_params.get("all_tenants", "false"), "all_tenants")
    items = service(request).transfers.list(ctx, all_projects)
    detail = request.url.path.endswith("/detail")
    collection = _transfer_paths(request.url.path)
    prefix = project_prefix(request)
    return JSONResponse(
        {"transfers": [views.transfer(t, prefix, collection, version, detail) for t in items]}
    )


@router.get("/v3/os-volume-transfer/{transfer_id}")
@router.get("/v3/volume-transfers/{transfer_id}")
def show_transfer(
    request: Request, transfer_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    transfer = service(request).transfers.get(ctx, transfer_id)
    collection = _transfer_paths(request.url.path)
    out = views.transfer(transfer, project_prefix(request), collection, version)
    return JSONResponse({"transfer": out})


@router.delete("/v3/os-volume-transfer/{transfer_id}")
@router.delete("/v3/volume-transfers/{transfer_id}")
def delete_transfer(request: Request, transfer_id: str, ctx: RequestContext = Ctx) -> Response:
    service(request).transfers.delete(ctx, transfer_id)
    return Response(status_code=202)


@router.post("/v3/os-volume-transfer/{transfer_id}/accept")
@router.post("/v3/volume-transfers/{transfer_id}/accept")
def accept_transfer(
    request: Request,
    transfer_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    data = section(body, "accept")
    transfer = service(request).transfers.accept(ctx, transfer_id, data.get("auth_key"))
    collection = _transfer_paths(request.url.path)
    out = views.transfer(transfer, project_prefix(request), collection, version, detail=False)
    return JSONResponse({"transfer": out}, status_code=202)
