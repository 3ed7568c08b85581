"""The resource plugin contract: a properties schema, attributes, and async actions.

A plugin subclasses :class:`Resource` and sets ``type_name``, ``service`` (the
catalog type it needs; resource_types lists it only when that service is in
the catalog), ``properties_schema`` and ``attributes_schema``.  The engine
calls, always on the event loop:

- ``create()``: make the physical resource; set ``physical_id`` as soon as the
  other service names it (so a crash right after leaks nothing: the id is
  saved before the next wait), then wait until it is ready.  Any partial
  resource is left recorded for ``delete`` to remove.
- ``update(new, old)``: change in place, or raise UpdateReplace (the default
  when a property that is not ``update_allowed`` changed).
- ``delete()``: remove it; a resource already gone is not an error.
- ``refresh()``: read the attributes again (``attrs``), called after create and
  update and before outputs are shown.
- ``adopt_by_name()``: after a crash during create, find the physical resource by
  the name chosen before the create call (None when there is none).

Properties arrive resolved and validated against the schema (defaults filled).
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from onestack.orchestration.exceptions import (
    ResourceFailure,
    StackValidationFailed,
    UpdateReplace,
)

if TYPE_CHECKING:
    from onestack.orchestration.clients.session import CloudSession
    from onestack.orchestration.engine.runtime import StackRuntime

TYPES = ("string", "integer", "number", "boolean", "map", "list", "any")


@dataclass(frozen=True)
class Prop:
    type: str
    description: str = ""
    required: bool = False
    default: Any = None
    update_allowed: bool = False
    immutable: bool = False
    allowed: tuple[Any, ...] | None = None
    #: a map's known keys (None: any key), or a list's item schema under "*"
    schema: Mapping[str, Prop] | None = None
    #: custom constraint (checked at run time by the service itself)
    constraint: str | None = None
    min: float | None = None
    max: float | None = None

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": self.type,
            "description": self.description,
            "required": self.required,
            "update_allowed": self.update_allowed,
            "immutable": self.immutable,
        }
        if self.default is not None:
            out["default"] = self.default
        constraints: list[dict[str, Any]] = []
        if self.allowed is not None:
            constraints.append({"allowed_values": list(self.allowed)})
        if self.min is not None or self.max is not None:
            bounds = {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}
            key = "length" if self.type in ("string", "list", "map") else "range"
            constraints.append({key: bounds})
        if self.constraint:
            constraints.append({"custom_constraint": self.constraint})
        if constraints:
            out["constraints"] = constraints
        if self.schema is not None:
            out["schema"] = {k: v.render() for k, v in self.schema.items()}
        return out


def _type_error(prop: Prop, value: Any) -> str | None:
    kind = prop.type
    if kind == "string":
        if isinstance(value, Mapping | list):
            return f"Value must be a string; got {value!r}"
    elif kind == "integer":
        if isinstance(value, bool):
            return f"Value '{value}' is not an integer"
        try:
            if int(str(value)) != float(str(value)):
                return f"{value} is not an integer."
        except ValueError:
            return f"Value '{value}' is not an integer"
    elif kind == "number":
        try:
            float(str(value))
        except ValueError:
            return f'Value "{value}" is invalid for data type "number".'
    elif kind == "boolean":
        if not isinstance(value, bool) and str(value).lower() not in ("true", "false"):
            return f'"{value}" is not a valid boolean'
    elif kind == "map" and not isinstance(value, Mapping):
        return f'Value must be a map; got "{value}"'
    elif kind == "list" and not isinstance(value, list | str):
        return f'Value must be a list; got "{value}"'
    return None


def coerce(prop: Prop, value: Any, path: str) -> Any:
    """Check ``value`` against ``prop``; the value in the schema's type."""
    if value is None:
        return prop.default
    error = _type_error(prop, value)
    if error:
        raise StackValidationFailed(f"Property error: {path}: {error}")
    if prop.type == "integer":
        value = int(str(value))
    elif prop.type == "number":
        number = float(str(value))
        value = int(number) if number.is_integer() else number
    elif prop.type == "boolean":
        value = value if isinstance(value, bool) else str(value).lower() == "true"
    elif prop.type == "string" and not isinstance(value, str):
        value = str(value).lower() if isinstance(value, bool) else str(value)
    elif prop.type == "list" and isinstance(value, str):
        value = [v.strip() for v in value.split(",")] if value else []
    if prop.allowed is not None and value not in prop.allowed:
        raise StackValidationFailed(
            f'Property error: {path}: "{value}" is not an allowed value {list(prop.allowed)}'
        )
    if prop.min is not None or prop.max is not None:
        measure = len(value) if prop.type in ("string", "list", "map") else value
        if (prop.min is not None and measure < prop.min) or (
            prop.max is not None and measure > prop.max
        ):
            raise StackValidationFailed(
                f"Property error: {path}: {value!r} is out of range "
                f"(min: {prop.min}, max: {prop.max})"
            )
    if prop.schema is not None:
        if prop.type == "map":
            value = validate_properties(prop.schema, value, path, partial=False)
        elif prop.type == "list" and "*" in prop.schema:
            value = [coerce(prop.schema["*"], v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def validate_properties(
    schema: Mapping[str, Prop],
    values: Mapping[str, Any],
    path: str,
    *,
    partial: bool = False,
    unresolved: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Values checked against ``schema`` with defaults filled in.  ``unresolved`` names
    properties whose values are not known yet (functions of other resources):
    only their presence counts."""
    if not isinstance(values, Mapping):
        raise StackValidationFailed(f"Property error: {path}: Properties must be a map")
    for name in values:
        if name not in schema and "*" not in schema:
            raise StackValidationFailed(f"Property error: {path}: Unknown Property {name}")
    out: dict[str, Any] = {}
    for name, prop in schema.items():
        if name == "*":
            continue
        here = f"{path}.{name}"
        if name in unresolved:
            out[name] = values.get(name)
            continue
        value = values.get(name)
        if value is None and prop.required and prop.default is None and not partial:
            raise StackValidationFailed(f"Property error: {path}: Property {name} not assigned")
        out[name] = coerce(prop, value, here)
    if "*" in schema:
        for name, value in values.items():
            if name not in schema:
                out[name] = value
    return out


def short_id(length: int = 12) -> str:
    alphabet = string.ascii_lowercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass
class ResourceState:
    """What the engine keeps of a resource between actions (its database row)."""

    id: str
    name: str
    type: str
    physical_id: str | None = None
    physical_name: str | None = None
    action: str = "INIT"
    status: str = "COMPLETE"
    status_reason: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


class Resource:
    type_name: ClassVar[str] = ""
    #: catalog type this plugin needs (None: the orchestration service itself)
    service: ClassVar[str | None] = None
    properties_schema: ClassVar[dict[str, Prop]] = {}
    attributes_schema: ClassVar[dict[str, str]] = {}
    #: admin-only types are listed only to administrators
    admin_only: ClassVar[bool] = False
    description: ClassVar[str] = ""
    #: the physical name's longest length
    name_max: ClassVar[int] = 255

    def __init__(self, stack: StackRuntime, state: ResourceState) -> None:
        self.stack = stack
        self.state = state
        self.properties: dict[str, Any] = dict(state.properties)

    # -- helpers --------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.state.name

    @property
    def physical_id(self) -> str | None:
        return self.state.physical_id

    @physical_id.setter
    def physical_id(self, value: str | None) -> None:
        self.state.physical_id = value
        self.stack.save_soon(self)

    @property
    def data(self) -> dict[str, Any]:
        return self.state.data

    @property
    def attrs(self) -> dict[str, Any]:
        return self.state.attributes

    @property
    def cloud(self) -> CloudSession:
        return self.stack.cloud

    def physical_name(self) -> str:
        """``<stack>-<resource>-<random>``, chosen once and kept."""
        if not self.state.physical_name:
            name = f"{self.stack.name}-{self.name}-{short_id()}"
            if len(name) > self.name_max:
                name = name[: self.name_max - 13] + "-" + short_id()
            self.state.physical_name = name
        return self.state.physical_name

    def reference(self) -> Any:
        """What get_resource answers: the physical id (the name before it exists)."""
        return self.state.physical_id or self.name

    def attribute(self, name: str, path: Sequence[Any] = ()) -> Any:
        value = self.attrs.get("show", self.attrs) if name == "show" else self.attrs.get(name)
        return traverse(value, path)

    async def wait_for(
        self,
        check: Any,
        *,
        what: str,
        timeout: float | None = None,
    ) -> Any:
        """Poll ``await check()`` until it returns something not None."""
        interval = self.stack.poll_interval
        deadline = asyncio.get_running_loop().time() + (timeout or self.stack.remaining())
        while True:
            result = await check()
            if result is not None:
                return result
            if asyncio.get_running_loop().time() > deadline:
                raise ResourceFailure(f"Timed out waiting for {what}.")
            await asyncio.sleep(interval)
            interval = min(interval * 1.2, 1.0)

    # -- the actions ----------------------------------------------------------------------------

    async def create(self) -> None:
        raise NotImplementedError

    async def update(self, new: dict[str, Any], old: dict[str, Any]) -> None:
        changed = {k for k in set(new) | set(old) if new.get(k) != old.get(k)}
        if not changed:
            return
        for key in changed:
            prop = self.properties_schema.get(key)
            if prop is None or not prop.update_allowed:
                raise UpdateReplace(key)
        await self.handle_update(new, old, changed)

    async def handle_update(
        self, new: dict[str, Any], old: dict[str, Any], changed: set[str]
    ) -> None:
        """Apply update-allowed changes in place (the default: nothing to do)."""
        self.properties = new

    async def delete(self) -> None:
        return None

    async def prepare_for_replace(self) -> None:
        """Before a replacement is created: release what the new one will take over."""

    async def refresh(self) -> None:
        return None

    async def adopt_by_name(self) -> str | None:
        return None

    async def check(self) -> None:
        """CHECK: the physical resource still exists (default: nothing to check)."""

    async def suspend(self) -> None:
        return None

    async def resume(self) -> None:
        return None

    async def signal(self, details: Any) -> None:
        from onestack.orchestration.exceptions import ResourceActionNotSupported

        raise ResourceActionNotSupported(action="Signal")

    async def snapshot(self) -> dict[str, Any]:
        return {}


class UnknownType(Resource):
    """Placeholder never instantiated."""


def traverse(value: Any, path: Sequence[Any]) -> Any:
    """``get_attr``'s path into an attribute's value: keys of maps, indexes of lists;
    None where the path leads nowhere."""
    for key in path:
        if value is None:
            return None
        if isinstance(value, Mapping):
            value = value.get(key)
        elif isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError):
                return None
        else:
            raise TypeError("get_attr can't traverse path")
    return value
