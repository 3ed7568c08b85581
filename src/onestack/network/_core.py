"""What every part of the NetworkManager shares: database, policy, quotas,
revision checks, tags and the agent wake-up hook."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import PolicyNotAuthorized as CommonPolicyNotAuthorized
from onestack.common.policy import Enforcer
from onestack.common.quota import QuotaEngine, QuotaResource
from onestack.network import models
from onestack.network.attrs import as_str
from onestack.network.conf import NetworkSettings
from onestack.network.exceptions import (
    HTTPBadRequest,
    OverQuota,
    PolicyNotAuthorized,
    QuotaExceeded,
    RevisionNumberConstraintFailed,
)

LOG = logging.getLogger(__name__)

QUOTA_MODELS: dict[str, type[Any]] = {
    "network": models.Network,
    "subnet": models.Subnet,
    "port": models.Port,
    "router": models.Router,
    "floatingip": models.FloatingIP,
    "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule,
    "subnetpool": models.SubnetPool,
}


def _counter(model: type[Any]) -> Callable[[Session, str], int]:
    def count(session: Session, project_id: str) -> int:
        stmt = select(func.count()).select_from(model).where(model.project_id == project_id)
        return int(session.scalar(stmt) or 0)

    return count


class Core:
    """State and helpers shared by the resource mixins of NetworkManager."""

    def __init__(self, settings: NetworkSettings, db: Database, enforcer: Enforcer) -> None:
        self.settings = settings
        self.db = db
        self.enforcer = enforcer
        resources = [
            QuotaResource(name, getattr(settings, f"quota_{name}"), _counter(model))
            for name, model in QUOTA_MODELS.items()
        ]
        self.quotas = QuotaEngine("network", resources, exceeded=QuotaExceeded)
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        #: the local agent's instance plumbing (None: no data plane on this host)
        self.plumber: Any = None
        #: blocks until the local agent has applied what is in the database now, as Nova
        #: waits for Neutron's network-vif-plugged before it starts a server (None: no agent)
        self.wait_for_agent: Callable[[float], bool] | None = None
        #: where instance metadata comes from: one named in the settings, else the one
        #: the compute service registers
        self.configured_metadata_provider: Any = None
        self.registered_metadata_provider: Any = None

    @property
    def metadata_provider(self) -> Any:
        return self.configured_metadata_provider or self.registered_metadata_provider

    # agent notifications --------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change to what the data plane shows."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def changed(self) -> None:
        for listener in list(self._listeners):
            try:
                listener()
            except Exception:
                LOG.exception("network change listener failed")

    # policy -----------------------------------------------------------------

    def enforce(self, ctx: RequestContext, action: str, target: Mapping[str, Any]) -> None:
        try:
            self.enforcer.enforce(ctx, f"network:{action}", target)
        except CommonPolicyNotAuthorized:
            raise PolicyNotAuthorized(action=f"rule:{action}") from None

    def allowed(self, ctx: RequestContext, action: str, target: Mapping[str, Any]) -> bool:
        return self.enforcer.authorize(ctx, f"network:{action}", target)

    def owner_for_create(self, ctx: RequestContext, body: Mapping[str, Any]) -> str:
        """The project a new resource belongs to (admins may name another)."""
        project = body.get("project_id", body.get("tenant_id"))
        if "project_id" in body and "tenant_id" in body and body["project_id"] != body["tenant_id"]:
            raise HTTPBadRequest(detail="'project_id' and 'tenant_id' do not match")
        if project is None or project == ctx.project_id:
            return ctx.project_id or ""
        project = as_str("project_id", project)
        if not ctx.is_admin:
            raise HTTPBadRequest(
                detail="Specifying 'project_id' or 'tenant_id' other than the authenticated "
                "project in request requires admin privileges"
            )
        return project

    @staticmethod
    def sees_all(ctx: RequestContext) -> bool:
        return ctx.is_admin

    # quotas -----------------------------------------------------------------

    def check_quota(self, session: Session, project_id: str, resource: str, count: int = 1) -> None:
        try:
            self.quotas.check(session, project_id, {resource: count})
        except QuotaExceeded:
            raise OverQuota(overs=f"['{resource}']") from None

    # standard attributes ------------------------------------------------------

    @staticmethod
    def check_revision(row: Any, if_match: str | None) -> None:
        """``If-Match: revision_number=N`` must name the current revision (else 412)."""
        if not if_match:
            return
        for part in if_match.split(","):
            part = part.strip()
            if not part.startswith("revision_number="):
                continue
            value = part.partition("=")[2]
            try:
                expected = int(value)
            except ValueError:
                raise HTTPBadRequest(detail=f"Invalid If-Match header {if_match}") from None
            if expected != row.revision_number:
                raise RevisionNumberConstraintFailed(expected=expected, current=row.revision_number)

    @staticmethod
    def bump(row: Any) -> None:
        row.revision_number = (row.revision_number or 0) + 1
        row.updated_at = utcnow()

    @staticmethod
    def delete_tags(session: Session, resource_id: str) -> None:
        session.execute(delete(models.Tag).where(models.Tag.resource_id == resource_id))

    @staticmethod
    def set_tags(session: Session, row: Any, resource_type: str, tags: list[str]) -> None:
        session.execute(delete(models.Tag).where(models.Tag.resource_id == row.id))
        for tag in sorted(set(tags)):
            session.add(models.Tag(resource_id=row.id, tag=tag, resource_type=resource_type))
        row.tag_list = sorted(set(tags))
