"""``/v3/OS-TRUST/trusts``: create, list, show, delete trusts and read their roles.

The rules live in ``onestack.identity.trusts``; this module is HTTP only (the
trust representation is rendered here, next to its routes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.identity.api import views
from onestack.identity.api.deps import base, identity, self_url

if TYPE_CHECKING:
    from onestack.identity.models import Role, Trust

router = APIRouter(prefix="/v3/OS-TRUST")
Ctx = Depends(require_context)
Body = Depends(json_body)


def render(base_url: str, trust: Trust, roles: list[Role]) -> dict[str, Any]:
    link = f"{base_url}/v3/OS-TRUST/trusts/{trust.id}"
    return {
        "id": trust.id,
        "trustor_user_id": trust.trustor_user_id,
        "trustee_user_id": trust.trustee_user_id,
        "project_id": trust.project_id,
        "impersonation": trust.impersonation,
        "expires_at": views.iso(trust.expires_at),
        "remaining_uses": trust.remaining_uses,
        "allow_redelegation": trust.redelegation_count > 0,
        "redelegation_count": trust.redelegation_count,
        "redelegated_trust_id": trust.redelegated_trust_id,
        "roles": [views.role_ref(base_url, r) for r in roles],
        "roles_links": {"self": f"{link}/roles", "previous": None, "next": None},
        "links": {"self": link},
    }


@router.post("/trusts")
def create_trust(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    if not isinstance(body, dict) or not isinstance(body.get("trust"), dict):
        raise BadRequest("'trust' is a required property.")
    trust, roles = identity(request).trusts.create(ctx, body["trust"])
    return JSONResponse({"trust": render(base(request), trust, roles)}, status_code=201)


@router.get("/trusts")
def list_trusts(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    query = dict(request.query_params)
    items = identity(request).trusts.list_trusts(ctx, query)
    return JSONResponse(
        {
            "trusts": [render(base(request), t, roles) for t, roles in items],
            "links": {"self": self_url(request), "previous": None, "next": None},
        }
    )


@router.get("/trusts/{trust_id}")
def show_trust(request: Request, trust_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    trust, roles = identity(request).trusts.get(ctx, trust_id)
    return JSONResponse({"trust": render(base(request), trust, roles)})


@router.delete("/trusts/{trust_id}", status_code=204)
def delete_trust(request: Request, trust_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).trusts.delete(ctx, trust_id)
    return Response(status_code=204)


@router.get("/trusts/{trust_id}/roles")
def trust_roles(request: Request, trust_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    roles = identity(request).trusts.roles(ctx, trust_id)
    return JSONResponse(
        views.collection(
            "roles", roles, lambda r: views.role_ref(base(request), r), self_url(request)
        )
    )


@router.get("/trusts/{trust_id}/roles/{role_id}")
def trust_role(
    request: Request, trust_id: str, role_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    role = identity(request).trusts.role(ctx, trust_id, role_id)
    return JSONResponse({"role": views.role_ref(base(request), role)})


@router.head("/trusts/{trust_id}/roles/{role_id}")
def check_trust_role(
    request: Request, trust_id: str, role_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).trusts.role(ctx, trust_id, role_id)
    return Response(status_code=200)
