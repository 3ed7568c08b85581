"""Small accessors the networking routes share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode

from fastapi import Request

from onestack.common.app import base_url
from onestack.network.exceptions import HTTPBadRequest

if TYPE_CHECKING:
    from onestack.network.listing import Page
    from onestack.network.manager import NetworkManager


def manager(request: Request) -> NetworkManager:
    return cast("NetworkManager", request.app.state.network)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def fields(request: Request) -> list[str]:
    return [v for k, v in request.query_params.multi_items() if k == "fields"]


def collection_url(request: Request) -> str:
    return f"{base_url(request)}{request.url.path}"


def wrapped(body: Any, key: str) -> Any:
    """``body[key]``, or the Neutron 400 when the body is not ``{key: {...}}``."""
    if not isinstance(body, dict) or key not in body:
        raise HTTPBadRequest(detail=f"Resource body required: '{key}' is missing")
    value = body[key]
    if not isinstance(value, dict):
        raise HTTPBadRequest(detail=f"Invalid format for '{key}': an object is required")
    return value


def page_links(
    url: str, query: Sequence[tuple[str, str]], page: Page, ids: list[str]
) -> list[dict[str, str]]:
    """Neutron's ``<collection>_links``: onward when the page is full, back after a marker."""
    if page.limit is None or not ids:
        return []
    params = [(k, v) for k, v in query if k not in ("marker", "page_reverse")]
    full = len(ids) >= page.limit
    forward = [*params, ("marker", ids[-1])]
    backward = [*params, ("marker", ids[0]), ("page_reverse", "True")]
    result = []
    if (full and not page.reverse) or (page.reverse and page.marker):
        result.append({"rel": "next", "href": f"{url}?{urlencode(forward)}"})
    if (page.marker and not page.reverse) or (page.reverse and full):
        result.append({"rel": "previous", "href": f"{url}?{urlencode(backward)}"})
    return result
