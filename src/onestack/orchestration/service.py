"""The orchestration service's plug-in to the all-in-one server.

``cloud.services["orchestration"]`` is the ``OrchestrationManager``.  The engine's
service user (``heat``, the trustee of every stack's trust, with the ``service``
role) is declared here and made at bootstrap, with a password kept in
``<state_dir>/secrets/heat-password``.  At start the engine starts and recovers what a
previous run left in progress.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.common.keystone_client import ServiceUser, service_credentials, service_password
from onestack.identity.bootstrap import CatalogEntry
from onestack.orchestration import policies
from onestack.orchestration.manager import OrchestrationManager
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud


def _catalog(settings: Settings) -> list[CatalogEntry]:
    url = settings.url("orchestration") + "/v1/$(project_id)s"
    return [CatalogEntry("orchestration", "heat", url, "Orchestration service (Heat v1)")]


def manager_of(cloud: Cloud) -> OrchestrationManager:
    """The cloud's OrchestrationManager, created and registered once."""
    return cloud.services.get_or_create(
        "orchestration",
        OrchestrationManager,
        lambda: OrchestrationManager(cloud.db, cloud.enforcer, cloud.settings),
    )


def _service_user(settings: Settings) -> ServiceUser:
    return ServiceUser(settings.orchestration.service_user, ("service",))


def _build_app(cloud: Cloud) -> Any:
    from onestack.orchestration.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    settings = cloud.settings
    name = settings.orchestration.service_user
    password = service_password(settings.state_dir, name)
    auth_url = settings.url("identity") + "/v3"
    credentials = service_credentials(auth_url, name, password, settings.region, project=None)
    await manager_of(cloud).start(credentials)


async def _stop(cloud: Cloud) -> None:
    await manager_of(cloud).stop()


PLUGIN = ServicePlugin(
    name="orchestration",
    package="onestack.orchestration",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    service_user=_service_user,
)
