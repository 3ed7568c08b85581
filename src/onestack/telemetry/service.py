"""The telemetry service's plug-in to the all-in-one server.

``cloud.services["telemetry"]`` is the ``TelemetryManager``.  At every start the
archive policies and resource types Gnocchi and Ceilometer create are ensured,
and the ``ceilometer`` service user exists (admin in the ``service`` project,
as Ceilometer's install guide has it).  At start this host's metering poller
begins (``poller/``), when ``telemetry.poll_interval`` is above 0.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin
from onestack.telemetry import policies
from onestack.telemetry.conf import TelemetrySettings
from onestack.telemetry.manager import TelemetryManager

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def _settings(settings: Settings) -> TelemetrySettings:
    value = getattr(settings, "telemetry", None)
    return value if isinstance(value, TelemetrySettings) else TelemetrySettings()


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry("metric", "gnocchi", settings.url("telemetry"), "Metric service (Gnocchi)")
    ]


def _manager(cloud: Cloud) -> TelemetryManager:
    service = cloud.services.get("telemetry")
    if not isinstance(service, TelemetryManager):
        service = TelemetryManager(cloud.db, cloud.enforcer, _settings(cloud.settings))
        cloud.services["telemetry"] = service
    return service


def _prepare(cloud: Cloud) -> None:
    _manager(cloud).prepare()


def _build_app(cloud: Cloud) -> Any:
    from onestack.telemetry.api.routes import build_app

    return build_app(_manager(cloud), cloud)


PLUGIN = ServicePlugin(
    name="telemetry",
    package="onestack.telemetry",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    prepare=_prepare,
)
