"""The conductor: turns a build request into a placed instance on an agent.

``build_instances`` asks the scheduler for hosts (which claims them), marks
the instances that found none ERROR with Nova's "No valid host" fault, and
casts each placed one to its host's agent.  ``resize_instance`` checks room
on the instance's host and hands the resize to its agent.  At start,
instances a crash left in BUILD before any host was chosen become ERROR
with a fault (their agent never heard of them: ``recover_unscheduled``).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from onestack.common.db import Database, utcnow
from onestack.common.exceptions import OneStackError
from onestack.compute import states
from onestack.compute.exceptions import NoValidHost
from onestack.compute.instances import EventRecorder, add_fault, set_flavor, touch
from onestack.compute.migration_records import advance
from onestack.compute.models import Instance
from onestack.compute.rpcapi import AgentAPI, SchedulerAPI

LOG = logging.getLogger(__name__)


class Conductor:
    def __init__(self, db: Database, scheduler: SchedulerAPI, agents: AgentAPI) -> None:
        self.db = db
        self.scheduler = scheduler
        self.agents = agents
        self.events = EventRecorder(db, None)

    async def build_instances(self, instance_ids: list[str], request_id: str) -> None:
        try:
            placed = await self.scheduler.select_destinations(instance_ids)
        except OneStackError as exc:
            placed = {i: {"error": exc.message} for i in instance_ids}
        for instance_id in instance_ids:
            target = placed.get(instance_id)
            if isinstance(target, str):
                try:
                    await self.agents.build_and_run_instance(target, instance_id, request_id)
                except Exception as exc:
                    LOG.exception("[%s] could not send the build of %s", request_id, instance_id)
                    await asyncio.to_thread(self._fail, instance_id, request_id, exc)
            elif isinstance(target, dict):
                error = NoValidHost(reason=target.get("error", ""))
                await asyncio.to_thread(self._fail, instance_id, request_id, error)

    def _fail(self, instance_id: str, request_id: str, exc: BaseException) -> None:
        self.events.failed(instance_id, request_id, "conductor_schedule_and_build_instances", exc)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            touch(instance, vm_state=states.ERROR, task_state=None)
            add_fault(session, instance_id, exc, None)

    async def resize_instance(
        self, instance_id: str, flavor: dict[str, Any], request_id: str
    ) -> None:
        try:
            await self.scheduler.claim_resize(instance_id, flavor)
        except OneStackError as exc:
            await asyncio.to_thread(self._resize_failed, instance_id, request_id, exc)
            return
        host = await asyncio.to_thread(self._host_of, instance_id)
        if host:
            await self.agents.resize_instance(host, instance_id, request_id)

    async def unshelve_instance(self, instance_id: str, request_id: str) -> None:
        """Place a shelved-offloaded instance again, like a new build, and hand it to its
        new host's agent; no host: it stays offloaded with Nova's "No valid host" fault."""
        try:
            placed = await self.scheduler.select_destinations([instance_id])
        except OneStackError as exc:
            placed = {instance_id: {"error": exc.message}}
        await asyncio.to_thread(self._forget_forced_host, instance_id)
        target = placed.get(instance_id)
        if isinstance(target, str):
            await self.agents.unshelve_instance(target, instance_id, request_id)
            return
        reason = target.get("error", "") if isinstance(target, dict) else ""
        await asyncio.to_thread(
            self._unshelve_failed, instance_id, request_id, NoValidHost(reason=reason)
        )

    def _forget_forced_host(self, instance_id: str) -> None:
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is not None and "_force_host" in (instance.scheduler_hints or {}):
                hints = dict(instance.scheduler_hints)
                hints.pop("_force_host")
                touch(instance, scheduler_hints=hints)

    def _unshelve_failed(self, instance_id: str, request_id: str, exc: BaseException) -> None:
        self.events.failed(instance_id, request_id, "conductor_unshelve_instance", exc)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None or instance.deleted:
                return
            touch(instance, task_state=None)
            add_fault(session, instance_id, exc, None)

    def _host_of(self, instance_id: str) -> str | None:
        with self.db.reader() as session:
            instance = session.get(Instance, instance_id)
            return instance.host if instance is not None else None

    def _resize_failed(self, instance_id: str, request_id: str, exc: BaseException) -> None:
        """Nova keeps the instance as it was and records the fault."""
        self.events.failed(instance_id, request_id, "conductor_migrate_server", exc)
        with self.db.writer() as session:
            instance = session.get(Instance, instance_id)
            if instance is None:
                return
            old = instance.old_flavor or {}
            if old:
                set_flavor(instance, old, old_flavor=None)
            touch(instance, task_state=None)
            add_fault(session, instance_id, exc, instance.host)
            advance(session, instance_id, "error")


def recover_unscheduled(db: Database, started: datetime) -> int:
    """ERROR (with a fault) for instances left in BUILD without a host by a crash."""
    count = 0
    with db.writer() as session:
        stmt = select(Instance).where(
            ~Instance.deleted,
            Instance.vm_state == states.BUILDING,
            Instance.host.is_(None),
            Instance.created_at < started,
        )
        for instance in session.scalars(stmt):
            if instance.task_state == states.DELETING:
                touch(
                    instance,
                    deleted=True,
                    deleted_at=utcnow(),
                    vm_state=states.DELETED,
                    task_state=None,
                    terminated_at=utcnow(),
                )
                continue
            touch(instance, vm_state=states.ERROR, task_state=None)
            add_fault(
                session,
                instance.id,
                "Build of instance was interrupted by a restart before scheduling.",
                None,
                500,
            )
            count += 1
    return count
