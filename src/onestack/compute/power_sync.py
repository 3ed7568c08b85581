"""Power-state sync: what really runs on a host, written back to its instances.

The agent runs it at start (``at_start``: also finishing or failing what a
restart interrupted, and destroying instances no live record owns) and then
periodically.  Each instance is reconciled under its lock; the driver is
asked again for an instance whose listed state disagrees with the record,
because the one listing of the host predates the lock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from onestack.common.db import Database, utcnow
from onestack.compute import states
from onestack.compute.driver import ComputeDriver
from onestack.compute.instances import add_fault, touch
from onestack.compute.locks import InstanceLocks
from onestack.compute.models import Instance
from onestack.compute.states import PowerState

LOG = logging.getLogger(__name__)


def power_vm_state(power: PowerState) -> str:
    """The vm_state an instance in ``power`` has when no task is under way."""
    return {
        PowerState.RUNNING: states.ACTIVE,
        PowerState.PAUSED: states.PAUSED,
        PowerState.SUSPENDED: states.SUSPENDED,
    }.get(power, states.STOPPED)


class PowerStateSync:
    def __init__(
        self,
        db: Database,
        host: str,
        driver: ComputeDriver,
        locks: InstanceLocks,
        destroy: Callable[[str], None],
    ) -> None:
        self.db = db
        self.host = host
        self.driver = driver
        self.locks = locks
        #: destroys an instance and marks it deleted (the agent's)
        self.destroy = destroy

    def sync_all(self, at_start: bool) -> None:
        """Reconcile the database with what really runs on this host."""
        real = self.driver.list_instances()
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Instance).where(Instance.host == self.host, ~Instance.deleted)
                )
            )
        known = {row.id for row in rows}
        for row in rows:
            with self.locks(row.id):
                try:
                    power = real.get(row.id, PowerState.NOSTATE)
                    if power != self._recorded_power(row.id):
                        # The listing predates the lock: an operation that held it may
                        # have started or stopped the instance since. Ask again.
                        power = self.driver.get_power_state(row.id)
                    self._sync_one(row.id, power, at_start)
                except Exception:
                    LOG.exception(
                        "compute agent %s: power state sync of %s failed", self.host, row.id
                    )
        if at_start:
            for orphan in set(real) - known:
                LOG.warning("destroying instance %s: it has no live server record", orphan)
                try:
                    self.driver.destroy(orphan)
                except Exception:
                    LOG.exception("could not destroy orphan instance %s", orphan)

    def _recorded_power(self, instance_id: str) -> int | None:
        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            return instance.power_state if instance is not None else None

    def _sync_one(self, instance_id: str, power: PowerState, at_start: bool) -> None:
        destroy = False
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            task = instance.task_state
            if at_start and task == states.DELETING:
                destroy = True
            elif at_start and instance.vm_state == states.BUILDING:
                if power == PowerState.RUNNING:
                    touch(
                        instance,
                        vm_state=states.ACTIVE,
                        task_state=None,
                        power_state=power,
                        launched_at=instance.launched_at or utcnow(),
                    )
                else:
                    touch(instance, vm_state=states.ERROR, task_state=None, power_state=power)
                    add_fault(
                        session,
                        instance_id,
                        "Build of instance was interrupted by a restart of its compute agent.",
                        self.host,
                        500,
                    )
                    destroy = True
            elif at_start and task is not None:
                if power == PowerState.NOSTATE and task in (
                    states.REBUILDING,
                    states.REBUILD_SPAWNING,
                ):
                    touch(instance, vm_state=states.ERROR, task_state=None, power_state=power)
                    add_fault(
                        session,
                        instance_id,
                        "Rebuild was interrupted by a restart of its compute agent.",
                        self.host,
                        500,
                    )
                else:
                    vm_state = instance.vm_state
                    shelved = vm_state in (states.SHELVED, states.SHELVED_OFFLOADED)
                    if vm_state not in (states.RESIZED, states.ERROR) and not (
                        shelved and power != PowerState.RUNNING
                    ):
                        vm_state = power_vm_state(power)
                    touch(instance, vm_state=vm_state, task_state=None, power_state=power)
            elif task is None:
                if instance.power_state != power:
                    instance.power_state = power
                    instance.updated_at = utcnow()
                if instance.vm_state == states.ACTIVE and power in (
                    PowerState.SHUTDOWN,
                    PowerState.CRASHED,
                ):
                    touch(instance, vm_state=states.STOPPED)
                elif (
                    instance.vm_state
                    in (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
                    and power == PowerState.NOSTATE
                ):
                    touch(instance, vm_state=states.ERROR)
                    add_fault(
                        session,
                        instance_id,
                        "The instance disappeared from its host.",
                        self.host,
                        500,
                    )
        if destroy:
            self.destroy(instance_id)
