"""The volume API app: Cinder v3 routes behind the common pipeline, the
version documents keystoneauth discovers, and 501 for what is not built.

Cinder's URLs carry the project id (``/v3/{project_id}/volumes``); since
microversion 3.67 they may omit it.  The pipeline's ``UrlProject`` step
accepts both: it moves a project id found after ``/v3/`` into the request
state (checked against the token in ``deps.context``) so one set of routes
serves both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from onestack.common.app import base_url, create_app
from onestack.common.errors import ErrorStyle
from onestack.common.exceptions import NotSupported
from onestack.common.microversion import APIVersion, MicroversionSpec
from onestack.common.pipeline import PipelineSpec, ProjectPath
from onestack.volume.api import (
    actions,
    attachments,
    encryption,
    hosts,
    misc,
    qos,
    snapshots,
    types,
    volumes,
)

if TYPE_CHECKING:
    from onestack.server import Cloud
    from onestack.volume.manager import VolumeService

MIN_VERSION = "3.0"
MAX_VERSION = "3.71"
MICROVERSIONS = MicroversionSpec(
    service_type="volume",
    minimum=APIVersion.parse(MIN_VERSION),
    maximum=APIVersion.parse(MAX_VERSION),
    aliases=("block-storage",),
)
UPDATED = "2023-08-31T00:00:00Z"

#: first path segments after /v3/ that are collections, not project ids
UNSUPPORTED = {
    "groups": "Generic volume groups",
    "group_types": "Group types",
    "group_snapshots": "Group snapshots",
    "consistencygroups": "Consistency groups",
    "cgsnapshots": "Consistency group snapshots",
    "messages": "User messages",
    "clusters": "Clusters",
    "workers": "Workers cleanup",
    "manageable_volumes": "Managing existing volumes",
    "manageable_snapshots": "Managing existing snapshots",
    "os-volume-manage": "Managing existing volumes",
    "os-snapshot-manage": "Managing existing snapshots",
    "default-types": "Per-project default volume types",
    "resource_filters": "Resource filters",
    "os-backup-manage": "Backup import",
    "snapshots-manage": "Managing existing snapshots",
}
COLLECTIONS = frozenset(
    {
        "volumes",
        "snapshots",
        "backups",
        "types",
        "attachments",
        "os-volume-transfer",
        "volume-transfers",
        "os-quota-sets",
        "os-quota-class-sets",
        "limits",
        "os-availability-zone",
        "os-services",
        "extensions",
        "qos-specs",
        "scheduler-stats",
        "capabilities",
        "os-hosts",
        *UNSUPPORTED,
    }
)


versions = APIRouter()


def _v3(request: Request) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": UPDATED,
        "links": [
            {"rel": "self", "href": f"{base_url(request)}/v3/"},
            {"rel": "describedby", "type": "text/html", "href": "https://docs.openstack.org/"},
        ],
        "media-types": [
            {"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}
        ],
    }


@versions.get("/")
def root(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [_v3(request)]}, status_code=300)


@versions.get("/v3")
@versions.get("/v3/")
def version(request: Request) -> JSONResponse:
    return JSONResponse({"versions": [_v3(request)]})


unsupported = APIRouter()


@unsupported.api_route(
    "/v3/{collection}/{rest:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"]
)
@unsupported.api_route("/v3/{collection}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
def not_implemented(collection: str, rest: str = "") -> JSONResponse:
    if collection in UNSUPPORTED:
        raise NotSupported(operation=UNSUPPORTED[collection])
    from onestack.common.exceptions import NotFound

    raise NotFound("The resource could not be found.")


def build_app(volume: VolumeService, cloud: Cloud) -> FastAPI:
    spec = PipelineSpec(
        service="volume",
        error_style=ErrorStyle.NOVA,
        max_body=cloud.settings.max_request_body,
        microversion=MICROVERSIONS,
        project_path=ProjectPath("v3", COLLECTIONS),
    )
    app = create_app(
        spec,
        cloud.identity.tokens,
        cloud.settings.url("identity") + "/v3",
        title="onestack block storage (Cinder v3)",
        version=MAX_VERSION,
    )
    app.state.volume = volume
    app.include_router(versions)
    for module in (volumes, actions, snapshots, types, encryption, attachments, qos, hosts, misc):
        app.include_router(module.router)
    app.include_router(unsupported)
    return app
