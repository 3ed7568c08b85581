"""The image service's plug-in to the all-in-one server."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.image import policies
from onestack.image.manager import ImageManager
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def manager_of(cloud: Cloud) -> ImageManager:
    """The cloud's ImageManager (``cloud.services["image"]``), created once."""
    existing = cloud.services.get("image")
    if isinstance(existing, ImageManager):
        return existing
    manager = ImageManager(cloud.settings.image, cloud.db, cloud.enforcer, cloud.settings.state_dir)
    cloud.services["image"] = manager
    return manager


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [CatalogEntry("image", "glance", settings.url("image"), "Image service (Glance v2)")]


def _prepare(cloud: Cloud) -> None:
    manager_of(cloud).reconcile()


def _warm_up(cloud: Cloud) -> None:
    from onestack.image.defaults.register import ensure_default_images

    manager = manager_of(cloud)
    result = cloud.bootstrap_result
    if cloud.settings.image.default_images and result is not None:
        ensure_default_images(manager, cloud.settings.state_dir, result.admin_project_id)
    if cloud.settings.image.default_vm_image and result is not None:
        # not awaited: the cloud is ready before the VM image is (the log says when)
        threading.Thread(
            target=_vm_image, args=(manager, result.admin_project_id), name="vm image", daemon=True
        ).start()


def _vm_image(manager: ImageManager, project_id: str) -> None:
    from onestack.image.defaults.register import ensure_vm_image

    try:
        ensure_vm_image(manager, project_id)
    except Exception:
        LOG.exception("registering the VM image failed")


def _build_app(cloud: Cloud) -> Any:
    from onestack.image.api.routes import build_app

    return build_app(manager_of(cloud), cloud.identity.tokens, cloud.settings)


PLUGIN = ServicePlugin(
    name="image",
    package="onestack.image",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    prepare=_prepare,
    warm_up=_warm_up,
)
