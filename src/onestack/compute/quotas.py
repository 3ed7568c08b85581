"""Compute quotas (os-quota-sets) and absolute limits (/limits).

Usage is counted from the instance table (instances, cores, ram) and the
server group table; key pairs are counted per user, server group members per
group, as Nova does.  Checks run inside the create transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.exceptions import NotSupported
from onestack.common.quota import QuotaEngine, QuotaResource
from onestack.compute.exceptions import QuotaExceeded
from onestack.compute.models import Instance, Keypair, ServerGroup

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore


def _instances(session: Session, project_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(Instance.project_id == project_id, ~Instance.deleted)
        )
        or 0
    )


def _sum(column: Any) -> Any:
    def count(session: Session, project_id: str) -> int:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(column), 0)).where(
                    Instance.project_id == project_id, ~Instance.deleted
                )
            )
            or 0
        )

    return count


def _groups(session: Session, project_id: str) -> int:
    return int(
        session.scalar(select(func.count()).where(ServerGroup.project_id == project_id)) or 0
    )


def _zero(session: Session, project_id: str) -> int:
    return 0


RESOURCES = [
    QuotaResource("instances", 10, _instances),
    QuotaResource("cores", 20, _sum(Instance.vcpus)),
    QuotaResource("ram", 51200, _sum(Instance.memory_mb)),
    QuotaResource("key_pairs", 100, _zero),
    QuotaResource("metadata_items", 128, _zero),
    QuotaResource("server_groups", 10, _groups),
    QuotaResource("server_group_members", 10, _zero),
    QuotaResource("injected_files", 5, _zero),
    QuotaResource("injected_file_content_bytes", 10240, _zero),
    QuotaResource("injected_file_path_bytes", 255, _zero),
]
#: shown before 2.36 (the network service owns them); not enforced here
LEGACY = {
    "floating_ips": 10,
    "fixed_ips": -1,
    "security_groups": 10,
    "security_group_rules": 20,
}
#: nova-network's keys of the ``default`` quota class (before 2.50): Nova keeps what
#: is set and shows it, and enforces none of them; their own rows, apart from the
#: enforced compute limits
LEGACY_RESOURCES = [QuotaResource(name, default, _zero) for name, default in LEGACY.items()]
#: the quota classes Nova reads: only ``default`` (every project's defaults) has effect
DEFAULT_CLASS = "default"
REMOVED_IN_2_57 = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def engine() -> QuotaEngine:
    return QuotaEngine("compute", RESOURCES, QuotaExceeded)


class QuotaManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db
        self.enforcer = core.enforcer
        self.engine = core.quota
        self.legacy = QuotaEngine("compute-network", LEGACY_RESOURCES, QuotaExceeded)

    def _target(self, project_id: str) -> dict[str, Any]:
        return {"project_id": project_id}

    def show(self, ctx: RequestContext, project_id: str) -> dict[str, int]:
        self.enforcer.enforce(ctx, "os_compute_api:os-quota-sets:show", self._target(project_id))
        with self.db.reader() as session:
            return self.engine.limits(session, project_id)

    def detail(self, ctx: RequestContext, project_id: str) -> dict[str, dict[str, int]]:
        self.enforcer.enforce(ctx, "os_compute_api:os-quota-sets:detail", self._target(project_id))
        with self.db.reader() as session:
            usage = self.engine.usage(session, project_id)
            result = {
                name: {"limit": u.limit, "in_use": u.in_use, "reserved": 0}
                for name, u in usage.items()
            }
            if ctx.user_id:
                result["key_pairs"]["in_use"] = count_keypairs(session, ctx.user_id)
            return result

    def defaults(self, ctx: RequestContext) -> dict[str, int]:
        self.enforcer.enforce(ctx, "os_compute_api:os-quota-sets:defaults")
        with self.db.reader() as session:
            return self.engine.defaults(session)

    def update(
        self, ctx: RequestContext, project_id: str, limits: dict[str, int]
    ) -> dict[str, int]:
        self.enforcer.enforce(ctx, "os_compute_api:os-quota-sets:update", self._target(project_id))
        with self.db.writer() as session:
            self.engine.set_limits(session, project_id, limits)
        with self.db.reader() as session:
            return self.engine.limits(session, project_id)

    def reset(self, ctx: RequestContext, project_id: str) -> None:
        self.enforcer.enforce(ctx, "os_compute_api:os-quota-sets:delete", self._target(project_id))
        with self.db.writer() as session:
            self.engine.reset(session, project_id)

    # -- quota classes (os-quota-class-sets) -------------------------------------------

    def class_limits(self, ctx: RequestContext, quota_class: str) -> dict[str, int]:
        """A quota class's limits: Nova gives every class the defaults unless it set
        its own, and onestack keeps only the ``default`` class (the defaults)."""
        self.enforcer.enforce(
            ctx, "os_compute_api:os-quota-class-sets:show", {"quota_class": quota_class}
        )
        with self.db.reader() as session:
            return {**self.engine.defaults(session), **self.legacy.defaults(session)}

    def update_class(
        self, ctx: RequestContext, quota_class: str, limits: dict[str, int]
    ) -> dict[str, int]:
        """Set the ``default`` class (every project's defaults); other classes, which
        Nova stores but never applies, are not kept (501)."""
        self.enforcer.enforce(
            ctx, "os_compute_api:os-quota-class-sets:update", {"quota_class": quota_class}
        )
        if quota_class != DEFAULT_CLASS:
            raise NotSupported(operation=f"Quota class {quota_class!r} (only 'default')")
        with self.db.writer() as session:
            self.engine.set_defaults(session, {k: v for k, v in limits.items() if k not in LEGACY})
            self.legacy.set_defaults(session, {k: v for k, v in limits.items() if k in LEGACY})
        with self.db.reader() as session:
            return {**self.engine.defaults(session), **self.legacy.defaults(session)}

    def absolute_limits(self, ctx: RequestContext, project_id: str | None) -> dict[str, Any]:
        project = project_id or ctx.project_id or ""
        if project_id and project_id != ctx.project_id:
            self.enforcer.enforce(ctx, "os_compute_api:limits:other_project", {})
        with self.db.reader() as session:
            usage = self.engine.usage(session, project)
        return {name: (u.limit, u.in_use) for name, u in usage.items()}


def count_keypairs(session: Session, user_id: str) -> int:
    return int(session.scalar(select(func.count()).where(Keypair.user_id == user_id)) or 0)
