"""The JSON-schema documents at ``/v2/schemas/*`` that Glance clients read."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from onestack.common.app import require_context
from onestack.common.context import RequestContext
from onestack.image import states

router = APIRouter(prefix="/v2/schemas")
Ctx = Depends(require_context)

UUID_PATTERN = (
    "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"
)


def _ro(kind: Any, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "readOnly": True, "description": description, **extra}


def image_schema() -> dict[str, Any]:
    nullable_str = ["null", "string"]
    properties: dict[str, Any] = {
        "id": {
            "type": "string",
            "description": "An identifier for the image",
            "pattern": UUID_PATTERN,
        },
        "name": {
            "type": nullable_str,
            "description": "Descriptive name for the image",
            "maxLength": 255,
        },
        "status": _ro("string", "Status of the image", enum=list(states.ALL)),
        "visibility": {
            "type": "string",
            "description": "Scope of image accessibility",
            "enum": list(states.VISIBILITIES),
        },
        "protected": {"type": "boolean", "description": "If true, image will not be deletable."},
        "os_hidden": {
            "type": "boolean",
            "description": "If true, image will not appear in default image list response.",
        },
        "checksum": _ro(nullable_str, "md5 hash of image contents.", maxLength=32),
        "os_hash_algo": _ro(nullable_str, "Algorithm to calculate the os_hash_value", maxLength=64),
        "os_hash_value": _ro(
            nullable_str,
            "Hexdigest of the image contents using the algorithm specified by the os_hash_algo",
            maxLength=128,
        ),
        "owner": {"type": nullable_str, "description": "Owner of the image", "maxLength": 255},
        "size": _ro(["null", "integer"], "Size of image file in bytes"),
        "virtual_size": _ro(["null", "integer"], "Virtual size of image in bytes"),
        "container_format": {
            "type": ["null", "string"],
            "description": "Format of the container",
            "enum": [None, *states.CONTAINER_FORMATS],
        },
        "disk_format": {
            "type": ["null", "string"],
            "description": "Format of the disk",
            "enum": [None, *states.DISK_FORMATS],
        },
        "created_at": _ro("string", "Date and time of image registration"),
        "updated_at": _ro("string", "Date and time of the last image modification"),
        "tags": {
            "type": "array",
            "description": "List of strings related to the image",
            "items": {"type": "string", "maxLength": 255},
        },
        "direct_url": _ro("string", "URL to access the image file kept in external store"),
        "min_ram": {
            "type": "integer",
            "description": "Amount of ram (in MB) required to boot image.",
        },
        "min_disk": {
            "type": "integer",
            "description": "Amount of disk space (in GB) required to boot image.",
        },
        "self": _ro("string", "An image self url"),
        "file": _ro("string", "An image file url"),
        "stores": _ro("string", "Store in which image data resides."),
        "schema": _ro("string", "An image schema url"),
        "locations": {
            "type": "array",
            "description": "A set of URLs to access the image file kept in external store",
            "items": {"type": "object"},
        },
    }
    return {
        "name": "image",
        "properties": properties,
        "additionalProperties": {"type": "string"},
        "links": [
            {"rel": "self", "href": "{self}"},
            {"rel": "enclosure", "href": "{file}"},
            {"rel": "describedby", "href": "{schema}"},
        ],
    }


def member_schema() -> dict[str, Any]:
    return {
        "name": "member",
        "properties": {
            "created_at": {
                "type": "string",
                "description": "Date and time of image member creation",
            },
            "image_id": {
                "type": "string",
                "description": "An identifier for the image",
                "pattern": UUID_PATTERN,
            },
            "member_id": {
                "type": "string",
                "description": "An identifier for the image member (tenantId)",
            },
            "status": {
                "type": "string",
                "description": "The status of this image member",
                "enum": list(states.MEMBER_STATUSES),
            },
            "updated_at": {
                "type": "string",
                "description": "Date and time of last modification of image member",
            },
            "schema": {"type": "string", "readOnly": True},
        },
    }


@router.get("/image")
def image(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(image_schema())


@router.get("/images")
def images(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "name": "images",
            "properties": {
                "images": {"type": "array", "items": image_schema()},
                "schema": {"type": "string"},
                "first": {"type": "string"},
                "next": {"type": "string"},
            },
            "links": [
                {"rel": "first", "href": "{first}"},
                {"rel": "next", "href": "{next}"},
                {"rel": "describedby", "href": "{schema}"},
            ],
        }
    )


@router.get("/member")
def member(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(member_schema())


@router.get("/members")
def members(ctx: RequestContext = Ctx) -> JSONResponse:
    return JSONResponse(
        {
            "name": "members",
            "properties": {
                "members": {"type": "array", "items": member_schema()},
                "schema": {"type": "string"},
            },
            "links": [{"rel": "schema", "href": "{schema}"}],
        }
    )
