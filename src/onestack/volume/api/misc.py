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

router = APIRouter()


# -- quotas -----------------------------------------------------------------------


def _with_id(values: dict[str, Any], ref: str) -> dict[str, Any]:
    return {**values, "id": ref}


@router.get("/v3/os-quota-sets/{project_id}")
def show_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    quota_sets = service(request).quota_sets
    body: dict[str, Any]
    if parse_bool(request.query_params.get("usage", "false"), "usage"):
        used = quota_sets.usage(ctx, project_id)
        body = {name: views.quota_usage(usage) for name, usage in used.items()}
    else:
        body = dict(quota_sets.limits(ctx, project_id))
    return JSONResponse({"quota_set": _with_id(body, project_id)})


@router.get("/v3/os-quota-sets/{project_id}/defaults")
def quota_defaults(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    values = service(request).quota_sets.defaults(ctx)
    return JSONResponse({"quota_set": _with_id(values, project_id)})


@router.put("/v3/os-quota-sets/{project_id}")
def update_quota(
    request: Request, project_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    values = service(request).quota_sets.update(ctx, project_id, section(body, "quota_set"))
    return JSONResponse({"quota_set": values})


@router.delete("/v3/os-quota-sets/{project_id}")
def delete_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    service(request).quota_sets.reset(ctx, project_id)
    return Response(status_code=200)


@router.get("/v3/os-quota-class-sets/{class_name}")
def show_quota_class(request: Request, class_name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    values = service(request).quota_sets.defaults(ctx)
    return JSONResponse({"quota_class_set": _with_id(values, class_name)})


@router.put("/v3/os-quota-class-sets/{class_name}")
def update_quota_class(
    request: Request, class_name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = section(body, "quota_class_set")
    values = service(request).quota_sets.update_defaults(ctx, data)
    return JSONResponse({"quota_class_set": values})


@router.get("/v3/limits")
def limits(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    used = service(request).quota_sets.absolute(ctx, request.query_params.get("project_id"))
    return JSONResponse({"limits": {"rate": [], "absolute": views.absolute_limits(used)}})


# -- availability zones and services ---------------------------------------------------


@router.get("/v3/os-availability-zone")
def zones(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    zones = service(request).services.list_zones(ctx)
    items = [{"zoneName": name, "zoneState": {"available": up}} for name, up in zones]
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
        ("Hosts", "os-hosts"),
        ("Quota_classes", "os-quota-class-sets"),
        ("Qos_specs_manage", "qos-specs"),
        ("VolumeTypeEncryption", "encryption"),
        ("Scheduler_stats", "scheduler-stats"),
        ("Capabilities", "capabilities"),
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
