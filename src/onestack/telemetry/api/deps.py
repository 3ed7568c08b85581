"""What the Metric API routes share: the manager, query parameters, headers."""

from __future__ import annotations

import email.utils
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import JSONResponse, Response

from onestack.common import jsonbody
from onestack.common.app import base_url, require_context
from onestack.common.exceptions import BadRequest, UnsupportedMediaType
from onestack.telemetry.exceptions import ArgumentError
from onestack.telemetry.resources import Listing, Page
from onestack.telemetry.validate import parse_bool

if TYPE_CHECKING:
    from onestack.telemetry.manager import TelemetryManager

Ctx = Depends(require_context)


def manager(request: Request) -> TelemetryManager:
    return cast("TelemetryManager", request.app.state.telemetry)


def first(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    return values[-1] if values else None


def every(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v != ""]


def limit(request: Request) -> int | None:
    value = first(request, "limit")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise ArgumentError("limit", f"invalid literal for int() with base 10: {value!r}") from None


def listing(request: Request, history: bool | None = None) -> Listing:
    return Listing(
        details=parse_bool("details", first(request, "details")),
        history=parse_bool("history", first(request, "history")) if history is None else history,
        limit=limit(request),
        marker=first(request, "marker"),
        sort=tuple(every(request, "sort")),
        attrs=tuple(every(request, "attrs")),
    )


async def body_or_none(request: Request) -> Any:
    """The JSON body when there is one (searches accept an empty body)."""
    raw = await request.body()
    if not raw:
        return None
    media = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if media and media != "application/json" and not media.endswith("+json"):
        raise UnsupportedMediaType(content_type=media)
    try:
        return jsonbody.loads(raw)
    except jsonbody.MalformedBody as exc:
        raise BadRequest(f"Unable to decode body: {exc.kwargs.get('reason')}") from None


def page_response(request: Request, page: Page) -> JSONResponse:
    """The items, with Gnocchi's ``Link: <...>; rel="next"`` when the page is full."""
    headers = {}
    if page.next_marker is not None:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("marker",)]
        if not any(k == "limit" for k, _ in params):
            params.append(("limit", str(page.limit)))
        params.append(("marker", page.next_marker))
        query = urlencode(sorted(params))
        headers["Link"] = f'<{base_url(request)}{request.url.path}?{query}>; rel="next"'
    return JSONResponse(page.items, headers=headers)


def location(request: Request, path: str) -> str:
    return base_url(request) + quote(path)


def with_etag(
    body: Any, etag: str, status: int = 200, extra: dict[str, str] | None = None
) -> Response:
    headers = {"ETag": f'"{etag}"', **(extra or {})}
    modified = body.get("revision_start") if isinstance(body, dict) else None
    if modified:
        stamp = datetime.fromisoformat(modified)
        headers["Last-Modified"] = email.utils.format_datetime(stamp, usegmt=True)
    return JSONResponse(body, status_code=status, headers=headers)
