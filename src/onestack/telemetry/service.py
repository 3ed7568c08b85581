"""The telemetry service's plug-in to the all-in-one server.

``cloud.services["telemetry"]`` is the ``TelemetryManager``.  At every start the
archive policies and resource types Gnocchi and Ceilometer create are ensured.
The metering poller acts as the ``ceilometer`` service user (declared here, made
at bootstrap: admin of the ``service`` project, and ``ResellerAdmin`` to read every
object storage account, as Ceilometer's install guide has it).  When
``telemetry.poll_interval`` is above 0 it polls this host's instances and, on
this controller, the services' resources.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.common.bus import Bus
from onestack.common.bus.bridge import LoopBridge
from onestack.common.keystone_client import (
    KeystoneSession,
    ServiceUser,
    service_credentials,
    service_password,
)
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin
from onestack.telemetry import policies
from onestack.telemetry.conf import TelemetrySettings
from onestack.telemetry.manager import TelemetryManager

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud
    from onestack.telemetry.poller.host import MeteringPoller

LOG = logging.getLogger(__name__)


def _settings(settings: Settings) -> TelemetrySettings:
    return settings.telemetry


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry("metric", "gnocchi", settings.url("telemetry"), "Metric service (Gnocchi)")
    ]


def manager_of(cloud: Cloud) -> TelemetryManager:
    return cloud.services.get_or_create(
        "telemetry",
        TelemetryManager,
        lambda: TelemetryManager(cloud.db, cloud.enforcer, _settings(cloud.settings)),
    )


def _service_user(settings: Settings) -> ServiceUser:
    return ServiceUser(_settings(settings).service_user, ("admin", "service", "ResellerAdmin"))


def _password(settings: Settings) -> str:
    telemetry = _settings(settings)
    return service_password(settings.state_dir, telemetry.service_user, telemetry.service_password)


def _prepare(cloud: Cloud) -> None:
    manager_of(cloud).prepare()


def _build_app(cloud: Cloud) -> Any:
    from onestack.telemetry.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


def build_poller(
    settings: Settings, central: bool, bus: Bus | None, bridge: LoopBridge | None
) -> MeteringPoller:
    """This host's poller: the service user's session against the identity URL; the
    statistics of this host's compute and network agents through their bus clients
    (none without a bus: the poller then publishes what the APIs tell)."""
    from onestack.compute.rpcapi import InstanceStatsClient
    from onestack.network.rpcapi import NetworkClient
    from onestack.telemetry.poller.host import MeteringPoller

    telemetry = _settings(settings)
    host = telemetry.host or settings.compute.host or socket.gethostname()
    session = KeystoneSession(
        service_credentials(
            telemetry.auth_url or settings.url("identity") + "/v3",
            telemetry.service_user,
            _password(settings),
            settings.region,
            project=telemetry.service_project,
        )
    )
    stats = network = None
    if bus is not None and bridge is not None:
        stats = InstanceStatsClient(bus, bridge, host)
        network = NetworkClient(bus, bridge, settings.network.host or socket.gethostname())
    return MeteringPoller(
        session,
        host,
        stats,
        telemetry.archive_policy,
        telemetry.archive_policy_rate,
        central,
        network=network,
    )


async def _start(cloud: Cloud) -> None:
    telemetry = _settings(cloud.settings)
    if telemetry.poll_interval <= 0:
        return
    bridge = LoopBridge(asyncio.get_running_loop(), owner="telemetry")
    poller = build_poller(cloud.settings, telemetry.poll_services, cloud.bus, bridge)
    tasks = poller.tasks(telemetry.poll_interval)
    manager = manager_of(cloud)
    manager.runtime = (poller, tasks)
    tasks.start()
    LOG.info("telemetry: polling host %s every %ss", poller.host, telemetry.poll_interval)


async def _stop(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    runtime, manager.runtime = manager.runtime, None
    if runtime is not None:
        poller, tasks = runtime
        await tasks.stop()
        poller.session.close()


PLUGIN = ServicePlugin(
    name="telemetry",
    package="onestack.telemetry",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
    service_user=_service_user,
)
