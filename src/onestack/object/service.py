"""The object service's plug-ins: the Swift API ("object") and the S3 API ("s3").

Both serve the same objects through one ``ObjectManager``, registered once as
the cloud's "object" service; the "object" plug-in creates the ring on the
first start and runs the background passes (the manager's ``TaskRunner``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.object import policies
from onestack.object.api.routes import build_app
from onestack.object.api.s3.routes import build_app as build_s3_app
from onestack.object.backends.memory import MemoryDevices
from onestack.object.conf import ObjectSettings
from onestack.object.devices import RingDevices
from onestack.object.manager import ObjectManager
from onestack.object.store import DeviceFactory
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud


def devices_for(conf: ObjectSettings, root: Path) -> DeviceFactory:
    """The device backend ``object.storage_backend`` names, over the ring in ``root``
    (``disk``: devices on this machine, or on storage nodes when the ring names one)."""
    if conf.storage_backend == "memory":
        return MemoryDevices()
    return RingDevices(root)


def manager_of(cloud: Cloud) -> ObjectManager:
    """The cloud's ObjectManager, created and registered once."""
    settings = cloud.settings

    def build() -> ObjectManager:
        devices = devices_for(settings.object, settings.state_dir / "object")
        return ObjectManager(
            settings.state_dir,
            settings.object,
            cloud.db,
            cloud.neighbours,
            devices,
            settings.url("object") + "/v1/",
        )

    return cloud.services.get_or_create("object", ObjectManager, build)


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
    return build_app(
        manager_of(cloud), cloud.identity.tokens, cloud.settings.url("identity") + "/v3"
    )


async def _start(cloud: Cloud) -> None:
    await manager_of(cloud).start()


async def _stop(cloud: Cloud) -> None:
    await manager_of(cloud).stop()


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


def _build_s3_app_for(cloud: Cloud) -> Any:
    return build_s3_app(manager_of(cloud), cloud.identity.tokens, cloud.settings)


S3_PLUGIN = ServicePlugin(
    name="s3",
    package=None,
    catalog=_s3_catalog,
    build_app=_build_s3_app_for,
)
