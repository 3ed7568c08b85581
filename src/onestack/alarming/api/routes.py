"""The Alarming API app (Aodh v2): routes behind the common pipeline.

HTTP only: parameters in, ``AlarmingManager`` called, answers rendered; errors
are Aodh's ``{"error_message": {"faultcode", "faultstring", "debuginfo"}}``
(``ErrorStyle.AODH``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from onestack.alarming.alarms import Query
from onestack.alarming.exceptions import ClientSideError
from onestack.common import jsonbody
from onestack.common.app import base_url, create_app, require_context
from onestack.common.context import RequestContext
from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec

if TYPE_CHECKING:
    from onestack.alarming.manager import AlarmingManager
    from onestack.server import Cloud

Ctx = Depends(require_context)
router = APIRouter()


def manager(request: Request) -> AlarmingManager:
    return cast("AlarmingManager", request.app.state.alarming)


async def _thread(function: Any, *args: Any) -> Any:
    return await run_in_threadpool(function, *args)


async def _body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return jsonbody.loads(raw)
    except jsonbody.MalformedBody as exc:
        raise ClientSideError(error=exc.message) from None


def _queries(request: Request) -> list[Query]:
    """WSME's list of ``q.field``/``q.op``/``q.value``/``q.type``, taken in order."""
    params = request.query_params
    fields = params.getlist("q.field")
    ops = params.getlist("q.op")
    values = params.getlist("q.value")
    types = params.getlist("q.type")
    if len(values) != len(fields):
        raise ClientSideError(
            error="Invalid input for field/attribute q. Value: 'Unset'. Mandatory field missing."
        )
    return [
        Query(
            field,
            ops[i] if i < len(ops) and ops[i] else "eq",
            values[i],
            types[i] if i < len(types) and types[i] else None,
        )
        for i, field in enumerate(fields)
    ]


def _limit(request: Request) -> int | None:
    value = request.query_params.get("limit")
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError:
        raise ClientSideError(
            error=f"Invalid input for field/attribute limit. Value: '{value}'."
        ) from None
    if limit <= 0:
        raise ClientSideError(error="Limit must be positive")
    return limit


@router.get("/")
def versions(request: Request) -> JSONResponse:
    root = base_url(request)
    return JSONResponse(
        {
            "versions": {
                "values": [
                    {
                        "status": "stable",
                        "links": [
                            {"href": f"{root}/v2", "rel": "self"},
                            {
                                "href": "https://docs.openstack.org/",
                                "rel": "describedby",
                                "type": "text/html",
                            },
                        ],
                        "id": "v2",
                        "updated": "2013-02-13T00:00:00Z",
                        "media-types": [
                            {
                                "base": "application/json",
                                "type": "application/vnd.openstack.telemetry-v2+json",
                            },
                        ],
                    }
                ]
            }
        }
    )


@router.get("/v2/alarms")
@router.get("/v2/alarms/")
def list_alarms(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        manager(request).alarms.list_alarms(
            ctx,
            _queries(request),
            _limit(request),
            request.query_params.get("marker"),
            request.query_params.getlist("sort"),
        )
    )


@router.post("/v2/alarms")
@router.post("/v2/alarms/")
async def create_alarm(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    created = await _thread(manager(request).create_alarm, ctx, body)
    headers = {"Location": f"{base_url(request)}/v2/alarms/{created['alarm_id']}"}
    return JSONResponse(created, status_code=201, headers=headers)


@router.get("/v2/alarms/{alarm_id}")
def get_alarm(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).get_alarm(ctx, alarm_id))


@router.put("/v2/alarms/{alarm_id}")
async def update_alarm(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    return JSONResponse(await _thread(manager(request).alarms.update, ctx, alarm_id, body))


@router.delete("/v2/alarms/{alarm_id}")
async def delete_alarm(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    await _thread(manager(request).delete_alarm, ctx, alarm_id)
    return Response(status_code=204)


@router.get("/v2/alarms/{alarm_id}/state")
def get_state(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).alarms.get_state(ctx, alarm_id))


@router.put("/v2/alarms/{alarm_id}/state")
async def set_state(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    return JSONResponse(await _thread(manager(request).alarms.set_state, ctx, alarm_id, body))


@router.get("/v2/alarms/{alarm_id}/history")
def history(alarm_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        manager(request).alarms.history(
            ctx, alarm_id, _queries(request), _limit(request), request.query_params.getlist("sort")
        )
    )


@router.post("/v2/query/alarms")
async def query_alarms(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    return JSONResponse(await _thread(manager(request).query_alarms, ctx, body))


@router.post("/v2/query/alarms/history")
async def query_history(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    return JSONResponse(await _thread(manager(request).query_history, ctx, body))


@router.get("/v2/capabilities")
@router.get("/v2/capabilities/")
def capabilities(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "api": {
                "alarms:query:simple": True,
                "alarms:query:complex": True,
                "alarms:history:query:simple": True,
                "alarms:history:query:complex": True,
            },
            "alarm_storage": {"storage:production_ready": True},
        }
    )


@router.get("/v2/quotas")
@router.get("/v2/quotas/")
def get_quotas(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).quotas.get(ctx, request.query_params.get("project_id")))


@router.post("/v2/quotas")
@router.post("/v2/quotas/")
async def set_quotas(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await _body(request)
    return JSONResponse(await _thread(manager(request).quotas.set, ctx, body), status_code=201)


@router.delete("/v2/quotas/{project_id}")
def delete_quotas(project_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    manager(request).quotas.delete(ctx, project_id)
    return Response(status_code=204)


@router.get("/v2/metrics")
@router.get("/v2/metrics/")
def metrics(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    everything = request.query_params.get("all_projects", "false").lower() in ("true", "1")
    return JSONResponse(manager(request).quotas.metrics(ctx, everything))


def build_app(alarming: AlarmingManager, cloud: Cloud) -> FastAPI:
    spec = PipelineSpec(
        service="alarming",
        error_style=ErrorStyle.AODH,
        max_body=cloud.settings.max_request_body,
    )
    app = create_app(
        spec,
        cloud.identity.tokens,
        cloud.settings.url("identity") + "/v3",
        title="onestack alarming (Aodh v2)",
        version="2",
    )
    app.state.alarming = alarming
    app.include_router(router)
    return app
