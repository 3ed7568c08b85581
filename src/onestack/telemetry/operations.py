"""The aggregates API's operation language: parsing, validation and evaluation.

An operation is a tree (a JSON list, or the same written as an s-expression
string such as ``(aggregate mean (metric cpu mean))``):

- ``["metric", REF, AGG]`` or ``["metric", [REF, AGG], [REF, AGG], ...]``: series;
- ``["aggregate", AGG, op]``: one series of AGG across the series at each time;
- ``["resample", AGG, TIMESPAN, op]``, ``["rolling", AGG, WINDOW, op]``;
- arithmetic and comparisons (``+ - * / ** % = != < > <= >= clip_min clip_max
  max`` and their word forms), ``clip`` (ternary), ``abs neg cos sin tan floor
  ceil``, ``rateofchange`` and ``rateofchangesec``; numbers.

Series are evaluated on a grid: one row per timestamp present in any series,
one column per series, NaN where a series has no point (Gnocchi's semantics,
including ``rate:`` aggregates as the difference of successive aggregates).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from onestack.telemetry import aggregation
from onestack.telemetry.exceptions import BadRequest, InvalidInput, UnAggregableTimeseries
from onestack.telemetry.timeutil import parse_timespan

Array = Any  # numpy arrays of varying shapes


def _nan(function: Callable[..., Any]) -> Callable[[Array, int], Array]:
    def call(values: Array, axis: int) -> Array:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return function(values, axis=axis)

    return call


AGG_MAP: dict[str, Callable[[Array, int], Array]] = {
    "mean": _nan(np.nanmean),
    "median": _nan(np.nanmedian),
    "std": _nan(np.nanstd),
    "min": _nan(np.nanmin),
    "max": _nan(np.nanmax),
    "sum": _nan(np.nansum),
    "var": _nan(np.nanvar),
    "count": lambda values, axis: np.count_nonzero(~np.isnan(values), axis=axis),
}


def _rated(name: str) -> Callable[[Array, int], Array]:
    base = AGG_MAP[name]
    return lambda values, axis: np.diff(base(values, axis))


for _name in list(AGG_MAP):
    AGG_MAP[f"rate:{_name}"] = _rated(_name)

RESAMPLE_METHODS = frozenset(
    [k for k in AGG_MAP if k != "var"] + ["last", "first"] + [f"{i}pct" for i in range(1, 100)]
)

BINARY: dict[str, Callable[[Array, Array], Array]] = {
    **{k: np.equal for k in ("=", "==", "eq")},
    **{k: np.less for k in ("<", "lt")},
    **{k: np.greater for k in (">", "gt")},
    **{k: np.less_equal for k in ("<=", "≤", "le")},
    **{k: np.greater_equal for k in (">=", "≥", "ge")},
    **{k: np.not_equal for k in ("!=", "≠", "ne")},
    **{k: np.mod for k in ("%", "mod")},
    **{k: np.add for k in ("+", "add")},
    **{k: np.subtract for k in ("-", "sub")},
    **{k: np.multiply for k in ("*", "×", "mul")},
    **{k: np.true_divide for k in ("/", "÷", "div")},
    **{k: np.power for k in ("**", "^", "pow")},
    "clip_min": lambda array, value: np.clip(array, value, None),
    "clip_max": lambda array, value: np.clip(array, None, value),
    "max": np.fmax,
}
TERNARY = {"clip": np.clip}
UNARY: dict[str, Callable[[Array], Array]] = {
    "abs": np.absolute,
    "absolute": np.absolute,
    "neg": np.negative,
    "negative": np.negative,
    "cos": np.cos,
    "sin": np.sin,
    "tan": np.tan,
    "floor": np.floor,
    "ceil": np.ceil,
}
UNARY_TIMED = ("rateofchange", "rateofchangesec")


# -- parsing and validation ------------------------------------------------------

_SEXP = re.compile(r"\s*(\(|\)|[^\s()]+)")


def parse_string(text: str) -> Any:
    """An s-expression string as nested lists (pyparsing's ``nestedExpr``)."""
    tokens = [t for t in _SEXP.findall(text) if t]
    stack: list[list[Any]] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            if len(stack) == 1:
                raise _parse_error(text, "Expected end of text")
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token)
    if len(stack) != 1 or not stack[0] or not isinstance(stack[0][0], list):
        raise _parse_error(text, "Expected ')'")
    return stack[0][0]


def _parse_error(text: str, detail: str) -> BadRequest:
    return BadRequest(
        "Invalid operations",
        {
            "cause": "Invalid operations",
            "reason": "Fail to parse the operations string",
            "detail": f"{detail} ({text!r})",
        },
    )


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(reason, ["operations"])


def validate(operations: Any) -> Any:
    """The operation tree, checked, with numbers as floats; 400 otherwise."""
    if isinstance(operations, str):
        operations = parse_string(operations)
    return _node(operations, top=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _node(node: Any, top: bool = False) -> Any:
    if not top:
        number = _number(node)
        if number is not None:
            return number
    if not isinstance(node, list):
        raise _invalid(f"Expected a tuple/list, got a {type(node).__name__}")
    if not node:
        raise _invalid("Operation must not be empty")
    head = node[0]
    if head == "metric":
        if len(node) < 2:
            raise _invalid("Operation need at least one argument")
        args = node[1:]
        if all(isinstance(a, str) for a in args):
            if len(args) != 2:
                raise _invalid("'metric' operation invalid")
            return ["metric", *args]
        for arg in args:
            if not (
                isinstance(arg, list) and len(arg) == 2 and all(isinstance(x, str) for x in arg)
            ):
                raise _invalid("'metric' operation invalid")
        return ["metric", *[list(a) for a in args]]
    if head == "aggregate":
        if len(node) != 3 or node[1] not in AGG_MAP:
            raise _invalid("'aggregate' operation invalid")
        return ["aggregate", node[1], _node(node[2])]
    if head == "resample":
        if len(node) != 4 or node[1] not in RESAMPLE_METHODS:
            raise _invalid("'resample' operation invalid")
        try:
            sampling = parse_timespan(node[2])
        except ValueError as exc:
            raise _invalid(str(exc)) from None
        return ["resample", node[1], sampling, _node(node[3])]
    if head == "rolling":
        if len(node) != 4 or node[1] not in AGG_MAP:
            raise _invalid("'rolling' operation invalid")
        window = _number(node[2])
        if window is None or window < 1 or int(window) != window:
            raise _invalid("'rolling' operation invalid")
        return ["rolling", node[1], int(window), _node(node[3])]
    if head in TERNARY and len(node) in (3, 4):
        return [head, *[_node(n) for n in node[1:]]]
    if head in BINARY and len(node) == 3:
        return [head, _node(node[1]), _node(node[2])]
    if (head in UNARY or head in UNARY_TIMED) and len(node) == 2:
        return [head, _node(node[1])]
    raise _invalid(f"'{head}' operation invalid")


def references(node: Any) -> list[tuple[str, str]]:
    """The (metric, aggregation) pairs an operation reads, in order, once each."""
    found: list[tuple[str, str]] = []

    def add(ref: tuple[str, str]) -> None:
        if ref not in found:
            found.append(ref)

    def walk(item: Any) -> None:
        if not isinstance(item, list) or not item:
            return
        if item[0] == "metric":
            if isinstance(item[1], list):
                for pair in item[1:]:
                    add((pair[0], pair[1]))
            else:
                add((item[1], item[2]))
            return
        for sub in item[1:]:
            walk(sub)

    walk(node)
    return found


# -- evaluation --------------------------------------------------------------------


@dataclass
class Evaluated:
    granularity: int
    timestamps: Array  # int64 µs
    values: Array  # (times, series) or a number
    aggregated: bool


def evaluate(node: Any, state: Evaluated, keys: list[tuple[str, str]]) -> Evaluated:
    if isinstance(node, float):
        return Evaluated(state.granularity, state.timestamps, node, state.aggregated)
    head = node[0]
    if head == "metric":
        wanted = [tuple(p) for p in node[1:]] if isinstance(node[1], list) else [tuple(node[1:])]
        indexes = [i for i, key in enumerate(keys) if key in wanted]
        return Evaluated(
            state.granularity, state.timestamps, state.values[:, indexes], state.aggregated
        )
    if head in ("aggregate", "rolling", "resample"):
        inner = evaluate(node[-1], state, keys)
        if head == "aggregate":
            return _aggregate(node[1], inner)
        if head == "rolling":
            return _rolling(node[1], node[2], inner, keys)
        return _resample(node[1], node[2], inner)
    if head in TERNARY:
        parts = [evaluate(n, state, keys) for n in node[1:]]
        arrays = [p for p in parts if isinstance(p.values, np.ndarray)]
        base = arrays[0] if arrays else parts[0]
        third = parts[2].values if len(parts) > 2 else None
        values = TERNARY[head](parts[0].values, parts[1].values, third)
        return Evaluated(
            base.granularity, base.timestamps, values, any(p.aggregated for p in parts)
        )
    if head in BINARY:
        left, right = evaluate(node[1], state, keys), evaluate(node[2], state, keys)
        aggregated = left.aggregated or right.aggregated
        if isinstance(left.values, np.ndarray) and isinstance(right.values, np.ndarray):
            if left.granularity != right.granularity or not np.array_equal(
                left.timestamps, right.timestamps
            ):
                raise UnAggregableTimeseries(
                    [list(k) for k in keys],
                    f"Can't compute timeseries with different granularity {node[1]} <> {node[2]}",
                )
            base, aggregated = left, True
        elif isinstance(right.values, np.ndarray):
            base = right
        else:
            base = left
        try:
            with np.errstate(all="ignore"):
                values = BINARY[head](left.values, right.values)
        except ValueError as exc:
            raise BadRequest(f"Invalid operations: {exc}") from None
        return Evaluated(base.granularity, base.timestamps, values, aggregated)
    inner = evaluate(node[1], state, keys)
    with np.errstate(all="ignore"):
        if head in UNARY:
            return Evaluated(inner.granularity, inner.timestamps, UNARY[head](inner.values),
                             inner.aggregated)  # fmt: skip
        values = np.asarray(inner.values, dtype=np.float64)
        if head == "rateofchange":
            return Evaluated(inner.granularity, inner.timestamps[1:], np.diff(values, axis=0),
                             inner.aggregated)  # fmt: skip
        seconds = np.diff(inner.timestamps.astype(np.float64)) / 1e6
        rates = np.full(values.shape, np.nan)
        rates[1:] = np.diff(values, axis=0) / seconds.reshape(-1, *([1] * (values.ndim - 1)))
        return Evaluated(inner.granularity, inner.timestamps, rates, inner.aggregated)


def _aggregate(method: str, inner: Evaluated) -> Evaluated:
    values = np.asarray(AGG_MAP[method](np.asarray(inner.values, dtype=np.float64), 1))
    timestamps = inner.timestamps[1:] if method.startswith("rate:") else inner.timestamps
    return Evaluated(inner.granularity, timestamps, values.reshape(-1, 1), True)


def _rolling(method: str, window: int, inner: Evaluated, keys: list[tuple[str, str]]) -> Evaluated:
    values = np.asarray(inner.values, dtype=np.float64)
    if window > len(values):
        raise UnAggregableTimeseries(
            [list(k) for k in keys],
            f"Rolling window '{window}' is greater than serie length '{len(values)}'",
        )
    windows = np.lib.stride_tricks.sliding_window_view(values.T, window, axis=-1)
    result = AGG_MAP[method](windows, -1)
    timestamps = inner.timestamps[window - 1 :]
    if method.startswith("rate:"):
        timestamps = timestamps[1:]
    return Evaluated(inner.granularity, timestamps, np.asarray(result).T, inner.aggregated)


def _resample(method: str, sampling: int, inner: Evaluated) -> Evaluated:
    values = np.asarray(inner.values, dtype=np.float64)
    columns = []
    stamps = inner.timestamps
    for column in values.T:
        series = aggregation.aggregate(
            aggregation.Series(inner.timestamps.astype(np.int64), column), sampling, method
        )
        stamps = series.timestamps
        columns.append(series.values)
    result = np.array(columns).T if columns else np.empty((0, 0))
    return Evaluated(sampling, stamps, result, inner.aggregated)
