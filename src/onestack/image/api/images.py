"""``/v2/images``: create, list, show, update (JSON patch), delete, actions, tags."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common import jsonbody
from onestack.common.app import base_url, json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.openapi import request_body
from onestack.image.api import views
from onestack.image.api.deps import manager, query
from onestack.image.api.schemas import image_schema
from onestack.image.patch import parse_patch

router = APIRouter(prefix="/v2/images")
Ctx = Depends(require_context)


def import_header(request: Request) -> dict[str, str]:
    """The import methods and stores, as Glance names them on an image's answers."""
    image = manager(request)
    return {
        "OpenStack-image-import-methods": ",".join(image.importer.methods),
        "OpenStack-image-store-ids": ",".join(image.core.stores.names),
    }


@router.get("")
def list_images(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    params = query(request)
    page = manager(request).lister.list(ctx, params)
    return JSONResponse(views.images(page.images, params, page.next_marker))


@router.post("", openapi_extra=request_body(schema=image_schema()))
def create_image(
    request: Request, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> JSONResponse:
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object describing the image.")
    image = manager(request).images.create(ctx, body)
    headers = {**import_header(request), "Location": f"{base_url(request)}/v2/images/{image.id}"}
    return JSONResponse(views.image(image), status_code=201, headers=headers)


@router.api_route(
    "/", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
def empty_image_id() -> None:
    """``/v2/images/`` names no image: 404, as Glance answers (not a redirect to the list)."""
    raise NotFound("The resource could not be found.")


@router.get("/{image_id}")
def show_image(request: Request, image_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    image = manager(request).images.show(ctx, image_id)
    return JSONResponse(views.image(image), headers=import_header(request))


async def patch_body(request: Request) -> Any:
    """The JSON patch document (its media type is not ``application/json``)."""
    return jsonbody.loads(await request.body())


@router.patch("/{image_id}")
def update_image(
    request: Request, image_id: str, ctx: RequestContext = Ctx, body: Any = Depends(patch_body)
) -> JSONResponse:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    changes = parse_patch(media, body)
    image = manager(request).images.update(ctx, image_id, changes)
    return JSONResponse(views.image(image), headers=import_header(request))


@router.delete("/{image_id}")
def delete_image(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).images.delete(ctx, image_id)
    return Response(status_code=204)


@router.post("/{image_id}/actions/deactivate")
def deactivate(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).images.set_active(ctx, image_id, False)
    return Response(status_code=204)


@router.post("/{image_id}/actions/reactivate")
def reactivate(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).images.set_active(ctx, image_id, True)
    return Response(status_code=204)


@router.put("/{image_id}/tags/{tag}")
def add_tag(request: Request, image_id: str, tag: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).members.add_tag(ctx, image_id, tag)
    return Response(status_code=204)


@router.delete("/{image_id}/tags/{tag}")
def delete_tag(request: Request, image_id: str, tag: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).members.delete_tag(ctx, image_id, tag)
    return Response(status_code=204)
