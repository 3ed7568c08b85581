"""The orchestration service's plug-in to the all-in-one server.

``cloud.services["orchestration"]`` is the ``OrchestrationManager``.  At start the
engine's service user (the trustee of every stack's trust) is made sure of in
identity, with a password kept in ``<state_dir>/secrets/heat-password``; then the
engine starts and recovers what a previous run left in progress.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.orchestration import policies
from onestack.orchestration.clients.session import Credentials
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


def _password(state_dir: Path) -> str:
    path = state_dir / "secrets" / "heat-password"
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _warm_up(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    settings = cloud.settings
    password = _password(settings.state_dir)
    identity = cloud.neighbours.require(cloud.neighbours.identity, "identity")
    user_id = identity.ensure_service_user(settings.orchestration.service_user, password)
    manager.engine.credentials = Credentials(settings.url("identity") + "/v3", user_id, password)


def _build_app(cloud: Cloud) -> Any:
    from onestack.orchestration.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    credentials = manager.engine.credentials
    assert credentials is not None, "the warm-up made the service user"
    await manager.start(credentials)


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
    warm_up=_warm_up,
)
