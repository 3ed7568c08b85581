"""Small accessors the identity routes share."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from onestack.common.app import base_url
from onestack.identity.manager import IdentityManager


def identity(request: Request) -> IdentityManager:
    return cast(IdentityManager, request.app.state.identity)


def base(request: Request) -> str:
    return base_url(request)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())


def self_url(request: Request) -> str:
    url = f"{base_url(request)}{request.url.path}"
    return f"{url}?{request.url.query}" if request.url.query else url
