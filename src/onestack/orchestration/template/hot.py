"""HOT: the template versions, each with exactly its sections and functions.

``load(doc)`` picks the version class from ``heat_template_version`` (dates and
their release-name aliases); every class lists its function table as Heat's
does, so a function used in a version that lacks it is a 400 naming it.
The CFN format (``AWSTemplateFormatVersion``) is not supported (400).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from onestack.orchestration.exceptions import (
    InvalidTemplateSection,
    InvalidTemplateVersion,
    NotSupported,
    StackValidationFailed,
)
from onestack.orchestration.template import cfn
from onestack.orchestration.template import conditions as cond
from onestack.orchestration.template import functions as fn
from onestack.orchestration.template.parameters import ParamSchema

Table = dict[str, type[fn.Function]]

_REMOVED_2014 = {
    "Fn::GetAZs": fn.Removed,
    "Fn::Join": fn.Removed,
    "Fn::Split": fn.Removed,
    "Fn::Replace": fn.Removed,
    "Fn::Base64": fn.Removed,
    "Fn::MemberListToMap": fn.Removed,
    "Fn::ResourceFacade": fn.Removed,
    "Ref": fn.Removed,
}
#: every name that is a function in some version (a map keyed so is a call)
ALL_FUNCTION_NAMES: set[str] = set()


class HOT20130523:
    version: ClassVar[str] = "2013-05-23"
    SECTIONS: ClassVar[tuple[str, ...]] = (
        "heat_template_version",
        "description",
        "parameter_groups",
        "parameters",
        "resources",
        "outputs",
    )
    RESOURCE_KEYS: ClassVar[tuple[str, ...]] = (
        "type",
        "properties",
        "metadata",
        "depends_on",
        "deletion_policy",
        "update_policy",
        "description",
    )
    OUTPUT_KEYS: ClassVar[tuple[str, ...]] = ("description", "value")
    DELETION_POLICIES: ClassVar[dict[str, str]] = {
        "Delete": "Delete",
        "Retain": "Retain",
        "Snapshot": "Snapshot",
    }
    functions: ClassVar[Table] = {
        "Fn::GetAZs": cfn.GetAZs,
        "get_param": fn.GetParam,
        "get_resource": fn.GetResource,
        "Ref": fn.Ref,
        "get_attr": fn.GetAtt,
        "Fn::GetAtt": fn.CfnGetAtt,
        "Fn::Select": cfn.Select,
        "Fn::Join": fn.CfnJoin,
        "list_join": fn.Join,
        "Fn::Split": cfn.CfnSplit,
        "str_replace": fn.Replace,
        "Fn::Replace": cfn.CfnReplace,
        "Fn::Base64": cfn.CfnBase64,
        "Fn::MemberListToMap": cfn.MemberListToMap,
        "resource_facade": fn.ResourceFacade,
        "Fn::ResourceFacade": fn.ResourceFacade,
        "get_file": fn.GetFile,
    }
    condition_functions: ClassVar[Table | None] = None

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = dict(doc)
        for section in self.doc:
            if section not in self.SECTIONS:
                raise InvalidTemplateSection(section=section)

    # -- sections -------------------------------------------------------------------------------

    @property
    def description(self) -> str:
        value = self.doc.get("description")
        return "No description" if value is None else str(value)

    def section(self, name: str) -> dict[str, Any]:
        value = self.doc.get(name) or {}
        if not isinstance(value, Mapping):
            raise StackValidationFailed(f'The template section "{name}" must be a map.')
        return dict(value)

    def param_schemas(self) -> dict[str, ParamSchema]:
        return {
            name: ParamSchema.from_dict(name, schema, self.version)
            for name, schema in self.section("parameters").items()
        }

    def parameter_groups(self) -> list[dict[str, Any]]:
        groups = self.doc.get("parameter_groups") or []
        if not isinstance(groups, list):
            raise StackValidationFailed("Parameter Groups error: parameter_groups must be a list")
        params = self.section("parameters")
        seen: set[str] = set()
        for group in groups:
            if not isinstance(group, Mapping) or not isinstance(group.get("parameters"), list):
                raise StackValidationFailed("Parameters must be provided for each Parameter Group.")
            for name in group["parameters"]:
                if name in seen:
                    raise StackValidationFailed(
                        f"The {name} parameter must be assigned to one parameter group only."
                    )
                if name not in params:
                    raise StackValidationFailed(
                        f"The grouped parameter {name} does not reference a valid parameter."
                    )
                seen.add(name)
        return [dict(g) for g in groups]

    def resources(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, snippet in self.section("resources").items():
            if not isinstance(snippet, Mapping) or not snippet:
                raise StackValidationFailed("Each resource must contain a type key.")
            invalid = [k for k in snippet if k not in self.RESOURCE_KEYS]
            if invalid:
                raise StackValidationFailed(
                    f"Invalid keyword(s) inside a resource definition: {', '.join(invalid)}",
                    path=["resources", name],
                )
            if "type" not in snippet:
                raise StackValidationFailed("Each resource must contain a type key.")
            if not isinstance(snippet["type"], str):
                raise StackValidationFailed(
                    "Resource type must be a string", path=["resources", name, "type"]
                )
            policy = snippet.get("deletion_policy")
            if policy is not None and policy not in self.DELETION_POLICIES:
                raise StackValidationFailed(
                    f'Invalid deletion policy "{policy}"', path=["resources", name]
                )
            depends = snippet.get("depends_on")
            if depends is not None and not isinstance(depends, str | list):
                raise StackValidationFailed(
                    "Resource depends_on must be a list or a string",
                    path=["resources", name, "depends_on"],
                )
            out[str(name)] = dict(snippet)
        return out

    def outputs(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name, snippet in self.section("outputs").items():
            if not isinstance(snippet, Mapping):
                raise StackValidationFailed(
                    f'"outputs" must contain a map of output maps. Found a '
                    f"[{type(snippet).__name__}] instead"
                )
            for key in snippet:
                if key not in self.OUTPUT_KEYS:
                    raise StackValidationFailed(
                        f'"{key}" is not a valid keyword inside a output definition'
                    )
            if "value" not in snippet:
                raise StackValidationFailed("Each output must contain a value key.")
            out[str(name)] = dict(snippet)
        return out

    def conditions(self) -> dict[str, Any]:
        return {}

    # -- functions ------------------------------------------------------------------------------

    def parse(self, ctx: fn.Context, snippet: Any, path: str = "") -> Any:
        return _parse(ctx, snippet, self.functions, path)

    def parse_condition(self, ctx: fn.Context, snippet: Any, path: str = "") -> Any:
        table = self.condition_functions or {}
        parser_table: Table = {}
        for name, kind in self.functions.items():
            parser_table[name] = fn.Removed if kind is fn.Removed else fn.Invalid
        parser_table.update(table)
        return _parse(ctx, snippet, parser_table, path)


def _parse(ctx: fn.Context, snippet: Any, table: Table, path: str) -> Any:
    if isinstance(snippet, Mapping):
        if len(snippet) == 1:
            name, args = next(iter(snippet.items()))
            if name in table:
                parsed_args = _parse(ctx, args, table, f"{path}.{name}" if path else name)
                try:
                    return table[name](ctx, name, parsed_args)
                except (TypeError, ValueError, KeyError) as exc:
                    message = exc.args[0] if exc.args else str(exc)
                    raise StackValidationFailed(
                        str(message), path=[path] if path else None
                    ) from None
            if (
                isinstance(name, str)
                and name not in ALL_FUNCTION_NAMES
                and (name.startswith("Fn::") or name.startswith("get_"))
            ):
                raise StackValidationFailed(
                    f'"{name}" is not a valid function in this version of HOT.',
                    path=[path] if path else None,
                )
            if name in ALL_FUNCTION_NAMES and name not in table:
                raise InvalidTemplateVersion(
                    explanation=f"The function {name} is not supported in this version of HOT."
                )
        return {
            k: _parse(ctx, v, table, f"{path}.{k}" if path else str(k)) for k, v in snippet.items()
        }
    if isinstance(snippet, list):
        return [_parse(ctx, v, table, f"{path}[{i}]") for i, v in enumerate(snippet)]
    return snippet


class HOT20141016(HOT20130523):
    version = "2014-10-16"
    functions = {
        "get_attr": fn.GetAtt,
        "get_file": fn.GetFile,
        "get_param": fn.GetParam,
        "get_resource": fn.GetResource,
        "list_join": fn.Join,
        "resource_facade": fn.ResourceFacade,
        "str_replace": fn.Replace,
        "Fn::Select": cfn.Select,
        **_REMOVED_2014,
    }


class HOT20150430(HOT20141016):
    version = "2015-04-30"
    functions = {**HOT20141016.functions, "repeat": fn.Repeat, "digest": fn.Digest}


class HOT20151015(HOT20150430):
    version = "2015-10-15"
    functions = {
        **HOT20150430.functions,
        "get_attr": fn.GetAttAllAttributes,
        "list_join": fn.JoinMultiple,
        "str_replace": fn.Replace,
        "str_split": fn.StrSplit,
        "Fn::Select": fn.Removed,
    }


class HOT20160408(HOT20151015):
    version = "2016-04-08"
    functions = {**HOT20151015.functions, "map_merge": fn.MapMerge}


class HOT20161014(HOT20160408):
    version = "2016-10-14"
    SECTIONS = (*HOT20160408.SECTIONS, "conditions")
    RESOURCE_KEYS = (*HOT20160408.RESOURCE_KEYS, "external_id", "condition")
    OUTPUT_KEYS = (*HOT20160408.OUTPUT_KEYS, "condition")
    DELETION_POLICIES = {
        **HOT20160408.DELETION_POLICIES,
        "delete": "Delete",
        "retain": "Retain",
        "snapshot": "Snapshot",
    }
    functions = {
        **HOT20160408.functions,
        "repeat": fn.RepeatWithMap,
        "yaql": fn.Yaql,
        "map_replace": fn.MapReplace,
        "if": cond.If,
    }
    condition_functions = {
        "get_param": fn.GetParam,
        "equals": cond.Equals,
        "not": cond.Not,
        "and": cond.And,
        "or": cond.Or,
    }

    def conditions(self) -> dict[str, Any]:
        return self.section("conditions")


class HOT20170224(HOT20161014):
    version = "2017-02-24"
    functions = {
        **HOT20161014.functions,
        "filter": fn.Filter,
        "str_replace_strict": fn.ReplaceStrict,
    }


class HOT20170901(HOT20170224):
    version = "2017-09-01"
    functions = {
        **HOT20170224.functions,
        "repeat": fn.RepeatWithNestedLoop,
        "make_url": fn.MakeURL,
        "list_concat": fn.ListConcat,
        "str_replace_vstrict": fn.ReplaceVeryStrict,
        "list_concat_unique": fn.ListConcatUnique,
        "contains": fn.Contains,
    }
    condition_functions = {
        **(HOT20161014.condition_functions or {}),
        "yaql": fn.Yaql,
        "contains": fn.Contains,
    }


class HOT20180302(HOT20170901):
    version = "2018-03-02"


class HOT20180831(HOT20180302):
    version = "2018-08-31"


class HOT20210416(HOT20180831):
    version = "2021-04-16"
    functions = {**HOT20180831.functions, "if": cond.IfNullable}


VERSIONS: dict[str, type[HOT20130523]] = {
    cls.version: cls
    for cls in (
        HOT20130523,
        HOT20141016,
        HOT20150430,
        HOT20151015,
        HOT20160408,
        HOT20161014,
        HOT20170224,
        HOT20170901,
        HOT20180302,
        HOT20180831,
        HOT20210416,
    )
}
ALIASES = {
    "newton": "2016-10-14",
    "ocata": "2017-02-24",
    "pike": "2017-09-01",
    "queens": "2018-03-02",
    "rocky": "2018-08-31",
    "wallaby": "2021-04-16",
}
for _cls in VERSIONS.values():
    ALL_FUNCTION_NAMES.update(_cls.functions)
    ALL_FUNCTION_NAMES.update(_cls.condition_functions or {})


def version_names() -> list[str]:
    """``heat_template_version.<v>`` for every version and alias (template_versions)."""
    return [f"heat_template_version.{v}" for v in [*VERSIONS, *ALIASES]]


def load(doc: Mapping[str, Any]) -> HOT20130523:
    if "AWSTemplateFormatVersion" in doc or "HeatTemplateFormatVersion" in doc:
        raise NotSupported(feature="The CFN template format (AWSTemplateFormatVersion)")
    raw = doc.get("heat_template_version")
    version = str(raw) if raw is not None else ""
    version = ALIASES.get(version, version)
    cls = VERSIONS.get(version)
    if cls is None:
        available = ", ".join(sorted([*VERSIONS, *ALIASES]))
        raise InvalidTemplateVersion(
            explanation=f'"heat_template_version: {raw}". "heat_template_version" should be '
            f"one of: {available}"
        )
    return cls(doc)
