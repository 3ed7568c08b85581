"""The compute service's plug-in to the all-in-one server.

``Compute`` (``cloud.services["compute"]``) holds the service's managers.
At start it serves the scheduler, the conductor and this host's agent on
the bus; with several hosts, each runs only its agent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.common.db import Database, utcnow
from onestack.common.policy import Enforcer
from onestack.compute import policies
from onestack.compute.conf import ComputeSettings
from onestack.compute.consoles import ConsoleManager
from onestack.compute.flavors import FlavorManager, ensure_default_flavors
from onestack.compute.hosts import HostManager
from onestack.compute.keypairs import KeypairManager
from onestack.compute.listing import ServerLister
from onestack.compute.manager import ServerManager
from onestack.compute.quotas import QuotaManager
from onestack.compute.rpcapi import (
    AGENT_TOPIC,
    CONDUCTOR_TOPIC,
    SCHEDULER_TOPIC,
    AgentAPI,
    ConductorAPI,
    LoopBridge,
    SchedulerAPI,
)
from onestack.compute.server_groups import ServerGroupManager
from onestack.compute.volumes import VOLUME_TOPIC, VolumeAttachmentManager
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.compute.agent import ComputeAgent
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


class Compute:
    """The compute service's public Python interface (its managers)."""

    def __init__(self, cloud: Cloud) -> None:
        settings: ComputeSettings = cloud.settings.compute
        db: Database = cloud.db
        enforcer: Enforcer = cloud.enforcer
        self.cloud = cloud
        self.settings = settings
        self.host = settings.host or socket.gethostname()
        self.bridge = LoopBridge()
        self.agents = AgentAPI(cloud.bus)
        self.conductor_api = ConductorAPI(cloud.bus)
        self.scheduler_api = SchedulerAPI(cloud.bus)
        self.flavors = FlavorManager(db, enforcer)
        self.keypairs = KeypairManager(db, enforcer)
        self.groups = ServerGroupManager(db, enforcer)
        self.quotas = QuotaManager(db, enforcer)
        self.hosts = HostManager(db, enforcer, settings)
        self.lister = ServerLister(db, enforcer)
        self.servers = ServerManager(
            db,
            enforcer,
            settings,
            self.keypairs,
            self.bridge,
            self.conductor_api,
            self.agents,
            None,
        )
        self.volume_attachments = VolumeAttachmentManager(
            db, enforcer, cloud.bus, self.bridge, lambda: cloud.services.get("volume")
        )
        self.servers.block = self.volume_attachments
        urls = cloud.settings
        self.consoles = ConsoleManager(
            db,
            enforcer,
            self.bridge,
            self.agents,
            novnc_base=urls.url("novncproxy") + "/vnc_lite.html",
            serial_base=urls.url("serialproxy").replace("http://", "ws://", 1) + "/",
        )
        self.agent: ComputeAgent | None = None
        self.driver_name = "unknown"
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def images(self) -> Any:
        return self.cloud.services.get("image")

    async def start(self) -> None:
        from onestack.compute.agent import ComputeAgent
        from onestack.compute.conductor import Conductor
        from onestack.compute.drivers import driver_name, load_driver
        from onestack.compute.scheduler import Scheduler

        cloud = self.cloud
        started = utcnow()
        self.bridge.loop = asyncio.get_running_loop()
        self.servers.images = self.images
        name, reason = driver_name(self.settings)
        if reason:
            LOG.warning("compute: using the fake driver (no real instances): %s", reason)
        self.driver_name = name
        driver = load_driver(self.settings, cloud.settings.state_dir, self.host)
        work_dir = cloud.settings.state_dir / "compute"
        self.agent = ComputeAgent(cloud.db, self.settings, driver, self.host, self.images, work_dir)
        self.agent.block.service = lambda: cloud.services.get("volume")
        self.agent.services = cloud.services
        network = cloud.services.get("network")
        if network is not None:
            self.lister.addresses = network.addresses
            self.servers.network = network
        if network is not None and network.metadata_provider is None:  # else configured
            from onestack.compute.netinfo import InstanceMetadataProvider

            network.set_metadata_provider(InstanceMetadataProvider(cloud.db))
        scheduler = Scheduler(cloud.db, self.settings)
        conductor = Conductor(cloud.db, self.scheduler_api, self.agents)
        await asyncio.to_thread(self.hosts.register_control, self.host)
        await asyncio.to_thread(conductor.recover_unscheduled, started)
        await cloud.bus.serve(SCHEDULER_TOPIC, scheduler)
        await cloud.bus.serve(CONDUCTOR_TOPIC, conductor)
        await self.agent.start()
        await cloud.bus.serve(AGENT_TOPIC, self.agent, server=self.host)
        await cloud.bus.serve(VOLUME_TOPIC, self.agent.block, server=self.host)
        self._tasks.append(asyncio.get_running_loop().create_task(self._beat()))
        LOG.info("compute: host %s with the %s driver", self.host, name)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            try:
                await asyncio.to_thread(self.hosts.report_control, self.host)
            except Exception:
                LOG.exception("compute: control service report failed")

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.agent is not None:
            await self.agent.stop()


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry(
            "compute", "nova", settings.url("compute") + "/v2.1", "Compute service (Nova v2.1)"
        )
    ]


def _compute(cloud: Cloud) -> Compute:
    service = cloud.services.get("compute")
    if not isinstance(service, Compute):
        service = Compute(cloud)
        cloud.services["compute"] = service
    return service


def _prepare(cloud: Cloud) -> None:
    ensure_default_flavors(cloud.db)
    _compute(cloud)


def _build_app(cloud: Cloud) -> Any:
    from onestack.compute.api.routes import build_app

    return build_app(_compute(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    await _compute(cloud).start()


async def _stop(cloud: Cloud) -> None:
    await _compute(cloud).stop()


PLUGIN = ServicePlugin(
    name="compute",
    package="onestack.compute",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
)
