"""The engine's persistence: stack status, resource rows and events, one transaction
each (every status transition is one write, so a crash leaves a consistent record)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from onestack.common.db import Database, utcnow
from onestack.orchestration.exceptions import HTTPBadRequest
from onestack.orchestration.models import Event, Resource, Signal, Stack
from onestack.orchestration.resources.base import ResourceState


class EngineStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stack(self, stack_id: str) -> Stack | None:
        with self.db.reader() as session:
            row = session.get(Stack, stack_id)
            if row is not None:
                session.expunge(row)
            return row

    def set_status(
        self,
        stack_id: str,
        action: str,
        status: str,
        reason: str,
        *,
        engine_id: str | None = None,
        updated: bool = False,
        deleted: bool = False,
        previous: dict[str, Any] | bool | None = False,
    ) -> None:
        values: dict[str, Any] = {"action": action, "status": status, "status_reason": reason}
        if engine_id is not None:
            values["engine_id"] = engine_id or None
        if updated:
            values["updated_at"] = utcnow()
        if deleted:
            values["deleted_at"] = utcnow()
        if previous is not False:
            values["previous"] = previous
        with self.db.writer() as session:
            session.execute(update(Stack).where(Stack.id == stack_id).values(**values))

    def set_definition(
        self,
        stack_id: str,
        template: dict[str, Any],
        environment: dict[str, Any],
        files: dict[str, Any],
        params: dict[str, Any],
        **extra: Any,
    ) -> None:
        with self.db.writer() as session:
            session.execute(
                update(Stack)
                .where(Stack.id == stack_id)
                .values(
                    template=template, environment=environment, files=files, params=params, **extra
                )
            )

    def resources(self, stack_id: str) -> list[tuple[ResourceState, bool]]:
        with self.db.reader() as session:
            rows = session.scalars(
                select(Resource).where(Resource.stack_id == stack_id).order_by(Resource.created_at)
            )
            return [(_state(r), r.current) for r in rows]

    def save_resource(
        self,
        stack_id: str,
        state: ResourceState,
        *,
        current: bool = True,
        required_by: list[str] | None = None,
        event: bool = False,
    ) -> None:
        """Write the resource's row (and, with ``event``, the event of its status) in one
        transaction."""
        now = utcnow()
        with self.db.writer() as session:
            if event:
                session.add(
                    Event(
                        id=str(uuid.uuid4()),
                        stack_id=stack_id,
                        resource_name=state.name,
                        resource_type=state.type,
                        physical_resource_id=state.physical_id,
                        action=state.action,
                        status=state.status,
                        reason=state.status_reason,
                        created_at=now,
                    )
                )
            row = session.get(Resource, state.id)
            if row is None:
                row = Resource(id=state.id, stack_id=stack_id, created_at=now)
                session.add(row)
            else:
                row.updated_at = now
            row.name = state.name
            row.type = state.type
            row.physical_id = state.physical_id
            row.physical_name = state.physical_name
            row.action = state.action
            row.status = state.status
            row.status_reason = state.status_reason
            row.properties = _jsonable(state.properties)
            row.data = _jsonable(state.data)
            row.attributes = _jsonable(state.attributes)
            row.rsrc_metadata = _jsonable(state.metadata)
            row.current = current
            if required_by is not None:
                row.required_by = required_by

    def set_current(self, resource_id: str, current: bool) -> None:
        with self.db.writer() as session:
            session.execute(
                update(Resource).where(Resource.id == resource_id).values(current=current)
            )

    def drop_resource(self, resource_id: str) -> None:
        with self.db.writer() as session:
            session.execute(delete(Resource).where(Resource.id == resource_id))

    def event(
        self,
        stack_id: str,
        name: str,
        type_name: str,
        physical_id: str | None,
        action: str,
        status: str,
        reason: str,
    ) -> None:
        with self.db.writer() as session:
            session.add(
                Event(
                    id=str(uuid.uuid4()),
                    stack_id=stack_id,
                    resource_name=name,
                    resource_type=type_name,
                    physical_resource_id=physical_id,
                    action=action,
                    status=status,
                    reason=reason,
                    created_at=utcnow(),
                )
            )

    def in_progress(self) -> list[Stack]:
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Stack).where(Stack.status == "IN_PROGRESS", Stack.deleted_at.is_(None))
                )
            )
            for row in rows:
                session.expunge(row)
            return rows

    def children(self, stack_id: str) -> list[Stack]:
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Stack).where(Stack.parent_id == stack_id, Stack.deleted_at.is_(None))
                )
            )
            for row in rows:
                session.expunge(row)
            return rows


def _state(row: Resource) -> ResourceState:
    return ResourceState(
        id=row.id,
        name=row.name,
        type=row.type,
        physical_id=row.physical_id,
        physical_name=row.physical_name,
        action=row.action,
        status=row.status,
        status_reason=row.status_reason,
        properties=dict(row.properties or {}),
        data=dict(row.data or {}),
        attributes=dict(row.attributes or {}),
        metadata=dict(row.rsrc_metadata or {}),
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


class SignalStore:
    """Signals received by resources (stored by the API, read by the engine)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, stack_id: str, resource_name: str, details: Any) -> dict[str, Any]:
        if details is None:
            details = {}
        if not isinstance(details, dict):
            details = {"data": details}
        status = str(details.get("status") or "SUCCESS").upper()
        if status not in ("SUCCESS", "FAILURE"):
            raise HTTPBadRequest(detail="Metadata format invalid")
        with self.db.writer() as session:
            count = (
                session.scalar(
                    select(func.count())
                    .select_from(Signal)
                    .where(Signal.stack_id == stack_id, Signal.resource_name == resource_name)
                )
                or 0
            )
            signal_id = str(details.get("id") or count + 1)
            row = Signal(
                stack_id=stack_id,
                resource_name=resource_name,
                signal_id=signal_id,
                status=status,
                reason=str(details.get("reason") or "Signal " + signal_id + " received"),
                data=_jsonable(details.get("data")),
                created_at=utcnow(),
            )
            session.add(row)
        return {"id": signal_id, "status": status, "reason": row.reason, "data": row.data}

    def received(self, stack_id: str, resource_name: str) -> list[dict[str, Any]]:
        with self.db.reader() as session:
            rows = session.scalars(
                select(Signal)
                .where(Signal.stack_id == stack_id, Signal.resource_name == resource_name)
                .order_by(Signal.seq)
            )
            latest: dict[str, dict[str, Any]] = {}
            for row in rows:
                latest[row.signal_id] = {
                    "id": row.signal_id,
                    "status": row.status,
                    "reason": row.reason,
                    "data": row.data,
                }
            return list(latest.values())
