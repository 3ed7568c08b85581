"""The environment of a stack: parameters, parameter_defaults and the resource registry.

``resource_registry`` maps resource types to other types or to template files
(``"My::Server": server.yaml``, globs such as ``"OS::Nova::*"``, ``None`` to
drop a type) and, under ``resources``, does the same per resource name.
Environment files are merged in the order given, then the request's own
environment on top, as Heat does.
"""

from __future__ import annotations

import copy
import fnmatch
from collections.abc import Mapping
from typing import Any

from onestack.orchestration.exceptions import StackValidationFailed
from onestack.orchestration.template.format import parse_environment


class Environment:
    def __init__(self, doc: Mapping[str, Any] | None = None) -> None:
        doc = doc or {}
        self.params: dict[str, Any] = dict(doc.get("parameters") or {})
        self.param_defaults: dict[str, Any] = dict(doc.get("parameter_defaults") or {})
        registry = dict(doc.get("resource_registry") or {})
        self.per_resource: dict[str, dict[str, Any]] = {
            name: dict(mapping or {})
            for name, mapping in (registry.pop("resources", {}) or {}).items()
        }
        self.registry: dict[str, Any] = registry
        self.encrypted_param_names: list[str] = list(doc.get("encrypted_param_names") or [])
        self.event_sinks: list[Any] = list(doc.get("event_sinks") or [])

    @classmethod
    def from_request(
        cls, environment: Any, files: Mapping[str, Any], environment_files: list[str] | None
    ) -> Environment:
        env = cls()
        for name in environment_files or []:
            content = files.get(name)
            if content is None:
                raise StackValidationFailed(f"Environment file {name} is not in the files.")
            env.merge(parse_environment(content))
        env.merge(parse_environment(environment))
        return env

    def merge(self, doc: Mapping[str, Any]) -> None:
        self.params.update(doc.get("parameters") or {})
        self.param_defaults.update(doc.get("parameter_defaults") or {})
        registry = dict(doc.get("resource_registry") or {})
        for name, mapping in (registry.pop("resources", {}) or {}).items():
            self.per_resource.setdefault(name, {}).update(mapping or {})
        self.registry.update(registry)
        self.encrypted_param_names.extend(doc.get("encrypted_param_names") or [])
        self.event_sinks.extend(doc.get("event_sinks") or [])

    def to_dict(self) -> dict[str, Any]:
        registry: dict[str, Any] = dict(self.registry)
        registry["resources"] = copy.deepcopy(self.per_resource)
        return {
            "parameters": dict(self.params),
            "parameter_defaults": dict(self.param_defaults),
            "resource_registry": registry,
            "encrypted_param_names": list(self.encrypted_param_names),
            "event_sinks": list(self.event_sinks),
        }

    def for_nested(self) -> Environment:
        """What a nested stack inherits: the registry and the parameter defaults."""
        child = Environment()
        child.registry = dict(self.registry)
        child.per_resource = copy.deepcopy(self.per_resource)
        child.param_defaults = dict(self.param_defaults)
        return child

    def resolve(self, type_name: str, resource_name: str | None = None) -> Any:
        """The type or template a resource type maps to (following chains), or the type."""
        seen: set[str] = set()
        current: Any = type_name
        while isinstance(current, str) and current not in seen:
            seen.add(current)
            target = None
            if resource_name is not None:
                mapping = self._per_resource(resource_name)
                if current in mapping:
                    target = mapping[current]
            if target is None and current in self.registry:
                target = self.registry[current]
            if target is None:
                for pattern, value in self.registry.items():
                    if "*" in pattern and fnmatch.fnmatchcase(current, pattern):
                        if isinstance(value, str) and "*" in value:
                            prefix = pattern.split("*")[0]
                            target = value.replace("*", current[len(prefix) :], 1)
                        else:
                            target = value
                        break
            if target is None or target == current:
                return current
            current = target
        return current

    def _per_resource(self, name: str) -> dict[str, Any]:
        if name in self.per_resource:
            return self.per_resource[name]
        for pattern, mapping in self.per_resource.items():
            if "*" in pattern and fnmatch.fnmatchcase(name, pattern):
                return mapping
        return {}
