"""``/v3/domains``, ``/v3/projects``, ``/v3/users`` and ``/v3/groups``."""

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


# -- domains -------------------------------------------------------------


@router.get("/domains")
def list_domains(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_domains(ctx, query(request))
    return JSONResponse(
        views.collection(
            "domains", items, lambda d: views.domain(base(request), d), self_url(request)
        )
    )


@router.post("/domains", openapi_extra=request_body(schemas.DomainCreate, "domain"))
def create_domain(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    domain = identity(request).resources.create_domain(
        ctx, _data(schemas.DomainCreate, body, "domain")
    )
    return JSONResponse({"domain": views.domain(base(request), domain)}, status_code=201)


@router.get("/domains/{domain_id}")
def show_domain(request: Request, domain_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    domain = identity(request).resources.show_domain(ctx, domain_id)
    return JSONResponse({"domain": views.domain(base(request), domain)})


@router.patch("/domains/{domain_id}", openapi_extra=request_body(schemas.DomainUpdate, "domain"))
def update_domain(
    request: Request, domain_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    domain = identity(request).resources.update_domain(
        ctx, domain_id, _data(schemas.DomainUpdate, body, "domain")
    )
    return JSONResponse({"domain": views.domain(base(request), domain)})


@router.delete("/domains/{domain_id}")
def delete_domain(request: Request, domain_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.delete_domain(ctx, domain_id)
    return Response(status_code=204)


# -- projects ------------------------------------------------------------


@router.get("/projects")
def list_projects(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_projects(ctx, query(request))
    return JSONResponse(
        views.collection(
            "projects", items, lambda p: views.project(base(request), p), self_url(request)
        )
    )


@router.post("/projects", openapi_extra=request_body(schemas.ProjectCreate, "project"))
def create_project(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    project = identity(request).resources.create_project(
        ctx, _data(schemas.ProjectCreate, body, "project")
    )
    return JSONResponse({"project": views.project(base(request), project)}, status_code=201)


@router.get("/projects/{project_id}")
def show_project(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    manager = identity(request).resources
    project = manager.show_project(ctx, project_id)
    body = views.project(base(request), project)
    params = request.query_params
    if "parents_as_ids" in params or "parents_as_list" in params:
        parents = manager.project_parents(project)
        if "parents_as_list" in params:
            body["parents"] = [{"project": views.project(base(request), p)} for p in parents]
        else:
            nested: Any = None
            for parent in reversed(parents):
                nested = {parent.id: nested}
            body["parents"] = nested
    if "subtree_as_ids" in params or "subtree_as_list" in params:
        children = manager.project_children(project)
        if "subtree_as_list" in params:
            body["subtree"] = [{"project": views.project(base(request), c)} for c in children]
        else:
            body["subtree"] = _tree(project.id, children)
    return JSONResponse({"project": body})


def _tree(root: str, children: list[Any]) -> dict[str, Any] | None:
    direct = [c for c in children if c.parent_id == root]
    if not direct:
        return None
    return {c.id: _tree(c.id, children) for c in direct}


@router.patch(
    "/projects/{project_id}", openapi_extra=request_body(schemas.ProjectUpdate, "project")
)
def update_project(
    request: Request, project_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    project = identity(request).resources.update_project(
        ctx, project_id, _data(schemas.ProjectUpdate, body, "project")
    )
    return JSONResponse({"project": views.project(base(request), project)})


@router.delete("/projects/{project_id}")
def delete_project(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.delete_project(ctx, project_id)
    return Response(status_code=204)


@router.get("/projects/{project_id}/tags")
def list_tags(request: Request, project_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"tags": identity(request).resources.project_tags(ctx, project_id)})


@router.put("/projects/{project_id}/tags", openapi_extra=request_body(schemas.ProjectTags))
def replace_tags(
    request: Request, project_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    tags = parse_body(schemas.ProjectTags, body).tags
    return JSONResponse(
        {"tags": identity(request).resources.set_project_tags(ctx, project_id, "replace", tags)}
    )


@router.delete("/projects/{project_id}/tags")
def clear_tags(request: Request, project_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.set_project_tags(ctx, project_id, "replace", [])
    return Response(status_code=204)


@router.get("/projects/{project_id}/tags/{tag}")
def check_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.check_project_tag(ctx, project_id, tag)
    return Response(status_code=204)


@router.put("/projects/{project_id}/tags/{tag}")
def add_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.set_project_tags(ctx, project_id, "add", [tag])
    return Response(status_code=201, headers={"Location": f"{base(request)}{request.url.path}"})


@router.delete("/projects/{project_id}/tags/{tag}")
def remove_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.set_project_tags(ctx, project_id, "remove", [tag])
    return Response(status_code=204)


# -- users ---------------------------------------------------------------


@router.get("/users")
def list_users(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_users(ctx, query(request))
    return JSONResponse(
        views.collection("users", items, lambda u: views.user(base(request), u), self_url(request))
    )


@router.post("/users", openapi_extra=request_body(schemas.UserCreate, "user"))
def create_user(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    user = identity(request).resources.create_user(ctx, _data(schemas.UserCreate, body, "user"))
    return JSONResponse({"user": views.user(base(request), user)}, status_code=201)


@router.get("/users/{user_id}")
def show_user(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    user = identity(request).resources.show_user(ctx, user_id)
    return JSONResponse({"user": views.user(base(request), user)})


@router.patch("/users/{user_id}", openapi_extra=request_body(schemas.UserUpdate, "user"))
def update_user(
    request: Request, user_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    user = identity(request).resources.update_user(
        ctx, user_id, _data(schemas.UserUpdate, body, "user")
    )
    return JSONResponse({"user": views.user(base(request), user)})


@router.delete("/users/{user_id}")
def delete_user(request: Request, user_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.delete_user(ctx, user_id)
    return Response(status_code=204)


@router.post(
    "/users/{user_id}/password", openapi_extra=request_body(schemas.PasswordChange, "user")
)
def change_password(
    request: Request, user_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> Response:
    change = parse_body(schemas.PasswordChange, body, wrapper="user")
    identity(request).resources.change_password(
        ctx, user_id, change.original_password, change.password
    )
    return Response(status_code=204)


@router.get("/users/{user_id}/groups")
def list_user_groups(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_user_groups(ctx, user_id, query(request))
    return JSONResponse(
        views.collection(
            "groups", items, lambda g: views.group(base(request), g), self_url(request)
        )
    )


@router.get("/users/{user_id}/projects")
def list_user_projects(request: Request, user_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    projects = identity(request).assignments.user_projects(ctx, user_id, query(request))
    return JSONResponse(
        views.collection(
            "projects", projects, lambda p: views.project(base(request), p), self_url(request)
        )
    )


# -- groups --------------------------------------------------------------


@router.get("/groups")
def list_groups(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_groups(ctx, query(request))
    return JSONResponse(
        views.collection(
            "groups", items, lambda g: views.group(base(request), g), self_url(request)
        )
    )


@router.post("/groups", openapi_extra=request_body(schemas.GroupCreate, "group"))
def create_group(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    group = identity(request).resources.create_group(ctx, _data(schemas.GroupCreate, body, "group"))
    return JSONResponse({"group": views.group(base(request), group)}, status_code=201)


@router.get("/groups/{group_id}")
def show_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    group = identity(request).resources.show_group(ctx, group_id)
    return JSONResponse({"group": views.group(base(request), group)})


@router.patch("/groups/{group_id}", openapi_extra=request_body(schemas.GroupUpdate, "group"))
def update_group(
    request: Request, group_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    group = identity(request).resources.update_group(
        ctx, group_id, _data(schemas.GroupUpdate, body, "group")
    )
    return JSONResponse({"group": views.group(base(request), group)})


@router.delete("/groups/{group_id}")
def delete_group(request: Request, group_id: str, ctx: RequestContext = Ctx) -> Response:
    identity(request).resources.delete_group(ctx, group_id)
    return Response(status_code=204)


@router.get("/groups/{group_id}/users")
def list_group_users(request: Request, group_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    items = identity(request).resources.list_group_users(ctx, group_id, query(request))
    return JSONResponse(
        views.collection("users", items, lambda u: views.user(base(request), u), self_url(request))
    )


@router.put("/groups/{group_id}/users/{user_id}")
def add_member(
    request: Request, group_id: str, user_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).resources.membership(ctx, group_id, user_id, "add")
    return Response(status_code=204)


@router.head("/groups/{group_id}/users/{user_id}")
@router.get("/groups/{group_id}/users/{user_id}")
def check_member(
    request: Request, group_id: str, user_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).resources.membership(ctx, group_id, user_id, "check")
    return Response(status_code=204)


@router.delete("/groups/{group_id}/users/{user_id}")
def remove_member(
    request: Request, group_id: str, user_id: str, ctx: RequestContext = Ctx
) -> Response:
    identity(request).resources.membership(ctx, group_id, user_id, "remove")
    return Response(status_code=204)
