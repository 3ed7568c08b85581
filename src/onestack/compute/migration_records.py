"""Migration records (Nova's ``migrations`` table) and ``GET /os-migrations``.

onestack moves no server between hosts; what it records is each resize, which
it does in place on the server's own host (source and destination are that
host).  A record goes through Nova's statuses for a resize:

- ``pre-migrating`` when the API accepts the resize;
- ``migrating`` when the host's agent starts it, ``finished`` once the new
  flavor is applied (the server is VERIFY_RESIZE), ``error`` when it fails (or
  the scheduler finds no room);
- ``confirming`` then ``confirmed`` on confirmResize; ``reverting`` then
  ``reverted`` on revertResize.

Nova shows the flavors' internal integer ids (``old_instance_type_id``,
``new_instance_type_id``); onestack has no such ids, so both are null.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import BadRequest
from onestack.compute.listing import parse_time
from onestack.compute.models import ComputeNode, Instance, Migration

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

RESIZE = "resize"
#: the statuses a resize record may be in while its step runs, per next status
_FROM = {
    "migrating": ("pre-migrating",),
    "finished": ("migrating",),
    "error": ("pre-migrating", "migrating", "confirming", "reverting"),
    "confirming": ("finished",),
    "confirmed": ("confirming",),
    "reverting": ("finished",),
    "reverted": ("reverting",),
}


def record_resize(
    session: Session, instance: Instance, new_flavor_id: str, user_id: str | None
) -> Migration:
    """A ``pre-migrating`` resize record of ``instance`` on its own host (in the caller's
    transaction)."""
    node = session.scalars(select(ComputeNode).where(ComputeNode.host == instance.host)).first()
    row = Migration(
        uuid=str(uuid.uuid4()),
        instance_uuid=instance.id,
        migration_type=RESIZE,
        status="pre-migrating",
        source_compute=instance.host,
        source_node=instance.node,
        dest_compute=instance.host,
        dest_node=instance.node,
        dest_host=node.host_ip if node is not None else None,
        old_flavor_id=instance.flavor_id,
        new_flavor_id=new_flavor_id,
        hidden=False,
        user_id=user_id or instance.user_id,
        project_id=instance.project_id,
        created_at=utcnow(),
    )
    session.add(row)
    return row


def advance(session: Session, instance_id: str, status: str) -> None:
    """Move the instance's latest resize record to ``status`` when it is in the step
    before (nothing happens otherwise: a server resized before records were kept)."""
    latest = session.scalars(
        select(Migration)
        .where(Migration.instance_uuid == instance_id, Migration.migration_type == RESIZE)
        .order_by(Migration.id.desc())
        .limit(1)
    ).first()
    if latest is not None and latest.status in _FROM[status]:
        session.execute(
            update(Migration)
            .where(Migration.id == latest.id)
            .values(status=status, updated_at=utcnow())
        )


def advance_in(db: Database, instance_id: str, status: str) -> None:
    with db.writer() as session:
        advance(session, instance_id, status)


@dataclass(frozen=True)
class MigrationQuery:
    """``GET /os-migrations``'s filters and paging (paging from 2.59)."""

    status: str | None = None
    host: str | None = None
    source_compute: str | None = None
    instance_uuid: str | None = None
    migration_type: str | None = None
    hidden: str | None = None
    changes_since: str | None = None
    changes_before: str | None = None
    user_id: str | None = None
    project_id: str | None = None
    limit: int | None = None
    marker: str | None = None
    paged: bool = False


class MigrationManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db

    def list(self, ctx: RequestContext, q: MigrationQuery) -> tuple[list[Migration], bool]:
        """The records ``q`` selects, and whether the caller may see hosts (Nova's
        ``index:host`` rule; without it the host fields are null)."""
        self.core.enforce(ctx, "os-migrations:index", q.project_id or ctx.project_id)
        if not q.project_id or q.project_id != ctx.project_id:
            self.core.enforce(ctx, "os-migrations:index:all_projects")
        show_hosts = self.core.enforcer.authorize(ctx, "os_compute_api:os-migrations:index:host")
        stmt = select(Migration)
        if q.status:
            stmt = stmt.where(Migration.status == q.status)
        if q.host:
            stmt = stmt.where(
                or_(Migration.source_compute == q.host, Migration.dest_compute == q.host)
            )
        elif q.source_compute:
            stmt = stmt.where(Migration.source_compute == q.source_compute)
        if q.migration_type:
            stmt = stmt.where(Migration.migration_type == q.migration_type)
        if q.hidden is not None:
            stmt = stmt.where(Migration.hidden == (q.hidden.lower() in ("1", "true", "yes")))
        if q.instance_uuid:
            stmt = stmt.where(Migration.instance_uuid == q.instance_uuid)
        if q.user_id:
            stmt = stmt.where(Migration.user_id == q.user_id)
        if q.project_id:
            stmt = stmt.where(Migration.project_id == q.project_id)
        since = parse_time(q.changes_since, "changes-since") if q.changes_since else None
        before = parse_time(q.changes_before, "changes-before") if q.changes_before else None
        if since is not None and before is not None and before < since:
            raise BadRequest(
                "The value of changes-since must be less than or equal to changes-before."
            )
        if since is not None:
            stmt = stmt.where(Migration.updated_at >= since)
        if before is not None:
            stmt = stmt.where(Migration.updated_at <= before)
        with self.db.reader() as session:
            if not q.paged:
                return list(session.scalars(stmt.order_by(Migration.id))), show_hosts
            stmt = stmt.order_by(Migration.created_at.desc(), Migration.id.desc())
            if q.marker is not None:
                marker = session.scalars(
                    select(Migration).where(Migration.uuid == q.marker)
                ).first()
                if marker is None:
                    raise BadRequest(f"Marker {q.marker} could not be found.")
                stmt = stmt.where(
                    or_(
                        Migration.created_at < marker.created_at,
                        (Migration.created_at == marker.created_at) & (Migration.id < marker.id),
                    )
                )
            if q.limit is not None:
                stmt = stmt.limit(q.limit)
            return list(session.scalars(stmt)), show_hosts

    def server_live_migrations(
        self, ctx: RequestContext, server_id: str, show: bool = False
    ) -> None:
        """Check the caller may list (or show) the server's in-progress live migrations;
        onestack never has any."""
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
        rule = "servers:migrations:show" if show else "servers:migrations:index"
        self.core.enforce(ctx, rule, instance.project_id)
