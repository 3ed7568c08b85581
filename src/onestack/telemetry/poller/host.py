"""The metering poller of this host, on the service's task runner.

``MeteringPoller`` publishes every ``telemetry.poll_interval`` seconds:

- ``compute``: the instances of this compute host (``ComputePollster``), and the
  ``ended_at`` of instance, disk and interface resources whose server is gone;
- ``services`` (the controller only, ``telemetry.poll_services``): volumes,
  images, floating IPs and object storage accounts (``ServicesPollster``), and
  the ``ended_at`` of those that are gone.

It reaches every API over HTTP as the ``ceilometer`` service user, and this host's
compute and network agents over the bus (their typed clients), so a poller on
another host works unchanged given the identity URL, the bus and the user's password.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.common.periodic import PeriodicTask, TaskRunner
from onestack.telemetry.client import MetricClient
from onestack.telemetry.poller.compute import ComputePollster, CounterSource, StatsSource, gone
from onestack.telemetry.poller.publisher import GnocchiPublisher
from onestack.telemetry.poller.services import ServicesPollster

LOG = logging.getLogger(__name__)


def _now() -> str:
    return datetime.now(UTC).isoformat()


class MeteringPoller:
    def __init__(
        self,
        session: KeystoneSession,
        host: str,
        driver: StatsSource | None,
        policy: str,
        rate_policy: str,
        central: bool,
        clock: Callable[[], str] = _now,
        network: CounterSource | None = None,
    ) -> None:
        self.session = session
        self.host = host
        self.metrics = MetricClient(session)
        self.publisher = GnocchiPublisher(self.metrics, policy, rate_policy)
        self.compute = ComputePollster(session, host, driver, network)
        self.services = ServicesPollster(session) if central else None
        self.clock = clock
        #: what the last polls did (tests and `onestack status` read it)
        self.published = 0
        self.polls = 0

    def tasks(self, interval: float) -> TaskRunner:
        tasks = [PeriodicTask("compute", interval, self.poll_compute)]
        if self.services is not None:
            tasks.append(PeriodicTask("services", interval, self.poll_services))
        return TaskRunner(f"metering {self.host}", tasks)

    def _mine(self) -> dict[str, Any]:
        return {"=": {"created_by_user_id": self.session.user_id}}

    def poll_compute(self) -> int:
        now = self.clock()
        samples, servers = self.compute.poll(now)
        published = self.publisher.publish(samples)
        present = {s.id for s in servers}
        alive = {"and": [{"=": {"host": self.host}}, {"=": {"ended_at": None}}, self._mine()]}
        ended = gone(
            self.metrics.search_resources("instance", alive),
            present,
            lambda r: str(r["original_resource_id"]),
        )
        if ended:
            self.publisher.end("instance", ended, now)
            ids = [r["id"] for r in ended]
            for kind in ("instance_disk", "instance_network_interface"):
                parts = self.metrics.search_resources(
                    kind,
                    {"and": [{"in": {"instance_id": ids}}, {"=": {"ended_at": None}}]},
                )
                self.publisher.end(kind, parts, now)
        self.published += published
        self.polls += 1
        return published

    def poll_services(self) -> int:
        assert self.services is not None
        now = self.clock()
        samples, present = self.services.poll(now)
        published = self.publisher.publish(samples)
        for resource_type, ids in present.items():
            alive = {"and": [{"=": {"ended_at": None}}, self._mine()]}
            try:
                known = self.metrics.search_resources(resource_type, alive)
            except ServiceError as exc:
                LOG.warning("metering: cannot list %s resources: %s", resource_type, exc)
                continue
            ended = gone(known, ids, lambda r: str(r["original_resource_id"]))
            self.publisher.end(resource_type, ended, now)
        self.published += published
        return published
