"""What other services may use of the telemetry service (its public Python interface).

Everything here is also the Metric API: the alarm evaluator and the pollers
use it over HTTP (``onestack.telemetry.client``) so that they work from any
host; in-process callers (tests, benchmarks, the orchestration engine's
metadata) may call the manager directly.  Every call takes the caller's
context and answers Gnocchi's errors with Gnocchi's status codes.
"""

from __future__ import annotations

from typing import Any, Protocol

from onestack.common.context import RequestContext
from onestack.telemetry.aggregates import AggregateQuery
from onestack.telemetry.metrics import MeasureQuery
from onestack.telemetry.resources import Listing, Page


class MetricService(Protocol):
    def create_resource(
        self, ctx: RequestContext, type_name: str, body: Any
    ) -> tuple[dict[str, Any], str]:
        """Create a resource (and the metrics it names); returns its view and ETag."""
        ...

    def update_resource(
        self, ctx: RequestContext, type_name: str, resource_id: str, body: Any
    ) -> tuple[dict[str, Any], str]:
        """Change a resource; a change of anything but its metrics is a new revision."""
        ...

    def list_resources(
        self, ctx: RequestContext, type_name: str, listing: Listing, tree: Any = None
    ) -> Page:
        """Resources of a type the caller may see, filtered by ``tree``."""
        ...

    def batch_resources_measures(
        self, ctx: RequestContext, body: Any, create_metrics: bool
    ) -> None:
        """Add measures to metrics named per resource (Ceilometer's path)."""
        ...

    def get_measures(
        self,
        ctx: RequestContext,
        metric_id: str | None,
        query: MeasureQuery,
        named: tuple[str, str, str] | None = None,
    ) -> list[list[Any]]:
        """``[timestamp, granularity, value]``, coarsest granularity first."""
        ...

    def aggregates(self, ctx: RequestContext, body: Any, query: AggregateQuery) -> Any:
        """The aggregates API (operations over metrics or searched resources)."""
        ...
