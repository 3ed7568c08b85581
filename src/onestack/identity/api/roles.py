"""``/v3/roles``, implied roles, grants and ``/v3/role_assignments``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, parse_body, require_context
from onestack.common.context import RequestContext
from onestack.common.openapi import request_body
from onestack.common.pagination import parse_bool
from onestack.identity.api import schemas, views
from onestack.identity.api.deps import base, identity, query, self_url

router = APIRouter(prefix="/v3")
Ctx = Depends(require_context)
Body = Depends(json_body)


@router.get("/roles")
def list_roles(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).assignments.list_roles(ctx, query(request))
    return JSONResponse(
        views.collection("roles", items, lambda r: views.role(base(request), r), self_url(request))
    )


@router.post("/roles", openapi_extra=request_body(schemas.RoleCreate, "role"))
def create_role(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    data = parse_body(schemas.RoleCreate, body, wrapper="role").model_dump(exclude_unset=True)
    role = identity(request).assignments.create_role(ctx, data)
    return JSONResponse({"role": views.role(base(request), role)}, status_code=201)


@router.get("/roles/{role_id}")
def show_role(request: Request, role_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    role = identity(request).assignments.show_role(ctx, role_id)
    return JSONResponse({"role": views.role(base(request), role)})


@router.patch("/roles/{role_id}", openapi_extra=request_body(schemas.RoleUpdate, "role"))
def update_role(
    request: Request, role_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    data = parse_body(schemas.RoleUpdate, body, wrapper="role").model_dump(exclude_unset=True)
    role = identity(request).assignments.update_role(ctx, role_id, data)
    return JSONResponse({"role": views.role(base(request), role)})


@router.delete("/roles/{role_id}")
def delete_role(request: Request, role_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).assignments.delete_role(ctx, role_id)
    return Response(status_code=204)


# -- implied roles -------------------------------------------------------


def _inference(request: Request, prior: Any, implied: list[Any]) -> dict[str, Any]:
    return {
        "prior_role": views.role_ref(base(request), prior),
        "implies": [views.role_ref(base(request), r) for r in implied],
    }


@router.get("/roles/{prior_id}/implies")
def list_implied(request: Request, prior_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    prior, implied = identity(request).assignments.implied_roles(ctx, prior_id)
    return JSONResponse(
        {
            "role_inference": _inference(request, prior, implied),
            "links": {"self": self_url(request)},
        }
    )


@router.get("/role_inferences")
def list_inferences(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    rules = identity(request).assignments.inference_rules(ctx)
    return JSONResponse(
        {
            "role_inferences": [_inference(request, p, i) for p, i in rules],
            "links": {"self": self_url(request)},
        }
    )


@router.put("/roles/{prior_id}/implies/{implied_id}")
def create_implied(
    request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    prior, implied = identity(request).assignments.implied_role(ctx, prior_id, implied_id, "create")
    return JSONResponse(
        {
            "role_inference": {
                "prior_role": views.role_ref(base(request), prior),
                "implies": views.role_ref(base(request), implied),
            },
            "links": {"self": self_url(request)},
        },
        status_code=201,
    )


@router.get("/roles/{prior_id}/implies/{implied_id}")
def show_implied(
    request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    prior, implied = identity(request).assignments.implied_role(ctx, prior_id, implied_id, "get")
    return JSONResponse(
        {
            "role_inference": {
                "prior_role": views.role_ref(base(request), prior),
                "implies": views.role_ref(base(request), implied),
            },
            "links": {"self": self_url(request)},
        }
    )


@router.head("/roles/{prior_id}/implies/{implied_id}")
def check_implied(
    request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).assignments.implied_role(ctx, prior_id, implied_id, "get")
    return Response(status_code=204)


@router.delete("/roles/{prior_id}/implies/{implied_id}")
def delete_implied(
    request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).assignments.implied_role(ctx, prior_id, implied_id, "delete")
    return Response(status_code=204)


# -- grants --------------------------------------------------------------


def _grant_routes(prefix: str, target: str, actor: str, inherited: bool) -> None:
    """Register list/put/check/delete for one (target, actor) pair of grant URLs."""
    target_key = {"projects": "project_id", "domains": "domain_id", "system": None}[target]
    actor_key = {"users": "user_id", "groups": "group_id"}[actor]
    target_part = f"/{target}/{{target_id}}" if target_key else "/system"
    suffix = "/inherited_to_projects" if inherited else ""
    base_path = f"{prefix}{target_part}/{actor}/{{actor_id}}/roles"

    def keys(params: dict[str, str]) -> dict[str, Any]:
        out: dict[str, Any] = {actor_key: params["actor_id"], "inherited": inherited}
        if target_key:
            out[target_key] = params["target_id"]
        else:
            out["system"] = True
        return out

    def list_grants(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
        roles = identity(request).assignments.list_grants(ctx, **keys(request.path_params))
        return JSONResponse(
            views.collection(
                "roles", roles, lambda r: views.role(base(request), r), self_url(request)
            )
        )

    def act(action: str, status: int) -> Callable[..., Response]:
        def handler(request: Request, ctx: RequestContext = Ctx) -> Response:
            identity(request).assignments.grant(
                ctx, request.path_params["role_id"], action, **keys(request.path_params)
            )
            return Response(status_code=status)

        handler.__name__ = f"{action}_grant_{target}_{actor}{'_inherited' if inherited else ''}"
        return handler

    list_grants.__name__ = f"list_grants_{target}_{actor}{'_inherited' if inherited else ''}"
    router.add_api_route(f"{base_path}{suffix}", list_grants, methods=["GET"])
    router.add_api_route(f"{base_path}/{{role_id}}{suffix}", act("create", 204), methods=["PUT"])
    router.add_api_route(
        f"{base_path}/{{role_id}}{suffix}", act("check", 204), methods=["HEAD", "GET"]
    )
    router.add_api_route(f"{base_path}/{{role_id}}{suffix}", act("revoke", 204), methods=["DELETE"])


for _target in ("projects", "domains", "system"):
    for _actor in ("users", "groups"):
        _grant_routes("", _target, _actor, inherited=False)
        if _target != "system":
            _grant_routes("/OS-INHERIT", _target, _actor, inherited=True)


@router.get("/role_assignments")
def list_role_assignments(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    manager = identity(request).assignments
    rows = manager.list_assignments(ctx, query(request))
    params = request.query_params
    include_names = "include_names" in params and (
        params["include_names"] == "" or parse_bool(params["include_names"], "include_names")
    )
    names = manager.names_for(rows) if include_names else None
    return JSONResponse(
        {
            "role_assignments": [views.assignment(base(request), r, names) for r in rows],
            "links": {"self": self_url(request), "previous": None, "next": None},
        }
    )
