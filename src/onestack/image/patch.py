"""Image updates as Glance's JSON patch (``application/openstack-images-v2.1-json-patch``).

Each change is ``{"op": "add"|"replace"|"remove", "path": "/name", "value": ...}``
(the v2.0 media type spells it ``{"replace": "/name", "value": ...}``).  Core
attributes are validated as on create; extra properties are strings;
read-only attributes answer 403, a missing property 409, as Glance does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, Conflict, Forbidden, UnsupportedMediaType
from onestack.image import states
from onestack.image.exceptions import ReadOnlyAttribute, ReservedAttribute
from onestack.image.models import Image, ImageProperty, ImageTag

if TYPE_CHECKING:
    from onestack.image.manager import ImageManager

MEDIA_V21 = "application/openstack-images-v2.1-json-patch"
MEDIA_V20 = "application/openstack-images-v2.0-json-patch"
OPS = ("add", "replace", "remove")
#: core attributes that cannot be removed (only set to another value)
NOT_REMOVABLE = (
    "name",
    "visibility",
    "protected",
    "os_hidden",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "owner",
    "id",
)
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


def apply_changes(
    manager: ImageManager,
    ctx: RequestContext,
    session: Session,
    image: Image,
    changes: list[Change],
) -> None:
    from onestack.image.manager import CORE, READ_ONLY, RESERVED

    props = {p.name: p for p in image.properties}
    for change in changes:
        name = change.name
        if name in READ_ONLY or name == "id":
            raise ReadOnlyAttribute(name=name)
        if name in RESERVED or name.startswith("os_glance"):
            raise ReservedAttribute(name=name)
        if name in CORE:
            if change.op == "remove":
                if name == "tags":
                    image.tags = []
                    continue
                raise Forbidden(f"Attribute '{name}' cannot be removed.")
            value = validate_core(name, change.value)
            _set_core(manager, ctx, image, name, value)
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
    manager.check_limit(len(image.properties), manager.settings.image_property_quota, "properties")
    session.flush()


def _set_core(
    manager: ImageManager, ctx: RequestContext, image: Image, name: str, value: Any
) -> None:
    if name in QUEUED_ONLY:
        if image.status != states.QUEUED and value != getattr(image, name):
            raise Forbidden(f"Attribute {name} can be only replaced for a queued image.")
        setattr(image, name, value)
    elif name == "visibility":
        manager.set_visibility(ctx, image, value)
    elif name == "owner":
        if value != image.owner:
            manager.enforcer.enforce(ctx, "image:set_owner", {"target": {"owner": value}})
            image.owner = value
    elif name == "tags":
        manager.check_limit(len(value), manager.settings.image_tag_quota, "tags")
        current = {t.value: t for t in image.tags}
        image.tags = [current.get(t) or ImageTag(value=t) for t in value]
    else:
        setattr(image, name, value)
