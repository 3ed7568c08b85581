"""Administrators' views of the volume hosts: ``scheduler-stats/get_pools``,
``capabilities/{host}`` and ``os-hosts`` (pools.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotSupported
from onestack.common.pagination import parse_bool
from onestack.volume.api.deps import Ctx, service
from onestack.volume.api.views import ts

router = APIRouter()

#: Cinder's standard capability properties this backend honours
_PROPERTIES = {
    "thin_provisioning": {
        "title": "Thin Provisioning",
        "description": "Sets thin provisioning (volumes are sparse files: always thin).",
        "type": "boolean",
    },
}


@router.get("/v3/scheduler-stats/get_pools")
def get_pools(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    params = request.query_params
    detail = parse_bool(params.get("detail", "false"), "detail")
    pools = service(request).pools.pools(ctx, params.get("name"))
    items: list[dict[str, Any]] = []
    for pool in pools:
        item: dict[str, Any] = {"name": pool.name}
        if detail:
            item["capabilities"] = pool.capabilities
        items.append(item)
    return JSONResponse({"pools": items})


@router.get("/v3/capabilities/{host}")
def capabilities(request: Request, host: str, ctx: RequestContext = Ctx) -> JSONResponse:
    caps = service(request).pools.capabilities(ctx, host)
    return JSONResponse(
        {
            "namespace": f"OS::Storage::Capabilities::{host}",
            "vendor_name": caps["vendor_name"],
            "volume_backend_name": caps["volume_backend_name"],
            "pool_name": caps["pool_name"],
            "driver_version": caps["driver_version"],
            "storage_protocol": caps["storage_protocol"],
            "display_name": None,
            "description": None,
            "visibility": None,
            "replication_targets": [],
            "properties": _PROPERTIES,
        }
    )


@router.get("/v3/os-hosts")
def list_hosts(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = service(request).pools.hosts(ctx, request.query_params.get("zone"))
    hosts = [
        {
            "host_name": row.host,
            "service": row.binary,
            "zone": row.availability_zone,
            "service-status": "available" if up else "unavailable",
            "service-state": "disabled" if row.disabled else "enabled",
            "last-update": ts(row.updated_at),
        }
        for row, up in rows
    ]
    return JSONResponse({"hosts": hosts})


@router.get("/v3/os-hosts/{host}")
def show_host(request: Request, host: str, ctx: RequestContext = Ctx) -> JSONResponse:
    if not host.strip():
        raise BadRequest("Invalid host name.")
    usage = service(request).pools.host_usage(ctx, host)
    items = [
        {
            "resource": {
                "host": host,
                "project": u.project,
                # Cinder renders these counts as strings
                "volume_count": str(u.volume_count),
                "total_volume_gb": str(u.total_volume_gb),
                "snapshot_count": str(u.snapshot_count),
                "total_snapshot_gb": str(u.total_snapshot_gb),
            }
        }
        for u in usage
    ]
    return JSONResponse({"host": items})


@router.put("/v3/os-hosts/{host}")
@router.get("/v3/os-hosts/{host}/{action}")
def host_actions(host: str, action: str = "update", ctx: RequestContext = Ctx) -> JSONResponse:
    """Cinder's host update and power actions, which its volume hosts do not
    implement either (os-services enables and disables a volume service)."""
    raise NotSupported(operation=f"Host {action}")
