"""The volume service's plug-in to the all-in-one server.

``cloud.services["volume"]`` is the ``VolumeService`` (manager.py).  At
start the control plane serves the volume interface on the bus (topic
``volume-api``, for agents on any host: client.py), and this host opens its
pool, serves its agent (topic ``volume``, server = this host) and reports its
services every ``heartbeat_interval``; a second volume host runs only the
agent part.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.common.bus import Bus
from onestack.common.db import Database
from onestack.common.keystone_client import (
    Credentials,
    KeystoneSession,
    ServiceUser,
    service_password,
)
from onestack.common.periodic import PeriodicTask, TaskRunner
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin
from onestack.volume import policies
from onestack.volume.backups.base import BackupStore
from onestack.volume.backups.swift import SwiftBackupStore
from onestack.volume.client import SERVICE_TOPIC, VolumeServiceEndpoint
from onestack.volume.conf import VolumeSettings
from onestack.volume.manager import VolumeService
from onestack.volume.rpcapi import AGENT_TOPIC
from onestack.volume.voltypes import ensure_default_type

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.neighbours import Neighbours
    from onestack.server import Cloud
    from onestack.volume.agent import VolumeAgent


#: the volume service's own user (as Cinder's), which writes backups to object storage
SERVICE_USER = "cinder"
SERVICE_PROJECT = "service"


def _settings(settings: Settings) -> VolumeSettings:
    value = getattr(settings, "volume", None)
    return value if isinstance(value, VolumeSettings) else VolumeSettings()


class VolumeHost:
    """This host's agent, its backend and its heartbeat."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        state_dir: Path,
        service: VolumeService,
        neighbours: Neighbours,
        backup_store: BackupStore | None = None,
    ) -> None:
        """``backup_store``: where backups go (None: the state directory's)."""
        self.db = db
        self.bus = bus
        self.backup_store = backup_store
        self.state_dir = state_dir
        self.neighbours = neighbours
        self.service = service
        self.settings = service.core.settings
        self.name = self.settings.host or socket.gethostname().split(".")[0]
        self.agent: VolumeAgent | None = None
        self.tasks = TaskRunner(
            "volume", [PeriodicTask("report", self.settings.heartbeat_interval, self._report)]
        )

    async def start(self) -> None:
        from onestack.volume.agent import VolumeAgent
        from onestack.volume.backends import open_backend
        from onestack.volume.backups.directory import DirectoryBackupStore
        from onestack.volume.backups.engine import BackupEngine

        self.service.bridge.loop = asyncio.get_running_loop()
        root = self.state_dir / "volume"
        backend = await asyncio.to_thread(open_backend, self.settings, root)
        store = self.backup_store or DirectoryBackupStore(root / "backups")
        engine = BackupEngine(store, self.settings.backup_chunk_size)
        self.agent = VolumeAgent(self.db, self.name, backend, engine, self.neighbours)
        await asyncio.to_thread(self.agent.recover)
        await self._report()
        await self.bus.serve(AGENT_TOPIC, self.agent, server=self.name)
        self.tasks.start()

    async def _report(self) -> None:
        """Record this host's services and backend capabilities (the heartbeat)."""
        assert self.agent is not None
        info = await asyncio.to_thread(self.agent.info)
        await asyncio.to_thread(self.service.services.register, self.name, info)

    async def stop(self) -> None:
        await self.tasks.stop()
        if self.agent is not None:
            await asyncio.to_thread(self.agent.backend.close)


def _catalog(settings: Settings) -> list[CatalogEntry]:
    url = settings.url("volume") + "/v3/$(project_id)s"
    description = "Block Storage service (Cinder v3)"
    return [
        CatalogEntry("block-storage", "cinder", url, description),
        CatalogEntry("volumev3", "cinderv3", url, description),
    ]


def _service(cloud: Cloud) -> VolumeService:
    return cloud.services.get_or_create(
        "volume",
        VolumeService,
        lambda: VolumeService(
            cloud.db, cloud.enforcer, _settings(cloud.settings), cloud.bus, cloud.neighbours
        ),
    )


def _password(settings: Settings) -> str:
    return service_password(settings.state_dir, SERVICE_USER, _settings(settings).service_password)


def swift_backup_store(settings: Settings, object_runs: bool) -> BackupStore | None:
    """Cinder's swift backup driver when chosen (or ``auto`` and the cloud runs the
    object service); None: the directory store."""
    volume = _settings(settings)
    if volume.backup_driver == "directory" or (volume.backup_driver == "auto" and not object_runs):
        return None

    def session() -> KeystoneSession:
        return KeystoneSession(
            Credentials(
                auth_url=settings.url("identity") + "/v3",
                username=SERVICE_USER,
                password=_password(settings),
                project_name=SERVICE_PROJECT,
                region=settings.region,
            ),
            timeout=300.0,
        )

    return SwiftBackupStore(session, volume.backup_swift_container)


def _service_user(settings: Settings) -> ServiceUser:
    # the backup driver writes into the volume owners' object storage accounts
    return ServiceUser(SERVICE_USER, ("admin", "service", "ResellerAdmin"))


def _prepare(cloud: Cloud) -> None:
    service = _service(cloud)
    ensure_default_type(cloud.db, service.core.settings.default_volume_type)


def _build_app(cloud: Cloud) -> Any:
    from onestack.volume.api.routes import build_app

    return build_app(_service(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    service = _service(cloud)
    service.bridge.loop = asyncio.get_running_loop()
    # the public interface for agents on any host (volume/client.py)
    await cloud.bus.serve(SERVICE_TOPIC, VolumeServiceEndpoint(service))
    if cloud.settings.controller:
        return  # volume hosts run the agents
    host = VolumeHost(
        cloud.db,
        cloud.bus,
        cloud.settings.state_dir,
        service,
        cloud.neighbours,
        swift_backup_store(cloud.settings, any(p.name == "object" for p in cloud.plugins)),
    )
    service.runtime = host
    await host.start()


async def _stop(cloud: Cloud) -> None:
    service = _service(cloud)
    host, service.runtime = service.runtime, None
    if isinstance(host, VolumeHost):
        await host.stop()


PLUGIN = ServicePlugin(
    name="volume",
    package="onestack.volume",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
    service_user=_service_user,
)
