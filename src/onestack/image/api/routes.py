"""The image API app: every Glance v2 route, behind the common pipeline."""

from __future__ import annotations

from fastapi import FastAPI

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec, TokenValidator
from onestack.config import Settings
from onestack.image.api import (
    data,
    images,
    info,
    members,
    metadef_schemas,
    metadefs,
    schemas,
    tasks,
    versions,
)
from onestack.image.manager import ImageManager

#: image data is streamed by the routes themselves: no body limit there
STREAMED = (r"/v2/images/[^/]+/file", r"/v2/images/[^/]+/stage")


def build_app(manager: ImageManager, validator: TokenValidator, settings: Settings) -> FastAPI:
    spec = PipelineSpec(
        service="image",
        error_style=ErrorStyle.WEBOB,
        max_body=settings.max_request_body,
        streamed_paths=STREAMED,
    )
    app = create_app(
        spec,
        validator,
        settings.url("identity") + "/v3",
        title="onestack image (Glance v2)",
        version="2.16",
    )
    app.state.image = manager
    for module in (
        versions,
        info,
        schemas,
        metadef_schemas,
        metadefs,
        tasks,
        data,
        members,
        images,
    ):
        app.include_router(module.router)
    return app
