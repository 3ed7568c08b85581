"""CRUD routes for every Neutron collection, built from one table of resources.

``GET /v2.0/<collection>`` lists (filters, ``fields``, sorting, pagination and
``<collection>_links``), ``POST`` creates one resource or a bulk list (all or
nothing: the manager creates a bulk list in one transaction),
``GET/PUT/DELETE /v2.0/<collection>/<id>`` show, update and delete (the
manager checks ``If-Match: revision_number=N``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.common.openapi import request_body
from onestack.network import metering
from onestack.network.api import deps, views
from onestack.network.exceptions import HTTPBadRequest
from onestack.network.floatingips import FIP_ATTRS
from onestack.network.networks import NETWORK_ATTRS
from onestack.network.ports import PORT_ATTRS
from onestack.network.routers import ROUTER_ATTRS
from onestack.network.secgroups import RULE_ATTRS, SG_ATTRS
from onestack.network.subnetpools import POOL_ATTRS
from onestack.network.subnets import SUBNET_ATTRS

if TYPE_CHECKING:
    from onestack.network.collection import Collection

Ctx = Depends(require_context)


@dataclass(frozen=True)
class Resource:
    collection: str  # URL path segment, and the key of NetworkManager.collections
    key: str  # JSON collection key (networks, security_groups...)
    singular: str  # JSON body key
    render: Callable[[Any, RequestContext], dict[str, Any]]
    #: the attributes a create accepts (the manager checks their values)
    attributes: frozenset[str]
    updatable: bool = True

    def body_schema(self, *, bulk: bool) -> dict[str, Any]:
        """The OpenAPI description of a create (``bulk``: one or a list) or update body:
        the attribute names, whose values the manager checks by hand."""
        names = self.attributes if bulk else self.attributes - _FIXED
        item = {
            "type": "object",
            "properties": {name: {} for name in sorted(names)},
            "additionalProperties": False,
        }
        if not bulk:
            return request_body(schema=item, wrapper=self.singular)
        both = {
            "type": "object",
            "properties": {self.singular: item, self.key: {"type": "array", "items": item}},
            "minProperties": 1,
            "maxProperties": 1,
        }
        return request_body(schema=both)


# attributes a create sets once
_FIXED = frozenset({"project_id", "tenant_id", "network_id"})

RESOURCES = (
    Resource("networks", "networks", "network", views.network, frozenset(NETWORK_ATTRS)),
    Resource("subnets", "subnets", "subnet", views.subnet, frozenset(SUBNET_ATTRS)),
    Resource("subnetpools", "subnetpools", "subnetpool", views.subnetpool, frozenset(POOL_ATTRS)),
    Resource("ports", "ports", "port", views.port, frozenset(PORT_ATTRS)),
    Resource("routers", "routers", "router", views.router, frozenset(ROUTER_ATTRS)),
    Resource("floatingips", "floatingips", "floatingip", views.floatingip, frozenset(FIP_ATTRS)),
    Resource(
        "security-groups",
        "security_groups",
        "security_group",
        views.security_group,
        frozenset(SG_ATTRS),
    ),
    Resource(
        "security-group-rules",
        "security_group_rules",
        "security_group_rule",
        views.security_group_rule,
        frozenset(RULE_ATTRS),
        updatable=False,
    ),
    Resource(
        "metering/metering-labels",
        "metering_labels",
        "metering_label",
        views.metering_label,
        frozenset(metering.LABEL_ATTRS),
        updatable=False,
    ),
    Resource(
        "metering/metering-label-rules",
        "metering_label_rules",
        "metering_label_rule",
        views.metering_label_rule,
        frozenset(metering.RULE_ATTRS),
        updatable=False,
    ),
)


def _collection(request: Request, res: Resource) -> Collection[Any]:
    return deps.manager(request).collections[res.collection]


def _add(router: APIRouter, res: Resource) -> None:
    base = f"/v2.0/{res.collection}"

    def list_(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
        query = deps.query(request)
        page = _collection(request, res).list_page(ctx, query)
        fields = deps.fields(request)
        items = [views.select_fields(res.render(row, ctx), fields) for row in page.rows]
        body: dict[str, Any] = {res.key: items}
        ids = [r.id for r in page.rows]
        page_links = deps.page_links(deps.collection_url(request), query, page, ids)
        if page_links:
            body[f"{res.key}_links"] = page_links
        return JSONResponse(body)

    def create(
        request: Request, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
    ) -> JSONResponse:
        collection = _collection(request, res)
        if isinstance(body, dict) and res.key in body and res.key != res.singular:
            items = body[res.key]
            if not isinstance(items, list) or not items:
                raise HTTPBadRequest(detail=f"Resources required: '{res.key}' must be a list")
            if not all(isinstance(item, dict) for item in items):
                raise HTTPBadRequest(detail=f"Invalid format for '{res.key}'")
            rows = collection.create_bulk(ctx, items)
            return JSONResponse({res.key: [res.render(r, ctx) for r in rows]}, status_code=201)
        row = collection.create(ctx, deps.wrapped(body, res.singular))
        return JSONResponse({res.singular: res.render(row, ctx)}, status_code=201)

    def show(request: Request, item_id: str, ctx: RequestContext = Ctx) -> JSONResponse:
        row = _collection(request, res).get(ctx, item_id)
        body = views.select_fields(res.render(row, ctx), deps.fields(request))
        return JSONResponse({res.singular: body})

    def update(
        request: Request, item_id: str, ctx: RequestContext = Ctx, body: Any = Depends(json_body)
    ) -> JSONResponse:
        values = deps.wrapped(body, res.singular)
        row = _collection(request, res).update(
            ctx, item_id, values, request.headers.get("if-match")
        )
        return JSONResponse({res.singular: res.render(row, ctx)})

    def delete(request: Request, item_id: str, ctx: RequestContext = Ctx) -> Response:
        _collection(request, res).delete(ctx, item_id, request.headers.get("if-match"))
        return Response(status_code=204)

    router.add_api_route(base, list_, methods=["GET"])
    router.add_api_route(base, create, methods=["POST"], openapi_extra=res.body_schema(bulk=True))
    router.add_api_route(base + "/{item_id}", show, methods=["GET"])
    if res.updatable:
        router.add_api_route(
            base + "/{item_id}", update, methods=["PUT"], openapi_extra=res.body_schema(bulk=False)
        )
    router.add_api_route(base + "/{item_id}", delete, methods=["DELETE"])


router = APIRouter()
for _resource in RESOURCES:
    _add(router, _resource)
