"""Instance records shared by the API side, the conductor and the agents:
lookups with project isolation, instance actions and their events, faults.

Every state change is one write transaction; an action's event records
start, finish and result the way Nova's os-instance-actions show them.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import OneStackError
from onestack.compute.exceptions import InstanceNotFound
from onestack.compute.models import Instance, InstanceAction, InstanceActionEvent, InstanceFault


def get_instance(
    session: Session, ctx: RequestContext | None, instance_id: str, *, deleted: bool = False
) -> Instance:
    """The instance if ``ctx`` may see it (admins see every project's)."""
    instance = session.get(Instance, instance_id)
    if instance is None or (instance.deleted and not deleted):
        raise InstanceNotFound(instance_id=instance_id)
    if ctx is not None and not ctx.is_admin and instance.project_id != ctx.project_id:
        raise InstanceNotFound(instance_id=instance_id)
    return instance


def touch(instance: Instance, **changes: Any) -> None:
    for key, value in changes.items():
        setattr(instance, key, value)
    instance.updated_at = utcnow()


def set_flavor(instance: Instance, flavor: dict[str, Any], **changes: Any) -> None:
    """Give the instance ``flavor`` (a flavor snapshot) and its sizes."""
    touch(
        instance,
        flavor=flavor,
        flavor_id=flavor.get("id", instance.flavor_id),
        vcpus=flavor["vcpus"],
        memory_mb=flavor["ram"],
        root_gb=flavor["disk"],
        **changes,
    )


def start_action(
    session: Session,
    instance: Instance,
    action: str,
    request_id: str,
    user_id: str | None,
    project_id: str | None,
) -> InstanceAction:
    record = InstanceAction(
        instance_id=instance.id,
        request_id=request_id or "req-internal",
        action=action,
        project_id=project_id or instance.project_id,
        user_id=user_id or instance.user_id,
        start_time=utcnow(),
        updated_at=utcnow(),
    )
    session.add(record)
    session.flush()
    return record


def _action(session: Session, instance_id: str, request_id: str) -> InstanceAction | None:
    return session.scalars(
        select(InstanceAction)
        .where(InstanceAction.instance_id == instance_id, InstanceAction.request_id == request_id)
        .order_by(InstanceAction.id.desc())
    ).first()


def add_fault(
    session: Session,
    instance_id: str,
    exc: BaseException | str,
    host: str | None,
    code: int | None = None,
) -> None:
    if isinstance(exc, BaseException):
        message = exc.message if isinstance(exc, OneStackError) else f"{type(exc).__name__}: {exc}"
        details = "".join(traceback.format_exception(exc))
        code = code or (exc.code if isinstance(exc, OneStackError) else 500)
    else:
        message, details = exc, ""
    session.add(
        InstanceFault(
            instance_id=instance_id,
            code=code or 500,
            message=message[:255],
            details=details,
            host=host,
            created_at=utcnow(),
        )
    )


def latest_fault(session: Session, instance_id: str) -> InstanceFault | None:
    return session.scalars(
        select(InstanceFault)
        .where(InstanceFault.instance_id == instance_id)
        .order_by(InstanceFault.id.desc())
    ).first()


class EventRecorder:
    """Records one event of an instance action (``compute_<method>``)."""

    def __init__(self, db: Database, host: str | None) -> None:
        self.db = db
        self.host = host

    @contextmanager
    def event(self, instance_id: str, request_id: str, name: str) -> Iterator[None]:
        event_id = None
        with self.db.writer() as session:
            action = _action(session, instance_id, request_id)
            if action is not None:
                record = InstanceActionEvent(
                    action_id=action.id, event=name, start_time=utcnow(), host=self.host
                )
                session.add(record)
                session.flush()
                event_id = record.id
        try:
            yield
        except BaseException as exc:
            self._finish(event_id, "Error", exc)
            raise
        self._finish(event_id, "Success", None)

    def failed(self, instance_id: str, request_id: str, name: str, exc: BaseException) -> None:
        """Record an event that failed at once with ``exc`` (nothing ran under it)."""
        with self.db.writer() as session:
            action = _action(session, instance_id, request_id)
            if action is None:
                return
            record = InstanceActionEvent(
                action_id=action.id, event=name, start_time=utcnow(), host=self.host
            )
            session.add(record)
            session.flush()
            event_id = record.id
        self._finish(event_id, "Error", exc)

    def _finish(self, event_id: int | None, result: str, exc: BaseException | None) -> None:
        if event_id is None:
            return
        with self.db.writer() as session:
            record = session.get(InstanceActionEvent, event_id)
            if record is None:
                return
            now: datetime = utcnow()
            record.finish_time = now
            record.result = result
            if exc is not None:
                record.traceback = "".join(traceback.format_exception(exc))
                record.details = exc.message if isinstance(exc, OneStackError) else str(exc)
            action = session.get(InstanceAction, record.action_id)
            if action is not None:
                action.finish_time = now
                action.updated_at = now
                if exc is not None:
                    action.message = "Error"


def mark_deleted(session: Session, instance: Instance) -> None:
    """Soft-delete: the row stays for usage and ``changes-since``; quota is free."""
    from onestack.compute import states
    from onestack.compute.models import ServerGroup
    from onestack.compute.states import PowerState

    now = utcnow()
    touch(
        instance,
        deleted=True,
        deleted_at=now,
        terminated_at=now,
        vm_state=states.DELETED,
        task_state=None,
        power_state=PowerState.NOSTATE,
    )
    if instance.server_group_id:
        group = session.get(ServerGroup, instance.server_group_id)
        if group is not None and instance.id in group.members:
            group.members = [m for m in group.members if m != instance.id]
