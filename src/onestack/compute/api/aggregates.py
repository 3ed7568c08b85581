"""Host aggregates: ``/os-aggregates`` (the logic: ``compute.aggregates``).

Request bodies follow Nova's JSON schemas (microversion 2.1 on); responses are
Nova's, with ``uuid`` from 2.41.  Create answers 200 and delete 200 with no
body, as Nova does.  ``POST /os-aggregates/{id}/images`` (2.81) makes Nova's
checks and is accepted, but onestack's drivers pre-cache no images.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field, StrictStr, field_validator, model_validator

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.microversion import APIVersion
from onestack.common.openapi import request_body
from onestack.compute.aggregates import AggregateRecord, parse_id
from onestack.compute.api.deps import Body, Ctx, Version, at_least, compute, data
from onestack.compute.api.schemas import Strict
from onestack.compute.api.views import iso_us

router = APIRouter(prefix="/v2.1")

_HOST = re.compile(r"^[a-zA-Z0-9-._]*$")
_META_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


def _printable(value: str, what: str, edges: bool) -> str:
    """Nova's name formats: printable characters; ``edges`` False refuses leading or
    trailing whitespace, True asks for at least one other character."""
    if not all(c.isprintable() or c.isspace() for c in value):
        raise ValueError(f"{what} must be printable characters")
    if not edges and value != value.strip():
        raise ValueError(f"{what} can not start or end with whitespace")
    if not value.strip():
        raise ValueError(f"{what} must have at least one non space character")
    return value


def _zone(value: str | None) -> str | None:
    if value is None:
        return None
    if ":" in value:
        raise ValueError("availability_zone must be printable characters except :")
    return _printable(value, "availability_zone", edges=False)


class AggregateCreate(Strict):
    name: StrictStr = Field(min_length=1, max_length=255)
    availability_zone: StrictStr | None = Field(None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _printable(value, "name", edges=False)

    @field_validator("availability_zone")
    @classmethod
    def _az(cls, value: str | None) -> str | None:
        return _zone(value)


class AggregateUpdate(Strict):
    name: StrictStr | None = Field(None, min_length=1, max_length=255)
    availability_zone: StrictStr | None = Field(None, min_length=1, max_length=255)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is None:
            raise ValueError("name must be a string")
        return _printable(value, "name", edges=True)

    @field_validator("availability_zone")
    @classmethod
    def _az(cls, value: str | None) -> str | None:
        return _zone(value)

    @model_validator(mode="after")
    def _one(self) -> AggregateUpdate:
        if not self.model_fields_set & {"name", "availability_zone"}:
            raise ValueError("'name' or 'availability_zone' is a required property")
        return self


class HostRef(Strict):
    host: StrictStr = Field(min_length=1, max_length=255)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        if not _HOST.match(value):
            raise ValueError(f"'{value}' does not match '{_HOST.pattern}'")
        return value


class MetadataSet(Strict):
    metadata: dict[str, StrictStr | None]

    @field_validator("metadata")
    @classmethod
    def _metadata(cls, value: dict[str, str | None]) -> dict[str, str | None]:
        for key, item in value.items():
            if not _META_KEY.match(key):
                raise ValueError(f"'{key}' is not a valid metadata key")
            if item is not None and len(item) > 255:
                raise ValueError(f"the value of '{key}' is longer than 255 characters")
        return value


class ImageRef(Strict):
    id: StrictStr = Field(min_length=1)


class ImageCache(Strict):
    cache: list[ImageRef] = Field(min_length=1)


def aggregate_view(
    item: AggregateRecord, version: APIVersion, members: bool = True
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "availability_zone": item.availability_zone,
        "created_at": iso_us(item.created_at),
        "deleted": False,
        "deleted_at": None,
        "id": item.id,
        "name": item.name,
        "updated_at": iso_us(item.updated_at),
    }
    if members:
        body["hosts"] = list(item.hosts)
        body["metadata"] = dict(item.metadata)
    if at_least(version, "2.41"):
        body["uuid"] = item.uuid
    return body


def _answer(item: AggregateRecord, version: APIVersion) -> JSONResponse:
    return JSONResponse({"aggregate": aggregate_view(item, version)})


@router.get("/os-aggregates")
def list_aggregates(
    request: Request, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    items = compute(request).aggregates.index(ctx)
    return JSONResponse({"aggregates": [aggregate_view(a, version) for a in items]})


@router.post("/os-aggregates", openapi_extra=request_body(AggregateCreate))
def create_aggregate(
    request: Request, ctx: RequestContext = Ctx, body: Any = Body, version: APIVersion = Version
) -> JSONResponse:
    req = data(AggregateCreate, body, "aggregate")
    item = compute(request).aggregates.create(ctx, req.name, req.availability_zone)
    return JSONResponse({"aggregate": aggregate_view(item, version, members=False)})


@router.get("/os-aggregates/{aggregate_id}")
def show_aggregate(
    request: Request, aggregate_id: str, ctx: RequestContext = Ctx, version: APIVersion = Version
) -> JSONResponse:
    manager = compute(request).aggregates
    manager.authorize(ctx, "show")
    return _answer(manager.show(ctx, parse_id(aggregate_id)), version)


@router.put("/os-aggregates/{aggregate_id}", openapi_extra=request_body(AggregateUpdate))
def update_aggregate(
    request: Request,
    aggregate_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    manager = compute(request).aggregates
    manager.authorize(ctx, "update")
    req = data(AggregateUpdate, body, "aggregate")
    changes = {k: getattr(req, k) for k in req.model_fields_set}
    return _answer(manager.update(ctx, parse_id(aggregate_id), changes), version)


@router.delete("/os-aggregates/{aggregate_id}")
def delete_aggregate(request: Request, aggregate_id: str, ctx: RequestContext = Ctx) -> Response:
    manager = compute(request).aggregates
    manager.authorize(ctx, "delete")
    manager.delete(ctx, parse_id(aggregate_id))
    return Response(status_code=200)


#: the actions of ``POST /os-aggregates/{id}/action``: their body model and policy
_ACTIONS: dict[str, tuple[type[Strict], str]] = {
    "add_host": (HostRef, "add_host"),
    "remove_host": (HostRef, "remove_host"),
    "set_metadata": (MetadataSet, "set_metadata"),
}


@router.post("/os-aggregates/{aggregate_id}/action")
def aggregate_action(
    request: Request,
    aggregate_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> JSONResponse:
    if not isinstance(body, dict) or not body:
        raise BadRequest("Malformed request body")
    if len(body) != 1 or next(iter(body)) not in _ACTIONS:
        raise BadRequest("There is no such action: " + ", ".join(sorted(map(str, body))))
    action = next(iter(body))
    model, rule = _ACTIONS[action]
    manager = compute(request).aggregates
    manager.authorize(ctx, rule)
    req = data(model, body, action)
    number = parse_id(aggregate_id)
    if isinstance(req, HostRef):
        if action == "add_host":
            item = manager.add_host(ctx, number, req.host)
        else:
            item = manager.remove_host(ctx, number, req.host)
    else:
        assert isinstance(req, MetadataSet)
        item = manager.set_metadata(ctx, number, req.metadata)
    return _answer(item, version)


@router.post("/os-aggregates/{aggregate_id}/images", openapi_extra=request_body(ImageCache))
def cache_images(
    request: Request,
    aggregate_id: str,
    ctx: RequestContext = Ctx,
    body: Any = Body,
    version: APIVersion = Version,
) -> Response:
    if not at_least(version, "2.81"):
        raise NotFound("The resource could not be found.")
    manager = compute(request).aggregates
    req = data(ImageCache, body, None)
    manager.check_images(ctx, parse_id(aggregate_id), [i.id for i in req.cache])
    return Response(status_code=202)
