"""The image service's plug-in to the all-in-one server.

The ``ImageManager`` is registered once as the cloud's "image" service; other
services reach it as ``cloud.neighbours.image``.  ``prepare`` puts uploads
interrupted by a crash back to ``queued``; ``warm_up`` registers the default
image.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING, Any

from onestack.common.keystone_client import (
    Credentials,
    KeystoneSession,
    ServiceUser,
    service_password,
)
from onestack.identity.bootstrap import CatalogEntry
from onestack.image import policies
from onestack.image.api.routes import build_app
from onestack.image.cinder_store import CinderStore
from onestack.image.defaults.register import ensure_default_images
from onestack.image.manager import ImageManager
from onestack.image.store import ImageStore
from onestack.image.swift_store import SwiftStore
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)

#: the image service's own user (as Glance's), owner of its object storage account
SERVICE_USER = "glance"
SERVICE_PROJECT = "service"


def _remote_stores(cloud: Cloud) -> list[ImageStore]:
    """The ``swift`` and ``cinder`` stores, when they are enabled and the object or
    volume service runs in this cloud."""
    settings = cloud.settings
    image = settings.image
    running = {plugin.name for plugin in cloud.plugins}

    def session() -> KeystoneSession:
        return KeystoneSession(
            Credentials(
                auth_url=settings.url("identity") + "/v3",
                username=SERVICE_USER,
                password=service_password(settings.state_dir, SERVICE_USER, image.service_password),
                project_name=SERVICE_PROJECT,
                region=settings.region,
            ),
            timeout=300.0,
        )

    spool = settings.state_dir / "images" / "staging" / ".incoming"
    stores: list[ImageStore] = []
    if "swift" in image.enabled_backends and "object" in running:
        stores.append(SwiftStore(session, image.swift_container, image.swift_chunk_size))
    if "cinder" in image.enabled_backends and "volume" in running:
        stores.append(CinderStore(session, spool, socket.gethostname()))
    return stores


def manager_of(cloud: Cloud) -> ImageManager:
    """The cloud's ImageManager, created and registered once."""
    settings = cloud.settings
    return cloud.services.get_or_create(
        "image",
        ImageManager,
        lambda: ImageManager(
            settings.image, cloud.db, cloud.enforcer, settings.state_dir, _remote_stores(cloud)
        ),
    )


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [CatalogEntry("image", "glance", settings.url("image"), "Image service (Glance v2)")]


def _prepare(cloud: Cloud) -> None:
    manager_of(cloud).reconcile()


def _warm_up(cloud: Cloud) -> None:
    result = cloud.bootstrap_result
    if cloud.settings.image.default_images and result is not None:
        ensure_default_images(manager_of(cloud), cloud.settings.state_dir, result.admin_project_id)
    if cloud.settings.image.default_vm_image and result is not None:
        # not awaited: the cloud is ready before the VM image is (the log says when)
        threading.Thread(
            target=_vm_image,
            args=(manager_of(cloud), result.admin_project_id),
            name="vm image",
            daemon=True,
        ).start()


def _vm_image(manager: ImageManager, project_id: str) -> None:
    from onestack.image.defaults.register import ensure_vm_image

    try:
        ensure_vm_image(manager, project_id)
    except Exception:
        LOG.exception("registering the VM image failed")


def _build_app(cloud: Cloud) -> Any:
    return build_app(manager_of(cloud), cloud.identity.tokens, cloud.settings)


PLUGIN = ServicePlugin(
    name="image",
    package="onestack.image",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    prepare=_prepare,
    warm_up=_warm_up,
    service_user=lambda settings: ServiceUser(SERVICE_USER),
)
