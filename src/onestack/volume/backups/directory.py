"""A backup store in a local directory: ``<root>/[<container>/]<backup_id>/<name>``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from onestack.volume.backups.base import BackupPlace, BackupStore


def _component(value: str, what: str) -> str:
    if "/" in value or value in ("", ".", ".."):
        raise ValueError(f"bad {what} {value!r}")
    return value


class DirectoryBackupStore(BackupStore):
    service_name = "cinder.backup.drivers.posix.PosixBackupDriver"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.container = str(root)
        root.mkdir(parents=True, exist_ok=True)

    def _dir(self, place: BackupPlace, backup_id: str) -> Path:
        base = (
            self.root / _component(place.container, "container") if place.container else self.root
        )
        return base / _component(backup_id, "backup id")

    def put(self, place: BackupPlace, backup_id: str, name: str, data: bytes) -> None:
        directory = self._dir(place, backup_id)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{name}.part"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.rename(directory / name)

    def get(self, place: BackupPlace, backup_id: str, name: str) -> bytes:
        return (self._dir(place, backup_id) / name).read_bytes()

    def delete(self, place: BackupPlace, backup_id: str) -> None:
        shutil.rmtree(self._dir(place, backup_id), ignore_errors=True)

    def exists(self, place: BackupPlace, backup_id: str, name: str) -> bool:
        return (self._dir(place, backup_id) / name).exists()

    def used_bytes(self, place: BackupPlace, backup_id: str) -> int:
        directory = self._dir(place, backup_id)
        if not directory.exists():
            return 0
        return sum(p.stat().st_size for p in directory.iterdir())
