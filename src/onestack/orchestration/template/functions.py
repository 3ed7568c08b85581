"""The intrinsic functions of HOT (and the CFN functions HOT 2013-05-23 keeps).

A template snippet is parsed once into a tree in which every function call is
a :class:`Function`; ``resolve`` evaluates the tree against a
:class:`Context` (the stack: its parameters, resources, files, conditions).
Which names are functions, and with which semantics, is each HOT version's
table (``template/hot.py``).  ``dependencies`` walks the tree for the
resources a snippet refers to (the edges of the dependency graph).

Errors in the arguments raise TypeError/ValueError/KeyError with Heat's
messages; the template turns them into StackValidationFailed (400) naming the
path of the snippet.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

from onestack.orchestration.exceptions import (
    InvalidTemplateReference,
    InvalidTemplateVersion,
    UserParameterMissing,
)


class Context(Protocol):
    """What functions need from the stack they are evaluated in."""

    stack_name: str
    stack_id: str
    project_id: str

    def param(self, name: str) -> Any: ...

    def has_param(self, name: str) -> bool: ...

    def has_resource(self, name: str) -> bool: ...

    def resource_ref(self, name: str) -> Any: ...

    def resource_attr(self, name: str, attr: str, path: Sequence[Any] = ()) -> Any: ...

    def resource_attrs(self, name: str) -> dict[str, Any]: ...

    def resource_has_attr(self, name: str, attr: str) -> bool: ...

    def file(self, key: str) -> str | None: ...

    def condition(self, name: str) -> bool: ...

    def has_condition(self, name: str) -> bool: ...

    def facade(self, kind: str) -> Any: ...

    def availability_zones(self) -> list[str]: ...


class Function:
    """One function call in a parsed snippet."""

    #: functions whose result depends on resources other than through their arguments
    def __init__(self, ctx: Context, fn_name: str, args: Any) -> None:
        self.ctx = ctx
        self.fn_name = fn_name
        self.args = args
        self.check()

    def check(self) -> None:
        """Argument shape checks made when the template is parsed."""

    def result(self) -> Any:
        raise NotImplementedError

    def validate(self) -> None:
        """Checks that need the whole stack (references exist, ...)."""
        validate(self.args)

    def references(self) -> Iterator[str]:
        """Resources this call itself refers to (not its arguments)."""
        return iter(())

    def __repr__(self) -> str:
        return f"{{{self.fn_name!r}: {self.args!r}}}"


def resolve(snippet: Any) -> Any:
    if isinstance(snippet, Function):
        return snippet.result()
    if isinstance(snippet, Mapping):
        return {k: resolve(v) for k, v in snippet.items()}
    if isinstance(snippet, list | tuple):
        return [resolve(v) for v in snippet]
    return snippet


def validate(snippet: Any) -> None:
    if isinstance(snippet, Function):
        snippet.validate()
    elif isinstance(snippet, Mapping):
        for value in snippet.values():
            validate(value)
    elif isinstance(snippet, list | tuple):
        for value in snippet:
            validate(value)


def dependencies(snippet: Any) -> set[str]:
    """Names of the resources ``snippet`` refers to."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Function):
            found.update(node.references())
            walk(node.args)
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list | tuple):
            for value in node:
                walk(value)

    walk(snippet)
    return found


# -- parameters and resources -------------------------------------------------


class GetParam(Function):
    def check(self) -> None:
        if not self.args:
            raise ValueError(f'Function "{self.fn_name}" must have arguments')

    def _name_path(self) -> tuple[str, list[Any]]:
        args = resolve(self.args)
        if isinstance(args, str):
            return args, []
        if isinstance(args, list) and args:
            if not isinstance(args[0], str):
                raise TypeError(f'Parameter name in "{self.fn_name}" must be string')
            return args[0], list(args[1:])
        raise TypeError(f'Argument to "{self.fn_name}" must be string or list')

    def validate(self) -> None:
        super().validate()
        if isinstance(self.args, str) or (
            isinstance(self.args, list) and self.args and isinstance(self.args[0], str)
        ):
            name = self.args if isinstance(self.args, str) else self.args[0]
            if not self.ctx.has_param(name):
                raise UserParameterMissing(key=name)

    def result(self) -> Any:
        name, path = self._name_path()
        if not self.ctx.has_param(name):
            raise UserParameterMissing(key=name)
        value = self.ctx.param(name)
        for key in path:
            if isinstance(value, str | int | float) and not isinstance(value, list):
                raise TypeError(f'"{self.fn_name}" can\'t traverse path')
            if isinstance(value, Mapping):
                value = value.get(str(key)) if not isinstance(key, int) else value.get(key)
            elif isinstance(value, list):
                try:
                    value = value[int(key)]
                except (ValueError, IndexError, TypeError):
                    return ""
            if value is None:
                return ""
        return value


class GetResource(Function):
    def check(self) -> None:
        if not isinstance(self.args, str):
            raise TypeError(f'Argument to "{self.fn_name}" must be a string')

    def validate(self) -> None:
        if not self.ctx.has_resource(self.args):
            raise InvalidTemplateReference(resource=self.args, key=self.fn_name)

    def references(self) -> Iterator[str]:
        yield self.args

    def result(self) -> Any:
        return self.ctx.resource_ref(self.args)


class Ref(GetResource):
    """CFN ``Ref``: a resource's reference id, or a parameter's value."""

    def check(self) -> None:
        if not isinstance(self.args, str):
            raise TypeError(f'Argument to "{self.fn_name}" must be a string')

    def validate(self) -> None:
        if not (self.ctx.has_resource(self.args) or self.ctx.has_param(self.args)):
            raise InvalidTemplateReference(resource=self.args, key=self.fn_name)

    def references(self) -> Iterator[str]:
        if self.ctx.has_resource(self.args):
            yield self.args

    def result(self) -> Any:
        if self.ctx.has_resource(self.args):
            return self.ctx.resource_ref(self.args)
        return self.ctx.param(self.args)


class GetAtt(Function):
    """``get_attr: [resource, attribute, path...]`` (2014-10-16 on)."""

    all_attributes: ClassVar[bool] = False

    #: 2013-05-23's get_attr takes [resource, attribute] and selects into lists by path
    def check(self) -> None:
        if not isinstance(self.args, list):
            raise TypeError(f'Argument to "{self.fn_name}" must be a list')
        minimum = 1 if self.all_attributes else 2
        if len(self.args) < minimum or not isinstance(self.args[0], str):
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form '
                "[resource_name, attribute, (path), ...]"
            )

    def references(self) -> Iterator[str]:
        yield self.args[0]

    def validate(self) -> None:
        super().validate()
        name = self.args[0]
        if not self.ctx.has_resource(name):
            raise InvalidTemplateReference(resource=name, key=self.fn_name)
        attr = self.args[1] if len(self.args) > 1 else None
        if isinstance(attr, str) and not self.ctx.resource_has_attr(name, attr):
            from onestack.orchestration.exceptions import InvalidTemplateAttribute

            raise InvalidTemplateAttribute(resource=name, key=attr)

    def result(self) -> Any:
        args = resolve(self.args)
        name = args[0]
        if len(args) == 1:
            return self.ctx.resource_attrs(name)
        return self.ctx.resource_attr(name, str(args[1]), list(args[2:]))


class GetAttAllAttributes(GetAtt):
    all_attributes = True


class CfnGetAtt(GetAtt):
    """``Fn::GetAtt: [resource, attribute]``."""


class GetFile(Function):
    def check(self) -> None:
        if not isinstance(self.args, str):
            raise TypeError(f'Argument to "{self.fn_name}" must be a string')

    def validate(self) -> None:
        if self.ctx.file(self.args) is None:
            raise ValueError(
                f'No content found in the "files" section for {self.fn_name} path: {self.args}'
            )

    def result(self) -> Any:
        content = self.ctx.file(self.args)
        if content is None:
            raise ValueError(
                f'No content found in the "files" section for {self.fn_name} path: {self.args}'
            )
        return content


class ResourceFacade(Function):
    KINDS = ("metadata", "deletion_policy", "update_policy")

    def check(self) -> None:
        if self.args not in self.KINDS:
            raise ValueError(
                f'Incorrect arguments to "{self.fn_name}" should be one of: '
                + ", ".join(self.KINDS)
            )

    def result(self) -> Any:
        return self.ctx.facade(self.args)


class Removed(Function):
    def check(self) -> None:
        raise InvalidTemplateVersion(
            explanation=f"The function {self.fn_name} is not supported in this version of HOT."
        )


class Invalid(Function):
    def check(self) -> None:
        raise ValueError(f'The function "{self.fn_name}" is invalid in this context')


# -- strings and lists ---------------------------------------------------------


def _string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        return json.dumps(value)
    return str(value)


class Join(Function):
    """``list_join: [delimiter, [items]]`` (strings only before 2015-10-15)."""

    multiple: ClassVar[bool] = False

    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) < 2:
            raise TypeError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f"{self.fn_name}: [delimiter, [list, of, strings]]"
            )
        if not self.multiple and len(self.args) != 2:
            raise ValueError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f"{self.fn_name}: [delimiter, [list, of, strings]]"
            )

    def result(self) -> Any:
        args = resolve(self.args)
        delimiter = args[0]
        if not isinstance(delimiter, str):
            raise TypeError(f'"{self.fn_name}" delimiter must be a string')
        items: list[Any] = []
        for part in args[1:]:
            if part is None:
                continue
            if isinstance(part, str):
                # a comma-delimited list parameter resolves to a string
                part = part.split(",") if part else []
            if not isinstance(part, list):
                raise TypeError(f'"{self.fn_name}" must operate on a list')
            items.extend(part)
        out = []
        for item in items:
            if item is None:
                out.append("")
            elif isinstance(item, str):
                out.append(item)
            elif self.multiple and isinstance(item, Mapping | list):
                out.append(json.dumps(item))
            elif isinstance(item, int | float) and not isinstance(item, bool):
                out.append(str(item))
            else:
                raise TypeError(f"Items to join must be strings not {item!r}")
        return delimiter.join(out)


class JoinMultiple(Join):
    multiple = True


class CfnJoin(Join):
    pass


class Replace(Function):
    """``str_replace: {template: ..., params: {...}}``."""

    strict: ClassVar[int] = 0  # 1: every param used; 2: and never empty

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.fn_name}" must be a map')
        if set(self.args) != {"template", "params"}:
            raise KeyError(
                f'"{self.fn_name}" syntax should be {self.fn_name}:\n'
                "  template: This is var1 template var2\n  params:\n    var1: a\n    var2: b"
            )

    def result(self) -> Any:
        args = resolve(self.args)
        template, params = args["template"], args["params"]
        if not isinstance(template, str):
            raise TypeError(f'"{self.fn_name}" template must be a string')
        if not isinstance(params, Mapping):
            raise TypeError(f'"{self.fn_name}" params must be a map')
        missing = [k for k in params if str(k) not in template]
        if self.strict and missing:
            raise ValueError(
                "The following params were not found in the template: " + ",".join(missing)
            )
        keys = sorted(params, key=lambda k: -len(str(k)))
        values: dict[str, str] = {}
        for key in keys:
            value = params[key]
            if value is None or (self.strict > 1 and value == ""):
                if self.strict > 1:
                    raise ValueError(
                        f"{self.fn_name} has an undefined or empty value for param "
                        f"{key}, must be a defined non-empty value"
                    )
                value = ""
            if not isinstance(value, str | int | float | bool | Mapping | list):
                raise TypeError(f'"{self.fn_name}" params must be strings, numbers, list or map.')
            values[str(key)] = _string(value)
        # replace longest keys first, never inside a replacement
        out = [template]
        for key in values:
            pieces: list[Any] = []
            for piece in out:
                if isinstance(piece, tuple):
                    pieces.append(piece)
                    continue
                parts = piece.split(key)
                for index, part in enumerate(parts):
                    if index:
                        pieces.append((values[key],))
                    pieces.append(part)
            out = pieces
        return "".join(p[0] if isinstance(p, tuple) else p for p in out)


class ReplaceStrict(Replace):
    strict = 1


class ReplaceVeryStrict(Replace):
    strict = 2


class StrSplit(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) not in (2, 3):
            raise TypeError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f"{self.fn_name}: [delimiter, string, <index>]"
            )

    def result(self) -> Any:
        args = resolve(self.args)
        delimiter, text = args[0], args[1]
        if text is None:
            return None
        if not isinstance(delimiter, str) or not isinstance(text, str):
            raise ValueError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f"{self.fn_name}: [delimiter, string, <index>]"
            )
        parts = text.split(delimiter)
        if len(args) == 3:
            try:
                return parts[int(args[2])]
            except (ValueError, IndexError):
                raise ValueError(
                    f'Incorrect index to "{self.fn_name}" should be between 0 and {len(parts) - 1}'
                ) from None
        return parts


class Digest(Function):
    ALGORITHMS = ("md5", "sha1", "sha224", "sha256", "sha384", "sha512")

    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(f'Function "{self.fn_name}" usage: ["<algorithm>", "<value>"]')

    def result(self) -> Any:
        algorithm, value = resolve(self.args)
        if not isinstance(algorithm, str) or not isinstance(value, str):
            raise TypeError(f'Argument to function "{self.fn_name}" must be a list of strings')
        if algorithm not in self.ALGORITHMS:
            raise ValueError(f"Algorithm must be one of {list(self.ALGORITHMS)}")
        return hashlib.new(algorithm, value.encode()).hexdigest()


class Repeat(Function):
    """``repeat: {for_each: {var: [values]}, template: ...}``."""

    with_maps: ClassVar[bool] = False
    nested: ClassVar[bool] = False

    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.fn_name}" must be a map')
        if "for_each" not in self.args or "template" not in self.args:
            raise KeyError(
                '"repeat" syntax should be {"for_each": {"<var>": ["a", "b"]}, "template": "..."}'
            )
        if not isinstance(self.args["for_each"], Mapping | Function):
            raise TypeError(f'The "for_each" argument to "{self.fn_name}" must contain a map')

    def result(self) -> Any:
        for_each = resolve(self.args["for_each"])
        permutations = resolve(self.args.get("permutations", True))
        if not isinstance(permutations, bool):
            raise TypeError('"permutations" should be boolean type for repeat function')
        lists: list[tuple[str, list[Any]]] = []
        for key, values in for_each.items():
            if isinstance(values, str):
                values = values.split(",") if values else []
            if isinstance(values, Mapping) and self.with_maps:
                values = list(values)
            if not isinstance(values, list):
                raise TypeError(
                    f'The values of the "for_each" argument to "{self.fn_name}" must be lists'
                )
            lists.append((key, values))
        if permutations:
            combos = list(itertools.product(*[v for _, v in lists]))
        else:
            lengths = {len(v) for _, v in lists}
            if len(lengths) > 1:
                raise ValueError(
                    f"For {self.fn_name}, the length of for_each values should "
                    "be equal if no permutations are used."
                )
            combos = list(zip(*[v for _, v in lists], strict=False))
        keys = [k for k, _ in lists]
        template = self.args["template"]
        return [
            _substitute(resolve(template), dict(zip(keys, combo, strict=True))) for combo in combos
        ]


class RepeatWithMap(Repeat):
    with_maps = True


class RepeatWithNestedLoop(RepeatWithMap):
    nested = True


def _substitute(template: Any, values: Mapping[str, Any]) -> Any:
    if isinstance(template, str):
        for key in sorted(values, key=lambda k: -len(k)):
            if template == key:
                return values[key]
            template = template.replace(key, _string(values[key]))
        return template
    if isinstance(template, Mapping):
        return {_substitute(k, values): _substitute(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [_substitute(v, values) for v in template]
    return template


class MapMerge(Function):
    def check(self) -> None:
        if not isinstance(self.args, list):
            raise TypeError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f'"{self.fn_name}" : [ {{ "key1": "val1" }}, {{ "key2": "val2" }} ]'
            )

    def result(self) -> Any:
        out: dict[str, Any] = {}
        for item in resolve(self.args):
            if item is None:
                continue
            if not isinstance(item, Mapping):
                raise TypeError(f"Incorrect arguments: Items to merge must be maps. {item!r}")
            out.update(item)
        return out


class MapReplace(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise TypeError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f'"{self.fn_name}" : [ {{ "key1": "val1" }}, '
                '{"keys": {"key1": "key2"}, "values": {"val1": "val2"}} ]'
            )

    def result(self) -> Any:
        mapping, replacements = resolve(self.args)
        if not isinstance(mapping, Mapping) or not isinstance(replacements, Mapping):
            raise TypeError(f'Incorrect arguments to "{self.fn_name}": arguments must be maps')
        unknown = set(replacements) - {"keys", "values"}
        if unknown:
            raise ValueError(f'Incorrect arguments to "{self.fn_name}" should be: keys, values')
        keys = replacements.get("keys") or {}
        values = replacements.get("values") or {}
        out: dict[str, Any] = {}
        for key, value in mapping.items():
            new_key = str(keys.get(key, key))
            if new_key in out:
                raise ValueError(f"key replacement {new_key} collides with a key in the input map")
            hashable = isinstance(value, str | int | float | bool)
            out[new_key] = values.get(value, value) if hashable else value
        return out


class ListConcat(Function):
    unique: ClassVar[bool] = False

    def check(self) -> None:
        if not isinstance(self.args, list | Function):
            raise TypeError(
                f'Incorrect arguments to "{self.fn_name}" should be: '
                f'"{self.fn_name}" : [ [ <value 1>, <value 2> ], [ <value 3> ] ]'
            )

    def result(self) -> Any:
        out: list[Any] = []
        for item in resolve(self.args):
            if item is None:
                continue
            if not isinstance(item, list):
                raise TypeError(f'Incorrect arguments to "{self.fn_name}" should be lists')
            for value in item:
                if self.unique and value in out:
                    continue
                out.append(value)
        return out


class ListConcatUnique(ListConcat):
    unique = True


class Contains(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form: [value1, [value1, value2]]'
            )

    def result(self) -> Any:
        value, sequence = resolve(self.args)
        if not isinstance(sequence, Sequence) or isinstance(sequence, str):
            raise TypeError(f'"{self.fn_name}" should have a list as its second argument')
        return value in sequence


class MakeURL(Function):
    KEYS = ("scheme", "username", "password", "host", "port", "path", "query", "fragment")

    def check(self) -> None:
        if not isinstance(self.args, Mapping | Function):
            raise TypeError(f'The arguments to "{self.fn_name}" must be a map')
        if isinstance(self.args, Mapping):
            unknown = set(self.args) - set(self.KEYS)
            if unknown:
                raise ValueError(
                    f'"{sorted(unknown)[0]}" is not a valid argument to "{self.fn_name}"'
                )

    def result(self) -> Any:
        args = resolve(self.args)
        scheme = args.get("scheme", "")
        host = str(args.get("host", ""))
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        user = args.get("username")
        if user:
            password = args.get("password")
            auth = quote(str(user), safe="")
            if password:
                auth += ":" + quote(str(password), safe="")
            host = f"{auth}@{host}"
        port = args.get("port")
        if port not in (None, ""):
            port_number = int(port)
            if not 1 <= port_number <= 65535:
                raise ValueError(f'Invalid port "{port}"')
            host += f":{port_number}"
        path = quote(str(args.get("path", "")), safe="/")
        query = args.get("query") or {}
        url = f"{scheme}://{host}/{path.lstrip('/')}" if scheme else f"//{host}/{path}"
        if query:
            from urllib.parse import urlencode

            url += "?" + urlencode(query)
        fragment = args.get("fragment")
        if fragment:
            url += "#" + quote(str(fragment))
        return url


class Filter(Function):
    def check(self) -> None:
        if not isinstance(self.args, list) or len(self.args) != 2:
            raise ValueError(
                f'Arguments to "{self.fn_name}" must be of the form: [values_to_filter, sequence]'
            )

    def result(self) -> Any:
        drop, sequence = resolve(self.args)
        if sequence is None:
            return None
        if not isinstance(sequence, list):
            raise TypeError(f'"{self.fn_name}" only works with lists')
        drop = drop if isinstance(drop, list) else [drop]
        return [v for v in sequence if v not in drop]


class Yaql(Function):
    def check(self) -> None:
        if not isinstance(self.args, Mapping):
            raise TypeError(f'Arguments to "{self.fn_name}" must be a map.')
        if set(self.args) != {"expression", "data"}:
            raise KeyError(
                f'"{self.fn_name}" syntax should be {{"expression": <expression>, "data": <data>}}'
            )
        expression = self.args["expression"]
        if isinstance(expression, str):
            self._parse(expression)
        elif not isinstance(expression, Function):
            raise TypeError(f'The "expression" argument to {self.fn_name} must contain a string.')

    @staticmethod
    def _parse(expression: str) -> Any:
        import yaql

        engine = yaql.factory.YaqlFactory().create(
            options={"yaql.limitIterators": 1000, "yaql.memoryQuota": 50000}
        )
        try:
            return engine(expression)
        except Exception as exc:  # yaql's parse errors have no common base
            raise ValueError(f"Bad expression {exc}.") from None

    def result(self) -> Any:
        import yaql

        args = resolve(self.args)
        parsed = self._parse(args["expression"])
        # as in Heat: the data is ``$.data`` in the expression
        return parsed.evaluate(context=yaql.create_context(), data={"data": args["data"]})
