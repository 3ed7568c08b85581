"""Where volumes' bytes live: the backend contract (``base.py``) and its
implementations, chosen by ``volume.backend``: ``file`` (sparse files in a
reflink pool, loop devices) and ``fake`` (plain files, no block devices)."""

from __future__ import annotations

import logging
from pathlib import Path

from onestack.volume.backends.base import VolumeBackend
from onestack.volume.conf import VolumeSettings

LOG = logging.getLogger(__name__)


def open_backend(settings: VolumeSettings, root: Path) -> VolumeBackend:
    """This host's backend, its storage under ``root`` (opened or made)."""
    if settings.backend == "fake":
        from onestack.volume.backends.fake import FakeVolumeBackend

        backend: VolumeBackend = FakeVolumeBackend(root / "fake")
    else:
        from onestack.volume.backends.file import FileVolumeBackend
        from onestack.volume.backends.pool import open_pool

        backend = FileVolumeBackend(
            open_pool(root, settings.pool_filesystem, settings.pool_size_gb)
        )
    info = backend.info()
    LOG.info(
        "volume: %s backend, pool %s (%s, reflink=%s) %s",
        info.driver,
        info.pool,
        info.filesystem,
        info.capabilities.reflink,
        info.notes,
    )
    return backend
