"""Image data over HTTP: ``PUT``/``GET /file``, ``PUT /stage``, ``POST /import``, ``GET /tasks``.

Uploads are read with ``request.stream()`` (so chunked transfer encoding
works and the pipeline's body limit does not apply) and handed to a thread in
4 MiB pieces (into the store ``X-Image-Meta-Store`` names, else the default
one); downloads are a FileResponse of a checked local copy, which honours
``Range`` (a copy fetched from a remote store is deleted once sent).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import FileResponse, JSONResponse
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, UnsupportedMediaType
from onestack.image.api import views
from onestack.image.api.deps import manager
from onestack.image.data import CHUNK, Transfer

router = APIRouter(prefix="/v2/images")
Ctx = Depends(require_context)
OCTET = "application/octet-stream"


class ImageFileResponse(FileResponse):
    chunk_size = 1 << 20


def _declared_size(request: Request) -> int | None:
    for name in ("x-openstack-image-size", "content-length"):
        value = request.headers.get(name)
        if value is not None:
            if not value.strip().isdigit():
                raise BadRequest(f"Invalid {name} header: {value!r}.")
            return int(value)
    return None


async def _receive(request: Request, image_id: str, ctx: RequestContext, staged: bool) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != OCTET:
        raise UnsupportedMediaType(content_type=media or "none")
    data = manager(request).data
    store = None if staged else request.headers.get("x-image-meta-store")
    transfer: Transfer = await run_in_threadpool(
        data.begin, ctx, image_id, _declared_size(request), staged=staged, store=store
    )
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= CHUNK:
                piece, buffer = bytes(buffer), bytearray()
                await run_in_threadpool(transfer.sink.write, piece)
        if buffer:
            await run_in_threadpool(transfer.sink.write, bytes(buffer))
    except ClientDisconnect:
        await run_in_threadpool(data.abort, transfer)
        raise BadRequest("The client disconnected before the upload was complete.") from None
    except BaseException:
        await run_in_threadpool(data.abort, transfer)
        raise
    await run_in_threadpool(data.finish, transfer)


@router.put("/{image_id}/file")
async def upload(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    await _receive(request, image_id, ctx, staged=False)
    return Response(status_code=204)


@router.put("/{image_id}/stage")
async def stage(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    await _receive(request, image_id, ctx, staged=True)
    return Response(status_code=204)


@router.post("/{image_id}/import")
def import_image(
    request: Request, image_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
) -> Response:
    store = request.headers.get("x-image-meta-store")
    manager(request).importer.import_image(ctx, image_id, body, store)
    return Response(status_code=202)


@router.get("/{image_id}/tasks")
def image_tasks(request: Request, image_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    """The image's import tasks (image API v2.12)."""
    rows = manager(request).data.tasks(ctx, image_id)
    return JSONResponse({"tasks": [views.task(r) for r in rows]})


@router.get("/{image_id}/file")
def download(request: Request, image_id: str, ctx: RequestContext = Ctx) -> Response:
    image, path, temporary = manager(request).data.download(ctx, image_id)
    if path is None:
        return Response(status_code=204)
    headers = {}
    if image.checksum and "range" not in request.headers:
        headers["Content-MD5"] = image.checksum
    cleanup = BackgroundTask(path.unlink, missing_ok=True) if temporary else None
    return ImageFileResponse(path, media_type=OCTET, headers=headers, background=cleanup)
