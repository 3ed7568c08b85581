"""Alarm rule types: their fields, defaults and checks (Aodh's WSME types).

``gnocchi_resources_threshold`` (``metric``, ``resource_id``, ``resource_type``),
``gnocchi_aggregation_by_metrics_threshold`` (``metrics``: metric ids) and
``gnocchi_aggregation_by_resources_threshold`` (``metric``, ``resource_type``,
``query``: a search as a JSON string) share ``threshold`` (required),
``aggregation_method`` (required, one the Metric API offers),
``comparison_operator`` (``eq``), ``evaluation_periods`` (1, 1-100) and
``granularity`` (60 s, 1 s to a year).  A ``composite`` rule combines them with
``{"and": [...]}`` / ``{"or": [...]}``, each leaf naming its ``type``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from onestack.alarming.exceptions import ClientSideError, InvalidInput

COMPARISONS = ("lt", "le", "eq", "ne", "ge", "gt")
THRESHOLD_TYPES = (
    "gnocchi_resources_threshold",
    "gnocchi_aggregation_by_metrics_threshold",
    "gnocchi_aggregation_by_resources_threshold",
)
RULE_TYPES = (*THRESHOLD_TYPES, "composite")
#: the fields of each threshold rule, in Aodh's output order
_COMMON = ("granularity", "comparison_operator", "threshold", "aggregation_method",
           "evaluation_periods")  # fmt: skip
FIELDS: dict[str, tuple[str, ...]] = {
    "gnocchi_resources_threshold": (*_COMMON, "metric", "resource_id", "resource_type"),
    "gnocchi_aggregation_by_metrics_threshold": (*_COMMON, "metrics"),
    "gnocchi_aggregation_by_resources_threshold": (*_COMMON, "metric", "query", "resource_type"),
}
_REQUIRED: dict[str, tuple[str, ...]] = {
    "gnocchi_resources_threshold": ("metric", "resource_id", "resource_type"),
    "gnocchi_aggregation_by_metrics_threshold": ("metrics",),
    "gnocchi_aggregation_by_resources_threshold": ("metric", "query", "resource_type"),
}


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field=field, value=value, reason="Wrong type. Expected a string.")
    return value


def threshold_rule(
    rule_type: str, data: Any, methods: Callable[[], list[str]], path: str = ""
) -> dict[str, Any]:
    """The rule with its defaults, checked; ``methods`` lists the aggregation methods the
    Metric API offers (asked only when needed)."""
    if not isinstance(data, dict):
        raise ClientSideError(error=f"{rule_type}_rule must be an object")
    unknown = set(data) - set(FIELDS[rule_type]) - {"type"}
    if unknown:
        raise ClientSideError(
            error=f"Unknown attribute for argument data: {', '.join(sorted(unknown))}"
        )
    for field in ("threshold", "aggregation_method", *_REQUIRED[rule_type]):
        if data.get(field) is None:
            raise InvalidInput(field=path + field, value="Unset", reason="Mandatory field missing.")
    rule: dict[str, Any] = {}
    threshold = data["threshold"]
    if isinstance(threshold, bool) or not isinstance(threshold, int | float | str):
        raise InvalidInput(field="threshold", value=threshold, reason="Wrong type.")
    try:
        rule["threshold"] = float(threshold)
    except ValueError:
        raise InvalidInput(field="threshold", value=threshold, reason="Wrong type.") from None
    comparison = data.get("comparison_operator", "eq")
    if comparison not in COMPARISONS:
        raise InvalidInput(
            field="comparison_operator",
            value=comparison,
            reason=f"Value should be one of: {', '.join(COMPARISONS)}",
        )
    rule["comparison_operator"] = comparison
    for field, default, low, high in (
        ("evaluation_periods", 1, 1, 100),
        ("granularity", 60, 1, 3600 * 24 * 365),
    ):
        value = data.get(field, default)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidInput(field=field, value=value, reason="Wrong type.")
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(field=field, value=value, reason="Wrong type.") from None
        if not low <= number <= high:
            raise InvalidInput(
                field=field,
                value=value,
                reason=f"Value should be greater or equal to {low} and lower or equal to {high}",
            )
        rule[field] = number
    method = _text("aggregation_method", data["aggregation_method"])
    offered = methods()
    if method not in offered:
        raise ClientSideError(
            error=f"aggregation_method should be in {sorted(offered)} not {method}"
        )
    rule["aggregation_method"] = method
    if rule_type == "gnocchi_aggregation_by_metrics_threshold":
        metrics = data["metrics"]
        if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
            raise InvalidInput(field="metrics", value=metrics, reason="Wrong type.")
        rule["metrics"] = list(metrics)
    else:
        for field in _REQUIRED[rule_type]:
            rule[field] = _text(field, data[field])
    if rule_type == "gnocchi_aggregation_by_resources_threshold":
        try:
            json.loads(rule["query"])
        except ValueError:
            raise InvalidInput(
                field="rule/query", value=rule["query"], reason="Invalid JSON"
            ) from None
    return {k: rule[k] for k in FIELDS[rule_type]}


def composite_rule(data: Any, methods: Callable[[], list[str]]) -> Any:
    """A composite rule, each leaf checked as its type's rule (with ``type`` kept)."""
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) in ("and", "or"):
        key = next(iter(data))
        items = data[key]
        if not isinstance(items, list):
            raise ClientSideError(
                error=f"Invalid input composite rule: {data}, it should be a dict with an "
                '"and" or "or" as key, and the value of dict should be a list of basic '
                "threshold rules or sub composite rules, can be nested."
            )
        return {key: [composite_rule(item, methods) for item in items]}
    if isinstance(data, dict) and len(data) == 1 and next(iter(data)) not in FIELDS:
        raise ClientSideError(error='Threshold rules should be combined with "and" or "or"')
    if not isinstance(data, dict):
        raise ClientSideError(error=f"Invalid input composite rule: {data}")
    rule_type = data.get("type")
    if not rule_type:
        raise ClientSideError(error="type must be set in every rule")
    if rule_type not in THRESHOLD_TYPES:
        raise ClientSideError(
            error=f"Unsupported sub-rule type :{rule_type} in composite rule, should be one "
            f"of: {sorted(THRESHOLD_TYPES)}"
        )
    leaf = threshold_rule(rule_type, data, methods)
    leaf["type"] = rule_type
    return leaf


def default_description(alarm_type: str) -> str:
    return f"{alarm_type} alarm rule"
