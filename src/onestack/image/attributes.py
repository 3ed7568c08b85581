"""An image's attributes: which are core, read-only or reserved, and how each is checked.

Glance's image schema in code: core attributes are validated by type and
allowed values, extra properties are strings of at most 65535 characters,
and the per-image limits (properties, tags) are checked with
:func:`check_limit`.  Create (``images``) and JSON patch (``patch``) share
these rules.
"""

from __future__ import annotations

import uuid
from typing import Any

from onestack.common.exceptions import BadRequest
from onestack.image import states
from onestack.image.exceptions import LimitExceeded

#: attributes every image has (the rest are extra properties)
CORE = (
    "id",
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "owner",
    "tags",
)
READ_ONLY = (
    "status",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "size",
    "virtual_size",
    "created_at",
    "updated_at",
    "file",
    "self",
    "schema",
    "direct_url",
    "stores",
)
RESERVED = ("location", "locations", "deleted", "deleted_at")


def is_reserved(name: str) -> bool:
    return name in RESERVED or name.startswith("os_glance")


def _int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRequest(f"Invalid value for '{name}': it must be an integer >= 0.")
    return value


def _bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise BadRequest(f"Invalid value for '{name}': it must be a boolean.")
    return value


def validate_core(name: str, value: Any) -> Any:
    """A core attribute's value, checked as Glance's image schema does."""
    if name == "name":
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise BadRequest("Invalid value for 'name': a string of at most 255 characters.")
        return value
    if name in ("min_disk", "min_ram"):
        return _int(name, value)
    if name in ("protected", "os_hidden"):
        return _bool(name, value)
    if name == "disk_format":
        if value is not None and value not in states.DISK_FORMATS:
            raise BadRequest(f"Invalid disk format '{value}' for image.")
        return value
    if name == "container_format":
        if value is not None and value not in states.CONTAINER_FORMATS:
            raise BadRequest(f"Invalid container format '{value}' for image.")
        return value
    if name == "visibility":
        if value not in states.VISIBILITIES:
            raise BadRequest(f"Invalid visibility value: {value}")
        return value
    if name == "tags":
        if not isinstance(value, list) or not all(
            isinstance(t, str) and 0 < len(t) <= 255 for t in value
        ):
            raise BadRequest("Invalid value for 'tags': a list of strings of 1-255 characters.")
        return list(dict.fromkeys(value))
    if name in ("owner", "id"):
        if value is not None and (not isinstance(value, str) or len(value) > 255):
            raise BadRequest(f"Invalid value for '{name}'.")
        return value
    raise BadRequest(f"Unknown attribute '{name}'.")


def validate_property(name: str, value: Any) -> str:
    if not name or len(name) > 255:
        raise BadRequest("Property names are 1-255 characters long.")
    if not isinstance(value, str):
        raise BadRequest(
            f"Provided object does not match schema 'image': {value!r} is not of type "
            f"'string' (property '{name}')."
        )
    if len(value) > 65535:
        raise BadRequest(f"The value of property '{name}' is too long.")
    return value


def validate_id(image_id: str) -> None:
    try:
        uuid.UUID(str(image_id))
    except ValueError:
        raise BadRequest(f"Invalid image id {image_id!r}: it must be a UUID.") from None


def check_limit(count: int, limit: int, what: str) -> None:
    """LimitExceeded when ``count`` items exceed ``limit`` (-1: unlimited)."""
    if limit >= 0 and count > limit:
        raise LimitExceeded(reason=f"Maximum number of {what} exceeded ({count} > {limit}).")
