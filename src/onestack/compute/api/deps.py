"""Small accessors the compute routes share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from fastapi import Depends, Request

from onestack.common.app import api_version, base_url, json_body, parse_body, require_context
from onestack.common.exceptions import BadRequest
from onestack.common.microversion import APIVersion

if TYPE_CHECKING:
    from onestack.compute.manager import ComputeManager

Ctx = Depends(require_context)
Body = Depends(json_body)
Version = Depends(api_version)


def compute(request: Request) -> ComputeManager:
    return cast("ComputeManager", request.app.state.compute)


def base(request: Request) -> str:
    return base_url(request)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def data(model: type[Any], body: Any, wrapper: str | None) -> Any:
    return parse_body(model, body, wrapper=wrapper)


def int_param(value: str | None, name: str, minimum: int = 0) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if number < minimum:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.")
    return number


def next_links(
    request: Request, kind: str, items: list[Any], limit: int | None, marker_of: Any
) -> list[dict[str, str]]:
    """Nova's ``<kind>_links``: a next link when a page came back full."""
    if limit is None or not items or len(items) < limit:
        return []
    from urllib.parse import urlencode

    params = [(k, v) for k, v in request.query_params.multi_items() if k != "marker"]
    params.append(("marker", str(marker_of(items[-1]))))
    path = request.url.path
    return [{"rel": "next", "href": f"{base(request)}{path}?{urlencode(params)}"}]


def at_least(version: APIVersion, minimum: str) -> bool:
    return version.matches(minimum)
