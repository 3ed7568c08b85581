"""Router interface actions, tags, quotas, IP availability, availability zones, agents
and what they host (the DHCP and L3 agent scheduler extensions)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.network.agents import DHCP_NETWORKS, L3_ROUTERS
from onestack.network.api import deps, views
from onestack.network.exceptions import HTTPBadRequest, NotSupported

router = APIRouter()
Ctx = Depends(require_context)


@router.put("/v2.0/routers/{router_id}/add_router_interface")
def add_router_interface(
    request: Request, router_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> JSONResponse:
    return JSONResponse(deps.manager(request).routers.add_router_interface(ctx, router_id, body))


@router.put("/v2.0/routers/{router_id}/remove_router_interface")
def remove_router_interface(
    request: Request, router_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> JSONResponse:
    return JSONResponse(deps.manager(request).routers.remove_router_interface(ctx, router_id, body))


@router.put("/v2.0/routers/{router_id}/add_extraroutes")
@router.put("/v2.0/routers/{router_id}/remove_extraroutes")
def extraroutes_atomic(router_id: str, ctx: RequestContext = Ctx) -> Response:
    raise NotSupported(operation="extraroute-atomic (update the router's routes instead)")


# tags -------------------------------------------------------------------------------------------


@router.get("/v2.0/{collection}/{resource_id}/tags")
def get_tags(
    request: Request, collection: str, resource_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse({"tags": deps.manager(request).tags.get(ctx, collection, resource_id)})


@router.put("/v2.0/{collection}/{resource_id}/tags")
def replace_tags(
    request: Request,
    collection: str,
    resource_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Depends(json_body),
) -> JSONResponse:
    if not isinstance(body, dict) or "tags" not in body:
        raise HTTPBadRequest(detail="Invalid tags body: 'tags' is required")
    tags = deps.manager(request).tags.replace(ctx, collection, resource_id, body["tags"])
    return JSONResponse({"tags": tags})


@router.delete("/v2.0/{collection}/{resource_id}/tags")
def delete_tags(
    request: Request, collection: str, resource_id: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).tags.replace(ctx, collection, resource_id, [])
    return Response(status_code=204)


@router.get("/v2.0/{collection}/{resource_id}/tags/{tag}")
def check_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).tags.check(ctx, collection, resource_id, tag)
    return Response(status_code=204)


@router.put("/v2.0/{collection}/{resource_id}/tags/{tag}")
def add_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).tags.add(ctx, collection, resource_id, tag)
    return Response(status_code=201)


@router.delete("/v2.0/{collection}/{resource_id}/tags/{tag}")
def remove_tag(
    request: Request, collection: str, resource_id: str, tag: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).tags.remove(ctx, collection, resource_id, tag)
    return Response(status_code=204)


# quotas -----------------------------------------------------------------------------------------


def _quota(values: dict[str, int]) -> dict[str, int]:
    return dict(values)


@router.get("/v2.0/quotas")
def list_quotas(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quotas": deps.manager(request).quotas.list_all(ctx)})


@router.get("/v2.0/quotas/{project_id}")
def show_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": _quota(deps.manager(request).quotas.get(ctx, project_id))})


@router.get("/v2.0/quotas/{project_id}/default")
def default_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": _quota(deps.manager(request).quotas.defaults(ctx))})


@router.get("/v2.0/quotas/{project_id}/details")
@router.get("/v2.0/quotas/{project_id}/details.json")
def quota_details(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"quota": deps.manager(request).quotas.details(ctx, project_id)})


@router.put("/v2.0/quotas/{project_id}")
def update_quota(
    request: Request, project_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> JSONResponse:
    values = deps.wrapped(body, "quota")
    return JSONResponse({"quota": deps.manager(request).quotas.update(ctx, project_id, values)})


@router.delete("/v2.0/quotas/{project_id}")
def delete_quota(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    deps.manager(request).quotas.delete(ctx, project_id)
    return Response(status_code=204)


# IP availability, availability zones, agents ----------------------------------------------


@router.get("/v2.0/network-ip-availabilities")
def list_ip_availability(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = deps.manager(request).ip_availability.list_all(ctx, deps.query(request))
    return JSONResponse({"network_ip_availabilities": items})


@router.get("/v2.0/network-ip-availabilities/{network_id}")
def show_ip_availability(
    request: Request, network_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    item = deps.manager(request).ip_availability.get(ctx, network_id)
    return JSONResponse({"network_ip_availability": item})


@router.get("/v2.0/availability_zones")
def availability_zones(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"availability_zones": deps.manager(request).availability_zones(ctx)})


@router.get("/v2.0/agents")
def agents(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    filters: dict[str, list[str]] = {}
    for key, value in deps.query(request):
        filters.setdefault(key, []).append(value)
    items = deps.manager(request).agent_records.list_agents(ctx, filters)
    fields = deps.fields(request)
    if fields:
        items = [{k: v for k, v in item.items() if k in fields} for item in items]
    return JSONResponse({"agents": items})


@router.get("/v2.0/agents/{agent_id}")
def show_agent(request: Request, agent_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"agent": deps.manager(request).agent_records.get(ctx, agent_id)})


@router.put("/v2.0/agents/{agent_id}")
def update_agent(
    request: Request, agent_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> JSONResponse:
    values = deps.wrapped(body, "agent")
    return JSONResponse(
        {"agent": deps.manager(request).agent_records.update(ctx, agent_id, values)}
    )


@router.delete("/v2.0/agents/{agent_id}")
def delete_agent(request: Request, agent_id: str, ctx: RequestContext = Ctx) -> Response:
    deps.manager(request).agent_records.delete(ctx, agent_id)
    return Response(status_code=204)


@router.get("/v2.0/agents/{agent_id}/dhcp-networks")
def agent_dhcp_networks(request: Request, agent_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = deps.manager(request).hosted_by_agent(ctx, agent_id, DHCP_NETWORKS)
    fields = deps.fields(request)
    return JSONResponse({"networks": [views.select_fields(views.network(r, ctx), fields)
                                      for r in rows]})  # fmt: skip


@router.post("/v2.0/agents/{agent_id}/dhcp-networks")
def add_dhcp_network(
    request: Request, agent_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> Response:
    deps.manager(request).agent_records.add(ctx, agent_id, DHCP_NETWORKS, body)
    return JSONResponse(None, status_code=201)


@router.delete("/v2.0/agents/{agent_id}/dhcp-networks/{network_id}")
def remove_dhcp_network(
    request: Request, agent_id: str, network_id: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).agent_records.remove(ctx, agent_id, DHCP_NETWORKS, network_id)
    return Response(status_code=204)


@router.get("/v2.0/agents/{agent_id}/l3-routers")
def agent_l3_routers(request: Request, agent_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = deps.manager(request).hosted_by_agent(ctx, agent_id, L3_ROUTERS)
    fields = deps.fields(request)
    return JSONResponse({"routers": [views.select_fields(views.router(r, ctx), fields)
                                     for r in rows]})  # fmt: skip


@router.post("/v2.0/agents/{agent_id}/l3-routers")
def add_l3_router(
    request: Request, agent_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> Response:
    deps.manager(request).agent_records.add(ctx, agent_id, L3_ROUTERS, body)
    return JSONResponse(None, status_code=201)


@router.delete("/v2.0/agents/{agent_id}/l3-routers/{router_id}")
def remove_l3_router(
    request: Request, agent_id: str, router_id: str, ctx: RequestContext = Ctx
) -> Response:
    deps.manager(request).agent_records.remove(ctx, agent_id, L3_ROUTERS, router_id)
    return Response(status_code=204)


@router.get("/v2.0/routers/{router_id}/l3-agents")
def router_l3_agents(request: Request, router_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    agents = deps.manager(request).agent_records.hosting_router(ctx, router_id)
    return JSONResponse({"agents": agents})


@router.get("/v2.0/networks/{network_id}/dhcp-agents")
def network_dhcp_agents(
    request: Request, network_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    agents = deps.manager(request).agent_records.hosting_network(ctx, network_id)
    return JSONResponse({"agents": agents})
