"""Router interface actions, tags, quotas, IP availability, availability zones, agents."""

from __future__ import annotations

import platform
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.network.api import deps
from onestack.network.exceptions import HTTPBadRequest, NotSupported

router = APIRouter()
Ctx = Depends(require_context)


@router.put("/v2.0/routers/{router_id}/add_router_interface")
def add_router_interface(
    request: Request, router_id: str, body: Any = Depends(json_body), ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(deps.manager(request).add_router_interface(ctx, router_id, body))


@router.put("/v2.0/routers/{router_id}/remove_router_interface")
def remove_router_interface(
    request: Request, router_id: str, body: Any = Depends(json_body), ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(deps.manager(request).remove_router_interface(ctx, router_id, body))


@router.put("/v2.0/routers/{router_id}/add_extraroutes")
@router.put("/v2.0/routers/{router_id}/remove_extraroutes")
def extraroutes_atomic(router_id: str, ctx: RequestContext = Ctx) -> Response:
    raise NotSupported(operation="extraroute-atomic (update the router's routes instead)")


# tags -------------------------------------------------------------------------------------------


@router.get("/v2.0/{collection}/{resource_id}/tags")
def get_tags(
    request: Request, collection: str, resource_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({"tags": deps.manager(request).get_tags(ctx, collection, resource_id)})


@router.put("/v2.0/{collection}/{resource_id}/tags")
def replace_tags(
    request: Request,
    collection: str,
    resource_id: str,
    body: Any = Depends(json_body),
    ctx: RequestContext = Ctx,
) -> JSONResponse:
    if not isinstance(body, dict) or "tags" not in body:
        raise HTTPBadRequest(detail="Invalid tags body: 'tags' is required")
    tags = deps.manager(request).replace_tags(ctx, collection, resource_id, body["tags"])
    return JSONResponse({"tags": tags})


@router.delete("/v2.0/{collection}/{resource_id}/tags")
def delete_tags(
    request: Request, collection: str, resource_id: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).replace_tags(ctx, collection, resource_id, [])
    return Response(status_code=204)


@router.get("/v2.0/{collection}/{resource_id}/tags/{tag}")
def check_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).check_tag(ctx, collection, resource_id, tag)
    return Response(status_code=204)


@router.put("/v2.0/{collection}/{resource_id}/tags/{tag}")
def add_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).add_tag(ctx, collection, resource_id, tag)
    return Response(status_code=201)


@router.delete("/v2.0/{collection}/{resource_id}/tags/{tag}")
def remove_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).remove_tag(ctx, collection, resource_id, tag)
    return Response(status_code=204)


# quotas -----------------------------------------------------------------------------------------


def _quota(values: dict[str, int]) -> dict[str, int]:
    return dict(values)


@router.get("/v2.0/quotas")
def list_quotas(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quotas": deps.manager(request).list_quotas(ctx)})


@router.get("/v2.0/quotas/{project_id}")
def show_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": _quota(deps.manager(request).get_quota(ctx, project_id))})


@router.get("/v2.0/quotas/{project_id}/default")
def default_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": _quota(deps.manager(request).default_quota(ctx))})


@router.get("/v2.0/quotas/{project_id}/details")
@router.get("/v2.0/quotas/{project_id}/details.json")
def quota_details(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": deps.manager(request).get_quota_details(ctx, project_id)})


@router.put("/v2.0/quotas/{project_id}")
def update_quota(
    request: Request, project_id: str, body: Any = Depends(json_body), ctx: RequestContext = Ctx
) -> JSONResponse:
    values = deps.wrapped(body, "quota")
    return JSONResponse({"quota": deps.manager(request).update_quota(ctx, project_id, values)})


@router.delete("/v2.0/quotas/{project_id}")
def delete_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    deps.manager(request).delete_quota(ctx, project_id)
    return Response(status_code=204)


# IP availability, availability zones, agents ----------------------------------------------


@router.get("/v2.0/network-ip-availabilities")
def list_ip_availability(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = deps.manager(request).list_ip_availability(ctx, deps.query(request))
    return JSONResponse({"network_ip_availabilities": items})


@router.get("/v2.0/network-ip-availabilities/{network_id}")
def show_ip_availability(
    request: Request, network_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    item = deps.manager(request).get_ip_availability(ctx, network_id)
    return JSONResponse({"network_ip_availability": item})


@router.get("/v2.0/availability_zones")
def availability_zones(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    zone = deps.manager(request).settings.availability_zone
    zones = [
        {"name": zone, "resource": kind, "state": "available"} for kind in ("network", "router")
    ]
    return JSONResponse({"availability_zones": zones})


@router.get("/v2.0/agents")
def agents(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    mgr = deps.manager(request)
    if not mgr.allowed(ctx, "get_agent", {}):
        # Neutron filters a list by policy: callers who may not see agents get none.
        return JSONResponse({"agents": []})
    alive = mgr.plumber is not None
    host = platform.node()
    items: list[dict[str, Any]] = [
        {
            "id": f"onestack-{kind}-{host}",
            "agent_type": agent_type,
            "binary": binary,
            "host": host,
            "alive": alive,
            "admin_state_up": True,
            "availability_zone": mgr.settings.availability_zone if kind != "bridge" else None,
            "topic": kind,
            "configurations": {},
            "description": None,
        }
        for kind, agent_type, binary in (
            ("bridge", "Linux bridge agent", "onestack-network-agent"),
            ("dhcp", "DHCP agent", "onestack-network-agent"),
            ("l3", "L3 agent", "onestack-network-agent"),
            ("metadata", "Metadata agent", "onestack-network-agent"),
        )
    ]
    return JSONResponse({"agents": items})
