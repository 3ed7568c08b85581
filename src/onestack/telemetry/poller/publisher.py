"""Samples to the Metric API, as Ceilometer's Gnocchi publisher sends them.

One batch per poll (``POST /v1/batch/resources/metrics/measures?create_metrics=true``),
measures grouped by resource and metric, each metric with its archive policy
(cumulative meters get the ``rate`` policy) and unit.  When the API answers
"Unknown resources", those resources are created (type, user, project and the
attributes the samples carry) and the batch is sent again.  A resource whose
attributes changed since the last poll is patched; a resource the pollers no
longer see gets its ``ended_at``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from onestack.common.keystone_client import ServiceError
from onestack.telemetry.client import MetricClient, UnknownResources
from onestack.telemetry.poller.meters import CUMULATIVE, Sample

LOG = logging.getLogger(__name__)


class GnocchiPublisher:
    def __init__(self, client: MetricClient, policy: str, rate_policy: str) -> None:
        self.client = client
        self.policy = policy
        self.rate_policy = rate_policy
        #: resource id -> the attributes last sent (to patch only what changed)
        self._known: dict[str, dict[str, Any]] = {}

    def publish(self, samples: Sequence[Sample]) -> int:
        """Send the samples; the number of measures accepted."""
        if not samples:
            return 0
        body: dict[str, dict[str, Any]] = {}
        resources: dict[str, Sample] = {}
        for item in samples:
            resource_id = item.resource_id.replace("/", "_")
            resources[resource_id] = item
            metric = body.setdefault(resource_id, {}).setdefault(
                item.name,
                {
                    "archive_policy_name": self.rate_policy
                    if item.type == CUMULATIVE
                    else self.policy,
                    "unit": item.unit,
                    "measures": [],
                },
            )
            metric["measures"].append({"timestamp": item.timestamp, "value": item.volume})
        try:
            self.client.batch_resources_measures(body, create_metrics=True)
        except UnknownResources as exc:
            for missing in exc.resources:
                original = missing.get("original_resource_id", "")
                if original in resources:
                    self._create(original, resources[original])
            self.client.batch_resources_measures(body, create_metrics=True)
        for resource_id, item in resources.items():
            self._update(resource_id, item)
        return len(samples)

    @staticmethod
    def _resource_body(item: Sample) -> dict[str, Any]:
        body = {k: v for k, v in item.attributes.items() if v is not None}
        body["project_id"] = item.project_id
        return body

    def _create(self, resource_id: str, item: Sample) -> None:
        body = {"id": resource_id, "user_id": item.user_id, **self._resource_body(item)}
        try:
            self.client.create_resource(item.resource_type, body)
        except ServiceError as exc:
            if exc.status != 409:  # another poller created it meanwhile
                raise
        self._known[resource_id] = self._resource_body(item)

    def _update(self, resource_id: str, item: Sample) -> None:
        wanted = self._resource_body(item)
        if self._known.get(resource_id) == wanted:
            return
        try:
            self.client.update_resource(item.resource_type, resource_id, wanted)
        except ServiceError as exc:
            LOG.warning(
                "metering: could not update %s %s: %s", item.resource_type, resource_id, exc
            )
            return
        self._known[resource_id] = wanted

    def end(self, resource_type: str, resources: Iterable[dict[str, Any]], when: str) -> int:
        """Set ``ended_at`` of resources that no longer exist; how many were ended."""
        ended = 0
        for resource in resources:
            try:
                self.client.update_resource(resource_type, resource["id"], {"ended_at": when})
            except ServiceError as exc:
                LOG.warning("metering: could not end %s %s: %s", resource_type, resource["id"], exc)
                continue
            self._known.pop(resource["original_resource_id"], None)
            ended += 1
        return ended
