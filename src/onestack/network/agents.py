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
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
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
from onestack.network.exceptions import AgentNotFound, HTTPBadRequest
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

    def hosting_router(self, ctx: RequestContext, router_id: str) -> list[dict[str, Any]]:
        """``GET /v2.0/routers/{id}/l3-agents``."""
        self.core.enforce(ctx, "get_agent", {})
        return self._hosting(models.RouterAgentBinding.router_id == router_id,
                             models.RouterAgentBinding)  # fmt: skip

    def hosting_network(self, ctx: RequestContext, network_id: str) -> list[dict[str, Any]]:
        """``GET /v2.0/networks/{id}/dhcp-agents``."""
        self.core.enforce(ctx, "get_agent", {})
        return self._hosting(models.DhcpAgentBinding.network_id == network_id,
                             models.DhcpAgentBinding)  # fmt: skip

    def _hosting(self, where: Any, table: Any) -> list[dict[str, Any]]:
        with self.core.db.reader() as session:
            ids = list(session.scalars(select(table.agent_id).where(where)))
            rows = [session.get(models.Agent, i) for i in ids]
            return [self.view(r) for r in rows if r is not None]

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
                    select(models.Subnet.network_id).where(
                        models.Subnet.enable_dhcp, models.Subnet.ip_version == 4
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
            for router_id in sorted(set(session.scalars(select(models.Router.id))) - hosted):
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
