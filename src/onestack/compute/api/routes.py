"""The compute API app: Nova v2.1 routes behind the common pipeline, and the
version documents keystoneauth discovers at ``/`` and ``/v2.1``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.microversion import APIVersion, MicroversionSpec
from onestack.common.pipeline import PipelineSpec
from onestack.compute.api import (
    actions,
    admin,
    aggregates,
    consoles,
    interfaces,
    legacy,
    proxies,
    resources,
    servers,
    volume_attachments,
    volume_proxy,
)
from onestack.compute.api.deps import base

if TYPE_CHECKING:
    from onestack.compute.manager import ComputeManager
    from onestack.server import Cloud

MIN_VERSION = "2.1"
MAX_VERSION = "2.100"
MICROVERSIONS = MicroversionSpec(
    service_type="compute",
    minimum=APIVersion.parse(MIN_VERSION),
    maximum=APIVersion.parse(MAX_VERSION),
    legacy_header="X-OpenStack-Nova-API-Version",
)
UPDATED = "2013-07-23T11:33:21Z"

versions = APIRouter()


def _v21(request: Request) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": UPDATED,
        "links": [{"rel": "self", "href": f"{base(request)}/v2.1/"}],
        "media-types": [
            {
                "base": "application/json",
                "type": "application/vnd.openstack.compute+json;version=2.1",
            }
        ],
    }


def _v20(request: Request, media: bool = False) -> dict[str, Any]:
    """The legacy v2.0 API Nova still lists (first) and describes; onestack serves
    only its version document (its resources are v2.1's, without microversions)."""
    body: dict[str, Any] = {
        "id": "v2.0",
        "status": "SUPPORTED",
        "version": "",
        "min_version": "",
        "updated": "2011-01-21T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base(request)}/v2/"}],
    }
    if media:
        body["media-types"] = [
            {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2"}
        ]
    return body


@versions.get("/")
def root(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [_v20(request), _v21(request)]})


@versions.get("/v2")
@versions.get("/v2/")
def version_2_0(request: Request) -> JSONResponse:
    return JSONResponse({"version": _v20(request, media=True)})


@versions.get("/v2.1")
@versions.get("/v2.1/")
def version(request: Request) -> JSONResponse:
    return JSONResponse({"version": _v21(request)})


def build_app(compute: ComputeManager, cloud: Cloud) -> FastAPI:
    spec = PipelineSpec(
        service="compute",
        error_style=ErrorStyle.NOVA,
        max_body=cloud.settings.max_request_body,
        microversion=MICROVERSIONS,
        request_id_headers=("X-Compute-Request-Id",),
    )
    app = create_app(
        spec,
        cloud.identity.tokens,
        cloud.settings.url("identity") + "/v3",
        title="onestack compute (Nova v2.1)",
        version=MAX_VERSION,
    )
    app.state.compute = compute
    app.include_router(versions)
    for module in (
        servers,
        actions,
        resources,
        volume_attachments,
        interfaces,
        consoles,
        proxies,
        volume_proxy,
        legacy,
        admin,
        aggregates,
    ):
        app.include_router(module.router)
    return app
