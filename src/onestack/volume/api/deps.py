"""Small accessors the volume routes share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from fastapi import Depends, Request

from onestack.common.app import api_version, base_url, json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.microversion import APIVersion

if TYPE_CHECKING:
    from onestack.volume.manager import VolumeService


async def context(request: Request) -> RequestContext:
    """The caller's context; 400 when the URL names another project (as Cinder)."""
    ctx = await require_context(request)
    url_project = request.scope.get("state", {}).get("url_project_id")
    if url_project and url_project != ctx.project_id and not ctx.is_admin:
        raise BadRequest(
            f"Malformed request url: URL's project_id '{url_project}' doesn't match "
            f"Context's project_id '{ctx.project_id}'"
        )
    return ctx


Ctx = Depends(context)
Body = Depends(json_body)
Version = Depends(api_version)


def service(request: Request) -> VolumeService:
    return cast("VolumeService", request.app.state.volume)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def section(body: Any, key: str) -> dict[str, Any]:
    """``body[key]`` as an object; Cinder's 400 when it is missing or not one."""
    if not isinstance(body, dict) or key not in body:
        raise BadRequest(f"Missing required element '{key}' in request body.")
    value = body[key]
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadRequest(
            f"Invalid input for field/attribute {key}. Value: {value}. "
            f"{value!r} is not of type 'object'"
        )
    return value


def at_least(version: APIVersion, minimum: str) -> bool:
    return version.matches(minimum)


def project_prefix(request: Request) -> str:
    """``http://host:port/v3/<project>`` as the client addressed us (for links)."""
    url_project = request.scope.get("state", {}).get("url_project_id")
    prefix = f"{base_url(request)}/v3"
    return f"{prefix}/{url_project}" if url_project else prefix


def next_link(
    request: Request, collection: str, items: list[Any], limit: int | None
) -> list[dict[str, str]]:
    if limit is None or not items or len(items) < limit:
        return []
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", str(items[-1].id)))
    return [{"rel": "next", "href": f"{project_prefix(request)}/{collection}?{urlencode(params)}"}]


def limit_of(request: Request) -> int | None:
    value = request.query_params.get("limit")
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input received: limit must be an integer, not {value!r}.")  # noqa: B904
    if number < 0:
        raise BadRequest("Invalid input received: limit must be >= 0.")
    return number
