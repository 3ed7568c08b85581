"""The object service's plug-ins: the Swift API ("object") and the S3 API ("s3").

Both serve the same objects through one ``ObjectManager`` (held in
``cloud.services["object"]``); the "object" plug-in creates the ring on the
first start and runs the background passes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.object import policies
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.object.manager import ObjectManager
    from onestack.server import Cloud


def manager_of(cloud: Cloud) -> ObjectManager:
    from onestack.object.manager import ObjectManager

    manager = cloud.services.get("object")
    if manager is None:
        manager = ObjectManager(cloud.settings.state_dir, cloud.settings.object, cloud.db)
        cloud.services["object"] = manager
    assert isinstance(manager, ObjectManager)
    return manager


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry(
            "object-store",
            "swift",
            settings.url("object") + "/v1/AUTH_$(project_id)s",
            "Object storage (Swift v1)",
        )
    ]


def _prepare(cloud: Cloud) -> None:
    manager_of(cloud).prepare()


def _build_app(cloud: Cloud) -> Any:
    from onestack.object.api.routes import build_app

    return build_app(
        manager_of(cloud), cloud.identity.tokens, cloud.settings.url("identity") + "/v3"
    )


async def _start(cloud: Cloud) -> None:
    from onestack.object.background import start_tasks

    cloud.services["object.tasks"] = start_tasks(manager_of(cloud))


async def _stop(cloud: Cloud) -> None:
    from onestack.object.background import stop_tasks

    await stop_tasks(cloud.services.pop("object.tasks", []))


PLUGIN = ServicePlugin(
    name="object",
    package="onestack.object",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    start=_start,
    stop=_stop,
    prepare=_prepare,
)


def _s3_catalog(settings: Settings) -> list[CatalogEntry]:
    return [CatalogEntry("s3", "s3", settings.url("s3"), "S3-compatible object storage")]


def _build_s3_app(cloud: Cloud) -> Any:
    from onestack.object.s3.routes import build_app

    return build_app(manager_of(cloud), cloud.identity, cloud.settings)


S3_PLUGIN = ServicePlugin(
    name="s3",
    package=None,
    catalog=_s3_catalog,
    build_app=_build_s3_app,
)
