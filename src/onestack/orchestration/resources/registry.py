"""Resource types by name, and the schema of template resources.

Plugins register by subclassing :class:`Resource` with a ``type_name`` in one of
the modules listed in ``MODULES`` (one per service).  A type mapped to a
template (environment ``resource_registry`` or a file name) is a template
resource: its properties are the template's parameters, its attributes the
template's outputs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from onestack.orchestration.resources.base import Prop, Resource

if TYPE_CHECKING:
    from onestack.orchestration.engine.definition import ResourceDefinition, StackDefinition

MODULES = (
    "onestack.orchestration.resources.heat",
    "onestack.orchestration.resources.software",
    "onestack.orchestration.resources.wait",
    "onestack.orchestration.resources.nested",
    "onestack.orchestration.resources.nova",
    "onestack.orchestration.resources.neutron",
    "onestack.orchestration.resources.cinder",
    "onestack.orchestration.resources.others",
    "onestack.orchestration.resources.aodh",
)

_TYPES: dict[str, type[Resource]] = {}
TEMPLATE_RESOURCE: type[Resource]


def _load() -> None:
    global TEMPLATE_RESOURCE
    if _TYPES:
        return
    for name in MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Resource) and value.type_name:
                _TYPES[value.type_name] = value
    from onestack.orchestration.resources.nested import TemplateResource

    TEMPLATE_RESOURCE = TemplateResource


def get(type_name: str) -> type[Resource] | None:
    _load()
    return _TYPES.get(type_name)


def all_types() -> dict[str, type[Resource]]:
    _load()
    return dict(_TYPES)


_PARAM_TYPES = {
    "string": "string",
    "number": "number",
    "json": "map",
    "comma_delimited_list": "list",
    "boolean": "boolean",
}


def template_schema(stack: StackDefinition, definition: ResourceDefinition) -> dict[str, Prop]:
    """A template resource's properties: its template's parameters."""
    from onestack.orchestration.template.format import parse_template
    from onestack.orchestration.template.hot import load

    text = definition.nested_template or ""
    doc = parse_template(text, 10 * 1024 * 1024)
    template = load(doc)
    schema: dict[str, Prop] = {}
    for name, param in template.param_schemas().items():
        kind = _PARAM_TYPES.get(param.type, "any")
        if param.type == "json":
            kind = "any"
        schema[name] = Prop(
            kind,
            description=param.description or "",
            required=not param.has_default and name not in stack.env.param_defaults,
            update_allowed=True,
        )
    return schema


def _unused(_: Any) -> None:
    return None
