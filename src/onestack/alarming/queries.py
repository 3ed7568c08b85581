"""Aodh's complex queries (``POST /v2/query/alarms`` and ``/v2/query/alarms/history``).

``{"filter": "<JSON>", "orderby": "<JSON>", "limit": n}``: the filter is a tree of
``=``, ``!=``, ``<``, ``>``, ``<=`` (``=<``), ``>=`` (``=>``), ``=~`` (a regular
expression), ``in`` (a list), ``and``/``or`` (two or more) and ``not``, on the
fields of an alarm (or an alarm change); ``user`` and ``project`` stand for
``user_id`` and ``project_id``.  ``orderby`` is a list of ``{field: "asc"|"desc"}``.
The caller's visibility is applied before (a project sees its own).
"""

from __future__ import annotations

import datetime
import json
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from onestack.alarming.exceptions import ClientSideError

_SIMPLE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    "=<": operator.le,
    ">=": operator.ge,
    "=>": operator.ge,
}
_NAMES = {"user": "user_id", "project": "project_id"}
_TIMESTAMPS = ("timestamp", "state_timestamp", "evaluate_timestamp")


def _load(text: Any, what: str) -> Any:
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ClientSideError(error=f"{what} expression is not valid JSON: {exc}") from None


def _value(field: str, value: Any) -> Any:
    if field in _TIMESTAMPS and isinstance(value, str):
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        return parsed.replace(tzinfo=None) if parsed.tzinfo is None else parsed.astimezone(
            datetime.UTC
        ).replace(tzinfo=None)  # fmt: skip
    return value


def _predicate(tree: Any, fields: set[str]) -> Callable[[dict[str, Any]], bool]:
    if not isinstance(tree, dict) or len(tree) != 1:
        raise ClientSideError(error=f"Filter expression not valid: {tree}")
    op, nodes = next(iter(tree.items()))
    lowered = op.lower()
    if lowered in ("and", "or"):
        if not isinstance(nodes, list) or len(nodes) < 2:
            raise ClientSideError(error=f"Filter expression not valid: {op} needs 2 or more")
        parts = [_predicate(n, fields) for n in nodes]
        combine = all if lowered == "and" else any
        return lambda item: combine(p(item) for p in parts)
    if lowered == "not":
        inner = _predicate(nodes, fields)
        return lambda item: not inner(item)
    if not isinstance(nodes, dict) or len(nodes) != 1:
        raise ClientSideError(error=f"Filter expression not valid: {tree}")
    name, wanted = next(iter(nodes.items()))
    field = _NAMES.get(name, name)
    if field not in fields:
        raise ClientSideError(error=f'Unknown argument: "{name}": unrecognized field in query')
    if lowered == "in":
        if not isinstance(wanted, list) or not wanted:
            raise ClientSideError(error="Filter expression not valid: in needs a list")
        values = [_value(field, w) for w in wanted]
        return lambda item: _value(field, item.get(field)) in values
    if lowered == "=~":
        pattern = re.compile(str(wanted))
        return lambda item: (
            item.get(field) is not None and bool(pattern.search(str(item.get(field))))
        )
    compare = _SIMPLE.get(lowered)
    if compare is None:
        raise ClientSideError(error=f"Filter expression not valid: unknown operator {op}")
    target = _value(field, wanted)

    def check(item: dict[str, Any]) -> bool:
        actual = _value(field, item.get(field))
        if actual is None:
            return compare is operator.ne and target is not None
        try:
            return bool(compare(actual, target))
        except TypeError:
            return False

    return check


def _sort_key(field: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    return lambda item: (item.get(field) is None, str(item.get(field)))


def run(
    items: Iterable[dict[str, Any]], body: Any, fields: set[str], default_order: str
) -> list[dict[str, Any]]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise ClientSideError(error="The query must be a JSON object")
    selected = list(items)
    tree = _load(body.get("filter"), "Filter")
    if tree:
        predicate = _predicate(tree, fields)
        selected = [i for i in selected if predicate(i)]
    order = _load(body.get("orderby"), "Order-by") or [{default_order: "desc"}]
    if not isinstance(order, list):
        raise ClientSideError(error="Order-by expression not valid: a list is expected")
    for entry in reversed(order):
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ClientSideError(error=f"Order-by expression not valid: {entry}")
        name, direction = next(iter(entry.items()))
        field = _NAMES.get(name, name)
        if field not in fields or str(direction).lower() not in ("asc", "desc"):
            raise ClientSideError(error=f"Order-by expression not valid: {entry}")
        selected.sort(key=_sort_key(field), reverse=str(direction).lower() == "desc")
    limit = body.get("limit")
    if limit is not None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ClientSideError(error="Limit must be positive")
        selected = selected[:limit]
    return selected
