"""``/v3/policies``: stored policy documents (identity/policy_store.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, query, self_url

router = APIRouter(prefix="/v3")
Ctx = Depends(require_context)
Body = Depends(json_body)


def _data(model: type[Any], body: Any) -> dict[str, Any]:
    return dict(parse_body(model, body, wrapper="policy").model_dump(exclude_unset=True))


@router.get("/policies")
def list_policies(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).policies.list(ctx, query(request))
    return JSONResponse(
        views.collection(
            "policies", items, lambda p: views.policy(base(request), p), self_url(request)
        )
    )


@router.post("/policies")
def create_policy(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    record = identity(request).policies.create(ctx, _data(schemas.PolicyCreate, body))
    return JSONResponse({"policy": views.policy(base(request), record)}, status_code=201)


@router.get("/policies/{policy_id}")
def show_policy(request: Request, policy_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    record = identity(request).policies.show(ctx, policy_id)
    return JSONResponse({"policy": views.policy(base(request), record)})


@router.patch("/policies/{policy_id}")
def update_policy(
    request: Request, policy_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    record = identity(request).policies.update(ctx, policy_id, _data(schemas.PolicyUpdate, body))
    return JSONResponse({"policy": views.policy(base(request), record)})


@router.delete("/policies/{policy_id}")
def delete_policy(request: Request, policy_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).policies.delete(ctx, policy_id)
    return Response(status_code=204)
