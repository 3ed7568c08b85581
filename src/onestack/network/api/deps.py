"""Small accessors the networking routes share."""

from __future__ import annotations

from typing import Any, cast

from fastapi import Request

from onestack.common.app import base_url
from onestack.network.manager import NetworkManager


def manager(request: Request) -> NetworkManager:
    return cast(NetworkManager, request.app.state.network)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def fields(request: Request) -> list[str]:
    return [v for k, v in request.query_params.multi_items() if k == "fields"]


def collection_url(request: Request) -> str:
    return f"{base_url(request)}{request.url.path}"


def wrapped(body: Any, key: str) -> Any:
    """``body[key]``, or the Neutron 400 when the body is not ``{key: {...}}``."""
    from onestack.network.exceptions import HTTPBadRequest

    if not isinstance(body, dict) or key not in body:
        raise HTTPBadRequest(detail=f"Resource body required: '{key}' is missing")
    value = body[key]
    if not isinstance(value, dict):
        raise HTTPBadRequest(detail=f"Invalid format for '{key}': an object is required")
    return value
