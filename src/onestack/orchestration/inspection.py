"""Resources and events of stacks: list, show, metadata, signal, mark unhealthy.

Listing with ``nested_depth`` includes the resources (or events) of nested
stacks down to that depth, each naming its own stack.  Events are ordered as
they happened; ``marker`` is an event id, and paging continues after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import Unauthorized
from onestack.common.pagination import parse_bool
from onestack.orchestration.core import OrchestrationCore
from onestack.orchestration.exceptions import (
    EntityNotFound,
    HTTPBadRequest,
    ResourceActionNotSupported,
)
from onestack.orchestration.models import Event, Resource, Stack

LOG = logging.getLogger(__name__)

SIGNALLED = ("OS::Heat::WaitConditionHandle", "OS::Heat::ScalingPolicy")


@dataclass
class ResourceRow:
    row: Resource
    stack: Stack


def _int(value: str | None, name: str, default: int = 0) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise HTTPBadRequest(detail=f"Only integer is acceptable by '{name}'.") from None
    if number < 0:
        raise HTTPBadRequest(detail=f"Only non-negative integer is acceptable by '{name}'.")
    return number


class Inspection:
    def __init__(self, core: OrchestrationCore) -> None:
        self.core = core

    def _stack(self, ctx: RequestContext, name: str, stack_id: str, rule: str) -> Stack:
        self.core.enforce(ctx, rule)
        with self.core.db.reader() as session:
            return self.core.stack(session, ctx, name, stack_id)

    def _family(self, stack: Stack, depth: int) -> list[Stack]:
        found = [stack]
        frontier = [stack.id]
        with self.core.db.reader() as session:
            for _ in range(depth):
                children = list(session.scalars(select(Stack).where(Stack.parent_id.in_(frontier))))
                if not children:
                    break
                found.extend(children)
                frontier = [c.id for c in children]
        return found

    # -- resources ------------------------------------------------------------------------------

    def resources(
        self, ctx: RequestContext, name: str, stack_id: str, query: Mapping[str, list[str]]
    ) -> list[ResourceRow]:
        stack = self._stack(ctx, name, stack_id, "resource:index")
        depth = _int(next(iter(query.get("nested_depth") or []), None), "nested_depth")
        stacks = {s.id: s for s in self._family(stack, depth)}
        with self.core.db.reader() as session:
            rows = list(
                session.scalars(
                    select(Resource)
                    .where(Resource.stack_id.in_(list(stacks)), Resource.current)
                    .order_by(Resource.created_at)
                )
            )
        out = [ResourceRow(r, stacks[r.stack_id]) for r in rows]
        for key, attr in (
            ("name", "name"),
            ("type", "type"),
            ("status", "status"),
            ("action", "action"),
            ("id", "id"),
            ("physical_resource_id", "physical_id"),
        ):
            if query.get(key):
                wanted = set(query[key])
                out = [r for r in out if str(getattr(r.row, attr)) in wanted]
        return out

    def resource(
        self, ctx: RequestContext, name: str, stack_id: str, resource_name: str
    ) -> ResourceRow:
        stack = self._stack(ctx, name, stack_id, "resource:show")
        with self.core.db.reader() as session:
            row = session.scalar(
                select(Resource).where(
                    Resource.stack_id == stack.id, Resource.name == resource_name, Resource.current
                )
            )
        if row is None:
            raise EntityNotFound(entity="Resource", name=resource_name)
        return ResourceRow(row, stack)

    async def attributes(self, found: ResourceRow) -> dict[str, Any]:
        """The resource's attributes, read again from the service when possible."""
        engine = self.core.engine
        runtime = await asyncio.to_thread(engine.runtime, found.stack)
        resource = runtime.resources.get(found.row.name)
        if resource is None:
            return {}
        if (
            resource.state.status == "COMPLETE"
            and resource.physical_id
            and found.stack.status != "IN_PROGRESS"
        ):
            try:
                await resource.refresh()
            except Exception:  # show what is cached
                import logging

                logging.getLogger(__name__).exception("refreshing %s failed", found.row.name)
        names = [n for n in resource.attributes_schema if n != "*"]
        out = {n: resource.attribute(n) for n in names}
        return {k: v for k, v in out.items() if not k.startswith("_")}

    async def signal(
        self,
        ctx: RequestContext,
        name: str,
        stack_id: str,
        resource_name: str,
        details: Any,
        token: str | None,
    ) -> None:
        """A signal from a user of the project, or from an instance holding the handle's token."""
        if ctx.authenticated:
            self.core.enforce(ctx, "resource:signal")
            found = await asyncio.to_thread(self.resource, ctx, name, stack_id, resource_name)
        else:
            found = await asyncio.to_thread(self._by_token, name, stack_id, resource_name, token)
        if found.row.type not in SIGNALLED:
            plugin = None
            from onestack.orchestration.resources import registry

            plugin = registry.get(found.row.type)
            if plugin is None or plugin.type_name not in SIGNALLED:
                raise ResourceActionNotSupported(action="Signal")
        engine = self.core.engine
        if found.row.type == "OS::Heat::WaitConditionHandle":
            stored = await asyncio.to_thread(
                engine.signals.add, found.stack.id, found.row.name, details
            )
            reason = f"Signal: status:{stored['status']} reason:{stored['reason']}"
            await asyncio.to_thread(
                engine.store.event,
                found.stack.id,
                found.row.name,
                found.row.type,
                found.row.physical_id,
                "SIGNAL",
                "COMPLETE",
                reason,
            )
            return
        runtime = await asyncio.to_thread(engine.runtime, found.stack)
        resource = runtime.resources[found.row.name]

        async def handle() -> None:
            # as in Heat, the signal is answered at once and handled by the engine
            try:
                await resource.signal(details)
                status, reason = "COMPLETE", "Signal received"
            except Exception as exc:
                LOG.exception("signal to %s of stack %s failed", resource.name, found.stack.id)
                status, reason = "FAILED", f"Signal failed: {exc}"
            await asyncio.to_thread(engine.store.save_resource, found.stack.id, resource.state)
            await asyncio.to_thread(
                engine.store.event,
                found.stack.id,
                found.row.name,
                found.row.type,
                found.row.physical_id,
                "SIGNAL",
                status,
                reason,
            )

        engine.background(handle())

    def _by_token(
        self, name: str, stack_id: str, resource_name: str, token: str | None
    ) -> ResourceRow:
        import hmac

        with self.core.db.reader() as session:
            stack = session.get(Stack, stack_id)
            row = None
            if stack is not None and stack.name == name and stack.deleted_at is None:
                row = session.scalar(
                    select(Resource).where(
                        Resource.stack_id == stack.id,
                        Resource.name == resource_name,
                        Resource.current,
                    )
                )
        secret = str((row.data or {}).get("secret") or "") if row is not None else ""
        if (
            stack is None
            or row is None
            or not token
            or not secret
            or not hmac.compare_digest(secret, token)
        ):
            raise Unauthorized("The request you have made requires authentication.")
        return ResourceRow(row, stack)

    def mark_unhealthy(
        self, ctx: RequestContext, name: str, stack_id: str, resource_name: str, body: Any
    ) -> None:
        if not isinstance(body, Mapping) or "mark_unhealthy" not in body:
            raise HTTPBadRequest(detail="mark_unhealthy is required")
        value = body["mark_unhealthy"]
        unhealthy = value if isinstance(value, bool) else parse_bool(str(value), "mark_unhealthy")
        reason = str(body.get("resource_status_reason") or "")
        found = self.resource(ctx, name, stack_id, resource_name)
        self.core.enforce(ctx, "resource:mark_unhealthy")
        if found.stack.status == "IN_PROGRESS":
            from onestack.orchestration.exceptions import ActionInProgress

            raise ActionInProgress(stack_name=found.stack.name, action=found.stack.action)
        if not unhealthy and not (found.row.action == "CHECK" and found.row.status == "FAILED"):
            return
        status = "FAILED" if unhealthy else "COMPLETE"
        reason = reason or ("state changed by resource_mark_unhealthy" if unhealthy else "")
        with self.core.db.writer() as session:
            row = session.get(Resource, found.row.id)
            assert row is not None
            row.action, row.status, row.status_reason = "CHECK", status, reason
            row.updated_at = utcnow()
            session.add(
                Event(
                    id=__import__("uuid").uuid4().__str__(),
                    stack_id=row.stack_id,
                    resource_name=row.name,
                    resource_type=row.type,
                    physical_resource_id=row.physical_id,
                    action="CHECK",
                    status=status,
                    reason=reason,
                    created_at=utcnow(),
                )
            )

    # -- events ---------------------------------------------------------------------------------

    def events(
        self,
        ctx: RequestContext,
        name: str,
        stack_id: str,
        query: Mapping[str, list[str]],
        resource_name: str | None = None,
    ) -> list[tuple[Event, Stack]]:
        stack = self._stack(ctx, name, stack_id, "events:index")
        depth = _int(next(iter(query.get("nested_depth") or []), None), "nested_depth")
        stacks = {s.id: s for s in self._family(stack, depth)}
        with self.core.db.reader() as session:
            stmt = select(Event).where(Event.stack_id.in_(list(stacks)))
            if resource_name is not None:
                exists = session.scalar(
                    select(Event.seq)
                    .where(Event.stack_id == stack.id, Event.resource_name == resource_name)
                    .limit(1)
                )
                if exists is None:
                    raise EntityNotFound(entity="Resource", name=resource_name)
                stmt = stmt.where(Event.resource_name == resource_name, Event.stack_id == stack.id)
            for key, column in (
                ("resource_action", Event.action),
                ("resource_status", Event.status),
                ("resource_name", Event.resource_name),
                ("resource_type", Event.resource_type),
            ):
                if query.get(key):
                    stmt = stmt.where(column.in_(query[key]))
            sort_dir = (next(iter(query.get("sort_dir") or []), "asc") or "asc").lower()
            if sort_dir not in ("asc", "desc"):
                raise HTTPBadRequest(detail="Unknown sort direction, must be 'desc' or 'asc'")
            marker = next(iter(query.get("marker") or []), None)
            if marker:
                seq = session.scalar(select(Event.seq).where(Event.id == marker))
                if seq is None:
                    raise EntityNotFound(entity="Event", name=marker)
                stmt = stmt.where(Event.seq > seq if sort_dir == "asc" else Event.seq < seq)
            stmt = stmt.order_by(Event.seq.asc() if sort_dir == "asc" else Event.seq.desc())
            limit = next(iter(query.get("limit") or []), None)
            if limit is not None:
                stmt = stmt.limit(_int(limit, "limit"))
            rows = list(session.scalars(stmt))
        return [(e, stacks[e.stack_id]) for e in rows]

    def event(
        self, ctx: RequestContext, name: str, stack_id: str, resource_name: str, event_id: str
    ) -> tuple[Event, Stack]:
        stack = self._stack(ctx, name, stack_id, "events:show")
        with self.core.db.reader() as session:
            event = session.scalar(
                select(Event).where(Event.id == event_id, Event.stack_id == stack.id)
            )
        if event is None or event.resource_name != resource_name:
            raise EntityNotFound(entity="Event", name=event_id)
        return event, stack
