"""Resource types: named sets of typed attributes a resource of the type carries.

Attribute types, as Gnocchi has them: ``string`` (``min_length`` 0..256,
``max_length`` 1..256), ``uuid``, ``number`` (``min``, ``max``), ``bool`` and
``datetime``; each ``required`` or not.  A type changes by JSON patch
(``add``/``remove`` of ``/attributes/<name>``); a required attribute added to a
type with resources needs ``options.fill``, the value every existing resource
gets.  ``generic`` (no attributes) and the types Ceilometer creates exist from
the first start.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.telemetry import validate as v
from onestack.telemetry.core import TelemetryCore
from onestack.telemetry.exceptions import (
    BadRequest,
    NoSuchResourceType,
    ResourceTypeAlreadyExists,
    ResourceTypeInUse,
)
from onestack.telemetry.models import Resource, ResourceHistory, ResourceType
from onestack.telemetry.timeutil import parse_timestamp, us_to_datetime

INVALID_NAMES = frozenset(
    (
        "id",
        "type",
        "metrics",
        "revision",
        "revision_start",
        "revision_end",
        "started_at",
        "ended_at",
        "user_id",
        "project_id",
        "created_by_user_id",
        "created_by_project_id",
        "get_metric",
        "creator",
    )
)
_VALID_CHARS = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_]*$")
_TYPES = ("string", "uuid", "number", "bool", "datetime")


_S = {"type": "string", "min_length": 0, "max_length": 255}
#: the resource types ceilometer-upgrade creates (with its later updates applied)
CEILOMETER_TYPES: dict[str, dict[str, dict[str, Any]]] = {
    "generic": {},
    "image": {
        "name": {**_S, "required": True},
        "container_format": {**_S, "required": False},
        "disk_format": {**_S, "required": False},
    },
    "instance": {
        "flavor_id": {**_S, "required": True},
        "image_ref": {**_S, "required": False},
        "host": {**_S, "required": False},
        "display_name": {**_S, "required": True},
        "server_group": {**_S, "required": False},
        "flavor_name": {**_S, "required": True},
        "launched_at": {"type": "datetime", "required": False},
        "created_at": {"type": "datetime", "required": False},
        "deleted_at": {"type": "datetime", "required": False},
        "availability_zone": {**_S, "required": False},
    },
    "instance_disk": {
        "name": {**_S, "required": True},
        "instance_id": {"type": "uuid", "required": True},
    },
    "instance_network_interface": {
        "name": {**_S, "required": True},
        "instance_id": {"type": "uuid", "required": True},
    },
    "volume": {
        "display_name": {**_S, "required": False},
        "volume_type": {**_S, "required": False},
        "image_id": {"type": "uuid", "required": False},
        "instance_id": {"type": "uuid", "required": False},
        "volume_type_id": {**_S, "required": False},
    },
    "swift_account": {"storage_policy": {**_S, "required": False}},
    "network": {},
    "identity": {},
    "stack": {},
}


@dataclass(frozen=True)
class Attribute:
    name: str
    type: str
    required: bool
    min_length: int = 0
    max_length: int = 256
    min: float | None = None
    max: float | None = None

    def view(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type, "required": self.required}
        if self.type == "string":
            data.update(min_length=self.min_length, max_length=self.max_length)
        elif self.type == "number":
            data.update(min=self.min, max=self.max)
        return data

    def convert(self, value: Any, path: list[str]) -> Any:
        """The stored form of a value of this attribute; InvalidInput if it does not fit."""
        if value is None:
            if self.required:
                raise v.invalid(f"expected {self._expected()}", path)
            return None
        if self.type == "string":
            if not isinstance(value, str):
                raise v.invalid("expected str", path)
            if not self.min_length <= len(value) <= self.max_length:
                raise v.invalid(
                    f"length of value must be at most {self.max_length}"
                    if len(value) > self.max_length
                    else f"length of value must be at least {self.min_length}",
                    path,
                )
            return value
        if self.type == "uuid":
            try:
                return str(uuid.UUID(str(value)))
            except ValueError:
                raise v.invalid(f"badly formed hexadecimal UUID string: {value}", path) from None
        if self.type == "number":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise v.invalid("expected Real", path)
            if (self.min is not None and value < self.min) or (
                self.max is not None and value > self.max
            ):
                raise v.invalid(f"value must be between {self.min} and {self.max}", path)
            return value
        if self.type == "bool":
            if not isinstance(value, bool):
                raise v.invalid("expected bool", path)
            return value
        try:
            return us_to_datetime(parse_timestamp(value)).isoformat()
        except ValueError as exc:
            raise v.invalid(str(exc), path) from None

    def _expected(self) -> str:
        return {"string": "str", "number": "Real", "bool": "bool"}.get(self.type, self.type)


def attribute(name: str, data: Any, path: list[str], for_update: bool = False) -> Attribute:
    """An attribute definition from its JSON; 400 as Gnocchi answers it when invalid."""
    if len(name) > 63 or name in INVALID_NAMES or not _VALID_CHARS.match(name):
        raise BadRequest(f"Invalid input: Resource attribute name {name} is invalid")
    spec = v.mapping(data, path)
    kind = spec.get("type")
    if kind not in _TYPES:
        raise v.invalid("not a valid value", [*path, "type"])
    allowed = {"type", "required"}
    if kind == "string":
        allowed |= {"min_length", "max_length"}
    elif kind == "number":
        allowed |= {"min", "max"}
    if for_update:
        allowed.add("options")
    v.keys(spec, path, allowed)
    required = v.boolean(spec.get("required", True), [*path, "required"])
    result = Attribute(name, kind, required)
    if kind == "string":
        low = v.integer(spec.get("min_length", 0), [*path, "min_length"], 0)
        high = v.integer(spec.get("max_length", 256), [*path, "max_length"], 1)
        if low > 256 or high > 256:
            raise v.invalid("value must be at most 256", [*path, "max_length"])
        if low > high:
            raise BadRequest(
                f"Invalid input: Resource attribute value min (or min_length) {low} must be "
                f"less  than or equal to max (or max_length) {high}!"
            )
        result = Attribute(name, kind, required, min_length=low, max_length=high)
    elif kind == "number":
        low_n, high_n = spec.get("min"), spec.get("max")
        for key, number in (("min", low_n), ("max", high_n)):
            if number is not None and (
                isinstance(number, bool) or not isinstance(number, int | float)
            ):
                raise v.invalid("expected Real", [*path, key])
        if low_n is not None and high_n is not None and low_n > high_n:
            raise BadRequest(
                f"Invalid input: Resource attribute value min (or min_length) {low_n} must be "
                f"less  than or equal to max (or max_length) {high_n}!"
            )
        result = Attribute(name, kind, required, min=low_n, max=high_n)
    return result


def attributes_of(row: ResourceType) -> dict[str, Attribute]:
    return {name: attribute(name, spec, []) for name, spec in row.attributes.items()}


def type_view(row: ResourceType) -> dict[str, Any]:
    return {
        "name": row.name,
        "attributes": {n: a.view() for n, a in attributes_of(row).items()},
        "state": row.state,
    }


class ResourceTypeManager:
    def __init__(self, core: TelemetryCore) -> None:
        self.core = core

    def ensure_defaults(self) -> None:
        with self.core.db.writer() as session:
            existing = set(session.scalars(select(ResourceType.name)))
            for name, attributes in CEILOMETER_TYPES.items():
                if name not in existing:
                    session.add(ResourceType(name=name, attributes=attributes, state="active"))

    def row(self, session: Session, name: str) -> ResourceType:
        row = session.get(ResourceType, name)
        if row is None:
            raise NoSuchResourceType(name=name)
        return row

    def attributes(self, session: Session, name: str) -> dict[str, Attribute]:
        return attributes_of(self.row(session, name))

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        data = v.mapping(body, [])
        v.keys(data, [], ("name", "attributes"), ("name",))
        name = v.string(data["name"], ["name"])
        given = v.mapping(data.get("attributes", {}), ["attributes"])
        attributes = {key: attribute(key, spec, ["attributes", key]) for key, spec in given.items()}
        self.core.enforce(ctx, "create resource type", {"name": name, "state": "creating"})
        row = ResourceType(
            name=name,
            attributes={k: a.view() for k, a in attributes.items()},
            state="active",
            updated_at=utcnow(),
        )
        with self.core.db.writer() as session:
            if session.get(ResourceType, name) is not None:
                raise ResourceTypeAlreadyExists(name=name)
            session.add(row)
        return type_view(row)

    def get(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        with self.core.db.reader() as session:
            row = self.row(session, name)
            view = type_view(row)
        self.core.enforce(ctx, "get resource type", view)
        return view

    def list_types(self, ctx: RequestContext) -> list[dict[str, Any]]:
        self.core.enforce(ctx, "list resource type")
        with self.core.db.reader() as session:
            rows = session.scalars(select(ResourceType).order_by(ResourceType.name))
            return [type_view(r) for r in rows]

    def names(self) -> list[str]:
        with self.core.db.reader() as session:
            return list(session.scalars(select(ResourceType.name).order_by(ResourceType.name)))

    def patch(self, ctx: RequestContext, name: str, body: Any) -> dict[str, Any]:
        operations = v.listing(body, [])
        with self.core.db.writer() as session:
            row = self.row(session, name)
            self.core.enforce(ctx, "update resource type", type_view(row))
            current = dict(row.attributes)
            fills: dict[str, Any] = {}
            for index, operation in enumerate(operations):
                path = [str(index)]
                op = v.mapping(operation, path)
                v.keys(op, path, ("op", "path", "value"), ("op", "path"))
                if op["op"] not in ("add", "remove"):
                    raise v.invalid("not a valid value", [*path, "op"])
                target = v.string(op["path"], [*path, "path"])
                if not target.startswith("/attributes"):
                    raise v.invalid("Only attributes can be modified", [*path, "path"])
                attr_name = target[len("/attributes/") :]
                if not attr_name or "/" in attr_name:
                    raise BadRequest(f"Invalid input: invalid path {target}")
                if op["op"] == "remove":
                    if attr_name not in current:
                        raise BadRequest(f"can't remove non-existent object '{attr_name}'")
                    del current[attr_name]
                    fills.pop(attr_name, None)
                    continue
                spec = v.mapping(op.get("value"), [*path, "value"])
                new = attribute(attr_name, spec, [*path, "value"], for_update=True)
                old = current.get(attr_name)
                if old is not None and old.get("type") != new.type:
                    raise BadRequest(
                        f"Type update is not available yet. Changing {old.get('type')} to "
                        f"{new.type} for attribute {attr_name} of resource {name}"
                    )
                options = spec.get("options") or {}
                fill = options.get("fill") if isinstance(options, dict) else None
                if old is None and new.required and fill is None:
                    raise BadRequest(
                        f"Invalid input: Option 'fill' of resource attribute {attr_name} is "
                        "invalid: must not be empty if required=True"
                    )
                if fill is not None:
                    fills[attr_name] = new.convert(fill, [*path, "value", "options", "fill"])
                current[attr_name] = new.view()
            removed = [k for k in row.attributes if k not in current]
            if current != row.attributes:
                row.attributes = current
                row.updated_at = utcnow()
                self._rewrite_resources(session, name, removed, fills)
            return type_view(row)

    @staticmethod
    def _rewrite_resources(
        session: Session, type_name: str, removed: list[str], fills: dict[str, Any]
    ) -> None:
        rows: list[Resource | ResourceHistory] = [
            *session.scalars(select(Resource).where(Resource.type == type_name)),
            *session.scalars(select(ResourceHistory).where(ResourceHistory.type == type_name)),
        ]
        for resource in rows:
            attributes = dict(resource.attributes or {})
            for key in removed:
                attributes.pop(key, None)
            for key, value in fills.items():
                if attributes.get(key) is None:
                    attributes[key] = value
            resource.attributes = attributes

    def delete(self, ctx: RequestContext, name: str) -> None:
        with self.core.db.writer() as session:
            row = self.row(session, name)
            self.core.enforce(ctx, "delete resource type", type_view(row))
            used = session.scalar(
                select(func.count()).select_from(Resource).where(Resource.type == name)
            )
            if used or name == "generic":
                raise ResourceTypeInUse(name=name)
            session.delete(row)
