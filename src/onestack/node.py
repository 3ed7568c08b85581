"""A host that joined a cloud: the agents of its roles, nothing of the control plane.

``onestack host join`` runs :func:`run_node`.  A controller (``onestack up
--controller``) writes a *join token* into its state directory and prints it:
the database URL, the bus URL, the identity URL and the region, and the
compute service user's password, base64 in one line (it is a credential:
whoever holds it can act as the cloud's agents).  A host started with it has
its own state directory and name and runs, by role:

- ``compute``: the compute agent (its driver, its image cache) and the L2 part
  of networking (its instances' ports, bridges and VXLAN tunnels): every
  compute host needs it;
- ``network``: the L2 part and the DHCP, L3 and metadata agents (networks'
  DHCP servers and routers are scheduled to the hosts with this role);
- ``compute`` also runs the metering poller of its instances (telemetry) when the
  token carries the poller's password;
- ``object``: a storage node (``object.storage_node``) serving
  ``object.node_devices`` ring devices on ``object.node_port``; the operator adds
  them to the controller's ring (``onestack ring add-device NAME --zone Z
  --address HOST:PORT``, then ``rebalance``), as with Swift's ring builder.

The agents register at once (``compute service list``, ``hypervisor list``,
``network agent list``) and report every ``heartbeat_interval`` /
``report_interval`` seconds.  Their control connections (database, bus,
APIs) leave from the process's own network namespace; only the data plane
goes where ``network.underlay_netns`` says (simulated hosts, ``cluster``).
- ``volume``: a volume agent with its own pool (``volume.backend``); its volumes
  attach only to servers on the same host (no block-export protocol crosses
  hosts here: docs/scaling.md), and volumes from images are refused (503):
  the agent has no image client yet.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from onestack.common.bus import Bus, create_bus
from onestack.common.bus.bridge import LoopBridge
from onestack.common.db import Database
from onestack.common.policy import Enforcer
from onestack.config import Settings

LOG = logging.getLogger(__name__)

TOKEN_FILE = "join-token"
TOKEN_PREFIX = "osjoin1."
ROLES = ("compute", "network", "object", "volume")


class JoinTokenError(ValueError):
    pass


@dataclass(frozen=True)
class JoinToken:
    db_url: str
    bus_url: str
    identity_url: str
    region: str
    service_user: str
    service_password: str
    #: the metering poller's user (``ceilometer``); '' when the cloud has no telemetry
    telemetry_password: str = ""
    #: the volume service's user (``cinder``, backups to object storage); '' without one
    volume_password: str = ""

    def encode(self) -> str:
        data = json.dumps(asdict(self), separators=(",", ":")).encode()
        return TOKEN_PREFIX + base64.urlsafe_b64encode(data).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> JoinToken:
        text = text.strip()
        if not text.startswith(TOKEN_PREFIX):
            raise JoinTokenError("not an onestack join token (it starts with osjoin1.)")
        body = text[len(TOKEN_PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            return cls(**{k: str(data[k]) for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, KeyError, TypeError) as exc:
            raise JoinTokenError(f"a damaged join token: {exc}") from None

    def settings(self, **given: Any) -> dict[str, Any]:
        """The flags a host's ``Settings`` gets from this token (``given`` wins)."""
        url = urlsplit(self.identity_url)
        flags: dict[str, Any] = {
            "db_url": self.db_url,
            "bus_url": self.bus_url,
            "region": self.region,
            "public_host": url.hostname or "127.0.0.1",
        }
        flags.update(given)
        return flags


def write_token(
    settings: Settings, password: str, telemetry_password: str = "", volume_password: str = ""
) -> Path:
    """The controller's join token, written (mode 0600) into its state directory."""
    token = JoinToken(
        db_url=settings.database_url,
        bus_url=settings.bus_url,
        identity_url=settings.url("identity"),
        region=settings.region,
        service_user=settings.compute.service_user,
        service_password=password,
        telemetry_password=telemetry_password,
        volume_password=volume_password,
    )
    path = settings.state_dir / TOKEN_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token.encode() + "\n")
    return path


def host_settings(token: JoinToken, name: str, roles: set[str], **given: Any) -> Settings:
    """A joined host's settings: the token's connections, its name everywhere."""
    from onestack.config import Ports, load_settings

    identity_port = urlsplit(token.identity_url).port or 5000
    base = load_settings(**token.settings(**given))
    ports = base.ports.model_copy(update={"identity": identity_port})
    compute = base.compute.model_copy(
        update={"host": name, "service_user": token.service_user,
                "service_password": token.service_password}
    )  # fmt: skip
    network_role = "network" in roles
    network = base.network.model_copy(
        update={"host": name, "dhcp_agent": network_role, "l3_agent": network_role}
    )
    volume = base.volume.model_copy(
        update={"host": name, "service_password": token.volume_password or None}
    )
    telemetry = base.telemetry.model_copy(
        update={"host": name, "auth_url": token.identity_url + "/v3",
                "service_password": token.telemetry_password or None}
    )  # fmt: skip
    assert isinstance(ports, Ports)
    return base.model_copy(
        update={"ports": ports, "compute": compute, "network": network, "volume": volume,
                "telemetry": telemetry}
    )  # fmt: skip


class NodeParts:
    """What one joined host runs, started in order and stopped in reverse."""

    def __init__(self) -> None:
        self.stops: list[Callable[[], Any]] = []

    async def stop(self) -> None:
        for stop in reversed(self.stops):
            try:
                result = stop()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                LOG.exception("stopping a part of this host failed")


async def _start_network(settings: Settings, db: Database, bus: Bus, parts: NodeParts) -> None:
    from onestack.compute.netinfo import InstanceMetadataProvider
    from onestack.network import policies
    from onestack.network.drivers import MetadataSource, select_data_plane
    from onestack.network.manager import NetworkManager
    from onestack.network.rpcapi import TOPIC, NetworkEndpoint
    from onestack.network.service import start_host_agent

    host = settings.network.host
    assert host is not None
    metadata = MetadataSource(InstanceMetadataProvider(db))
    plane = select_data_plane(settings.network, settings.state_dir, metadata)
    enforcer = Enforcer({}, settings.policy_file)
    enforcer.register_defaults(policies.RULES)
    manager = NetworkManager(settings.network, db, enforcer, data_plane=plane, metadata=metadata)
    # only what is addressed to this host (plugging its instances); the control plane
    # answers the rest
    await bus.serve(TOPIC, NetworkEndpoint(manager), server=host, shared=False)
    await start_host_agent(manager, bus, host)
    parts.stops.append(manager.stop_agent)


async def _start_compute(settings: Settings, db: Database, bus: Bus, parts: NodeParts) -> None:
    from onestack.compute.service import ComputeHost, agent_clients, build_agent

    host = settings.compute.host
    assert host is not None
    bridge = LoopBridge(asyncio.get_running_loop(), owner="compute")
    agent = build_agent(settings, db, host, agent_clients(settings, bus, bridge))
    compute = ComputeHost(agent, bus)
    await compute.start()
    parts.stops.append(compute.stop)


async def _start_poller(settings: Settings, bus: Bus, parts: NodeParts) -> None:
    """The metering poller of this host's instances (Ceilometer's compute agent)."""
    from onestack.telemetry.service import build_poller

    if settings.telemetry.poll_interval <= 0 or not settings.telemetry.service_password:
        return
    bridge = LoopBridge(asyncio.get_running_loop(), owner="telemetry")
    poller = build_poller(settings, False, bus, bridge)
    tasks = poller.tasks(settings.telemetry.poll_interval)
    tasks.start()

    async def stop() -> None:
        await tasks.stop()
        poller.session.close()

    parts.stops.append(stop)


async def _start_volume(settings: Settings, db: Database, bus: Bus, parts: NodeParts) -> None:
    from onestack.neighbours import Neighbours
    from onestack.registry import ServiceRegistry
    from onestack.volume import policies
    from onestack.volume.manager import VolumeService
    from onestack.volume.service import VolumeHost, swift_backup_store

    enforcer = Enforcer({}, settings.policy_file)
    enforcer.register_defaults(policies.RULES)
    neighbours = Neighbours.of(ServiceRegistry())  # no other service in this process
    service = VolumeService(db, enforcer, settings.volume, bus, neighbours)
    # backups go to the controller's object storage when the token gave the volume
    # service's password (the controller runs the volume service)
    store = swift_backup_store(settings, bool(settings.volume.service_password))
    host = VolumeHost(db, bus, settings.state_dir, service, neighbours, store)
    await host.start()
    parts.stops.append(host.stop)


def node_devices(host: str, count: int) -> list[str]:
    """The names of a storage node's devices (``<host>-d<n>``)."""
    return [f"{host}-d{n}" for n in range(1, count + 1)]


async def _start_storage_node(settings: Settings, parts: NodeParts) -> None:
    import uvicorn

    from onestack.object.storage_node import build_app
    from onestack.server import bind

    root = settings.state_dir / "object"
    for name in node_devices(settings.compute.host or "node", settings.object.node_devices):
        (root / "devices" / name).mkdir(parents=True, exist_ok=True)
    sock = bind(settings.bind_host, settings.object.node_port)
    sock.listen(1024)
    config = uvicorn.Config(build_app(root), lifespan="off", log_level="warning",
                            access_log=False, server_header=False)  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the storage node stopped during start-up")
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await task

    parts.stops.append(stop)


async def run_node(
    settings: Settings,
    roles: set[str],
    stop: asyncio.Event,
    ready: Callable[[], None] | None = None,
) -> None:
    """Run this host's agents until ``stop`` is set; ``ready`` runs once they serve."""
    unknown = roles - set(ROLES)
    if unknown or not roles:
        raise ValueError(f"roles are some of {', '.join(ROLES)}, not {sorted(unknown)}")
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    bus = create_bus(settings.bus_url)
    await bus.start()
    parts = NodeParts()
    try:
        # L2 on every compute host; DHCP, L3 and metadata where "network" is given
        if roles & {"compute", "network"}:
            await _start_network(settings, db, bus, parts)
        if "object" in roles:
            await _start_storage_node(settings, parts)
        if "volume" in roles:
            await _start_volume(settings, db, bus, parts)
        if "compute" in roles:
            await _start_compute(settings, db, bus, parts)
            await _start_poller(settings, bus, parts)
        if ready is not None:
            ready()
        await stop.wait()
    finally:
        await parts.stop()
        await bus.stop()
        db.dispose()
