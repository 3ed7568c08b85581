"""Register the default images through the ImageManager (no internet needed).

``ensure_default_images`` runs on every ``onestack up``: it builds
``onestack-busybox`` into ``<state_dir>/image-cache/`` the first time and
imports it as a public image of the admin project; later starts find it and
do nothing.  ``onestack image build`` rebuilds and replaces it.

``ensure_vm_image`` registers ``onestack-vm`` (a bootable qcow2, see
``vm``) the same way, in a background thread: the image is built once per
machine into the shared cache (``scripts/install`` does it; otherwise the
first start builds it, which takes a few seconds plus downloading Debian's
kernel package) and the log says when it is available.
"""

from __future__ import annotations

import logging
from pathlib import Path

from onestack.common.context import RequestContext
from onestack.guests import busybox, vm
from onestack.image import states
from onestack.image.interface import ImageRecord
from onestack.image.manager import ImageManager

LOG = logging.getLogger(__name__)
CACHE_DIR = "image-cache"


def owner_context(project_id: str) -> RequestContext:
    """onestack's own context acting for the admin project."""
    return RequestContext(
        request_id="onestack-default-images",
        project_id=project_id,
        project_name="admin",
        roles=("admin", "member", "reader"),
        is_internal=True,
    )


def find_default(
    manager: ImageManager, project_id: str, name: str = busybox.NAME
) -> list[ImageRecord]:
    return manager.images.owned_named(project_id, name)


def register(manager: ImageManager, project_id: str, path: Path) -> ImageRecord:
    return manager.create_from_file(
        owner_context(project_id),
        busybox.NAME,
        path,
        disk_format="raw",
        container_format="bare",
        properties=dict(busybox.PROPERTIES),
        visibility="public",
        min_disk=busybox.MIN_DISK_GIB,
        min_ram=busybox.MIN_RAM_MIB,
        store=manager.local_store,
    )


def ensure_default_images(manager: ImageManager, state_dir: Path, project_id: str) -> None:
    """Build and register onestack-busybox unless an active one exists."""
    found = find_default(manager, project_id)
    if any(r.status in states.HAS_DATA for r in found):
        return
    cached = state_dir / CACHE_DIR / busybox.IMAGE_FILE
    try:
        if not cached.is_file():
            busybox.build(cached)
    except (busybox.BuildError, OSError) as exc:
        LOG.warning("the default image %s is not available: %s", busybox.NAME, exc)
        return
    ctx = owner_context(project_id)
    for stale in found:  # a queued or failed leftover of an interrupted first start
        manager.images.delete(ctx, stale.id)
    record = register(manager, project_id, cached)
    LOG.info("registered the default image %s (%s)", record.name, record.id)


def rebuild(manager: ImageManager, state_dir: Path, project_id: str) -> ImageRecord:
    """Build a fresh image; replace the registered one if its bytes changed."""
    cached = state_dir / CACHE_DIR / busybox.IMAGE_FILE
    busybox.build(cached)
    ctx = owner_context(project_id)
    found = find_default(manager, project_id)
    record = register(manager, project_id, cached)
    for old in found:
        manager.images.delete(ctx, old.id)
    return record


def register_vm(manager: ImageManager, project_id: str, path: Path) -> ImageRecord:
    return manager.create_from_file(
        owner_context(project_id),
        vm.NAME,
        path,
        disk_format="qcow2",
        container_format="bare",
        properties=dict(vm.PROPERTIES),
        visibility="public",
        min_disk=vm.MIN_DISK_GIB,
        min_ram=vm.MIN_RAM_MIB,
        store=manager.local_store,
    )


def ensure_vm_image(manager: ImageManager, project_id: str) -> ImageRecord | None:
    """Build (once per machine) and register onestack-vm unless an active one exists."""
    found = find_default(manager, project_id, vm.NAME)
    if any(r.status in states.HAS_DATA for r in found):
        return None
    cached = vm.cached_image()
    if not cached.is_file():
        LOG.info("building the VM image %s in the background", vm.NAME)
        try:
            vm.build(cached)
        except (vm.VmBuildError, OSError) as exc:
            LOG.warning("the VM image %s is not available: %s", vm.NAME, exc)
            return None
    ctx = owner_context(project_id)
    for stale in found:
        manager.images.delete(ctx, stale.id)
    record = register_vm(manager, project_id, cached)
    LOG.info("the VM image %s is available (%s)", record.name, record.id)
    return record
