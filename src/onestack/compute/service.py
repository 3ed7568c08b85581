"""The compute service's plug-in to the all-in-one server.

``cloud.neighbours.compute`` is the ``ComputeManager`` (manager.py), built
with every collaborator at ``prepare``.  At start the control plane serves
the scheduler and the conductor on the bus (:class:`ComputeControl`) and
this host runs its agent (:class:`ComputeHost`).  The agent is built by
:func:`build_agent` from settings and the bus alone: its clients reach the
image API over HTTP as the compute service user and the network and volume
services through their Protocols, exactly as on a host of its own.
Background work (heartbeats, power-state sync, the image cache) runs on
``onestack.common.periodic.TaskRunner``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from onestack.common.bus import Bus
from onestack.common.bus.bridge import LoopBridge
from onestack.common.db import Database, utcnow
from onestack.common.keystone_client import (
    KeystoneSession,
    ServiceUser,
    service_credentials,
    service_password,
)
from onestack.common.periodic import PeriodicTask, TaskRunner
from onestack.compute import policies
from onestack.compute.conf import ComputeSettings
from onestack.compute.drivers import vm_host
from onestack.compute.flavors import ensure_default_flavors
from onestack.compute.manager import ComputeManager
from onestack.compute.rpcapi import (
    AGENT_TOPIC,
    CONDUCTOR_TOPIC,
    SCHEDULER_TOPIC,
    AgentEndpoint,
    ComputeRPC,
)
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.compute.agent import AgentClients, ComputeAgent
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def host_name(settings: ComputeSettings) -> str:
    return settings.host or socket.gethostname()


def service_session(settings: Settings) -> KeystoneSession:
    """The compute service user's session on the catalog's internal endpoints (its
    password from the settings, else the one the bootstrap saved in the state
    directory)."""
    compute = settings.compute
    password = service_password(settings.state_dir, compute.service_user, compute.service_password)
    return KeystoneSession(
        service_credentials(
            settings.url("identity") + "/v3",
            compute.service_user,
            password,
            settings.region,
            interface="internal",
        )
    )


def agent_clients(settings: Settings, bus: Bus, bridge: LoopBridge) -> AgentClients:
    """The clients of an agent, the same on every host: the image API over HTTP as the
    service user; networking and volumes over the bus (networking's calls that plug
    instances go to this host's network agent)."""
    from onestack.compute.agent import AgentClients
    from onestack.compute.images import HTTPImageClient
    from onestack.network.rpcapi import NetworkClient
    from onestack.volume.client import VolumeServiceClient

    network_host = settings.network.host or socket.gethostname()
    return AgentClients(
        images=HTTPImageClient(service_session(settings)),
        network=NetworkClient(bus, bridge, network_host),
        volumes=VolumeServiceClient(bus, bridge),
    )


def build_agent(
    settings: Settings,
    db: Database,
    host: str,
    clients: AgentClients,
    driver: str | None = None,
) -> ComputeAgent:
    """A host's agent with ``driver`` (by default the one the settings choose)."""
    from onestack.compute.agent import ComputeAgent
    from onestack.compute.drivers import driver_name, load_driver

    name, reason = driver_name(settings.compute)
    if driver is not None:
        name, reason = driver, None
    if reason:
        LOG.warning("compute: using the fake driver (no real instances): %s", reason)
    loaded = load_driver(settings.compute, settings.state_dir, host, name)
    work_dir = settings.state_dir / "compute"
    LOG.info("compute: host %s with the %s driver", host, name)
    return ComputeAgent(db, settings.compute, loaded, host, clients, work_dir)


class ComputeHost:
    """One agent on the bus: its endpoint, its worker threads and its periodic tasks.

    The agent's operations run on threads of their own, so an operation waiting for
    another service over the bus never holds a thread that service's endpoint needs.
    """

    def __init__(self, agent: ComputeAgent, bus: Bus, workers: int = 16) -> None:
        self.agent = agent
        self.bus = bus
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix=f"compute-{agent.host}")

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.pool, self.agent.start)
        await self.bus.serve(
            AGENT_TOPIC, AgentEndpoint(self.agent, self.pool), server=self.agent.host
        )
        self.agent.tasks.start()

    async def stop(self) -> None:
        """Stop the periodic tasks; queued operations are dropped, running ones end on
        their own (a worker thread cannot be cancelled)."""
        await self.agent.tasks.stop()
        self.pool.shutdown(wait=False, cancel_futures=True)


async def run_host(
    settings: Settings, stop: asyncio.Event, ready: Callable[[], None] | None = None
) -> None:
    """Run only this host's compute agent until ``stop`` is set: against the control
    plane's database (``db_url``), bus (``bus_url``) and APIs (the identity URL and
    the catalog), with nothing of the control plane in this process.  ``ready`` runs
    once the agent serves."""
    from onestack.common.bus import create_bus

    db = Database(settings.database_url)
    bus = create_bus(settings.bus_url)
    await bus.start()
    try:
        bridge = LoopBridge(asyncio.get_running_loop(), owner="compute")
        agent = build_agent(
            settings, db, host_name(settings.compute), agent_clients(settings, bus, bridge)
        )
        host = ComputeHost(agent, bus)
        await host.start()
        try:
            if ready is not None:
                ready()
            await stop.wait()
        finally:
            await host.stop()
    finally:
        await bus.stop()
        db.dispose()


class ComputeControl:
    """The scheduler and the conductor of this control plane, and their service rows."""

    def __init__(self, manager: ComputeManager, bus: Bus, host: str) -> None:
        from onestack.compute.conductor import Conductor
        from onestack.compute.scheduler import Scheduler

        core = manager.core
        self.manager = manager
        self.bus = bus
        self.host = host
        self.scheduler = Scheduler(core.db, core.settings, core.neighbours.image)
        self.conductor = Conductor(core.db, core.rpc.scheduler, core.rpc.agents)
        self.tasks = TaskRunner(
            "compute control",
            [
                PeriodicTask(
                    "report",
                    core.settings.heartbeat_interval,
                    lambda: manager.hosts.report_control(host),
                )
            ],
        )

    async def start(self) -> None:
        from onestack.compute.conductor import recover_unscheduled

        started = utcnow()
        db = self.manager.core.db
        await asyncio.to_thread(self.manager.hosts.register_control, self.host)
        await asyncio.to_thread(recover_unscheduled, db, started)
        await self.bus.serve(SCHEDULER_TOPIC, self.scheduler)
        await self.bus.serve(CONDUCTOR_TOPIC, self.conductor)
        self.tasks.start()

    async def stop(self) -> None:
        await self.tasks.stop()


class ComputeRuntime:
    """What runs while the server runs: the control plane's part and this machine's
    agents (the first host, and the VM host when there is one; none on a controller)."""

    def __init__(self, control: ComputeControl, hosts: list[ComputeHost]) -> None:
        self.control = control
        self.hosts = hosts

    async def start(self) -> None:
        await self.control.start()
        for host in self.hosts:
            await host.start()

    async def stop(self) -> None:
        for host in reversed(self.hosts):
            await host.stop()
        await self.control.stop()


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry(
            "compute", "nova", settings.url("compute") + "/v2.1", "Compute service (Nova v2.1)"
        )
    ]


def manager_of(cloud: Cloud) -> ComputeManager:
    """The cloud's ComputeManager, created and registered once."""
    settings = cloud.settings.compute
    if settings.cross_host_attach is None:
        settings = settings.model_copy(update={"cross_host_attach": not cloud.settings.controller})
    manager = cloud.services.get_or_create(
        "compute",
        ComputeManager,
        lambda: ComputeManager(
            cloud.db, cloud.enforcer, settings, cloud.neighbours, ComputeRPC.over(cloud.bus)
        ),
    )
    urls = cloud.settings
    manager.consoles.novnc_base = urls.url("novncproxy") + "/vnc_lite.html"
    manager.consoles.serial_base = urls.url("serialproxy").replace("http://", "ws://", 1) + "/"
    return manager


def _prepare(cloud: Cloud) -> None:
    ensure_default_flavors(cloud.db)
    manager_of(cloud)


def _build_app(cloud: Cloud) -> Any:
    from onestack.compute.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    loop = asyncio.get_running_loop()
    manager.core.rpc.bridge.loop = loop
    network = cloud.neighbours.network
    if network is not None:  # a provider named in the network settings still wins
        network.set_metadata_provider(manager)
    host = host_name(cloud.settings.compute)
    hosts: list[ComputeHost] = []
    if not cloud.settings.controller:
        bridge = LoopBridge(loop, owner="compute")
        clients = agent_clients(cloud.settings, cloud.bus, bridge)
        hosts.append(ComputeHost(build_agent(cloud.settings, cloud.db, host, clients), cloud.bus))
        wanted, why = vm_host(cloud.settings.compute)
        if wanted:
            name = cloud.settings.compute.vm_host_name or f"{host}-vm"
            agent = build_agent(cloud.settings, cloud.db, name, clients, driver="qemu")
            hosts.append(ComputeHost(agent, cloud.bus))
        else:
            LOG.info("compute: no VM host: %s", why)
    runtime = ComputeRuntime(ComputeControl(manager, cloud.bus, host), hosts)
    manager.runtime = runtime
    await runtime.start()


async def _stop(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    runtime, manager.runtime = manager.runtime, None
    if runtime is not None:
        await runtime.stop()


PLUGIN = ServicePlugin(
    name="compute",
    package="onestack.compute",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
    service_user=lambda settings: ServiceUser(settings.compute.service_user),
)
