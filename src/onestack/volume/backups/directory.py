"""A backup store in a local directory: ``<root>/<backup_id>/<name>``."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from onestack.volume.backups.base import BackupStore


class DirectoryBackupStore(BackupStore):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.container = str(root)
        root.mkdir(parents=True, exist_ok=True)

    def _dir(self, backup_id: str) -> Path:
        if "/" in backup_id or backup_id in ("", ".", ".."):
            raise ValueError(f"bad backup id {backup_id!r}")
        return self.root / backup_id

    def put(self, backup_id: str, name: str, data: bytes) -> None:
        directory = self._dir(backup_id)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f".{name}.part"
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.rename(directory / name)

    def get(self, backup_id: str, name: str) -> bytes:
        return (self._dir(backup_id) / name).read_bytes()

    def delete(self, backup_id: str) -> None:
        shutil.rmtree(self._dir(backup_id), ignore_errors=True)

    def exists(self, backup_id: str, name: str) -> bool:
        return (self._dir(backup_id) / name).exists()

    def used_bytes(self, backup_id: str) -> int:
        directory = self._dir(backup_id)
        if not directory.exists():
            return 0
        return sum(p.stat().st_size for p in directory.iterdir())
