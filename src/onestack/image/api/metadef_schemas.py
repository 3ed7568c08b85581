"""The JSON-schema documents of the metadata definitions catalog,
``/v2/schemas/metadefs/*``, in the shape Glance serves them (each names its
entity; a list schema names the plural and holds the entity's schema under
``properties.<plural>.items``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from onestack.common.app import require_context
from onestack.common.context import RequestContext
from onestack.common.exceptions import NotFound
from onestack.image.metadefs import PROPERTY_TYPES, VISIBILITIES

router = APIRouter(prefix="/v2/schemas/metadefs")
Ctx = Depends(require_context)


def _string(description: str, max_length: int | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "string", "description": description, **extra}
    if max_length is not None:
        body["maxLength"] = max_length
    return body


def _stamp(description: str) -> dict[str, Any]:
    return {"type": "string", "readOnly": True, "description": description, "format": "date-time"}


TIMES = {
    "created_at": _stamp("Date and time of the creation (READ-ONLY)"),
    "updated_at": _stamp("Date and time of the last modification (READ-ONLY)"),
}
LINKS = [{"rel": "self", "href": "{self}"}, {"rel": "describedby", "href": "{schema}"}]


def _definitions() -> dict[str, Any]:
    """What a property definition may hold (shared by properties and objects)."""
    return {
        "positiveInteger": {"type": "integer", "minimum": 0},
        "positiveIntegerDefault0": {"allOf": [{"$ref": "#/definitions/positiveInteger"}]},
        "stringArray": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        "property": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["title", "type"],
                "properties": _property_fields(),
            },
        },
    }


def _property_fields() -> dict[str, Any]:
    return {
        "name": _string("The name of the property", 255),
        "title": {"type": "string"},
        "description": {"type": "string"},
        "operators": {"$ref": "#/definitions/stringArray"},
        "type": {"type": "string", "enum": [*PROPERTY_TYPES, None]},
        "required": {"$ref": "#/definitions/stringArray"},
        "minimum": {"type": "number"},
        "maximum": {"type": "number"},
        "maxLength": {"$ref": "#/definitions/positiveInteger"},
        "minLength": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "pattern": {"type": "string", "format": "regex"},
        "enum": {"type": "array"},
        "readonly": {"type": "boolean"},
        "default": {},
        "items": {
            "type": "object",
            "properties": {
                "type": {"type": "string", "enum": [*PROPERTY_TYPES, None]},
                "enum": {"type": "array"},
            },
        },
        "maxItems": {"$ref": "#/definitions/positiveInteger"},
        "minItems": {"$ref": "#/definitions/positiveIntegerDefault0"},
        "uniqueItems": {"type": "boolean", "default": False},
        "additionalItems": {"type": "boolean"},
    }


def association_schema() -> dict[str, Any]:
    return {
        "name": "resource_type_association",
        "properties": {
            "name": _string(
                "Resource type names should be aligned with Heat resource types whenever "
                "possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html",
                80,
            ),
            "prefix": _string(
                "Specifies the prefix to use for the given resource type. Any properties "
                "in the namespace should be prefixed with this prefix when being applied "
                "to the specified resource type.",
                80,
            ),
            "properties_target": _string(
                "Some resource types allow more than one key / value pair per instance. "
                "This specifies the sub-type the properties apply to.",
                80,
            ),
            **TIMES,
        },
        "additionalProperties": False,
        "required": ["name"],
    }


def tag_schema() -> dict[str, Any]:
    return {
        "name": "tag",
        "properties": {"name": {"type": "string", "maxLength": 255}, **TIMES},
        "additionalProperties": False,
        "required": ["name"],
    }


def property_schema() -> dict[str, Any]:
    return {
        "name": "property",
        "properties": _property_fields(),
        "definitions": _definitions(),
        "additionalProperties": False,
        "required": ["name", "title", "type"],
    }


def object_schema() -> dict[str, Any]:
    return {
        "name": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 80},
            "description": {"type": "string"},
            "required": {"$ref": "#/definitions/stringArray"},
            "properties": {"$ref": "#/definitions/property"},
            "schema": {"type": "string", "readOnly": True},
            "self": {"type": "string", "readOnly": True},
            **TIMES,
        },
        "definitions": _definitions(),
        "additionalProperties": False,
        "required": ["name"],
        "links": LINKS,
    }


def namespace_schema() -> dict[str, Any]:
    return {
        "name": "namespace",
        "properties": {
            "namespace": _string("The unique namespace text.", 80, pattern="^[^/]+$"),
            "display_name": _string(
                "The user friendly name for the namespace. Used by UI if available.", 80
            ),
            "description": _string("Provides a user friendly description of the namespace.", 500),
            "visibility": {
                "type": "string",
                "description": "Scope of namespace accessibility.",
                "enum": list(VISIBILITIES),
            },
            "protected": {
                "type": "boolean",
                "description": "If true, namespace will not be deletable.",
            },
            "owner": _string("Owner of the namespace.", 255),
            **TIMES,
            "schema": {"type": "string", "readOnly": True},
            "self": {"type": "string", "readOnly": True},
            "resource_type_associations": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "prefix": {"type": "string"},
                        "properties_target": {"type": "string"},
                    },
                },
            },
            "properties": {"$ref": "#/definitions/property"},
            "objects": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "required": {"$ref": "#/definitions/stringArray"},
                        "properties": {"$ref": "#/definitions/property"},
                    },
                },
            },
            "tags": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": {"type": "string"}}},
            },
        },
        "definitions": _definitions(),
        "additionalProperties": False,
        "required": ["namespace"],
        "links": LINKS,
    }


def _collection(plural: str, entity: dict[str, Any], *, paged: bool) -> dict[str, Any]:
    properties: dict[str, Any] = {plural: {"type": "array", "items": entity}}
    links: list[dict[str, str]] = []
    if paged:
        properties.update(
            first={"type": "string"}, next={"type": "string"}, schema={"type": "string"}
        )
        links = [
            {"rel": "first", "href": "{first}"},
            {"rel": "next", "href": "{next}"},
            {"rel": "describedby", "href": "{schema}"},
        ]
    body: dict[str, Any] = {"name": plural, "properties": properties}
    if "definitions" in entity:
        body["definitions"] = entity["definitions"]
    if links:
        body["links"] = links
    return body


def _properties_collection() -> dict[str, Any]:
    entity = property_schema()
    return {
        "name": "properties",
        "properties": {"properties": {"$ref": "#/definitions/property"}},
        "definitions": entity["definitions"],
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}],
    }


SCHEMAS = {
    "namespace": namespace_schema,
    "namespaces": lambda: _collection("namespaces", namespace_schema(), paged=True),
    "object": object_schema,
    "objects": lambda: _collection("objects", object_schema(), paged=True),
    "property": property_schema,
    "properties": _properties_collection,
    "tag": tag_schema,
    "tags": lambda: _collection("tags", tag_schema(), paged=True),
    "resource_type": association_schema,
    "resource_types": lambda: _collection(
        "resource_type_associations", association_schema(), paged=True
    ),
}


@router.get("/{name}")
def show(name: str, ctx: RequestContext = Ctx) -> JSONResponse:
    build = SCHEMAS.get(name)
    if build is None:
        raise NotFound(f"No schema named metadefs/{name}.")
    return JSONResponse(build())
