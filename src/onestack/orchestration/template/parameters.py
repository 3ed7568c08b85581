"""Template parameters: their schemas, types and constraints, and the pseudo parameters.

Types: ``string``, ``number``, ``json``, ``comma_delimited_list`` and ``boolean``.
Constraints: ``length``, ``range``, ``modulo`` (2017-02-24 on), ``allowed_values``,
``allowed_pattern`` and ``custom_constraint``.  A custom constraint looks a name up
in another service (``nova.flavor``, ``glance.image``, ``neutron.network``, ...):
``Parameters.validate`` checks everything it can by itself and returns the custom
look-ups for the caller to make (they need the network); ``CUSTOM_CONSTRAINTS``
lists the known ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onestack.orchestration.exceptions import (
    StackValidationFailed,
    UnknownUserParameter,
    UserParameterMissing,
)

TYPES = {
    "string": "String",
    "number": "Number",
    "json": "Json",
    "comma_delimited_list": "CommaDelimitedList",
    "boolean": "Boolean",
}
CFN_TYPES = {v: k for k, v in TYPES.items()} | {"List<String>": "comma_delimited_list"}
SCHEMA_KEYS = (
    "type",
    "description",
    "default",
    "constraints",
    "hidden",
    "label",
    "immutable",
    "tags",
)
PSEUDO = ("OS::stack_name", "OS::stack_id", "OS::project_id")

#: custom constraints and the (service type, kind) they are looked up in
CUSTOM_CONSTRAINTS = {
    "nova.flavor": ("compute", "flavor"),
    "nova.keypair": ("compute", "keypair"),
    "nova.server": ("compute", "server"),
    "nova.host": ("compute", "host"),
    "glance.image": ("image", "image"),
    "neutron.network": ("network", "network"),
    "neutron.subnet": ("network", "subnet"),
    "neutron.port": ("network", "port"),
    "neutron.router": ("network", "router"),
    "neutron.security_group": ("network", "security_group"),
    "cinder.volume": ("volume", "volume"),
    "cinder.vtype": ("volume", "type"),
    "cinder.snapshot": ("volume", "snapshot"),
    "cinder.backup": ("volume", "backup"),
    "keystone.project": ("identity", "project"),
    "keystone.user": ("identity", "user"),
    "keystone.role": ("identity", "role"),
    "keystone.domain": ("identity", "domain"),
    "ip_addr": ("", "ip_addr"),
    "net_cidr": ("", "net_cidr"),
    "mac_addr": ("", "mac_addr"),
    "iso_8601": ("", "iso_8601"),
    "timezone": ("", "timezone"),
}


@dataclass(frozen=True)
class CustomCheck:
    """A custom constraint to check against another service."""

    parameter: str
    constraint: str
    value: Any
    description: str | None = None

    def error(self) -> StackValidationFailed:
        reason = self.description or f'"{self.value}" does not validate {self.constraint}'
        return StackValidationFailed(f"Parameter '{self.parameter}' is invalid: {reason}")


def str_to_num(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError(f"{value} is not a number")
    if isinstance(value, int | float):
        return value
    text = str(value).strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "t", "true", "on", "y", "yes"):
        return True
    if text in ("0", "f", "false", "off", "n", "no"):
        return False
    raise ValueError(f'Unrecognized value "{value}", acceptable values are: true, false.')


@dataclass
class ParamSchema:
    name: str
    type: str
    description: str | None = None
    label: str | None = None
    default: Any = None
    has_default: bool = False
    hidden: bool = False
    immutable: bool = False
    tags: list[str] = field(default_factory=list)
    constraints: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, name: str, schema: Any, version: str) -> ParamSchema:
        if not isinstance(schema, Mapping):
            raise StackValidationFailed(f"Invalid parameter schema for {name}: must be a map")
        unknown = [k for k in schema if k not in SCHEMA_KEYS]
        if unknown:
            raise StackValidationFailed(f"Invalid key '{unknown[0]}' for parameter ({name})")
        kind = schema.get("type")
        if kind is None:
            raise StackValidationFailed(f"Missing parameter type for parameter: {name}")
        kind = CFN_TYPES.get(kind, kind)
        if kind not in TYPES:
            raise StackValidationFailed(f"Invalid type ({kind})")
        constraints = schema.get("constraints") or []
        if not isinstance(constraints, list):
            raise StackValidationFailed(
                f"Invalid parameter constraints for parameter {name}, expected a list"
            )
        for constraint in constraints:
            _check_constraint_schema(name, kind, constraint, version)
        param = cls(
            name=name,
            type=kind,
            description=schema.get("description"),
            label=schema.get("label"),
            default=schema.get("default"),
            has_default="default" in schema,
            hidden=bool(schema.get("hidden", False)),
            immutable=bool(schema.get("immutable", False)),
            tags=list(schema.get("tags") or []),
            constraints=list(constraints),
        )
        if param.has_default and param.default is not None:
            try:
                param.convert(param.default)
                param.check_constraints(param.convert(param.default), [])
            except StackValidationFailed as exc:
                raise StackValidationFailed(
                    f"Parameter '{name}' is invalid: Invalid default {param.default} "
                    f"({exc.message})"
                ) from None
        return param

    def convert(self, value: Any) -> Any:
        try:
            if self.type == "string":
                if isinstance(value, Mapping | list):
                    raise ValueError(f"Value must be a string; got {json.dumps(value)}")
                return "" if value is None else (value if isinstance(value, str) else str(value))
            if self.type == "number":
                return str_to_num(value)
            if self.type == "boolean":
                return to_bool(value)
            if self.type == "comma_delimited_list":
                if isinstance(value, list):
                    return [str(v) if not isinstance(v, str) else v for v in value]
                if value is None or value == "":
                    return []
                if not isinstance(value, str):
                    raise ValueError(f"Value must be a comma-delimited list string: {value}")
                return [v.strip() for v in value.split(",")]
            if self.type == "json":
                if isinstance(value, Mapping | list):
                    return value
                if value is None or value == "":
                    return {}
                parsed = json.loads(str(value))
                if not isinstance(parsed, Mapping | list):
                    raise ValueError("Value must be valid JSON")
                return parsed
        except ValueError as exc:
            message = str(exc)
            if self.type == "number":
                message = f'Value "{value}" is invalid for data type "number".'
            elif self.type == "json" and "JSON" not in message:
                message = f"Value must be valid JSON: {exc}"
            raise StackValidationFailed(f"Parameter '{self.name}' is invalid: {message}") from None
        return value

    def check_constraints(self, value: Any, custom: list[CustomCheck]) -> None:
        for constraint in self.constraints:
            description = constraint.get("description")
            for kind, spec in constraint.items():
                if kind == "description":
                    continue
                error = _violation(kind, spec, value, self.type)
                if kind == "custom_constraint":
                    values = value if isinstance(value, list) else [value]
                    custom.extend(
                        CustomCheck(self.name, spec, v, description) for v in values if v != ""
                    )
                    continue
                if error is not None:
                    raise StackValidationFailed(
                        f"Parameter '{self.name}' is invalid: {description or error}"
                    )

    def render_validate(self) -> dict[str, Any]:
        """This parameter in ``validate``'s CFN-capitalised answer."""
        out: dict[str, Any] = {
            "Type": TYPES[self.type],
            "Description": self.description or "",
            "NoEcho": "true" if self.hidden else "false",
            "Label": self.label or self.name,
        }
        if self.has_default:
            out["Default"] = self.default
        for constraint in self.constraints:
            for kind, spec in constraint.items():
                if kind == "length":
                    if "min" in spec:
                        out["MinLength"] = spec["min"]
                    if "max" in spec:
                        out["MaxLength"] = spec["max"]
                elif kind == "range":
                    if "min" in spec:
                        out["MinValue"] = spec["min"]
                    if "max" in spec:
                        out["MaxValue"] = spec["max"]
                elif kind == "allowed_values":
                    out["AllowedValues"] = spec
                elif kind == "allowed_pattern":
                    out["AllowedPattern"] = spec
                elif kind == "custom_constraint":
                    out["CustomConstraint"] = spec
            if constraint.get("description"):
                out["ConstraintDescription"] = constraint["description"]
        if self.immutable:
            out["Immutable"] = True
        if self.tags:
            out["Tags"] = self.tags
        return out


def _check_constraint_schema(name: str, kind: str, constraint: Any, version: str) -> None:
    if not isinstance(constraint, Mapping):
        raise StackValidationFailed(
            f"Invalid parameter constraints for parameter {name}, expected a list"
        )
    keys = [k for k in constraint if k != "description"]
    if len(keys) != 1:
        raise StackValidationFailed(f"Invalid parameter constraints for parameter {name}")
    key = keys[0]
    spec = constraint[key]
    valid = {
        "string": ("length", "allowed_values", "allowed_pattern", "custom_constraint"),
        "number": ("range", "modulo", "allowed_values", "custom_constraint"),
        "comma_delimited_list": ("length", "allowed_values", "custom_constraint"),
        "json": ("length", "custom_constraint"),
        "boolean": ("allowed_values", "custom_constraint"),
    }[kind]
    if key == "modulo" and version < "2017-02-24":
        raise StackValidationFailed(f"Invalid key 'modulo' for parameter ({name})")
    if key not in valid and key in (
        "length",
        "range",
        "modulo",
        "allowed_values",
        "allowed_pattern",
        "custom_constraint",
    ):
        raise StackValidationFailed(f"{key} constraint invalid for parameter type {kind}")
    if key not in valid:
        raise StackValidationFailed(f"Invalid key '{key}' for parameter ({name})")
    if key in ("length", "range") and (
        not isinstance(spec, Mapping) or not ({"min", "max"} & set(spec))
    ):
        raise StackValidationFailed(
            f"A {key} constraint must have a min value and/or a max value specified."
        )
    if key == "modulo" and (not isinstance(spec, Mapping) or "step" not in spec):
        raise StackValidationFailed(
            "A modulo constraint must have a step value and an offset value specified."
        )
    if key == "allowed_values" and not isinstance(spec, list):
        raise StackValidationFailed("AllowedValues must be a list")
    if key == "allowed_pattern":
        if not isinstance(spec, str):
            raise StackValidationFailed("AllowedPattern must be a string")
        try:
            re.compile(spec)
        except re.error as exc:
            raise StackValidationFailed(f"Invalid allowed_pattern {spec}: {exc}") from None


def _violation(kind: str, spec: Any, value: Any, param_type: str) -> str | None:
    if kind == "length":
        length = len(value) if value is not None else 0
        low, high = spec.get("min"), spec.get("max")
        if (low is not None and length < low) or (high is not None and length > high):
            return f"length ({length}) is out of range (min: {low}, max: {high})"
    elif kind == "range":
        low, high = spec.get("min"), spec.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            return f"{value} is out of range (min: {low}, max: {high})"
    elif kind == "modulo":
        step, offset = spec.get("step"), spec.get("offset", 0)
        if value % step != offset:
            return f"{value} is not a multiple of {step} with an offset of {offset}"
    elif kind == "allowed_values":
        values = value if isinstance(value, list) else [value]
        allowed = spec
        if param_type == "number":
            allowed = [str_to_num(a) for a in spec]
        if param_type == "boolean":
            allowed = [to_bool(a) for a in spec]
        for item in values:
            if item not in allowed:
                listed = "[" + ", ".join(json.dumps(a) for a in spec) + "]"
                return f"{json.dumps(item)} is not an allowed value {listed}"
    elif kind == "allowed_pattern" and not re.fullmatch(spec, str(value)):
        return f'"{value}" does not match pattern "{spec}"'
    return None


class Parameters:
    """The parameters of one stack: schemas, user values, defaults, pseudo parameters."""

    def __init__(
        self,
        schemas: dict[str, ParamSchema],
        user_values: Mapping[str, Any],
        defaults: Mapping[str, Any],
        *,
        stack_name: str,
        stack_id: str,
        project_id: str,
    ) -> None:
        self.schemas = schemas
        self.user_values = dict(user_values)
        self.defaults = dict(defaults)
        self.pseudo = {
            "OS::stack_name": stack_name,
            "OS::stack_id": stack_id,
            "OS::project_id": project_id,
        }
        self._values: dict[str, Any] = {}

    def check_unknown(self) -> None:
        for name in self.user_values:
            if name not in self.schemas and name not in self.pseudo:
                raise UnknownUserParameter(key=name)

    def validate(self, *, values: bool = True) -> list[CustomCheck]:
        """Check every value; returns the custom-constraint look-ups still to make."""
        custom: list[CustomCheck] = []
        for name, schema in self.schemas.items():
            if not values:
                continue
            if name in self.user_values:
                raw = self.user_values[name]
            elif name in self.defaults:
                raw = self.defaults[name]
            elif schema.has_default:
                raw = schema.default
            else:
                raise UserParameterMissing(key=name)
            value = schema.convert(raw)
            schema.check_constraints(value, custom)
            self._values[name] = value
        return custom

    def has(self, name: str) -> bool:
        return name in self.schemas or name in self.pseudo

    def __getitem__(self, name: str) -> Any:
        if name in self.pseudo:
            return self.pseudo[name]
        if name not in self._values:
            schema = self.schemas.get(name)
            if schema is None:
                raise UserParameterMissing(key=name)
            if name in self.user_values:
                raw = self.user_values[name]
            elif name in self.defaults:
                raw = self.defaults[name]
            elif schema.has_default:
                raw = schema.default
            else:
                raise UserParameterMissing(key=name)
            self._values[name] = schema.convert(raw)
        return self._values[name]

    def shown(self) -> dict[str, str]:
        """The ``parameters`` of a stack as Heat shows it (strings; hidden ones masked)."""
        out: dict[str, str] = {}
        for name, schema in self.schemas.items():
            try:
                value = self[name]
            except (UserParameterMissing, StackValidationFailed):
                continue
            if schema.hidden:
                out[name] = "******"
            elif isinstance(value, list) and schema.type == "comma_delimited_list":
                out[name] = ",".join(value)
            elif isinstance(value, Mapping | list):
                out[name] = json.dumps(value)
            elif isinstance(value, bool):
                out[name] = "True" if value else "False"
            else:
                out[name] = str(value)
        out.update(self.pseudo)
        return out
