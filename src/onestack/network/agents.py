"""Network agents as Neutron reports them, their liveness, and what they are given.

Every host with the network role runs an L2 agent (the Linux bridge agent: its
instance ports, its bridges and tunnels) and, where chosen, a DHCP agent, an
L3 agent and a metadata agent, all in one onestack process.  Each agent has a
row (``network_agents``) that its host refreshes every ``report_interval``
seconds; one silent for ``agent_down_time`` seconds (75 by default, as in
Neutron) is not ``alive``.  The L2 agent reports its tunnel endpoint
(``configurations.tunneling_ip``), from which every host learns where the
other hosts' ports are (l2population).

Scheduling (Neutron's ``network_auto_schedule`` and ``router_auto_schedule``):
at each pass a DHCP agent binds every network with an IPv4 DHCP subnet that
has no DHCP agent yet to the least loaded live DHCP agent, and an L3 agent
binds every router without one to the least loaded live L3 agent; a binding
stays when its agent goes down (no automatic failover).  The DHCP port of a
network and the ports of a router are then bound (``binding:host_id``) to
their agent's host.  A port bound to a host without a live L2 agent shows
``binding:vif_type`` ``binding_failed``.

An admin moves them by hand (Neutron's ``dhcp_agent_scheduler`` and
``l3_agent_scheduler`` extensions): removing a network from its DHCP agent
stops its DHCP server, removing a router from its L3 agent removes its
namespace (it forwards nothing), and auto-scheduling leaves either alone
(``dhcp_unscheduled``, ``l3_unscheduled``) until an admin adds it to an
agent again, as Neutron leaves it unhosted until a rescheduling event.  One
agent per network or router: adding a network another DHCP agent serves is
a conflict (Neutron would give it a second DHCP server).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.network import models
from onestack.network.core import NetworkCore
from onestack.network.exceptions import (
    AgentNotFound,
    HTTPBadRequest,
    InvalidDHCPAgent,
    InvalidL3Agent,
    NetworkHostedByDHCPAgent,
    NetworkNotFound,
    NetworkNotHostedByDhcpAgent,
    RouterHostedByL3Agent,
    RouterNotFound,
    RouterNotHostedByL3Agent,
)
from onestack.network.models import DHCP_AGENT, L2_AGENT, L3_AGENT, METADATA_AGENT


@dataclass(frozen=True)
class AgentKind:
    agent_type: str
    binary: str
    topic: str
    #: whether Neutron shows the agent's availability zone (DHCP and L3 only)
    zoned: bool = False


L2 = AgentKind(L2_AGENT, "neutron-linuxbridge-agent", "N/A")
DHCP = AgentKind(DHCP_AGENT, "neutron-dhcp-agent", "dhcp_agent", zoned=True)
L3 = AgentKind(L3_AGENT, "neutron-l3-agent", "l3_agent", zoned=True)
METADATA = AgentKind(METADATA_AGENT, "neutron-metadata-agent", "N/A")

ROUTER_OWNERS = ("network:router_interface", "network:router_gateway")


@dataclass(frozen=True)
class Hosting:
    """What one scheduler extension gives agents: networks (to DHCP agents) or routers
    (to L3 agents), one agent each, and how Neutron names the errors about it."""

    collection: str  # the sub-collection under /v2.0/agents/{id}, and its policy name
    agent_type: str
    table: Any  # the binding model, keyed by the resource's id
    resource: Any  # the network or router model
    key: str  # the request body's and binding's attribute
    held: str  # the resource's column set while an admin left it unhosted
    not_found: Callable[[str], Exception]
    invalid_agent: Callable[..., Exception]
    hosted: Callable[..., Exception]
    not_hosted: Callable[..., Exception]
    #: adding again to the agent that hosts it is a conflict (DHCP) or nothing (L3)
    readd_conflicts: bool


DHCP_NETWORKS = Hosting(
    "dhcp-networks", DHCP_AGENT, models.DhcpAgentBinding, models.Network, "network_id",
    "dhcp_unscheduled", lambda i: NetworkNotFound(net_id=i), InvalidDHCPAgent,
    NetworkHostedByDHCPAgent, NetworkNotHostedByDhcpAgent, readd_conflicts=True,
)  # fmt: skip
L3_ROUTERS = Hosting(
    "l3-routers", L3_AGENT, models.RouterAgentBinding, models.Router, "router_id",
    "l3_unscheduled", lambda i: RouterNotFound(router_id=i), InvalidL3Agent,
    RouterHostedByL3Agent, RouterNotHostedByL3Agent, readd_conflicts=False,
)  # fmt: skip


def _time(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


class NetworkAgents:
    def __init__(self, core: NetworkCore) -> None:
        self.core = core

    # liveness ------------------------------------------------------------------------------

    def alive(self, row: models.Agent, now: datetime | None = None) -> bool:
        if row.heartbeat_timestamp is None:
            return False
        if self.core.faults.agent_down("network", row.host, object_session(row)):
            return False  # an injected agent_down fault
        limit = timedelta(seconds=self.core.settings.agent_down_time)
        return (now or utcnow()) - row.heartbeat_timestamp <= limit

    def report(
        self,
        host: str,
        kinds: Sequence[AgentKind],
        configurations: Mapping[str, Any],
        *,
        heartbeat: bool = True,
        starting: bool = False,
    ) -> None:
        """Create or refresh ``host``'s agents (``heartbeat``: they run and are alive)."""
        now = utcnow()
        zone = self.core.settings.availability_zone
        with self.core.db.writer() as session:
            rows = {
                r.agent_type: r
                for r in session.scalars(select(models.Agent).where(models.Agent.host == host))
            }
            for kind in kinds:
                row = rows.get(kind.agent_type)
                if row is None:
                    row = models.Agent(
                        id=str(uuid.uuid4()), agent_type=kind.agent_type, host=host,
                        admin_state_up=True, created_at=now, started_at=now,
                    )  # fmt: skip
                    session.add(row)
                row.binary = kind.binary
                row.topic = kind.topic
                row.availability_zone = zone if kind.zoned else None
                row.configurations = dict(configurations)
                if starting:
                    row.started_at = now
                if heartbeat:
                    row.heartbeat_timestamp = now

    def live_l2_hosts(self, session: Session, hosts: set[str]) -> set[str]:
        """Which of ``hosts`` have a live, enabled L2 agent (ports bind there)."""
        rows = session.scalars(
            select(models.Agent).where(
                models.Agent.agent_type == L2_AGENT, models.Agent.host.in_(sorted(hosts))
            )
        )
        now = utcnow()
        return {r.host for r in rows if r.admin_state_up and self.alive(r, now)}

    # the API (GET/PUT/DELETE /v2.0/agents) ------------------------------------------------------

    def view(self, row: models.Agent, now: datetime | None = None) -> dict[str, Any]:
        return {
            "id": row.id, "agent_type": row.agent_type, "binary": row.binary,
            "topic": row.topic, "host": row.host, "admin_state_up": row.admin_state_up,
            "created_at": _time(row.created_at), "started_at": _time(row.started_at),
            "heartbeat_timestamp": _time(row.heartbeat_timestamp),
            "description": row.description, "alive": self.alive(row, now),
            "configurations": dict(row.configurations or {}),
            "availability_zone": row.availability_zone, "resources_synced": None,
        }  # fmt: skip

    def list_agents(
        self, ctx: RequestContext, filters: Mapping[str, Sequence[str]]
    ) -> list[dict[str, Any]]:
        """Every agent, filtered by equality on its fields (none for a caller policy does
        not let see them: Neutron filters lists by policy)."""
        if not self.core.allowed(ctx, "get_agent", {}):
            return []
        now = utcnow()
        with self.core.db.reader() as session:
            rows = list(
                session.scalars(select(models.Agent).order_by(models.Agent.host, models.Agent.id))
            )
            views = [self.view(r, now) for r in rows]
        known = {"id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive",
                 "availability_zone", "description"}  # fmt: skip
        for key, wanted in filters.items():
            if key not in known:
                continue
            views = [v for v in views if _text(v[key]) in {_text(w) for w in wanted}]
        return views

    def get(self, ctx: RequestContext, agent_id: str) -> dict[str, Any]:
        self.core.enforce(ctx, "get_agent", {})
        with self.core.db.reader() as session:
            row = session.get(models.Agent, agent_id)
            if row is None:
                raise AgentNotFound(id=agent_id)
            return self.view(row)

    def update(self, ctx: RequestContext, agent_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.core.enforce(ctx, "update_agent", {})
        unknown = set(body) - {"admin_state_up", "description"}
        if unknown:
            raise HTTPBadRequest(detail=f"Cannot update read-only attribute {sorted(unknown)[0]}")
        with self.core.db.writer() as session:
            row = session.get(models.Agent, agent_id)
            if row is None:
                raise AgentNotFound(id=agent_id)
            if "admin_state_up" in body:
                if not isinstance(body["admin_state_up"], bool):
                    raise HTTPBadRequest(detail="admin_state_up must be a boolean")
                row.admin_state_up = body["admin_state_up"]
            if "description" in body:
                row.description = body["description"]
            session.flush()
            view = self.view(row)
        self.core.changed()
        return view

    def delete(self, ctx: RequestContext, agent_id: str) -> None:
        self.core.enforce(ctx, "delete_agent", {})
        with self.core.db.writer() as session:
            row = session.get(models.Agent, agent_id)
            if row is None:
                raise AgentNotFound(id=agent_id)
            session.delete(row)
        self.core.changed()

    # the scheduler extensions (dhcp_agent_scheduler, l3_agent_scheduler) -----------------------

    def hosting_router(self, ctx: RequestContext, router_id: str) -> list[dict[str, Any]]:
        """``GET /v2.0/routers/{id}/l3-agents``."""
        self.core.enforce(ctx, "get_l3-agents", {})
        return self._hosting(models.RouterAgentBinding.router_id == router_id,
                             models.RouterAgentBinding)  # fmt: skip

    def hosting_network(self, ctx: RequestContext, network_id: str) -> list[dict[str, Any]]:
        """``GET /v2.0/networks/{id}/dhcp-agents``."""
        self.core.enforce(ctx, "get_dhcp-agents", {})
        return self._hosting(models.DhcpAgentBinding.network_id == network_id,
                             models.DhcpAgentBinding)  # fmt: skip

    def _hosting(self, where: Any, table: Any) -> list[dict[str, Any]]:
        with self.core.db.reader() as session:
            ids = list(session.scalars(select(table.agent_id).where(where)))
            rows = [session.get(models.Agent, i) for i in ids]
            return [self.view(r) for r in rows if r is not None]

    def hosted(self, ctx: RequestContext, agent_id: str, kind: Hosting) -> list[str]:
        """``GET /v2.0/agents/{id}/dhcp-networks`` or ``.../l3-routers``: the ids of
        what the agent was given (the manager shows them as the collection does)."""
        self.core.enforce(ctx, f"get_{kind.collection}", {})
        with self.core.db.reader() as session:
            if session.get(models.Agent, agent_id) is None:
                raise AgentNotFound(id=agent_id)
            column = getattr(kind.table, kind.key)
            return sorted(session.scalars(select(column).where(kind.table.agent_id == agent_id)))

    def add(self, ctx: RequestContext, agent_id: str, kind: Hosting, body: Any) -> None:
        """``POST /v2.0/agents/{id}/dhcp-networks`` (``{"network_id": ...}``) or
        ``.../l3-routers`` (``{"router_id": ...}``): the agent serves it from the next
        pass of its host, and it is auto-scheduled again if it loses that agent."""
        self.core.enforce(ctx, f"create_{kind.collection[:-1]}", {})
        if not isinstance(body, dict) or not isinstance(body.get(kind.key), str):
            raise HTTPBadRequest(detail=f"'{kind.key}' is required (a string)")
        item_id = body[kind.key]
        with self.core.db.writer() as session:
            item = session.get(kind.resource, item_id)
            if item is None:
                raise kind.not_found(item_id)
            agent = session.get(models.Agent, agent_id)
            if agent is None:
                raise AgentNotFound(id=agent_id)
            if agent.agent_type != kind.agent_type or not agent.admin_state_up:
                raise kind.invalid_agent(id=agent_id)
            current = session.get(kind.table, item_id)
            if current is not None:
                if current.agent_id == agent_id and not kind.readd_conflicts:
                    return  # Neutron: a router already on this agent stays, nothing to do
                raise kind.hosted(**{kind.key: item_id, "agent_id": current.agent_id})
            session.add(kind.table(**{kind.key: item_id, "agent_id": agent_id}))
            setattr(item, kind.held, False)
        self.core.changed()

    def remove(self, ctx: RequestContext, agent_id: str, kind: Hosting, item_id: str) -> None:
        """``DELETE /v2.0/agents/{id}/dhcp-networks/{network_id}`` or
        ``.../l3-routers/{router_id}``: the agent's host stops serving it (its DHCP
        server, or its router namespace) at its next pass, and no agent is given it
        again until an admin adds it to one."""
        self.core.enforce(ctx, f"delete_{kind.collection[:-1]}", {})
        with self.core.db.writer() as session:
            if session.get(models.Agent, agent_id) is None:
                raise AgentNotFound(id=agent_id)
            current = session.get(kind.table, item_id)
            if current is None or current.agent_id != agent_id:
                raise kind.not_hosted(**{kind.key: item_id, "agent_id": agent_id})
            session.delete(current)
            item = session.get(kind.resource, item_id)
            if item is not None:
                setattr(item, kind.held, True)
        self.core.changed()

    # scheduling ---------------------------------------------------------------------------------

    def schedule(self, host: str) -> None:
        """Give unhosted networks (DHCP) and routers (L3) to live agents, then bind their
        ports to the hosts of the agents that have them.  A race with another host's
        pass loses harmlessly (the next pass sees the other's bindings)."""
        try:
            with self.core.db.writer() as session:
                self._schedule(session)
        except IntegrityError:
            pass
        with self.core.db.writer() as session:
            changed = self._bind_service_ports(session, host)
        if changed:
            self.core.changed()

    def _schedule(self, session: Session) -> None:
        now = utcnow()
        agents = [
            a for a in session.scalars(select(models.Agent))
            if a.admin_state_up and self.alive(a, now)
        ]  # fmt: skip
        dhcp = [a for a in agents if a.agent_type == DHCP_AGENT]
        l3 = [a for a in agents if a.agent_type == L3_AGENT]
        if dhcp:
            bound = Counter(b.agent_id for b in session.scalars(select(models.DhcpAgentBinding)))
            hosted = set(session.scalars(select(models.DhcpAgentBinding.network_id)))
            wanted = set(
                session.scalars(
                    select(models.Subnet.network_id)
                    .join(models.Network, models.Network.id == models.Subnet.network_id)
                    .where(
                        models.Subnet.enable_dhcp,
                        models.Subnet.ip_version == 4,
                        ~models.Network.dhcp_unscheduled,
                    )
                )
            )
            for network_id in sorted(wanted - hosted):
                agent = min(dhcp, key=lambda a: (bound[a.id], a.host))
                session.add(models.DhcpAgentBinding(network_id=network_id, agent_id=agent.id))
                bound[agent.id] += 1
        if l3:
            bound = Counter(b.agent_id for b in session.scalars(select(models.RouterAgentBinding)))
            hosted = set(session.scalars(select(models.RouterAgentBinding.router_id)))
            routers = select(models.Router.id).where(~models.Router.l3_unscheduled)
            for router_id in sorted(set(session.scalars(routers)) - hosted):
                agent = min(l3, key=lambda a: (bound[a.id], a.host))
                session.add(models.RouterAgentBinding(router_id=router_id, agent_id=agent.id))
                bound[agent.id] += 1

    def _bind_service_ports(self, session: Session, host: str) -> bool:
        mine = {
            a.id: a.agent_type
            for a in session.scalars(select(models.Agent).where(models.Agent.host == host))
        }
        if not mine:
            return False
        networks = set(
            session.scalars(
                select(models.DhcpAgentBinding.network_id).where(
                    models.DhcpAgentBinding.agent_id.in_(list(mine))
                )
            )
        )
        routers = set(
            session.scalars(
                select(models.RouterAgentBinding.router_id).where(
                    models.RouterAgentBinding.agent_id.in_(list(mine))
                )
            )
        )
        ports: list[models.Port] = []
        if networks:
            dhcp_ports = select(models.Port).where(
                models.Port.network_id.in_(sorted(networks)),
                models.Port.device_owner == "network:dhcp",
            )
            ports.extend(session.scalars(dhcp_ports))
        if routers:
            router_ports = select(models.Port).where(
                models.Port.device_id.in_(sorted(routers)),
                models.Port.device_owner.in_(ROUTER_OWNERS),
            )
            ports.extend(session.scalars(router_ports))
        changed = False
        for port in ports:
            if port.binding_host_id != host:
                port.binding_host_id = host
                self.core.bump(port)
                changed = True
        return changed


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value).lower()
