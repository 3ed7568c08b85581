"""The default backend: sparse raw files in a reflink pool, exported as loop devices.

Volumes are ``volume-<id>`` and snapshots ``snapshot-<id>`` in the pool
(``pool.py``).  Snapshots, clones and volumes from snapshots are
``cp --reflink=always`` on an XFS/btrfs pool (instant, copy-on-write) and
sparse full copies in a plain-directory pool.  Volumes from images are
written with ``qemu-img convert`` (qcow2) or a sparse copy (raw).  Every new
file is fsynced before it is renamed into place and the pool directory after,
so a volume or snapshot reported ``available`` survives a crash; a detached
volume's file is fsynced too (what the instance wrote through the loop device).
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from onestack.common.files import fsync_path
from onestack.volume.backends import loop
from onestack.volume.backends._shell import run
from onestack.volume.backends.base import BackendInfo, VolumeBackend
from onestack.volume.backends.pool import Pool, close_pool
from onestack.volume.exceptions import InvalidInput


class FileVolumeBackend(VolumeBackend):
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    # -- paths ----------------------------------------------------------------

    def volume_path(self, volume_id: str) -> Path:
        return self.pool.path / f"volume-{volume_id}"

    def snapshot_path(self, snapshot_id: str) -> Path:
        return self.pool.path / f"snapshot-{snapshot_id}"

    def info(self) -> BackendInfo:
        stat = os.statvfs(self.pool.path)
        return BackendInfo(
            driver="file",
            pool=self.pool.filesystem,
            filesystem=self.pool.filesystem,
            reflink=self.pool.reflink,
            total_bytes=stat.f_blocks * stat.f_frsize,
            free_bytes=stat.f_bavail * stat.f_frsize,
            notes=self.pool.notes,
        )

    # -- copies ---------------------------------------------------------------

    def _install(self, tmp: Path, target: Path) -> None:
        """Make ``tmp`` durable and rename it to ``target``, durably."""
        fsync_path(tmp)
        tmp.rename(target)
        fsync_path(target.parent)

    def _copy(self, source: Path, target: Path) -> None:
        mode = "--reflink=always" if self.pool.reflink else "--sparse=always"
        tmp = target.with_name(target.name + ".part")
        try:
            run("cp", mode, str(source), str(tmp))
            self._install(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)

    def _grow(self, path: Path, size: int) -> None:
        if path.stat().st_size < size:
            with open(path, "r+b") as handle:
                handle.truncate(size)
                os.fsync(handle.fileno())

    # -- the contract ---------------------------------------------------------

    def create_volume(self, volume_id: str, size: int) -> None:
        path = self.volume_path(volume_id)
        tmp = path.with_name(path.name + ".part")
        try:
            with open(tmp, "wb") as handle:
                handle.truncate(size)
            self._install(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def create_from_file(self, volume_id: str, source: Path, source_format: str, size: int) -> None:
        path = self.volume_path(volume_id)
        tmp = path.with_name(path.name + ".part")
        fmt = source_format if source_format in ("raw", "qcow2") else "raw"
        if fmt == "qcow2":
            info = json.loads(run("qemu-img", "info", "--output=json", "-f", fmt, str(source)))
            virtual = int(info["virtual-size"])
        else:
            virtual = source.stat().st_size
        if virtual > size:
            raise InvalidInput(
                reason=f"Image virtual size is {-(-virtual // 1024**3)}GB and doesn't fit in a "
                f"volume of size {size // 1024**3}GB."
            )
        try:
            run("qemu-img", "convert", "-f", fmt, "-O", "raw", "-S", "4k", str(source), str(tmp))
            self._grow(tmp, size)
            self._install(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    def clone_volume(self, volume_id: str, source_volume_id: str, size: int) -> None:
        target = self.volume_path(volume_id)
        self._copy(self.volume_path(source_volume_id), target)
        self._grow(target, size)

    def create_snapshot(self, snapshot_id: str, volume_id: str) -> None:
        self._copy(self.volume_path(volume_id), self.snapshot_path(snapshot_id))

    def create_from_snapshot(self, volume_id: str, snapshot_id: str, size: int) -> None:
        target = self.volume_path(volume_id)
        self._copy(self.snapshot_path(snapshot_id), target)
        self._grow(target, size)

    def revert_to_snapshot(self, volume_id: str, snapshot_id: str) -> None:
        path = self.volume_path(volume_id)
        size = path.stat().st_size
        self._copy(self.snapshot_path(snapshot_id), path)
        self._grow(path, size)

    def delete_volume(self, volume_id: str) -> None:
        path = self.volume_path(volume_id)
        for device in loop.devices_of(path):
            loop.detach(device)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".part").unlink(missing_ok=True)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.snapshot_path(snapshot_id).unlink(missing_ok=True)

    def extend_volume(self, volume_id: str, size: int) -> None:
        path = self.volume_path(volume_id)
        self._grow(path, size)
        for device in loop.devices_of(path):
            loop.refresh(device)

    def export(self, volume_id: str, readonly: bool) -> str:
        return loop.attach(self.volume_path(volume_id), readonly)

    def unexport(self, device: str) -> None:
        backing = loop.backing_file(device)
        with contextlib.suppress(FileNotFoundError):
            loop.detach(device)
        if backing is not None and backing.is_file():
            fsync_path(backing)

    def close(self) -> None:
        close_pool(self.pool)
