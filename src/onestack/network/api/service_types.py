"""``GET /v2.0/service-providers`` (the ``service-type`` extension): the drivers that
serve Neutron's advanced services.  onestack's one is its own L3 router service
(routers in namespaces on the network host); it has no VPN, load-balancing or
firewall services."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from onestack.common.app import require_context
from onestack.common.context import RequestContext
from onestack.network.api import deps, views

router = APIRouter()

PROVIDERS = ({"service_type": "L3_ROUTER_NAT", "name": "onestack", "default": True},)


@router.get("/v2.0/service-providers")
def list_service_providers(
    request: Request, ctx: RequestContext = Depends(require_context)
) -> JSONResponse:
    filters = {k: v for k, v in deps.query(request) if k in ("service_type", "name", "default")}
    items = [
        p for p in PROVIDERS if all(str(p[k]).lower() == str(v).lower() for k, v in filters.items())
    ]
    fields = deps.fields(request)
    return JSONResponse(
        {"service_providers": [views.select_fields(dict(p), fields) for p in items]}
    )
