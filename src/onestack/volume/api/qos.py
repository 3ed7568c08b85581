"""``/v3/{project_id}/qos-specs``: QoS specs, their keys and their
associations with volume types (qos.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest
from onestack.common.pagination import parse_bool
from onestack.volume.api.deps import (
    Body,
    Ctx,
    limit_of,
    next_link,
    project_prefix,
    query,
    section,
    service,
)
from onestack.volume.api.views import links

if TYPE_CHECKING:
    from onestack.volume.models import QosSpecs

router = APIRouter()


def _view(row: QosSpecs) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "consumer": row.consumer, "specs": dict(row.specs)}


def _detail(request: Request, row: QosSpecs) -> JSONResponse:
    return JSONResponse(
        {"qos_specs": _view(row), "links": links(project_prefix(request), "qos-specs", row.id)}
    )


@router.get("/v3/qos-specs")
def index(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = service(request).qos.list_specs(ctx, query(request))
    body: dict[str, Any] = {"qos_specs": [_view(r) for r in rows]}
    more = next_link(request, "qos-specs", rows, limit_of(request))
    if more:
        body["qos_specs_links"] = more
    return JSONResponse(body)


@router.post("/v3/qos-specs")
def create(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> JSONResponse:
    row = service(request).qos.create(ctx, section(body, "qos_specs"))
    return _detail(request, row)


@router.get("/v3/qos-specs/{specs_id}")
def show(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return _detail(request, service(request).qos.get(ctx, specs_id))


@router.put("/v3/qos-specs/{specs_id}")
def update(
    request: Request, specs_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    values = service(request).qos.update(ctx, specs_id, section(body, "qos_specs"))
    return JSONResponse({"qos_specs": values})


@router.delete("/v3/qos-specs/{specs_id}")
def delete(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> Response:
    force = parse_bool(request.query_params.get("force", "false"), "force")
    service(request).qos.delete(ctx, specs_id, force)
    return Response(status_code=202)


@router.put("/v3/qos-specs/{specs_id}/delete_keys")
def delete_keys(
    request: Request, specs_id: str, ctx: RequestContext = Ctx, body: Any = Body
) -> Response:
    if not isinstance(body, dict) or "keys" not in body:
        raise BadRequest("Missing required element 'keys' in request body.")
    service(request).qos.delete_keys(ctx, specs_id, body["keys"])
    return Response(status_code=202)


@router.get("/v3/qos-specs/{specs_id}/associations")
def associations(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
    types = service(request).qos.associations(ctx, specs_id)
    items = [{"association_type": "volume_type", "name": t.name, "id": t.id} for t in types]
    return JSONResponse({"qos_associations": items})


@router.get("/v3/qos-specs/{specs_id}/associate")
def associate(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> Response:
    type_id = request.query_params.get("vol_type_id")
    service(request).qos.associate(ctx, specs_id, type_id)
    return Response(status_code=202)


@router.get("/v3/qos-specs/{specs_id}/disassociate")
def disassociate(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> Response:
    type_id = request.query_params.get("vol_type_id")
    service(request).qos.disassociate(ctx, specs_id, type_id)
    return Response(status_code=202)


@router.get("/v3/qos-specs/{specs_id}/disassociate_all")
def disassociate_all(request: Request, specs_id: str, ctx: RequestContext = Ctx) -> Response:
    service(request).qos.disassociate_all(ctx, specs_id)
    return Response(status_code=202)
