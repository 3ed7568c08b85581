"""``/v3/regions``, ``/v3/services`` and ``/v3/endpoints``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.common.openapi import request_body
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, query, self_url

router = APIRouter(prefix="/v3")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _data(model: type[Any], body: Any, wrapper: str) -> dict[str, Any]:
    return dict(parse_body(model, body, wrapper=wrapper).model_dump(exclude_unset=True))


@router.get("/regions")
def list_regions(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).catalog.list_regions(ctx, query(request))
    return JSONResponse(
        views.collection(
            "regions", items, lambda r: views.region(base(request), r), self_url(request)
        )
    )


@router.post("/regions", openapi_extra=request_body(schemas.RegionCreate, "region"))
def create_region(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    region = identity(request).catalog.create_region(
        ctx, _data(schemas.RegionCreate, body, "region")
    )
    return JSONResponse({"region": views.region(base(request), region)}, status_code=201)


@router.put("/regions/{region_id}", openapi_extra=request_body(schemas.RegionCreate, "region"))
def create_region_with_id(
    request: Request, region_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = _data(schemas.RegionCreate, body, "region")
    region = identity(request).catalog.create_region(ctx, data, region_id=region_id)
    return JSONResponse({"region": views.region(base(request), region)}, status_code=201)


@router.get("/regions/{region_id}")
def show_region(request: Request, region_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    region = identity(request).catalog.show_region(ctx, region_id)
    return JSONResponse({"region": views.region(base(request), region)})


@router.patch("/regions/{region_id}", openapi_extra=request_body(schemas.RegionUpdate, "region"))
def update_region(
    request: Request, region_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    region = identity(request).catalog.update_region(
        ctx, region_id, _data(schemas.RegionUpdate, body, "region")
    )
    return JSONResponse({"region": views.region(base(request), region)})


@router.delete("/regions/{region_id}")
def delete_region(request: Request, region_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).catalog.delete_region(ctx, region_id)
    return Response(status_code=204)


@router.get("/services")
def list_services(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).catalog.list_services(ctx, query(request))
    return JSONResponse(
        views.collection(
            "services", items, lambda s: views.service(base(request), s), self_url(request)
        )
    )


@router.post("/services", openapi_extra=request_body(schemas.ServiceCreate, "service"))
def create_service(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    service = identity(request).catalog.create_service(
        ctx, _data(schemas.ServiceCreate, body, "service")
    )
    return JSONResponse({"service": views.service(base(request), service)}, status_code=201)


@router.get("/services/{service_id}")
def show_service(request: Request, service_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    service = identity(request).catalog.show_service(ctx, service_id)
    return JSONResponse({"service": views.service(base(request), service)})


@router.patch(
    "/services/{service_id}", openapi_extra=request_body(schemas.ServiceUpdate, "service")
)
def update_service(
    request: Request, service_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    service = identity(request).catalog.update_service(
        ctx, service_id, _data(schemas.ServiceUpdate, body, "service")
    )
    return JSONResponse({"service": views.service(base(request), service)})


@router.delete("/services/{service_id}")
def delete_service(request: Request, service_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).catalog.delete_service(ctx, service_id)
    return Response(status_code=204)


@router.get("/endpoints")
def list_endpoints(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).catalog.list_endpoints(ctx, query(request))
    return JSONResponse(
        views.collection(
            "endpoints", items, lambda e: views.endpoint(base(request), e), self_url(request)
        )
    )


@router.post("/endpoints", openapi_extra=request_body(schemas.EndpointCreate, "endpoint"))
def create_endpoint(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    endpoint = identity(request).catalog.create_endpoint(
        ctx, _data(schemas.EndpointCreate, body, "endpoint")
    )
    return JSONResponse({"endpoint": views.endpoint(base(request), endpoint)}, status_code=201)


@router.get("/endpoints/{endpoint_id}")
def show_endpoint(request: Request, endpoint_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    endpoint = identity(request).catalog.show_endpoint(ctx, endpoint_id)
    return JSONResponse({"endpoint": views.endpoint(base(request), endpoint)})


@router.patch(
    "/endpoints/{endpoint_id}", openapi_extra=request_body(schemas.EndpointUpdate, "endpoint")
)
def update_endpoint(
    request: Request, endpoint_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    endpoint = identity(request).catalog.update_endpoint(
        ctx, endpoint_id, _data(schemas.EndpointUpdate, body, "endpoint")
    )
    return JSONResponse({"endpoint": views.endpoint(base(request), endpoint)})


@router.delete("/endpoints/{endpoint_id}")
def delete_endpoint(request: Request, endpoint_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).catalog.delete_endpoint(ctx, endpoint_id)
    return Response(status_code=204)
