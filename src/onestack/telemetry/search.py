"""Resource search: Gnocchi's filter trees, its string filter language, and SQL.

A filter tree is ``{op: {field: value}}`` for comparisons (``=``, ``==``,
``eq``, ``<``, ``lt``, ``>``, ``gt``, ``<=``, ``≤``, ``le``, ``>=``, ``≥``, ``ge``,
``!=``, ``≠``, ``ne``, ``like``, ``in`` with a list), ``{"and"|"or"|"∧"|"∨":
[trees]}`` and ``{"not": tree}``.  The CLI sends the same as a string
(``filter=``)::

    project_id=aaa and (flavor_id='1' or not display_name like 'web%')

with Gnocchi's precedence (``not`` > ``and`` > ``∧`` > ``or`` > ``∨``) and terms
``null``/``None``, ``true``/``false``, UUIDs, bare words, numbers (as floats),
quoted strings and ``[lists]``.

``ResourceFilter`` turns a tree into a SQLAlchemy condition on the resource
table (or its history): the base columns, ``created_by_user_id`` and
``created_by_project_id``, and the type's attributes (stored in one JSON
column, compared as their declared type).  ``MeasurePredicate`` is the search of
measures by value (``POST /v1/search/metric``).
"""

from __future__ import annotations

import datetime
import operator
import re
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, not_, or_, true

from onestack.common.exceptions import NotSupported
from onestack.telemetry import validate as v
from onestack.telemetry.core import resource_uuid
from onestack.telemetry.exceptions import BadRequest, InvalidFilter
from onestack.telemetry.resource_types import Attribute
from onestack.telemetry.timeutil import parse_timestamp, us_to_datetime

COMPARISONS: dict[str, Callable[[Any, Any], ColumnElement[bool]]] = {
    "=": lambda c, x: c == x,
    "==": lambda c, x: c == x,
    "eq": lambda c, x: c == x,
    "<": lambda c, x: c < x,
    "lt": lambda c, x: c < x,
    ">": lambda c, x: c > x,
    "gt": lambda c, x: c > x,
    "<=": lambda c, x: c <= x,
    "≤": lambda c, x: c <= x,
    "le": lambda c, x: c <= x,
    ">=": lambda c, x: c >= x,
    "≥": lambda c, x: c >= x,
    "ge": lambda c, x: c >= x,
    "!=": lambda c, x: c != x,
    "≠": lambda c, x: c != x,
    "ne": lambda c, x: c != x,
}
_NOT_EQUAL = ("!=", "≠", "ne")
MULTIPLE = ("and", "or", "∧", "∨")
_AND = ("and", "∧")


# -- the string language ---------------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<lp>\() | (?P<rp>\)) | (?P<lb>\[) | (?P<rb>\]) | (?P<comma>,)
    | (?P<str>"[^"]*"|'[^']*')
    | (?P<op>>=|<=|!=|==|≠|≥|≤|>|<|=|∧|∨)
    | (?P<word>[^\s()\[\],=<>!"'≠≥≤∧∨]+)
    )""",
    re.VERBOSE,
)
_WORD_OPS = {"eq", "ne", "lt", "gt", "ge", "le", "in", "like"}
_LOGIC = {"and": "and", "or": "or", "∧": "∧", "∨": "∨", "not": "not"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}(-?[0-9a-fA-F]{4}){3}-?[0-9a-fA-F]{12}$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$")
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        text = text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise InvalidFilter(reason=f"Expected end of text, found {text[pos:]!r} "
                                    f"(at char {pos})")  # fmt: skip
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise InvalidFilter(reason="Expected a condition, found end of text")
        self.index += 1
        return token

    def _logic(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] in ("word", "op") and token[1] == word

    def parse(self) -> Any:
        tree = self.parse_level(0)
        if self.peek() is not None:
            raise InvalidFilter(reason=f"Expected end of text, found {self.peek()[1]!r}")  # type: ignore[index]
        return tree

    _LEVELS = ("∨", "or", "∧", "and")

    def parse_level(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.parse_not()
        word = self._LEVELS[level]
        items = [self.parse_level(level + 1)]
        while self._logic(word):
            self.take()
            items.append(self.parse_level(level + 1))
        return items[0] if len(items) == 1 else {word: items}

    def parse_not(self) -> Any:
        if self._logic("not"):
            self.take()
            return {"not": self.parse_not()}
        token = self.peek()
        if token is not None and token[0] == "lp":
            self.take()
            tree = self.parse_level(0)
            if self.take()[0] != "rp":
                raise InvalidFilter(reason="Expected ')'")
            return tree
        return self.parse_condition()

    def parse_term(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1]
        if kind == "lb":
            items: list[Any] = []
            if self.peek() is not None and self.peek()[0] == "rb":  # type: ignore[index]
                self.take()
                return items
            while True:
                items.append(self.parse_term())
                sep = self.take()
                if sep[0] == "rb":
                    return items
                if sep[0] != "comma":
                    raise InvalidFilter(reason="Expected ',' or ']'")
        if kind != "word":
            raise InvalidFilter(reason=f"Expected a value, found {text!r}")
        if text in ("None", "none", "null"):
            return None
        if text in ("True", "true"):
            return True
        if text in ("False", "false"):
            return False
        if _UUID.match(text):
            return text
        if _IDENT.match(text):
            return text
        if _NUMBER.match(text):
            return float(text)
        raise InvalidFilter(reason=f"Expected a value, found {text!r}")

    def parse_condition(self) -> Any:
        field = self.parse_term()
        kind, op = self.take()
        if not (kind == "op" and op not in ("∧", "∨")) and not (kind == "word" and op in _WORD_OPS):
            raise InvalidFilter(reason=f"Expected an operator, found {op!r}")
        value = self.parse_term()
        if not isinstance(field, str):
            raise InvalidFilter(reason=f"Expected a field name, found {field!r}")
        return {op: {field: value}}


def parse_filter(text: str) -> Any:
    """The tree of a string filter; InvalidFilter (400) when it does not parse."""
    return validate_tree(_Parser(text).parse())


# -- the tree schema -------------------------------------------------------------


def validate_tree(tree: Any, path: list[str] | None = None) -> Any:
    """Check a filter tree's shape as Gnocchi's ResourceSearchSchema does."""
    path = path or []
    if not isinstance(tree, dict):
        raise v.invalid("expected a dictionary", path)
    if len(tree) == 0:
        return tree
    if len(tree) > 1:
        raise v.invalid("length of value must be at most 1", path)
    op, nodes = next(iter(tree.items()))
    where = [*path, op]
    if op in COMPARISONS or op in ("like", "in"):
        if not isinstance(nodes, dict) or len(nodes) != 1:
            raise v.invalid("length of value must be at least 1 and at most 1", where)
        field, value = next(iter(nodes.items()))
        if op == "in":
            if not isinstance(value, list) or not value:
                raise v.invalid("expected a list", [*where, field])
            for item in value:
                _scalar(item, [*where, field])
        else:
            _scalar(value, [*where, field])
        if op == "like" and field == "id":
            raise v.invalid("extra keys not allowed", [*where, field])
        return tree
    if op in MULTIPLE:
        if not isinstance(nodes, list) or not nodes:
            raise v.invalid("expected a list", where)
        for index, node in enumerate(nodes):
            validate_tree(node, [*where, str(index)])
        return tree
    if op == "not":
        validate_tree(nodes, where)
        return tree
    raise v.invalid("extra keys not allowed", where)


def _scalar(value: Any, path: list[str]) -> None:
    if isinstance(value, dict | list):
        raise v.invalid("expected str", path)


# -- SQL ---------------------------------------------------------------------------

_DATETIME_COLUMNS = ("started_at", "ended_at", "revision_start", "revision_end")
_STRING_COLUMNS = (
    "type",
    "creator",
    "user_id",
    "project_id",
    "original_resource_id",
    "created_by_user_id",
    "created_by_project_id",
)


class ResourceFilter:
    """Builds the SQL condition of a filter tree for one resource type."""

    def __init__(
        self,
        model: Any,
        type_name: str,
        attributes: dict[str, Attribute],
        creator: str,
        history: bool = False,
    ) -> None:
        self.model = model
        self.type_name = type_name
        self.attributes = attributes
        self.creator = creator
        self.history = history

    def build(self, tree: Any) -> ColumnElement[bool]:
        if not tree:
            return true()
        op, nodes = next(iter(tree.items()))
        if op in MULTIPLE:
            parts = [self.build(node) for node in nodes]
            return and_(*parts) if op in _AND else or_(*parts)
        if op == "not":
            return not_(self.build(nodes))
        field, value = next(iter(nodes.items()))
        return self._compare(op, field, value)

    def _column(self, field: str) -> tuple[Any, Callable[[Any], Any]]:
        model = self.model
        if field == "id":
            return model.id, lambda x: resource_uuid(str(x), self.creator)
        if field in _STRING_COLUMNS:
            return getattr(model, field), lambda x: str(x)
        if field in _DATETIME_COLUMNS:
            if field == "revision_end" and not self.history:
                return None, _datetime
            return getattr(model, field), _datetime
        if field == "revision" and self.history:
            return model.revision, lambda x: int(x)
        if field == "lifespan":
            raise NotSupported(operation="Searching on lifespan")
        attr = self.attributes.get(field)
        if attr is None:
            raise BadRequest(f"Resource type {self.type_name} has no {field} attribute")
        element = model.attributes[field]
        if attr.type == "number":
            return element.as_float(), lambda x: float(x)
        if attr.type == "bool":
            return element.as_boolean(), _boolean
        if attr.type == "uuid":
            return element.as_string(), lambda x: str(uuid.UUID(str(x)))
        if attr.type == "datetime":
            return element.as_string(), lambda x: _datetime(x).isoformat()
        return element.as_string(), lambda x: str(x)

    def _compare(self, op: str, field: str, value: Any) -> ColumnElement[bool]:
        column, convert = self._column(field)

        def cast(item: Any) -> Any:
            if item is None:
                return None
            try:
                return convert(item)
            except (ValueError, TypeError):
                raise BadRequest(f"Invalid value: `{item}' for field `{field}'") from None

        if op == "in":
            values = [cast(x) for x in value]
            if column is None:
                return true() if None in values else false()
            return column.in_(values)
        converted = cast(value)
        if column is None:  # revision_end of a current resource is NULL
            if converted is None:
                return true() if op in ("=", "==", "eq") else false()
            return true() if op in _NOT_EQUAL else false()
        if op == "like":
            return column.like(converted)
        compare = COMPARISONS[op]
        if converted is None:
            return column.is_(None) if op not in _NOT_EQUAL else column.is_not(None)
        if op in _NOT_EQUAL:
            return or_(column.is_(None), compare(column, converted))
        return compare(column, converted)


def _datetime(value: Any) -> datetime.datetime:
    return us_to_datetime(parse_timestamp(value))


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ValueError(value)


class MeasurePredicate:
    """Gnocchi's measure search: ``{"and": [{">=": 10}, {"%": [{"-": 3}, 2]}]}``."""

    BINARY: dict[str, Callable[[Any, Any], Any]] = {
        **{k: operator.eq for k in ("=", "==", "eq")},
        **{k: operator.lt for k in ("<", "lt")},
        **{k: operator.gt for k in (">", "gt")},
        **{k: operator.le for k in ("<=", "≤", "le")},
        **{k: operator.ge for k in (">=", "≥", "ge")},
        **{k: operator.ne for k in ("!=", "≠", "ne")},
        **{k: operator.mod for k in ("%", "mod")},
        **{k: operator.add for k in ("+", "add")},
        **{k: operator.sub for k in ("-", "sub")},
        **{k: operator.mul for k in ("*", "×", "mul")},
        **{k: operator.truediv for k in ("/", "÷", "div")},
        **{k: operator.pow for k in ("**", "^", "pow")},
    }
    MULTIPLE: dict[str, Callable[[Any], bool]] = {"or": any, "∨": any, "and": all, "∧": all}

    def __init__(self, tree: Any) -> None:
        self._evaluate = self._build(tree)

    def __call__(self, value: float) -> bool:
        try:
            return bool(self._evaluate(value))
        except (ZeroDivisionError, OverflowError, ValueError):
            return False

    def _build(self, tree: Any) -> Callable[[float], Any]:
        if not isinstance(tree, dict):
            if isinstance(tree, bool) or not isinstance(tree, int | float):
                raise BadRequest("Invalid input: expected a number or an operation")
            return lambda value: tree
        if len(tree) != 1:
            raise BadRequest("Invalid input: an operation has exactly one operator")
        op, nodes = next(iter(tree.items()))
        if op in self.MULTIPLE:
            if not isinstance(nodes, list):
                raise BadRequest(f"Invalid input: {op} needs a list")
            parts = [self._build(n) for n in nodes]
            combine = self.MULTIPLE[op]
            return lambda value: combine(p(value) for p in parts)
        if op == "not":
            inner = self._build(nodes[0] if isinstance(nodes, list) and nodes else nodes)
            return lambda value: not inner(value)
        if op not in self.BINARY:
            raise BadRequest(f"Unknown operator {op}")
        function = self.BINARY[op]
        if isinstance(nodes, list):
            if len(nodes) != 2:
                raise BadRequest(f"Binary operator {op} needs 2 arguments, {len(nodes)} given")
            left, right = self._build(nodes[0]), self._build(nodes[1])
            return lambda value: function(left(value), right(value))
        constant = self._build(nodes)
        return lambda value: function(value, constant(value))
