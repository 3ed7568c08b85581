"""What the backends that keep volumes as files share: sparse raw files
``volume-<id>`` and ``snapshot-<id>`` in one directory, written durably.

Copies (snapshots, clones, volumes from snapshots) are ``cp --reflink=always``
where the directory's filesystem has reflink, sparse full copies otherwise.
Volumes from images are written with ``qemu-img convert`` (qcow2) or a sparse
copy (raw).  Every new file is written under a ``.part`` name, fsynced,
renamed into place and the directory fsynced after, so a volume or snapshot
reported ``available`` survives a crash and a failed create leaves nothing.
Subclasses say how a volume is exported and what holds on to its file
(``_release``) or must see its new size (``_resized``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from onestack.common.files import fsync_path
from onestack.volume.backends._shell import run
from onestack.volume.backends.base import VolumeBackend
from onestack.volume.exceptions import InvalidInput


class FileBackedBackend(VolumeBackend):
    def __init__(self, directory: Path, reflink: bool) -> None:
        self.directory = directory
        self.reflink = reflink

    # -- paths ----------------------------------------------------------------

    def volume_path(self, volume_id: str) -> Path:
        return self.directory / f"volume-{volume_id}"

    def snapshot_path(self, snapshot_id: str) -> Path:
        return self.directory / f"snapshot-{snapshot_id}"

    def _capacity(self) -> tuple[int, int]:
        """(total, free) bytes of the directory's filesystem."""
        stat = os.statvfs(self.directory)
        return stat.f_blocks * stat.f_frsize, stat.f_bavail * stat.f_frsize

    # -- hooks ----------------------------------------------------------------

    def _release(self, path: Path) -> None:
        """Let go of everything that still uses ``path`` before it is deleted."""

    def _resized(self, path: Path) -> None:
        """Make what uses ``path`` see its new size."""

    # -- writing files ----------------------------------------------------------

    def _install(self, tmp: Path, target: Path) -> None:
        """Make ``tmp`` durable and rename it to ``target``, durably."""
        fsync_path(tmp)
        tmp.rename(target)
        fsync_path(target.parent)

    def _copy(self, source: Path, target: Path) -> None:
        if not source.is_file():
            raise InvalidInput(reason=f"{source.name} does not exist in the pool")
        mode = "--reflink=always" if self.reflink else "--sparse=always"
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
        self._release(path)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".part").unlink(missing_ok=True)

    def delete_snapshot(self, snapshot_id: str) -> None:
        self.snapshot_path(snapshot_id).unlink(missing_ok=True)

    def extend_volume(self, volume_id: str, size: int) -> None:
        path = self.volume_path(volume_id)
        self._grow(path, size)
        self._resized(path)
