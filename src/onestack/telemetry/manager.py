"""``TelemetryManager``: the telemetry service's façade over its sub-managers.

The core (database, policy, settings) is shared; archive policies, resource
types, resources, metrics (with their measures) and aggregates each have their
own manager; this class implements ``interface.MetricService`` and is what
the API routes and other services call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.common.context import RequestContext
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.telemetry.aggregates import AggregateQuery, AggregatesManager
from onestack.telemetry.archive_policies import ArchivePolicyManager
from onestack.telemetry.conf import TelemetrySettings
from onestack.telemetry.core import TelemetryCore
from onestack.telemetry.metrics import MeasureQuery, MetricManager
from onestack.telemetry.resource_types import ResourceTypeManager
from onestack.telemetry.resources import Listing, Page, ResourceManager
from onestack.telemetry.storage import MeasureStore

if TYPE_CHECKING:
    from onestack.common.periodic import TaskRunner
    from onestack.telemetry.poller.host import MeteringPoller


class TelemetryManager:
    def __init__(self, db: Database, enforcer: Enforcer, settings: TelemetrySettings) -> None:
        self.core = TelemetryCore(db, enforcer, settings)
        self.archive_policies = ArchivePolicyManager(self.core)
        self.resource_types = ResourceTypeManager(self.core)
        self.resources = ResourceManager(self.core, self.resource_types)
        self.metrics = MetricManager(
            self.core, self.archive_policies, self.resources, MeasureStore()
        )
        self.aggregation = AggregatesManager(self.metrics, self.resources)
        #: this host's metering poller and its task runner while the server runs
        self.runtime: tuple[MeteringPoller, TaskRunner] | None = None

    def prepare(self) -> None:
        """Gnocchi's and Ceilometer's archive policies and resource types (idempotent)."""
        self.archive_policies.ensure_defaults()
        self.resource_types.ensure_defaults()

    # -- MetricService ------------------------------------------------------------------

    def create_resource(
        self, ctx: RequestContext, type_name: str, body: Any
    ) -> tuple[dict[str, Any], str]:
        return self.resources.create(ctx, type_name, body, self.metrics)

    def update_resource(
        self, ctx: RequestContext, type_name: str, resource_id: str, body: Any
    ) -> tuple[dict[str, Any], str]:
        return self.resources.update(ctx, type_name, resource_id, body, self.metrics)

    def delete_resource(self, ctx: RequestContext, type_name: str, resource_id: str) -> None:
        self.resources.delete(ctx, type_name, resource_id, self.metrics)

    def delete_resources(self, ctx: RequestContext, type_name: str, tree: Any) -> int:
        return self.resources.delete_many(ctx, type_name, tree, self.metrics)

    def list_resources(
        self, ctx: RequestContext, type_name: str, listing: Listing, tree: Any = None
    ) -> Page:
        return self.resources.list_page(ctx, type_name, listing, tree)

    def search_resources(
        self, ctx: RequestContext, type_name: str, listing: Listing, tree: Any
    ) -> Page:
        return self.resources.list_page(ctx, type_name, listing, tree, rule="search resource")

    def batch_resources_measures(
        self, ctx: RequestContext, body: Any, create_metrics: bool
    ) -> None:
        self.metrics.batch_resources(ctx, body, create_metrics)

    def get_measures(
        self,
        ctx: RequestContext,
        metric_id: str | None,
        query: MeasureQuery,
        named: tuple[str, str, str] | None = None,
    ) -> list[list[Any]]:
        return self.metrics.measures(ctx, metric_id, query, named)

    def aggregates(self, ctx: RequestContext, body: Any, query: AggregateQuery) -> Any:
        return self.aggregation.fetch(ctx, body, query)

    def status(self, ctx: RequestContext, details: bool) -> dict[str, Any]:
        """Gnocchi's status: measures are aggregated as they arrive, so none wait."""
        self.core.enforce(ctx, "get status")
        body: dict[str, Any] = {"storage": {"summary": {"metrics": 0, "measures": 0}}}
        if details:
            body["storage"]["measures_to_process"] = {}
        body["metricd"] = {"processors": ["onestack-api"], "statistics": {}}
        return body
