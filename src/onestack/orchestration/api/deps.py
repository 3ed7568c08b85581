"""Small accessors the orchestration routes share: the manager, the caller's context
checked against the URL's project, and Heat's name-or-id redirects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from fastapi import Depends, Request
from fastapi.responses import Response

from onestack.common.app import base_url, json_body, require_context
from onestack.common.context import RequestContext
from onestack.orchestration.exceptions import InvalidTenant

if TYPE_CHECKING:
    from onestack.orchestration.manager import OrchestrationManager

#: what may follow ``/stacks/{name}`` and is redirected to ``/stacks/{name}/{id}/...``
SUBPATHS = frozenset(
    {
        "resources",
        "events",
        "template",
        "actions",
        "environment",
        "files",
        "outputs",
        "snapshots",
        "export",
        "abandon",
        "preview",
    }
)


async def context(request: Request) -> RequestContext:
    """The caller's context; 403 when the URL names a project it is not scoped to."""
    ctx = await require_context(request)
    tenant = request.path_params.get("tenant_id")
    if tenant and tenant != ctx.project_id and not ctx.is_admin:
        raise InvalidTenant(target=tenant, actual=ctx.project_id)
    return ctx


Ctx = Depends(context)
Body = Depends(json_body)


def service(request: Request) -> OrchestrationManager:
    return cast("OrchestrationManager", request.app.state.orchestration)


def base(request: Request, tenant_id: str) -> str:
    return f"{base_url(request)}/v1/{tenant_id}"


def query(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def redirect(
    request: Request, tenant_id: str, name: str, stack_id: str, rest: str = ""
) -> Response:
    location = f"{base(request, tenant_id)}/stacks/{name}/{stack_id}"
    if rest:
        location += "/" + rest
    if request.url.query:
        location += "?" + request.url.query
    return Response(status_code=302, headers={"Location": location})


def flag(request: Request, name: str, default: bool = False) -> bool:
    value = request.query_params.get(name)
    if value is None:
        return default
    return value.lower() in ("1", "true", "yes", "on", "")


def unused(_: Any) -> None:
    return None
