"""What every part of the networking service shares: the database, policy,
settings, quotas, standard attributes (revisions, tags), lookups with
tenant visibility, this host's data plane and the hook that wakes the
network agent.

Visibility is Neutron's: a project sees its own resources, and shared and
external networks (with their subnets); an administrator sees everything.
A resource that is not visible is reported as not found, never forbidden.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import Session

from onestack.common.context import RequestContext
from onestack.common.db import Database, utcnow
from onestack.common.exceptions import PolicyNotAuthorized as CommonPolicyNotAuthorized
from onestack.common.faults import FaultStore
from onestack.common.policy import Enforcer
from onestack.common.quota import QuotaEngine, QuotaResource
from onestack.network import models
from onestack.network.attrs import as_str
from onestack.network.conf import NetworkSettings
from onestack.network.driver import MetadataSource, NetworkDataPlane
from onestack.network.exceptions import (
    FloatingIPNotFound,
    HTTPBadRequest,
    NetworkNotFound,
    OverQuota,
    PolicyNotAuthorized,
    PortNotFound,
    QuotaExceeded,
    RevisionNumberConstraintFailed,
    RouterNotFound,
    SecurityGroupNotFound,
    SubnetNotFound,
    SubnetPoolNotFound,
)
from onestack.network.listing import attach_tags
from onestack.network.models import (
    FloatingIP,
    Network,
    Port,
    Router,
    SecurityGroup,
    SecurityGroupRule,
    Subnet,
    SubnetPool,
)

if TYPE_CHECKING:
    from onestack.network.agent import NetworkAgent

LOG = logging.getLogger(__name__)

QUOTA_MODELS: dict[str, type[Any]] = {
    "network": Network,
    "subnet": Subnet,
    "port": Port,
    "router": Router,
    "floatingip": FloatingIP,
    "security_group": SecurityGroup,
    "security_group_rule": SecurityGroupRule,
    "subnetpool": SubnetPool,
}


def _live_l2_hosts(session: Session, hosts: set[str], down_time: float) -> set[str]:
    """Which of ``hosts`` have an enabled L2 agent heard from within ``down_time``."""
    rows = session.execute(
        select(
            models.Agent.host, models.Agent.heartbeat_timestamp, models.Agent.admin_state_up
        ).where(models.Agent.agent_type == models.L2_AGENT, models.Agent.host.in_(sorted(hosts)))
    ).all()
    cutoff = utcnow() - timedelta(seconds=down_time)
    return {host for host, beat, up in rows if up and beat is not None and beat >= cutoff}


def _counter(model: type[Any]) -> Callable[[Session, str], int]:
    def count(session: Session, project_id: str) -> int:
        stmt = select(func.count()).select_from(model).where(model.project_id == project_id)
        return int(session.scalar(stmt) or 0)

    return count


class NetworkCore:
    """State and helpers shared by the networking sub-managers."""

    def __init__(
        self,
        settings: NetworkSettings,
        db: Database,
        enforcer: Enforcer,
        plane: NetworkDataPlane,
        metadata: MetadataSource,
    ) -> None:
        self.settings = settings
        self.db = db
        self.enforcer = enforcer
        #: injected faults (``agent_down`` makes a host's agents not alive)
        self.faults = FaultStore(db)
        resources = [
            QuotaResource(name, getattr(settings, f"quota_{name}"), _counter(model))
            for name, model in QUOTA_MODELS.items()
        ]
        self.quotas = QuotaEngine("network", resources, exceeded=QuotaExceeded)
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        #: this host's data plane (NoDataPlane on the API-only tier)
        self.plane = plane
        #: where the metadata service gets instance data from
        self.metadata = metadata
        #: the network agent while it runs in this process (it applies the database to
        #: ``plane``); None before start, after stop, and without a data plane
        self.agent: NetworkAgent | None = None

    # agent notifications --------------------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every change to what the data plane shows."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def changed(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:
                LOG.exception("network change listener %r failed", listener)

    # policy ---------------------------------------------------------------------------

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

    # quotas ---------------------------------------------------------------------------

    def check_quota(self, session: Session, project_id: str, resource: str, count: int = 1) -> None:
        try:
            self.quotas.check(session, project_id, {resource: count})
        except QuotaExceeded:
            raise OverQuota(overs=f"['{resource}']") from None

    # standard attributes --------------------------------------------------------------

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

    def with_tags(self, session: Session, rows: Sequence[Any]) -> None:
        attach_tags(session, rows)
        ports = [r for r in rows if isinstance(r, Port)]
        hosts = {p.binding_host_id for p in ports if p.binding_host_id}
        if not hosts:
            return
        live = _live_l2_hosts(session, hosts, self.settings.agent_down_time)
        down = self.faults.hosts_down("network", session)  # injected agent_down faults
        live = set() if down is None else live - down
        for port in ports:
            if port.binding_host_id:
                port.vif_type = "bridge" if port.binding_host_id in live else "binding_failed"

    # lookups: what a context may see ---------------------------------------------------

    def networks_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Network)
        if not self.sees_all(ctx):
            stmt = stmt.where(
                or_(Network.project_id == ctx.project_id, Network.shared, Network.external)
            )
        return stmt

    def network(self, session: Session, ctx: RequestContext, network_id: str) -> Network:
        row = session.scalar(self.networks_visible(ctx).where(Network.id == network_id))
        if row is None:
            raise NetworkNotFound(net_id=network_id)
        return row

    def subnets_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Subnet)
        if not self.sees_all(ctx):
            visible = select(Network.id).where(or_(Network.shared, Network.external))
            stmt = stmt.where(
                or_(Subnet.project_id == ctx.project_id, Subnet.network_id.in_(visible))
            )
        return stmt

    def subnet(self, session: Session, ctx: RequestContext, subnet_id: str) -> Subnet:
        row = session.scalar(self.subnets_visible(ctx).where(Subnet.id == subnet_id))
        if row is None:
            raise SubnetNotFound(subnet_id=subnet_id)
        return row

    def subnetpools_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(SubnetPool)
        if not self.sees_all(ctx):
            stmt = stmt.where(or_(SubnetPool.project_id == ctx.project_id, SubnetPool.shared))
        return stmt

    def subnetpool(self, session: Session, ctx: RequestContext, pool_id: str) -> SubnetPool:
        row = session.scalar(self.subnetpools_visible(ctx).where(SubnetPool.id == pool_id))
        if row is None:
            raise SubnetPoolNotFound(subnetpool_id=pool_id)
        return row

    def ports_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Port)
        if not self.sees_all(ctx):
            owned_networks = select(Network.id).where(Network.project_id == ctx.project_id)
            stmt = stmt.where(
                (Port.project_id == ctx.project_id) | Port.network_id.in_(owned_networks)
            )
        return stmt

    def port(self, session: Session, ctx: RequestContext, port_id: str) -> Port:
        row = session.scalar(self.ports_visible(ctx).where(Port.id == port_id))
        if row is None:
            raise PortNotFound(port_id=port_id)
        return row

    def security_groups_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(SecurityGroup)
        if not self.sees_all(ctx):
            stmt = stmt.where(SecurityGroup.project_id == ctx.project_id)
        return stmt

    def security_group(self, session: Session, ctx: RequestContext, group_id: str) -> SecurityGroup:
        row = session.scalar(self.security_groups_visible(ctx).where(SecurityGroup.id == group_id))
        if row is None:
            raise SecurityGroupNotFound(id=group_id)
        return row

    def routers_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(Router)
        if not self.sees_all(ctx):
            stmt = stmt.where(Router.project_id == ctx.project_id)
        return stmt

    def router(self, session: Session, ctx: RequestContext, router_id: str) -> Router:
        row = session.scalar(self.routers_visible(ctx).where(Router.id == router_id))
        if row is None:
            raise RouterNotFound(router_id=router_id)
        return row

    def floatingips_visible(self, ctx: RequestContext) -> Select[Any]:
        stmt = select(FloatingIP)
        if not self.sees_all(ctx):
            stmt = stmt.where(FloatingIP.project_id == ctx.project_id)
        return stmt

    def floatingip(self, session: Session, ctx: RequestContext, fip_id: str) -> FloatingIP:
        row = session.scalar(self.floatingips_visible(ctx).where(FloatingIP.id == fip_id))
        if row is None:
            raise FloatingIPNotFound(floatingip_id=fip_id)
        return row
