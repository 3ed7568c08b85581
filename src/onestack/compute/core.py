"""What every compute manager shares: the core.

The database, policy, settings, quotas, the neighbours (other services,
typed by their Protocols), the typed bus clients, and the lookups several
managers need: an instance as the caller may see it, whether a compute host
is up, and what its driver can do.  Sub-managers take the core in their
constructor; the :class:`~onestack.compute.manager.ComputeManager` façade
holds them all.
"""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.faults import FaultStore
from onestack.common.policy import Enforcer
from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import Capabilities
from onestack.compute.exceptions import DriverNotSupported
from onestack.compute.instances import get_instance
from onestack.compute.models import ComputeNode, ComputeService, Instance
from onestack.compute.quotas import engine
from onestack.compute.rpcapi import ComputeRPC
from onestack.neighbours import Neighbours

T = TypeVar("T")

#: the binary of a compute host's service record (os-services)
COMPUTE_BINARY = "nova-compute"


class ComputeCore:
    def __init__(
        self,
        db: Database,
        enforcer: Enforcer,
        settings: ComputeSettings,
        neighbours: Neighbours,
        rpc: ComputeRPC,
    ) -> None:
        self.db = db
        self.enforcer = enforcer
        self.settings = settings
        self.neighbours = neighbours
        self.rpc = rpc
        self.quota = engine()
        #: injected faults (``agent_down`` makes a compute service down)
        self.faults = FaultStore(db)

    # -- policy ------------------------------------------------------------------

    def enforce(self, ctx: RequestContext, rule: str, project_id: str | None = None) -> None:
        """``os_compute_api:<rule>`` against the owner ``project_id`` (and the caller)."""
        self.enforcer.enforce(
            ctx, f"os_compute_api:{rule}", {"project_id": project_id, "user_id": ctx.user_id}
        )

    # -- lookups -----------------------------------------------------------------

    def instance(
        self, session: Session, ctx: RequestContext | None, instance_id: str, deleted: bool = False
    ) -> Instance:
        """The instance if ``ctx`` may see it (InstanceNotFound otherwise)."""
        return get_instance(session, ctx, instance_id, deleted=deleted)

    def service_up(self, service: ComputeService) -> bool:
        """Nova's servicegroup check: reported within ``service_down_time``, not forced down."""
        if service.forced_down:
            return False
        if service.binary == COMPUTE_BINARY and self.faults.agent_down(
            "compute", service.host, object_session(service)
        ):
            return False  # an injected agent_down fault
        cutoff = utcnow() - timedelta(seconds=self.settings.service_down_time)
        return service.updated_at >= cutoff

    def hosts_up(self, session: Session, hosts: set[str]) -> dict[str, bool]:
        """Whether each compute host's service is up (one query)."""
        if not hosts:
            return {}
        services = session.scalars(
            select(ComputeService).where(
                ComputeService.host.in_(sorted(hosts)), ComputeService.binary == COMPUTE_BINARY
            )
        )
        found = {s.host: self.service_up(s) for s in services}
        return {host: found.get(host, False) for host in hosts}

    def require(
        self, session: Session, instance: Instance, capability: str, operation: str
    ) -> None:
        """DriverNotSupported (501) unless the driver of the instance's host, as its agent
        recorded it, can do ``capability``."""
        if instance.host is None:
            return
        node = session.scalars(select(ComputeNode).where(ComputeNode.host == instance.host)).first()
        found = Capabilities.from_dict(node.capabilities if node is not None else None)
        if not getattr(found, capability):
            driver = node.hypervisor_type if node is not None else "unknown"
            raise DriverNotSupported(operation=operation, driver=driver)

    # -- the bus -----------------------------------------------------------------

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a bus client's coroutine from a worker thread (the API's routes)."""
        return self.rpc.bridge.run(coro, timeout)
