"""Server groups (os-server-groups): affinity policies the scheduler enforces."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import BadRequest
from onestack.compute.exceptions import ServerGroupNotFound
from onestack.compute.models import ServerGroup
from onestack.compute.quotas import engine

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class ServerGroupManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer

    def create(
        self, ctx: RequestContext, name: str, policy: str, rules: dict[str, Any]
    ) -> ServerGroup:
        self.enforcer.enforce(
            ctx, "os_compute_api:os-server-groups:create", {"project_id": ctx.project_id}
        )
        if policy not in POLICIES:
            raise BadRequest(f"Invalid input: '{policy}' is not one of {list(POLICIES)}")
        if rules:
            if policy != "anti-affinity" or set(rules) != {"max_server_per_host"}:
                raise BadRequest("Only anti-affinity policy supports the max_server_per_host rule.")
            value = rules["max_server_per_host"]
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise BadRequest("max_server_per_host must be a positive integer.")
        group = ServerGroup(
            id=str(uuid.uuid4()),
            name=name,
            project_id=ctx.project_id or "",
            user_id=ctx.user_id or "",
            policy=policy,
            rules=rules,
            members=[],
            created_at=utcnow(),
        )
        with self.db.writer() as session:
            engine().check(session, group.project_id, {"server_groups": 1})
            session.add(group)
        return group

    def list(
        self, ctx: RequestContext, all_projects: bool, limit: int | None, offset: int
    ) -> list[ServerGroup]:
        self.enforcer.enforce(
            ctx, "os_compute_api:os-server-groups:index", {"project_id": ctx.project_id}
        )
        stmt = select(ServerGroup).order_by(ServerGroup.created_at, ServerGroup.id)
        if all_projects:
            self.enforcer.enforce(ctx, "os_compute_api:os-server-groups:index:all_projects")
        else:
            stmt = stmt.where(ServerGroup.project_id == (ctx.project_id or ""))
        stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.db.reader() as session:
            return list(session.scalars(stmt))

    def get(self, ctx: RequestContext, group_id: str) -> ServerGroup:
        with self.db.reader() as session:
            group = session.get(ServerGroup, group_id)
            if group is None or (not ctx.is_admin and group.project_id != ctx.project_id):
                raise ServerGroupNotFound(group_id=group_id)
        self.enforcer.enforce(
            ctx, "os_compute_api:os-server-groups:show", {"project_id": group.project_id}
        )
        return group

    def delete(self, ctx: RequestContext, group_id: str) -> None:
        group = self.get(ctx, group_id)
        self.enforcer.enforce(
            ctx, "os_compute_api:os-server-groups:delete", {"project_id": group.project_id}
        )
        with self.db.writer() as session:
            row = session.get(ServerGroup, group_id)
            if row is not None:
                session.delete(row)
