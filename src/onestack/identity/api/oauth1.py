"""``/v3/OS-OAUTH1/consumers`` (identity/oauth1.py); the rest of OS-OAUTH1 answers 501."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, self_url

router = APIRouter(prefix="/v3/OS-OAUTH1")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _data(model: type[Any], body: Any) -> dict[str, Any]:
    return dict(parse_body(model, body, wrapper="consumer").model_dump(exclude_unset=True))


@router.get("/consumers")
def list_consumers(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).consumers.list(ctx)
    return JSONResponse(
        views.collection(
            "consumers", items, lambda c: views.consumer(base(request), c), self_url(request)
        )
    )


@router.post("/consumers")
def create_consumer(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    created = identity(request).consumers.create(ctx, _data(schemas.ConsumerCreate, body))
    return JSONResponse(
        {"consumer": views.consumer(base(request), created.consumer, created.secret)},
        status_code=201,
    )


@router.get("/consumers/{consumer_id}")
def show_consumer(request: Request, consumer_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    consumer = identity(request).consumers.show(ctx, consumer_id)
    return JSONResponse({"consumer": views.consumer(base(request), consumer)})


@router.patch("/consumers/{consumer_id}")
def update_consumer(
    request: Request, consumer_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    consumer = identity(request).consumers.update(
        ctx, consumer_id, _data(schemas.ConsumerUpdate, body)
    )
    return JSONResponse({"consumer": views.consumer(base(request), consumer)})


@router.delete("/consumers/{consumer_id}")
def delete_consumer(request: Request, consumer_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).consumers.delete(ctx, consumer_id)
    return Response(status_code=204)
