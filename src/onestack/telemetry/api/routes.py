"""The Metric API app (Gnocchi v1): routes behind the common pipeline.

HTTP only: every route reads its parameters, calls ``TelemetryManager`` and
renders the answer; errors are Gnocchi's ``{"code", "title", "description"}``
(``ErrorStyle.GNOCCHI``).  InfluxDB and Prometheus ingestion answer 501.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from onestack.common.app import base_url, create_app, json_body
from onestack.common.context import RequestContext
from onestack.common.errors import ErrorStyle
from onestack.common.exceptions import NotSupported, UnsupportedMediaType
from onestack.common.pipeline import PipelineSpec
from onestack.telemetry.aggregates import AggregateQuery
from onestack.telemetry.aggregation import VALID_METHODS
from onestack.telemetry.api.deps import (
    Ctx,
    body_or_none,
    every,
    first,
    limit,
    listing,
    location,
    manager,
    page_response,
    with_etag,
)
from onestack.telemetry.exceptions import BadRequest, InvalidInput
from onestack.telemetry.metrics import MeasureQuery
from onestack.telemetry.resources import Page
from onestack.telemetry.search import parse_filter, validate_tree
from onestack.telemetry.validate import parse_bool

if TYPE_CHECKING:
    from onestack.server import Cloud
    from onestack.telemetry.manager import TelemetryManager

VERSION = "4.6.0"
SUB_CONTROLLERS = (
    "aggregates",
    "aggregation",
    "archive_policy",
    "archive_policy_rule",
    "batch",
    "capabilities",
    "influxdb",
    "metric",
    "resource",
    "resource_type",
    "search",
    "status",
)

router = APIRouter()


def _measure_query(request: Request) -> MeasureQuery:
    return MeasureQuery(
        start=first(request, "start"),
        stop=first(request, "stop"),
        aggregation=first(request, "aggregation") or "mean",
        granularity=first(request, "granularity"),
        resample=first(request, "resample"),
        refresh=first(request, "refresh"),
    )


def _aggregate_query(request: Request) -> AggregateQuery:
    return AggregateQuery(
        start=first(request, "start"),
        stop=first(request, "stop"),
        granularity=first(request, "granularity"),
        needed_overlap=first(request, "needed_overlap"),
        fill=first(request, "fill"),
        groupby=tuple(every(request, "groupby")),
        details=first(request, "details"),
        use_history=first(request, "use_history"),
    )


# -- versions -------------------------------------------------------------------


@router.get("/")
def versions(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "build": VERSION,
            "versions": [
                {
                    "status": "CURRENT",
                    "links": [{"rel": "self", "href": f"{base_url(request)}/v1/"}],
                    "id": "v1.0",
                    "updated": "2015-03-19",
                }
            ],
        }
    )


@router.get("/v1")
@router.get("/v1/")
def v1(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    root = f"{base_url(request)}/v1"
    links = [{"rel": "self", "href": root}] + [
        {"rel": name, "href": f"{root}/{name}"} for name in SUB_CONTROLLERS
    ]
    return JSONResponse({"version": "1.0", "links": links})


@router.get("/v1/capabilities")
@router.get("/v1/capabilities/")
def capabilities(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse({"aggregation_methods": sorted(VALID_METHODS)})


@router.get("/v1/status")
@router.get("/v1/status/")
def status(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    details = parse_bool("details", first(request, "details"), default=True)
    return JSONResponse(manager(request).status(ctx, details))


# -- archive policies and rules ------------------------------------------------------


@router.get("/v1/archive_policy")
@router.get("/v1/archive_policy/")
def list_policies(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).archive_policies.list_policies(ctx))


@router.post("/v1/archive_policy")
@router.post("/v1/archive_policy/")
async def create_policy(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    svc = manager(request)
    created = await _thread(svc.archive_policies.create, ctx, body)
    headers = {"Location": location(request, f"/v1/archive_policy/{created['name']}")}
    return JSONResponse(created, status_code=201, headers=headers)


@router.get("/v1/archive_policy/{name}")
def get_policy(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).archive_policies.get(ctx, name))


@router.patch("/v1/archive_policy/{name}")
async def update_policy(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    return JSONResponse(await _thread(manager(request).archive_policies.update, ctx, name, body))


@router.delete("/v1/archive_policy/{name}")
def delete_policy(name: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    manager(request).archive_policies.delete(ctx, name)
    return Response(status_code=204)


@router.get("/v1/archive_policy_rule")
@router.get("/v1/archive_policy_rule/")
def list_rules(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).archive_policies.list_rules(ctx))


@router.post("/v1/archive_policy_rule")
@router.post("/v1/archive_policy_rule/")
async def create_rule(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    created = await _thread(manager(request).archive_policies.create_rule, ctx, body)
    headers = {"Location": location(request, f"/v1/archive_policy_rule/{created['name']}")}
    return JSONResponse(created, status_code=201, headers=headers)


@router.get("/v1/archive_policy_rule/{name}")
def get_rule(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).archive_policies.get_rule(ctx, name))


@router.patch("/v1/archive_policy_rule/{name}")
async def rename_rule(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    return JSONResponse(
        await _thread(manager(request).archive_policies.rename_rule, ctx, name, body)
    )


@router.delete("/v1/archive_policy_rule/{name}")
def delete_rule(name: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    manager(request).archive_policies.delete_rule(ctx, name)
    return Response(status_code=204)


# -- resource types -----------------------------------------------------------------


@router.get("/v1/resource_type")
@router.get("/v1/resource_type/")
def list_types(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).resource_types.list_types(ctx))


@router.post("/v1/resource_type")
@router.post("/v1/resource_type/")
async def create_type(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    created = await _thread(manager(request).resource_types.create, ctx, body)
    headers = {"Location": location(request, f"/v1/resource_type/{created['name']}")}
    return JSONResponse(created, status_code=201, headers=headers)


@router.get("/v1/resource_type/{name}")
def get_type(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).resource_types.get(ctx, name))


@router.patch("/v1/resource_type/{name}")
async def patch_type(name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    media = request.headers.get("content-type", "").split(";")[0].strip()
    if media != "application/json-patch+json":
        raise UnsupportedMediaType(content_type=media or "none")
    body = await json_body(request)
    return JSONResponse(await _thread(manager(request).resource_types.patch, ctx, name, body))


@router.delete("/v1/resource_type/{name}")
def delete_type(name: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    manager(request).resource_types.delete(ctx, name)
    return Response(status_code=204)


# -- resources ------------------------------------------------------------------------


@router.get("/v1/resource")
@router.get("/v1/resource/")
def resource_types_index(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    root = f"{base_url(request)}/v1/resource/"
    names = manager(request).resource_types.names()
    return JSONResponse({name: root + name for name in names})


@router.get("/v1/resource/{type_name}")
@router.get("/v1/resource/{type_name}/")
def list_resources(type_name: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    page = manager(request).list_resources(ctx, type_name, listing(request))
    return page_response(request, page)


@router.post("/v1/resource/{type_name}")
@router.post("/v1/resource/{type_name}/")
async def create_resource(type_name: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    body = await json_body(request)
    view, etag = await _thread(manager(request).create_resource, ctx, type_name, body)
    where = location(request, f"/v1/resource/{type_name}/{view['id']}")
    return with_etag(view, etag, 201, {"Location": where})


@router.delete("/v1/resource/{type_name}")
@router.delete("/v1/resource/{type_name}/")
async def delete_resources(
    type_name: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    body = await body_or_none(request)
    text = first(request, "filter")
    tree = validate_tree(body) if body is not None else (parse_filter(text) if text else None)
    deleted = await _thread(manager(request).delete_resources, ctx, type_name, tree)
    return JSONResponse({"deleted": deleted})


@router.get("/v1/resource/{type_name}/{resource_id}")
def get_resource(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> Response:
    view, etag = manager(request).resources.get(ctx, type_name, resource_id)
    return with_etag(view, etag)


@router.patch("/v1/resource/{type_name}/{resource_id}")
async def update_resource(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> Response:
    body = await json_body(request)
    view, etag = await _thread(manager(request).update_resource, ctx, type_name, resource_id, body)
    return with_etag(view, etag)


@router.delete("/v1/resource/{type_name}/{resource_id}")
def delete_resource(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> Response:
    manager(request).delete_resource(ctx, type_name, resource_id)
    return Response(status_code=204)


@router.get("/v1/resource/{type_name}/{resource_id}/history")
@router.get("/v1/resource/{type_name}/{resource_id}/history/")
def resource_history(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    page = manager(request).resources.history(ctx, type_name, resource_id, listing(request, True))
    return page_response(request, page)


@router.get("/v1/resource/{type_name}/{resource_id}/metric")
@router.get("/v1/resource/{type_name}/{resource_id}/metric/")
def resource_metrics(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(manager(request).metrics.resource_metrics(ctx, type_name, resource_id))


@router.post("/v1/resource/{type_name}/{resource_id}/metric")
@router.post("/v1/resource/{type_name}/{resource_id}/metric/")
async def add_resource_metrics(
    type_name: str, resource_id: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    body = await json_body(request)
    return JSONResponse(
        await _thread(manager(request).metrics.add_to_resource, ctx, type_name, resource_id, body)
    )


@router.get("/v1/resource/{type_name}/{resource_id}/metric/{name}")
def get_named_metric(
    type_name: str, resource_id: str, name: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    named = (type_name, resource_id, name)
    return JSONResponse(manager(request).metrics.show(ctx, None, named))


@router.delete("/v1/resource/{type_name}/{resource_id}/metric/{name}")
def delete_named_metric(
    type_name: str, resource_id: str, name: str, request: Request, ctx: RequestContext = Ctx
) -> Response:
    manager(request).metrics.delete(ctx, None, (type_name, resource_id, name))
    return Response(status_code=204)


@router.get("/v1/resource/{type_name}/{resource_id}/metric/{name}/measures")
def get_named_measures(
    type_name: str, resource_id: str, name: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    named = (type_name, resource_id, name)
    return JSONResponse(manager(request).get_measures(ctx, None, _measure_query(request), named))


@router.post("/v1/resource/{type_name}/{resource_id}/metric/{name}/measures")
async def post_named_measures(
    type_name: str, resource_id: str, name: str, request: Request, ctx: RequestContext = Ctx
) -> Response:
    body = await json_body(request)
    named = (type_name, resource_id, name)
    await _thread(manager(request).metrics.add_measures, ctx, None, body, named)
    return Response(status_code=202)


# -- metrics -----------------------------------------------------------------------------


@router.get("/v1/metric")
@router.get("/v1/metric/")
def list_metrics(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    filters = {
        k: v for k, v in request.query_params.items() if k not in ("limit", "marker", "sort")
    }
    given = limit(request)
    items, marker = manager(request).metrics.list_page(
        ctx, filters, given, first(request, "marker"), every(request, "sort")
    )
    return page_response(request, Page(items, marker, manager(request).resources.limit(given)))


@router.post("/v1/metric")
@router.post("/v1/metric/")
async def create_metric(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    created = await _thread(manager(request).metrics.create, ctx, body)
    headers = {"Location": location(request, f"/v1/metric/{created['id']}")}
    return JSONResponse(created, status_code=201, headers=headers)


@router.get("/v1/metric/{metric_id}")
def get_metric(metric_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).metrics.show(ctx, metric_id))


@router.delete("/v1/metric/{metric_id}")
def delete_metric(metric_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    manager(request).metrics.delete(ctx, metric_id)
    return Response(status_code=204)


@router.get("/v1/metric/{metric_id}/measures")
def get_measures(metric_id: str, request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(manager(request).get_measures(ctx, metric_id, _measure_query(request)))


@router.post("/v1/metric/{metric_id}/measures")
async def post_measures(metric_id: str, request: Request, ctx: RequestContext = Ctx) -> Response:
    body = await json_body(request)
    await _thread(manager(request).metrics.add_measures, ctx, metric_id, body)
    return Response(status_code=202)


# -- batches ---------------------------------------------------------------------------------


@router.post("/v1/batch/metrics/measures")
async def batch_metrics(request: Request, ctx: RequestContext = Ctx) -> Response:
    body = await json_body(request)
    await _thread(manager(request).metrics.batch_metrics, ctx, body)
    return Response(status_code=202)


@router.post("/v1/batch/resources/metrics/measures")
async def batch_resources(request: Request, ctx: RequestContext = Ctx) -> Response:
    body = await json_body(request)
    create = parse_bool("create_metrics", first(request, "create_metrics"))
    await _thread(manager(request).batch_resources_measures, ctx, body, create)
    return Response(status_code=202)


# -- search -----------------------------------------------------------------------------------


@router.post("/v1/search/resource/{type_name}")
@router.post("/v1/search/resource/{type_name}/")
async def search_resources(
    type_name: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    body = await body_or_none(request)
    text = first(request, "filter")
    if body is not None:
        tree = validate_tree(body)
    elif text:
        tree = parse_filter(text)
    else:
        tree = None
    page = await _thread(manager(request).search_resources, ctx, type_name, listing(request), tree)
    return page_response(request, page)


@router.post("/v1/search/metric")
@router.post("/v1/search/metric/")
async def search_metric(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await body_or_none(request)
    result = await _thread(
        manager(request).metrics.search,
        ctx,
        every(request, "metric_id"),
        body,
        _measure_query(request),
    )
    return JSONResponse(result)


# -- aggregation --------------------------------------------------------------------------------


@router.post("/v1/aggregates")
@router.post("/v1/aggregates/")
async def aggregates(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    result = await _thread(manager(request).aggregates, ctx, body, _aggregate_query(request))
    return JSONResponse(result)


def _aggregation_args(request: Request) -> dict[str, Any]:
    return {
        "aggregation": first(request, "aggregation") or "mean",
        "reaggregation": first(request, "reaggregation"),
        "query": _aggregate_query(request),
        "resample": first(request, "resample"),
        "refresh": first(request, "refresh"),
    }


@router.get("/v1/aggregation/metric")
def aggregation_metric(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    svc = manager(request)
    ids = every(request, "metric")
    if not ids:
        raise BadRequest("Invalid input: required key not provided @ data['metric']")
    return JSONResponse(svc.aggregation.aggregation(ctx, ids, None, **_aggregation_args(request)))


@router.post("/v1/aggregation/metric")
async def aggregation_metric_post(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    body = await json_body(request)
    if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
        raise InvalidInput("expected a list", [])
    svc = manager(request)
    result = await _thread(
        svc.aggregation.aggregation, ctx, body, None, **_aggregation_args(request)
    )
    return JSONResponse(result)


@router.post("/v1/aggregation/resource/{type_name}/metric/{metric_name}")
async def aggregation_resource(
    type_name: str, metric_name: str, request: Request, ctx: RequestContext = Ctx
) -> JSONResponse:
    body = await body_or_none(request)
    text = first(request, "filter")
    tree = validate_tree(body) if body is not None else (parse_filter(text) if text else None)
    svc = manager(request)
    result = await _thread(
        svc.aggregation.aggregation,
        ctx,
        None,
        (type_name, metric_name, tree),
        **_aggregation_args(request),
    )
    return JSONResponse(result)


# -- not implemented -----------------------------------------------------------------------------


@router.api_route("/v1/influxdb/{rest:path}", methods=["GET", "POST", "HEAD"])
@router.api_route("/v1/influxdb", methods=["GET", "POST", "HEAD"])
def influxdb(ctx: RequestContext = Ctx, rest: str = "") -> Response:
    raise NotSupported(operation="InfluxDB ingestion")


@router.api_route("/v1/prometheus/{rest:path}", methods=["GET", "POST"])
def prometheus(ctx: RequestContext = Ctx, rest: str = "") -> Response:
    raise NotSupported(operation="Prometheus remote write")


async def _thread(function: Any, *args: Any, **kwargs: Any) -> Any:
    return await run_in_threadpool(function, *args, **kwargs)


def build_app(telemetry: TelemetryManager, cloud: Cloud) -> FastAPI:
    spec = PipelineSpec(
        service="telemetry",
        error_style=ErrorStyle.GNOCCHI,
        max_body=max(cloud.settings.max_request_body, 64 * 1024 * 1024),
        collapse_slashes=True,
    )
    app = create_app(
        spec,
        cloud.identity.tokens,
        cloud.settings.url("identity") + "/v3",
        title="onestack metric (Gnocchi v1)",
        version=VERSION,
    )
    app.state.telemetry = telemetry
    app.include_router(router)
    return app
