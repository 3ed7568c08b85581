"""The alarming service's plug-in to the all-in-one server.

``cloud.services["alarming"]`` is the ``AlarmingManager``.  The evaluator and the
notifiers act as the ``aodh`` service user (made at bootstrap, admin of the
``service`` project, as Aodh's install guide has it) over HTTP; ``trust+``
actions with a token scoped to the alarm's trust.  The evaluator runs on this
controller every ``alarming.evaluation_interval`` seconds (0: not at all).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from onestack.alarming import policies
from onestack.alarming.conf import AlarmingSettings
from onestack.alarming.manager import AlarmingManager
from onestack.common.keystone_client import (
    KeystoneSession,
    ServiceUser,
    service_credentials,
    service_password,
)
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def _settings(settings: Settings) -> AlarmingSettings:
    return settings.alarming


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [CatalogEntry("alarming", "aodh", settings.url("alarming"), "Alarming service (Aodh)")]


def _identity_url(settings: Settings) -> str:
    return _settings(settings).auth_url or settings.url("identity") + "/v3"


def manager_of(cloud: Cloud) -> AlarmingManager:
    return cloud.services.get_or_create(
        "alarming",
        AlarmingManager,
        lambda: AlarmingManager(
            cloud.db, cloud.enforcer, _settings(cloud.settings), _identity_url(cloud.settings)
        ),
    )


def _password(settings: Settings) -> str:
    alarming = _settings(settings)
    return service_password(settings.state_dir, alarming.service_user, alarming.service_password)


def _prepare(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    settings = cloud.settings
    alarming = _settings(settings)
    url, name, password = _identity_url(settings), alarming.service_user, _password(settings)

    def session(trust_id: str | None) -> KeystoneSession:
        if trust_id is None:
            return KeystoneSession(service_credentials(url, name, password, settings.region))
        trustee = service_credentials(url, name, password, settings.region, project=None)
        return KeystoneSession(trustee, trust_id=trust_id)

    manager.core.session_factory = session


def _build_app(cloud: Cloud) -> Any:
    from onestack.alarming.api.routes import build_app

    return build_app(manager_of(cloud), cloud)


async def _start(cloud: Cloud) -> None:
    from onestack.alarming.evaluator import AlarmEvaluator
    from onestack.alarming.notifier import Notifier
    from onestack.common.periodic import PeriodicTask, TaskRunner

    alarming = _settings(cloud.settings)
    if alarming.evaluation_interval <= 0:
        return
    manager = manager_of(cloud)
    core = manager.core
    notifier = Notifier(
        core.session, alarming.rest_notifier_timeout, alarming.rest_notifier_max_retries
    )
    evaluator = AlarmEvaluator(core, notifier)
    tasks = TaskRunner(
        "alarm evaluator", [PeriodicTask("evaluate", alarming.evaluation_interval, evaluator.run)]
    )
    manager.runtime = (evaluator, tasks)
    tasks.start()
    LOG.info("alarming: evaluating alarms every %ss", alarming.evaluation_interval)


async def _stop(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    runtime, manager.runtime = manager.runtime, None
    if runtime is not None:
        await runtime[1].stop()
    manager.core.close()


PLUGIN = ServicePlugin(
    name="alarming",
    package="onestack.alarming",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
    service_user=lambda settings: ServiceUser(_settings(settings).service_user),
)
