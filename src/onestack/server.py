"""The all-in-one server: every service's API on its own port, one event loop.

``Cloud`` wires the shared pieces (settings, database, policy, bus, the
identity service that every other service authenticates against) and the
service plugins listed in ``SERVICES``; ``serve()`` runs one uvicorn server
per service until SIGINT or SIGTERM, then shuts everything down cleanly.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import importlib
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn

from onestack.common.bus import Bus, create_bus
from onestack.common.db import Database
from onestack.common.faults import FaultStore
from onestack.common.migrations import upgrade
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.identity.bootstrap import BootstrapResult, CatalogEntry, bootstrap
from onestack.identity.manager import IdentityManager
from onestack.neighbours import Neighbours
from onestack.plugin import ServicePlugin
from onestack.registry import ServiceRegistry

LOG = logging.getLogger(__name__)

#: Every service of the all-in-one, as ``module:attribute`` of its ServicePlugin.
#: Started in this order: compute's agent comes after the services it calls over the
#: bus (network, volume); orchestration and telemetry (whose poller reads this host's
#: compute driver) after compute.
SERVICES = (
    "onestack.identity.service:PLUGIN",
    "onestack.image.service:PLUGIN",
    "onestack.network.service:PLUGIN",
    "onestack.object.service:PLUGIN",
    "onestack.object.service:S3_PLUGIN",
    "onestack.volume.service:PLUGIN",
    "onestack.compute.service:PLUGIN",
    "onestack.orchestration.service:PLUGIN",
    "onestack.telemetry.service:PLUGIN",
    "onestack.alarming.service:PLUGIN",
    "onestack.dashboard.service:PLUGIN",
    "onestack.compute.consoleproxy:NOVNC_PLUGIN",
    "onestack.compute.consoleproxy:SERIAL_PLUGIN",
    "onestack.fixture.service:PLUGIN",
)


def load_plugins() -> list[ServicePlugin]:
    plugins = []
    for ref in SERVICES:
        module, _, attr = ref.partition(":")
        plugins.append(getattr(importlib.import_module(module), attr))
    return plugins


class Cloud:
    """The control plane of one onestack: shared state and every service."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        self.plugins = load_plugins()
        self.db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
        )
        self.enforcer = Enforcer({}, settings.policy_file)
        for plugin in self.plugins:
            self.enforcer.register_defaults(plugin.policies)
        self.bus: Bus = create_bus(settings.bus_url)
        #: the faults injected into this cloud (onestack.common.faults)
        self.faults = FaultStore(self.db)
        self.identity = IdentityManager(settings, self.db, self.enforcer)
        #: each service's manager, registered by its plugin (onestack.registry)
        self.services = ServiceRegistry()
        self.services.register("identity", self.identity)
        #: the typed view of ``services`` that every service's constructor receives
        self.neighbours = Neighbours.of(self.services)
        self.bootstrap_result: BootstrapResult | None = None
        #: what the operator must be told at start (a choice made for them), by the plugins
        self.notices: list[str] = []
        #: the plugins' warm-up work, started by ``prepare`` and awaited by ``serve``
        self.warming: list[concurrent.futures.Future[None]] = []
        self._warm_pool: concurrent.futures.ThreadPoolExecutor | None = None

    def catalog_entries(self) -> list[CatalogEntry]:
        return [entry for plugin in self.plugins for entry in plugin.catalog(self.settings)]

    def prepare(self) -> BootstrapResult:
        """Migrate the database and bootstrap; safe to run at every start."""
        upgrade(self.db, [p.package for p in self.plugins if p.package])
        service_users = [p.service_user(self.settings) for p in self.plugins if p.service_user]
        self.bootstrap_result = bootstrap(
            self.identity, self.settings, self.catalog_entries(), service_users
        )
        for plugin in self.plugins:
            if plugin.prepare is not None:
                plugin.prepare(self)
        warm_ups = [p.warm_up for p in self.plugins if p.warm_up is not None]
        if warm_ups:
            self._warm_pool = concurrent.futures.ThreadPoolExecutor(
                len(warm_ups), thread_name_prefix="warm-up"
            )
            self.warming = [self._warm_pool.submit(warm_up, self) for warm_up in warm_ups]
        return self.bootstrap_result

    def api_plugins(self) -> list[ServicePlugin]:
        """The plugins with an API of their own, identity first."""
        with_api = [p for p in self.plugins if p.build_app is not None]
        return sorted(with_api, key=lambda p: p.name != "identity")

    def close(self) -> None:
        if self._warm_pool is not None:
            self._warm_pool.shutdown(wait=True)
        self.db.dispose()


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signal handling to ``serve``."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class PortInUse(RuntimeError):
    pass


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or PortInUse naming what is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.setblocking(False)
    return sock


def _server(app: Any) -> _Server:
    config = uvicorn.Config(
        app,
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        # longer than clients' polling periods (heatclient's and the openstack CLI's
        # --wait poll every 5 s): a kept-alive connection closed just as a client
        # reuses it is a reset for it
        timeout_keep_alive=75,
        backlog=2048,
    )
    return _Server(config)


async def serve(cloud: Cloud, on_ready: Callable[[], None] | None = None) -> None:
    """Serve every API until SIGINT/SIGTERM.

    All ports are bound and listening first (early clients wait in the backlog
    instead of being refused); identity, which every other service needs, is
    served as soon as its app is built, and the other apps are built in a worker
    thread while it already answers; the plugins' ``warm_up`` work, started by
    ``Cloud.prepare``, runs in other threads meanwhile.  ``on_ready`` runs once
    everything serves.
    """
    settings = cloud.settings
    plugins = cloud.api_plugins()
    sockets: dict[str, socket.socket] = {}
    try:
        for plugin in plugins:
            sock = bind(settings.bind_host, getattr(settings.ports, plugin.name))
            sockets[plugin.name] = sock
            sock.listen(2048)
    except PortInUse:
        for sock in sockets.values():
            sock.close()
        raise
    servers: list[tuple[_Server, socket.socket]] = []
    tasks: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    started: list[ServicePlugin] = []
    await cloud.bus.start()
    warming = [asyncio.wrap_future(future) for future in cloud.warming]
    try:
        for index, plugin in enumerate(plugins):
            assert plugin.build_app is not None
            if index == 0:
                app = plugin.build_app(cloud)
            else:
                app = await asyncio.to_thread(plugin.build_app, cloud)
            for extension in cloud.plugins:
                if extension.extend_app is not None:
                    extension.extend_app(cloud, plugin.name, app)
            server = _server(app)
            servers.append((server, sockets[plugin.name]))
            tasks.append(asyncio.create_task(server.serve(sockets=[sockets[plugin.name]])))
        while not all(s.started for s, _ in servers):
            for task in tasks:
                if task.done():
                    task.result()
                    raise RuntimeError("a service stopped during start-up")
            await asyncio.sleep(0.01)
        await asyncio.gather(*warming)
        for plugin in cloud.plugins:
            if plugin.start is not None:
                await plugin.start(cloud)
                started.append(plugin)
        if on_ready is not None:
            on_ready()
        await stop.wait()
    finally:
        for plugin in reversed(started):
            if plugin.stop is not None:
                try:
                    await plugin.stop(cloud)
                except Exception:
                    LOG.exception("stopping %s failed", plugin.name)
        for server, _ in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, *warming, return_exceptions=True)
        await cloud.bus.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
