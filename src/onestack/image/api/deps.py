"""Small accessors the image routes share."""

from __future__ import annotations

from typing import cast

from fastapi import Request

from onestack.image.manager import ImageManager


def manager(request: Request) -> ImageManager:
    return cast(ImageManager, request.app.state.image)


def query(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())
