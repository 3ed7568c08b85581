"""The Metric API's errors, with Gnocchi's messages and structured descriptions.

Gnocchi answers ``{"code", "title", "description"}``; the description is either
the message or a ``{"cause", "reason", "detail"}`` object, and gnocchiclient
matches the message text ("Metric ... does not exist") to pick its exception
class, so these messages are Gnocchi's word for word.
"""

from __future__ import annotations

from typing import Any

from onestack.common import exceptions as base


class InvalidInput(base.BadRequest):
    """A body or parameter that does not fit the schema (Gnocchi's voluptuous errors)."""

    def __init__(self, reason: str, path: list[str] | None = None) -> None:
        super().__init__(f"Invalid input: {reason}")
        self.description = {"cause": "Invalid input", "reason": reason, "detail": path or []}


class ArgumentError(base.BadRequest):
    """A query parameter with a bad value."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Argument value error: {name}: {reason}")
        self.description = {"cause": "Argument value error", "detail": name, "reason": reason}


class BadRequest(base.BadRequest):
    """A 400 whose description is ``message`` or a structured object."""

    def __init__(self, message: str, description: Any = None) -> None:
        super().__init__(message)
        self.description = description


class NotFound(base.NotFound):
    def __init__(self, message: str, description: Any = None) -> None:
        super().__init__(message)
        self.description = description


class Conflict(base.Conflict):
    def __init__(self, message: str, description: Any = None) -> None:
        super().__init__(message)
        self.description = description


class NoSuchArchivePolicy(base.NotFound):
    msg_fmt = "Archive policy {name} does not exist"


class NoSuchArchivePolicyRule(base.NotFound):
    msg_fmt = "Archive policy rule {name} does not exist"


class NoSuchResourceType(base.NotFound):
    msg_fmt = "Resource type {name} does not exist"


class NoSuchResource(base.NotFound):
    msg_fmt = "Resource {resource_id} does not exist"


class NoSuchMetric(base.NotFound):
    msg_fmt = "Metric {metric} does not exist"


class ArchivePolicyAlreadyExists(base.Conflict):
    msg_fmt = "Archive policy {name} already exists"


class ArchivePolicyRuleAlreadyExists(base.Conflict):
    msg_fmt = "Archive policy rule {name} already exists"


class ResourceTypeAlreadyExists(base.Conflict):
    msg_fmt = "Resource type {name} already exists"


class ResourceAlreadyExists(base.Conflict):
    msg_fmt = "Resource {resource_id} already exists"

    def __init__(self, resource_id: str) -> None:
        super().__init__(resource_id=resource_id)


class NamedMetricAlreadyExists(base.Conflict):
    msg_fmt = "Named metric {name} already exists"

    def __init__(self, name: str) -> None:
        super().__init__(name=name)
        self.metric_name = name


class ArchivePolicyInUse(base.BadRequest):
    msg_fmt = "Archive policy {name} is still in use"


class ResourceTypeInUse(base.BadRequest):
    msg_fmt = "Resource type {name} is still in use"


class AggregationDoesNotExist(base.NotFound):
    msg_fmt = (
        "Aggregation method '{method}' at granularity '{granularity}' "
        "for metric {metric} does not exist"
    )


class UnAggregableTimeseries(base.BadRequest):
    """Metrics that cannot be aggregated together (no common granularity, no overlap)."""

    def __init__(self, references: list[Any], reason: str) -> None:
        super().__init__(reason)
        self.references = references
        self.reason = reason
        self.description = {
            "cause": "Metrics cannot be aggregated",
            "reason": reason,
            "detail": references,
        }


class QueryError(base.BadRequest):
    msg_fmt = "Unable to parse this query"


class InvalidFilter(base.BadRequest):
    msg_fmt = "Invalid filter: {reason}"


class UnknownResources(base.BadRequest):
    """The batch API's answer when resources named in a batch do not exist."""

    def __init__(self, resources: list[dict[str, str]]) -> None:
        super().__init__("Unknown resources")
        self.description = {"cause": "Unknown resources", "detail": resources}


class UnknownMetrics(base.BadRequest):
    def __init__(self, names: list[str]) -> None:
        super().__init__("Unknown metrics: " + ", ".join(sorted(names)))
