"""Image updates as Glance's JSON patch (``application/openstack-images-v2.1-json-patch``).

Each change is ``{"op": "add"|"replace"|"remove", "path": "/name", "value": ...}``
(the v2.0 media type spells it ``{"replace": "/name", "value": ...}``).  Core
attributes are validated as on create; extra properties are strings;
read-only attributes answer 403, a missing property 409, as Glance does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, UnsupportedMediaType
from onestack.image import states
from onestack.image.attributes import (
    CORE,
    READ_ONLY,
    check_limit,
    is_reserved,
    validate_core,
    validate_property,
)
from onestack.image.core import ImageCore
from onestack.image.exceptions import ReadOnlyAttribute, ReservedAttribute
from onestack.image.models import Image, ImageProperty, ImageTag

MEDIA_V21 = "application/openstack-images-v2.1-json-patch"
MEDIA_V20 = "application/openstack-images-v2.0-json-patch"
OPS = ("add", "replace", "remove")
QUEUED_ONLY = ("disk_format", "container_format")


@dataclass(frozen=True)
class Change:
    op: str
    name: str
    value: Any = None


def _pointer(path: Any) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    parts = path[1:].split("/")
    if len(parts) != 1 or not parts[0]:
        if parts and parts[0] in ("locations", "tags"):
            raise Forbidden(f"Changing '{path}' element by element is not supported.")
        raise BadRequest(f"Invalid JSON pointer for this resource: '{path}'")
    return parts[0].replace("~1", "/").replace("~0", "~")


def parse_patch(media: str, body: Any) -> list[Change]:
    """The changes in a JSON patch document of media type ``media``."""
    if media not in (MEDIA_V21, MEDIA_V20):
        raise UnsupportedMediaType(content_type=media or "none")
    if not isinstance(body, list):
        raise BadRequest("A JSON patch document must be a list of changes.")
    changes = []
    for item in body:
        if not isinstance(item, dict):
            raise BadRequest("Each change in a JSON patch document must be an object.")
        if media == MEDIA_V21:
            op, path = item.get("op"), item.get("path")
        else:
            found = [k for k in OPS if k in item]
            op, path = (found[0], item[found[0]]) if len(found) == 1 else (None, None)
        if op not in OPS:
            raise BadRequest(f"Operation {op!r} is not supported; use add, replace or remove.")
        if op != "remove" and "value" not in item:
            raise BadRequest(f"Operation '{op}' requires a 'value'.")
        changes.append(Change(op, _pointer(path), item.get("value")))
    return changes


def apply_changes(
    core: ImageCore, ctx: RequestContext, image: Image, changes: list[Change]
) -> None:
    """Apply ``changes`` to ``image`` (in the caller's transaction); nothing is
    flushed, so a change that fails leaves the transaction to roll back."""
    props = {p.name: p for p in image.properties}
    for change in changes:
        name = change.name
        if name in READ_ONLY or name == "id":
            raise ReadOnlyAttribute(name=name)
        if is_reserved(name):
            raise ReservedAttribute(name=name)
        if name in CORE:
            if change.op == "remove":
                if name == "tags":
                    image.tags = []
                    continue
                raise Forbidden(f"Attribute '{name}' cannot be removed.")
            value = validate_core(name, change.value)
            _set_core(core, ctx, image, name, value)
            continue
        if change.op == "remove":
            if name not in props:
                raise Conflict(f"Property {name} does not exist.")
            image.properties.remove(props.pop(name))
            continue
        if change.op == "replace" and name not in props:
            raise Conflict(f"Property {name} does not exist.")
        value = validate_property(name, change.value)
        if name in props:
            props[name].value = value
        else:
            props[name] = ImageProperty(name=name, value=value)
            image.properties.append(props[name])
    check_limit(len(image.properties), core.settings.image_property_quota, "properties")


def _set_core(core: ImageCore, ctx: RequestContext, image: Image, name: str, value: Any) -> None:
    if name in QUEUED_ONLY:
        if image.status != states.QUEUED and value != getattr(image, name):
            raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        setattr(image, name, value)
    elif name == "visibility":
        core.set_visibility(ctx, image, value)
    elif name == "owner":
        if value != image.owner:
            core.enforce_owner(ctx, "set_owner", value)
            image.owner = value
    elif name == "tags":
        check_limit(len(value), core.settings.image_tag_quota, "tags")
        current = {t.value: t for t in image.tags}
        image.tags = [current.get(t) or ImageTag(value=t) for t in value]
    else:
        setattr(image, name, value)
