"""``/v2/info/*`` discovery, and the Glance APIs onestack does not implement.

Unimplemented APIs (tasks, metadata definitions, the cache, locations,
stores detail) answer 501 Not Implemented rather than 404, so a client can
tell "not here" from "no such thing".
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from onestack.common.app import require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import NotSupported
from onestack.image.api.deps import manager
from onestack.image.data import IMPORT_METHODS

router = APIRouter()
Ctx = Depends(require_context)
ALL = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.get("/v2/info/import")
def import_info(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "import-methods": {
                "description": "Import methods available.",
                "type": "array",
                "value": list(IMPORT_METHODS),
            }
        }
    )


@router.get("/v2/info/stores")
def stores(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {"stores": [{"id": "file", "description": "The state directory", "default": True}]}
    )


@router.get("/v2/info/usage")
def usage(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"usage": manager(request).images.usage(ctx)})


def _unsupported(operation: str) -> None:
    raise NotSupported(operation=operation)


@router.api_route("/v2/tasks", methods=ALL)
@router.api_route("/v2/tasks/{rest:path}", methods=ALL)
@router.api_route("/v2/schemas/task", methods=ALL)
@router.api_route("/v2/schemas/tasks", methods=ALL)
def tasks(ctx: RequestContext = Ctx) -> None:
    _unsupported("The tasks API")


@router.api_route("/v2/metadefs/{rest:path}", methods=ALL)
@router.api_route("/v2/schemas/metadefs/{rest:path}", methods=ALL)
def metadefs(ctx: RequestContext = Ctx) -> None:
    _unsupported("The metadata definitions API (metadefs)")


@router.api_route("/v2/cache", methods=ALL)
@router.api_route("/v2/cache/{rest:path}", methods=ALL)
@router.api_route("/v2/cached_images", methods=ALL)
@router.api_route("/v2/queued_images/{rest:path}", methods=ALL)
def cache(ctx: RequestContext = Ctx) -> None:
    _unsupported("The image cache API")


@router.api_route("/v2/images/{image_id}/locations", methods=ALL)
def locations(image_id: str, ctx: RequestContext = Ctx) -> None:
    _unsupported("Image locations")


@router.api_route("/v2/stores/{rest:path}", methods=ALL)
@router.api_route("/v2/info/stores/detail", methods=ALL)
def stores_admin(ctx: RequestContext = Ctx) -> None:
    _unsupported("Store administration (multiple stores)")
