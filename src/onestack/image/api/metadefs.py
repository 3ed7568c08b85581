"""``/v2/metadefs/*``: the metadata definitions catalog (Glance's metadefs API).

Namespaces, their objects, properties and tags, the resource types and the
namespaces' associations with them; the logic is ``onestack.image.metadefs``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from onestack.common.app import json_body, require_context
from onestack.common.context import RequestContext
from onestack.image.api.deps import manager, query
from onestack.image.api.views import timestamp
from onestack.image.models import (
    MetadefAssociation,
    MetadefNamespace,
    MetadefObject,
    MetadefProperty,
    MetadefResourceType,
    MetadefTag,
)

router = APIRouter(prefix="/v2/metadefs")
Ctx = Depends(require_context)
Body = Depends(json_body)
NS = "/v2/metadefs/namespaces"


# -- wire shapes ----------------------------------------------------------------------


def _times(row: Any) -> dict[str, str]:
    return {"created_at": timestamp(row.created_at), "updated_at": timestamp(row.updated_at)}


def association(row: MetadefAssociation) -> dict[str, Any]:
    body: dict[str, Any] = {"name": row.resource_type}
    if row.prefix is not None:
        body["prefix"] = row.prefix
    if row.properties_target is not None:
        body["properties_target"] = row.properties_target
    return {**body, **_times(row)}


def prop(row: MetadefProperty, prefix: str = "") -> dict[str, Any]:
    return {"name": prefix + row.name, **row.schema}


def obj(row: MetadefObject, namespace: str) -> dict[str, Any]:
    body: dict[str, Any] = {"name": row.name}
    if row.description is not None:
        body["description"] = row.description
    return {
        **body,
        "required": row.required,
        "properties": row.properties,
        **_times(row),
        "self": f"{NS}/{namespace}/objects/{row.name}",
        "schema": "/v2/schemas/metadefs/object",
    }


def tag(row: MetadefTag) -> dict[str, Any]:
    return {"name": row.name, **_times(row)}


def namespace(row: MetadefNamespace, *, detail: bool = False, prefix: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"namespace": row.namespace}
    for key in ("display_name", "description"):
        if getattr(row, key) is not None:
            body[key] = getattr(row, key)
    body.update(
        visibility=row.visibility,
        protected=row.protected,
        owner=row.owner,
        **_times(row),
        self=f"{NS}/{row.namespace}",
        schema="/v2/schemas/metadefs/namespace",
    )
    if row.associations:
        body["resource_type_associations"] = [association(a) for a in row.associations]
    if detail:
        if row.properties:
            body["properties"] = {
                prefix + p.name: {k: v for k, v in prop(p).items() if k != "name"}
                for p in row.properties
            }
        if row.objects:
            body["objects"] = [
                {k: v for k, v in obj(o, row.namespace).items() if k not in ("self", "schema")}
                for o in row.objects
            ]
        if row.tags:
            body["tags"] = [{"name": t.name} for t in row.tags]
    return body


# -- namespaces -----------------------------------------------------------------------


@router.get("/namespaces")
def list_namespaces(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    params = query(request)
    rows, next_marker = manager(request).metadefs.list_namespaces(ctx, params)
    kept = [(k, v) for k, v in params if k != "marker"]
    body: dict[str, Any] = {
        "namespaces": [namespace(r) for r in rows],
        "first": NS + (f"?{urlencode(kept)}" if kept else ""),
        "schema": "/v2/schemas/metadefs/namespaces",
    }
    if next_marker is not None:
        body["next"] = f"{NS}?{urlencode([*kept, ('marker', next_marker)])}"
    return JSONResponse(body)


@router.post("/namespaces")
def create_namespace(request: Request, ctx: RequestContext = Ctx, body: Any = Body) -> Response:
    row = manager(request).metadefs.create_namespace(ctx, body)
    return JSONResponse(
        namespace(row, detail=True),
        status_code=201,
        headers={"Location": f"{NS}/{row.namespace}"},
    )


@router.get("/namespaces/{name}")
def show_namespace(request: Request, name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    row = manager(request).metadefs.get_namespace(ctx, name)
    resource_type = request.query_params.get("resource_type")
    prefix = ""
    for a in row.associations:
        if resource_type is not None and a.resource_type == resource_type:
            prefix = a.prefix or ""
    return JSONResponse(namespace(row, detail=True, prefix=prefix))


@router.put("/namespaces/{name}")
def update_namespace(
    request: Request, name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    return JSONResponse(namespace(manager(request).metadefs.update_namespace(ctx, name, body)))


@router.delete("/namespaces/{name}")
def delete_namespace(request: Request, name: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).metadefs.delete_namespace(ctx, name)
    return Response(status_code=204)


# -- objects --------------------------------------------------------------------------


@router.get("/namespaces/{name}/objects")
def list_objects(request: Request, name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).metadefs.list_objects(ctx, name)
    return JSONResponse(
        {"objects": [obj(r, name) for r in rows], "schema": "/v2/schemas/metadefs/objects"}
    )


@router.post("/namespaces/{name}/objects")
def create_object(
    request: Request, name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).metadefs.create_object(ctx, name, body)
    return JSONResponse(obj(row, name), status_code=201)


@router.delete("/namespaces/{name}/objects")
def delete_objects(request: Request, name: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).metadefs.delete_objects(ctx, name)
    return Response(status_code=204)


@router.get("/namespaces/{name}/objects/{object_name}")
def show_object(
    request: Request, name: str, object_name: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(obj(manager(request).metadefs.get_object(ctx, name, object_name), name))


@router.put("/namespaces/{name}/objects/{object_name}")
def update_object(
    request: Request, name: str, object_name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).metadefs.update_object(ctx, name, object_name, body)
    return JSONResponse(obj(row, name))


@router.delete("/namespaces/{name}/objects/{object_name}")
def delete_object(
    request: Request, name: str, object_name: str, ctx: RequestContext = Ctx
) -> Response:
    manager(request).metadefs.delete_object(ctx, name, object_name)
    return Response(status_code=204)


# -- properties -----------------------------------------------------------------------


@router.get("/namespaces/{name}/properties")
def list_properties(request: Request, name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).metadefs.list_properties(ctx, name)
    return JSONResponse({"properties": {r.name: prop(r) for r in rows}})


@router.post("/namespaces/{name}/properties")
def create_property(
    request: Request, name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    return JSONResponse(
        prop(manager(request).metadefs.create_property(ctx, name, body)), status_code=201
    )


@router.delete("/namespaces/{name}/properties")
def delete_properties(request: Request, name: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).metadefs.delete_properties(ctx, name)
    return Response(status_code=204)


@router.get("/namespaces/{name}/properties/{property_name}")
def show_property(
    request: Request, name: str, property_name: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(prop(manager(request).metadefs.get_property(ctx, name, property_name)))


@router.put("/namespaces/{name}/properties/{property_name}")
def update_property(
    request: Request, name: str, property_name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).metadefs.update_property(ctx, name, property_name, body)
    return JSONResponse(prop(row))


@router.delete("/namespaces/{name}/properties/{property_name}")
def delete_property(
    request: Request, name: str, property_name: str, ctx: RequestContext = Ctx
) -> Response:
    manager(request).metadefs.delete_property(ctx, name, property_name)
    return Response(status_code=204)


# -- tags -----------------------------------------------------------------------------


@router.get("/namespaces/{name}/tags")
def list_tags(request: Request, name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).metadefs.list_tags(ctx, name, query(request))
    return JSONResponse({"tags": [tag(r) for r in rows]})


@router.post("/namespaces/{name}/tags")
def create_tags(
    request: Request, name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    append = request.headers.get("X-Openstack-Append", "false").strip().lower() == "true"
    rows = manager(request).metadefs.create_tags(ctx, name, body, append=append)
    return JSONResponse({"tags": [{"name": r.name} for r in rows]}, status_code=201)


@router.delete("/namespaces/{name}/tags")
def delete_tags(request: Request, name: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).metadefs.delete_tags(ctx, name)
    return Response(status_code=204)


@router.get("/namespaces/{name}/tags/{tag_name}")
def show_tag(request: Request, name: str, tag_name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(tag(manager(request).metadefs.get_tag(ctx, name, tag_name)))


@router.post("/namespaces/{name}/tags/{tag_name}")
def create_tag(
    request: Request, name: str, tag_name: str, ctx: RequestContext = Ctx
) -> JSONResponse:
    return JSONResponse(
        tag(manager(request).metadefs.create_tag(ctx, name, tag_name)), status_code=201
    )


@router.put("/namespaces/{name}/tags/{tag_name}")
def update_tag(
    request: Request, name: str, tag_name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    return JSONResponse(tag(manager(request).metadefs.update_tag(ctx, name, tag_name, body)))


@router.delete("/namespaces/{name}/tags/{tag_name}")
def delete_tag(request: Request, name: str, tag_name: str, ctx: RequestContext = Ctx) -> Response:
    manager(request).metadefs.delete_tag(ctx, name, tag_name)
    return Response(status_code=204)


# -- resource types -------------------------------------------------------------------


def resource_type(row: MetadefResourceType) -> dict[str, Any]:
    return {"name": row.name, **_times(row)}


@router.get("/resource_types")
def list_resource_types(request: Request, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).metadefs.list_resource_types(ctx)
    return JSONResponse({"resource_types": [resource_type(r) for r in rows]})


@router.get("/namespaces/{name}/resource_types")
def list_associations(request: Request, name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    rows = manager(request).metadefs.list_associations(ctx, name)
    return JSONResponse({"resource_type_associations": [association(r) for r in rows]})


@router.post("/namespaces/{name}/resource_types")
def associate(
    request: Request, name: str, ctx: RequestContext = Ctx, body: Any = Body
) -> JSONResponse:
    row = manager(request).metadefs.associate(ctx, name, body)
    return JSONResponse(association(row), status_code=201)


@router.delete("/namespaces/{name}/resource_types/{resource_type_name}")
def dissociate(
    request: Request, name: str, resource_type_name: str, ctx: RequestContext = Ctx
) -> Response:
    manager(request).metadefs.dissociate(ctx, name, resource_type_name)
    return Response(status_code=204)
