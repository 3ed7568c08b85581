"""The telemetry service's plug-in to the all-in-one server.

``cloud.services["telemetry"]`` is the ``TelemetryManager``.  At every start the
archive policies and resource types Gnocchi and Ceilometer create are ensured.
The metering poller acts as the ``ceilometer`` service user (made at bootstrap,
admin of the ``service`` project, and ``ResellerAdmin`` to read every object
storage account, as Ceilometer's install guide has it).  When
``telemetry.poll_interval`` is above 0 it polls this host's instances and, on
this controller, the services' resources.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.common.keystone_client import Credentials, KeystoneSession
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin, service_password
from onestack.telemetry import policies
from onestack.telemetry.conf import TelemetrySettings
from onestack.telemetry.manager import TelemetryManager

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud
    from onestack.telemetry.poller.host import MeteringPoller

LOG = logging.getLogger(__name__)
SERVICE_USER = "ceilometer"


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


def _password(settings: Settings) -> str:
    return service_password(settings.state_dir, SERVICE_USER, _settings(settings).service_password)


def _prepare(cloud: Cloud) -> None:
    manager_of(cloud).prepare()


def _warm_up(cloud: Cloud) -> None:
    identity = cloud.neighbours.require(cloud.neighbours.identity, "identity")
    identity.ensure_service_user(
        SERVICE_USER, _password(cloud.settings), ("admin", "service", "ResellerAdmin")
    )


def _build_app(cloud: Cloud) -> Any:
    from onestack.telemetry.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


def build_poller(settings: Settings, central: bool) -> MeteringPoller:
    """This host's poller: the compute driver the settings choose, the service user's
    session against the identity URL."""
    from onestack.compute.drivers import load_driver
    from onestack.telemetry.poller.host import MeteringPoller

    telemetry = _settings(settings)
    host = telemetry.host or settings.compute.host or socket.gethostname()
    session = KeystoneSession(
        Credentials(
            auth_url=telemetry.auth_url or settings.url("identity") + "/v3",
            username=telemetry.service_user,
            password=_password(settings),
            project_name=telemetry.service_project,
            region=settings.region,
        )
    )
    driver = load_driver(settings.compute, settings.state_dir, host)
    return MeteringPoller(
        session, host, driver, telemetry.archive_policy, telemetry.archive_policy_rate, central
    )


async def _start(cloud: Cloud) -> None:
    telemetry = _settings(cloud.settings)
    if telemetry.poll_interval <= 0:
        return
    poller = build_poller(cloud.settings, central=telemetry.poll_services)
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
    warm_up=_warm_up,
    service_user=SERVICE_USER,
)
