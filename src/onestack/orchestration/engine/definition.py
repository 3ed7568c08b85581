"""A stack's definition: its template, environment, files and parameters, parsed.

``StackDefinition`` is the context functions are evaluated in (see
``template/functions.py``): parameters (with the OS::stack_* pseudo
parameters), conditions, files, and the resources' references and attributes,
which come from a :class:`LiveState` (the running stack) or are unknown while
a template is only validated.  ``validate()`` checks everything that needs no
other service and returns the custom-constraint look-ups left to make.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from onestack.orchestration.engine.graph import Graph
from onestack.orchestration.exceptions import (
    InvalidTemplateReference,
    ResourceTypeUnavailable,
    StackValidationFailed,
    UserParameterMissing,
)
from onestack.orchestration.resources import registry
from onestack.orchestration.resources.base import Resource, validate_properties
from onestack.orchestration.template import conditions as cond
from onestack.orchestration.template import functions as fn
from onestack.orchestration.template import hot
from onestack.orchestration.template.environment import Environment
from onestack.orchestration.template.parameters import CustomCheck, Parameters


class LiveState(Protocol):
    def ref(self, name: str) -> Any: ...

    def attr(self, name: str, attr: str, path: Sequence[Any] = ()) -> Any: ...

    def attrs(self, name: str) -> dict[str, Any]: ...


@dataclass
class ResourceDefinition:
    name: str
    type: str  # as written in the template
    plugin: builtins.type[Resource]
    properties: Any  # the parsed snippet (functions unresolved)
    metadata: Any = None
    depends_on: list[str] = field(default_factory=list)
    deletion_policy: str = "Delete"
    update_policy: Any = None
    description: str = ""
    external_id: Any = None
    #: the template a template resource runs (type -> file content)
    nested_template: str | None = None

    def references(self) -> set[str]:
        return fn.dependencies(self.properties) | fn.dependencies(self.metadata)

    def requires(self) -> set[str]:
        return set(self.depends_on) | self.references()


class StackDefinition:
    def __init__(
        self,
        template: Mapping[str, Any],
        env: Environment,
        files: Mapping[str, Any],
        user_params: Mapping[str, Any],
        *,
        stack_name: str,
        stack_id: str,
        project_id: str,
        owner_facade: Mapping[str, Any] | None = None,
        availability_zones: list[str] | None = None,
    ) -> None:
        self.raw = dict(template)
        self.env = env
        self.files = {k: v for k, v in files.items()}
        self.stack_name = stack_name
        self.stack_id = stack_id
        self.project_id = project_id
        self.owner_facade = dict(owner_facade or {})
        self.zones = availability_zones or ["nova"]
        self.live: LiveState | None = None
        self.template = hot.load(template)
        self.params = Parameters(
            self.template.param_schemas(),
            {**env.params, **dict(user_params)},
            env.param_defaults,
            stack_name=stack_name,
            stack_id=stack_id,
            project_id=project_id,
        )
        self._conditions_raw = self.template.conditions()
        self._conditions: dict[str, Any] = {}
        self._condition_values: dict[str, bool] = {}
        self._condition_stack: list[str] = []
        for name, snippet in self._conditions_raw.items():
            self._conditions[name] = self.template.parse_condition(
                self, snippet, f"conditions.{name}"
            )
        self.resources: dict[str, ResourceDefinition] = {}
        self._all_names: set[str] = set(self.template.resources())
        for name, snippet in self.template.resources().items():
            condition = snippet.get("condition")
            if condition is not None and not self._enabled(condition, name):
                continue
            self.resources[name] = self._definition(name, snippet)
        self.outputs: dict[str, dict[str, Any]] = {}
        for name, snippet in self.template.outputs().items():
            condition = snippet.get("condition")
            if condition is not None and not self._enabled(condition, name):
                self.outputs[name] = {"description": snippet.get("description"), "value": None}
                continue
            self.outputs[name] = {
                "description": snippet.get("description"),
                "value": self.template.parse(self, snippet.get("value"), f"outputs.{name}.value"),
            }

    # -- building -------------------------------------------------------------------------------

    def _enabled(self, condition: Any, where: str) -> bool:
        if isinstance(condition, bool):
            return condition
        parsed = self.template.parse_condition(self, condition, f"{where}.condition")
        try:
            return cond.condition_value(self, parsed, "condition")
        except (TypeError, ValueError) as exc:
            raise StackValidationFailed(str(exc), path=["resources", where, "condition"]) from None

    def _definition(self, name: str, snippet: Mapping[str, Any]) -> ResourceDefinition:
        type_name = snippet["type"]
        resolved = self.env.resolve(type_name, name)
        nested = None
        if resolved is None:
            raise ResourceTypeUnavailable(
                message=f"The Resource Type ({type_name}) could not be found."
            )
        plugin: builtins.type[Resource] | None
        if isinstance(resolved, str) and (resolved in self.files or _looks_like_template(resolved)):
            content = self.files.get(resolved)
            if content is None:
                raise StackValidationFailed(
                    f'Could not fetch remote template "{resolved}": not in the files',
                    path=["resources", name],
                )
            nested = content if isinstance(content, str) else None
            plugin = registry.TEMPLATE_RESOURCE
        else:
            plugin = registry.get(str(resolved))
            if plugin is None:
                raise StackValidationFailed(
                    f"The Resource Type ({type_name}) could not be found.",
                    path=["resources", name],
                )
        path = f"resources.{name}"
        depends = snippet.get("depends_on") or []
        if isinstance(depends, str):
            depends = [depends]
        for dep in depends:
            if dep not in self._all_names:
                raise InvalidTemplateReference(resource=dep, key=f"{name}.depends_on")
        policy = snippet.get("deletion_policy") or "Delete"
        return ResourceDefinition(
            name=name,
            type=type_name,
            plugin=plugin,
            properties=self.template.parse(
                self, snippet.get("properties") or {}, f"{path}.properties"
            ),
            metadata=self.template.parse(self, snippet.get("metadata") or {}, f"{path}.metadata"),
            depends_on=[d for d in depends],
            deletion_policy=self.template.DELETION_POLICIES.get(policy, "Delete"),
            update_policy=snippet.get("update_policy"),
            description=str(snippet.get("description") or ""),
            external_id=snippet.get("external_id"),
            nested_template=nested,
        )

    # -- validation -----------------------------------------------------------------------------

    def graph(self) -> Graph:
        graph = Graph()
        for name, definition in self.resources.items():
            graph.add(name)
            for required in definition.requires():
                if required in self.resources:
                    graph.edge(name, required)
                elif required not in self._all_names:
                    raise InvalidTemplateReference(resource=required, key=name)
        hidden_edges(self, graph)
        graph.check_cycles()
        return graph

    def validate(self, *, values: bool = True) -> list[CustomCheck]:
        self.params.check_unknown()
        custom = self.params.validate(values=values)
        self.template.parameter_groups()
        for name, definition in self.resources.items():
            try:
                fn.validate(definition.properties)
                fn.validate(definition.metadata)
            except (TypeError, ValueError, KeyError) as exc:
                raise StackValidationFailed(
                    str(exc.args[0] if exc.args else exc), path=["resources", name]
                ) from None
            self.properties_of(name, validating=True)
        for name, output in self.outputs.items():
            try:
                fn.validate(output["value"])
            except (TypeError, ValueError, KeyError) as exc:
                raise StackValidationFailed(
                    str(exc.args[0] if exc.args else exc), path=["outputs", name]
                ) from None
        self.graph()
        return custom

    def properties_of(self, name: str, *, validating: bool = False) -> dict[str, Any]:
        """The resource's properties resolved (against the live state) and checked."""
        definition = self.resources[name]
        snippet = definition.properties
        if not isinstance(snippet, Mapping):
            raise StackValidationFailed(
                f"Property error: resources.{name}.properties: Properties must be a map"
            )
        unresolved: set[str] = set()
        values: dict[str, Any] = {}
        for key, value in snippet.items():
            if validating and fn.dependencies(value):
                unresolved.add(key)
                values[key] = None
                continue
            try:
                values[key] = fn.resolve(value)
            except UserParameterMissing:
                if not validating:
                    raise
                unresolved.add(key)
                values[key] = None
            except (TypeError, ValueError, KeyError) as exc:
                message = exc.args[0] if exc.args else str(exc)
                raise StackValidationFailed(
                    f"Property error: resources.{name}.properties.{key}: {message}"
                ) from None
        values = {k: v for k, v in values.items() if v is not None or k in unresolved}
        schema = definition.plugin.properties_schema
        if definition.plugin is registry.TEMPLATE_RESOURCE:
            schema = registry.template_schema(self, definition)
        return validate_properties(
            schema, values, f"resources.{name}.properties", unresolved=frozenset(unresolved)
        )

    # -- the functions' context -----------------------------------------------------------------

    def param(self, name: str) -> Any:
        return self.params[name]

    def has_param(self, name: str) -> bool:
        return self.params.has(name)

    def has_resource(self, name: str) -> bool:
        return name in self.resources

    def resource_ref(self, name: str) -> Any:
        if self.live is None:
            return name
        return self.live.ref(name)

    def resource_attr(self, name: str, attr: str, path: Sequence[Any] = ()) -> Any:
        if self.live is None:
            return None
        return self.live.attr(name, attr, path)

    def resource_attrs(self, name: str) -> dict[str, Any]:
        if self.live is None:
            return {}
        return self.live.attrs(name)

    def resource_has_attr(self, name: str, attr: str) -> bool:
        definition = self.resources.get(name)
        if definition is None:
            return False
        plugin = definition.plugin
        if plugin is registry.TEMPLATE_RESOURCE:
            return True
        schema = plugin.attributes_schema
        return attr in schema or attr == "show" or "*" in schema

    def file(self, key: str) -> str | None:
        value = self.files.get(key)
        return value if value is None or isinstance(value, str) else str(value)

    def condition(self, name: str) -> bool:
        if name in self._condition_values:
            return self._condition_values[name]
        if name in self._condition_stack:
            raise ValueError(f'Circular definition of condition "{name}"')
        self._condition_stack.append(name)
        try:
            value = cond.condition_value(self, self._conditions[name], name)
        finally:
            self._condition_stack.pop()
        self._condition_values[name] = value
        return value

    def has_condition(self, name: str) -> bool:
        return name in self._conditions_raw

    def facade(self, kind: str) -> Any:
        return self.owner_facade.get(kind, {} if kind != "deletion_policy" else "Delete")

    def availability_zones(self) -> list[str]:
        return list(self.zones)

    def resolved_outputs(self) -> dict[str, Any]:
        out = {}
        for name, output in self.outputs.items():
            out[name] = fn.resolve(output["value"])
        return out


def _looks_like_template(value: str) -> bool:
    return value.endswith((".yaml", ".yml", ".template", ".json")) or "://" in value


#: resource types that wait for the subnets of their networks (Heat's hidden dependencies);
#: nested stacks (groups, template resources) wait for every subnet of the stack, since
#: their servers' networks are not known here
_WAIT_FOR_SUBNETS = ("OS::Neutron::Port", "OS::Nova::Server", "OS::Neutron::Router")


def hidden_edges(definition: StackDefinition, graph: Graph) -> None:
    """Heat's implicit edges: ports, servers and gateway routers wait for the stack's
    subnets on their networks; floating IPs wait for the router interfaces and gateways
    of their external network."""
    resources = definition.resources
    subnets = [n for n, d in resources.items() if d.plugin.type_name == "OS::Neutron::Subnet"]
    interfaces = [
        n for n, d in resources.items() if d.plugin.type_name == "OS::Neutron::RouterInterface"
    ]
    routers = [n for n, d in resources.items() if d.plugin.type_name == "OS::Neutron::Router"]
    for name, resource_def in resources.items():
        kind = resource_def.plugin.type_name
        nested = resource_def.plugin is registry.TEMPLATE_RESOURCE or kind in (
            "OS::Heat::ResourceGroup",
            "OS::Heat::AutoScalingGroup",
        )
        if kind in _WAIT_FOR_SUBNETS or (nested and subnets):
            nets = None if nested else _networks_named(resource_def)
            for subnet in subnets:
                net = _get(resources[subnet].properties, "network") or _get(
                    resources[subnet].properties, "network_id"
                )
                if kind == "OS::Neutron::Router" and not _get(
                    resource_def.properties, "external_gateway_info"
                ):
                    continue
                if (nets is None or _same(net, nets)) and (
                    subnet != name and not graph.reaches(subnet, name)
                ):
                    graph.edge(name, subnet)
        if kind in ("OS::Neutron::FloatingIP", "OS::Neutron::FloatingIPAssociation"):
            for other in [*interfaces, *routers]:
                if other != name and not graph.reaches(other, name):
                    graph.edge(name, other)


def _get(snippet: Any, key: str) -> Any:
    return snippet.get(key) if isinstance(snippet, Mapping) else None


def _networks_named(resource_def: ResourceDefinition) -> list[Any] | None:
    """The network snippets a port/server names (None: cannot tell, wait for all)."""
    props = resource_def.properties
    if resource_def.plugin.type_name == "OS::Neutron::Port":
        return [_get(props, "network"), _get(props, "network_id")]
    if resource_def.plugin.type_name == "OS::Nova::Server":
        networks = _get(props, "networks")
        if not isinstance(networks, list):
            return None
        found = []
        for entry in networks:
            if isinstance(entry, Mapping):
                found.extend([entry.get("network"), entry.get("uuid")])
                if entry.get("port") is not None:
                    return None
        return found
    return None


def _same(net: Any, nets: list[Any]) -> bool:
    keys = {repr(n) for n in nets if n is not None}
    return repr(net) in keys
