"""The default backend: sparse raw files in a reflink pool, exported as loop devices.

Volumes are ``volume-<id>`` and snapshots ``snapshot-<id>`` in the pool
(``pool.py``), written as every file-backed backend writes them
(``_files.py``): reflink copies on an XFS/btrfs pool, sparse full copies in a
plain-directory pool, durable before they are reported.  Attaching runs
``losetup`` on the volume file; the loop device is the export.  Deleting a
volume releases any loop device still pointing at its file; extending
refreshes them; a detached volume's file is fsynced (what the instance wrote
through the loop device).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from onestack.common.files import fsync_path
from onestack.volume.backends import loop
from onestack.volume.backends._files import FileBackedBackend
from onestack.volume.backends.base import BackendCapabilities, BackendInfo
from onestack.volume.backends.pool import Pool, close_pool


class FileVolumeBackend(FileBackedBackend):
    def __init__(self, pool: Pool) -> None:
        super().__init__(pool.path, pool.reflink)
        self.pool = pool

    def info(self) -> BackendInfo:
        total, free = self._capacity()
        return BackendInfo(
            driver="file",
            pool=self.pool.filesystem,
            filesystem=self.pool.filesystem,
            total_bytes=total,
            free_bytes=free,
            capabilities=BackendCapabilities(
                reflink=self.pool.reflink, block_devices=True, revert_to_snapshot=True
            ),
            notes=self.pool.notes,
        )

    def _release(self, path: Path) -> None:
        for device in loop.devices_of(path):
            loop.detach(device)

    def _resized(self, path: Path) -> None:
        for device in loop.devices_of(path):
            loop.refresh(device)

    def export(self, volume_id: str, readonly: bool) -> str:
        return loop.attach(self.volume_path(volume_id), readonly)

    def exported(self, device: str, volume_id: str) -> bool:
        backing = loop.backing_file(device)
        return backing is not None and backing == self.volume_path(volume_id).resolve()

    def unexport(self, device: str) -> None:
        backing = loop.backing_file(device)
        with contextlib.suppress(FileNotFoundError):
            loop.detach(device)
        if backing is not None and backing.is_file():
            fsync_path(backing)

    def close(self) -> None:
        close_pool(self.pool)
