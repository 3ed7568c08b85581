"""``/v2/info/*`` discovery, and the Glance APIs onestack does not implement.

Stores: ``/v2/info/stores``, ``/v2/info/stores/detail`` (admin),
``DELETE /v2/stores/{store}/{image}`` and ``GET /v2/images/{id}/locations``.
Unimplemented APIs (the cache, adding a location) answer 501 Not Implemented
rather than 404, so a client can tell "not here" from "no such thing".
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import NotSupported
from onestack.image.api.deps import manager

router = APIRouter()
Ctx = Depends(require_context)
ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.get("/v2/info/import")
def import_info(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": manager(request).importer.methods,
            }
        }
    )


@router.get("/v2/info/stores")
def stores(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"stores": manager(request).locations.stores(ctx)})


@router.get("/v2/info/stores/detail")
def stores_detail(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"stores": manager(request).locations.stores(ctx, detail=True)})


@router.delete("/v2/stores/{store}/{image_id}")
def delete_from_store(
    request: Request, store: str, image_id: str, ctx: RequestContext = Ctx
) -> Response:
    manager(request).locations.delete_from_store(ctx, store, image_id)
    return Response(status_code=204)


@router.get("/v2/images/{image_id}/locations")
def locations(request: Request, image_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).locations.locations(ctx, image_id))


@router.get("/v2/info/usage")
def usage(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"usage": manager(request).images.usage(ctx)})


def _unsupported(operation: str) -> None:
    raise NotSupported(operation=operation)


@router.api_route("/v2/cache", methods=ALL)
@router.api_route("/v2/cache/{rest:path}", methods=ALL)
@router.api_route("/v2/cached_images", methods=ALL)
@router.api_route("/v2/queued_images/{rest:path}", methods=ALL)
def cache(ctx: RequestContext = Ctx) -> None:
    _unsupported("The image cache API")


@router.api_route("/v2/images/{image_id}/locations", methods=["POST", "PUT", "PATCH", "DELETE"])
def add_location(image_id: str, ctx: RequestContext = Ctx) -> None:
    _unsupported("Adding or changing image locations")
