"""The backup store contract: named blobs grouped by backup id.

A store keeps each backup's chunks and its manifest; the engine
(``engine.py``) decides what goes in them.  Two stores: a local directory
(``directory.py``) and the cloud's object storage (``swift.py``, Cinder's
swift backup driver).  Every call names the backup's :class:`BackupPlace`:
the project that owns it and the container the user chose (``--container``;
None: the store's default).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True)
class BackupPlace:
    project_id: str | None = None
    container: str | None = None


DEFAULT_PLACE = BackupPlace()


class BackupStore(abc.ABC):
    #: the container a backup without one goes to, as Cinder's ``container`` shows it
    container: str = "backups"
    #: the name of Cinder's backup driver that keeps backups the same way (a backup
    #: record's ``backup_service`` in export and import)
    service_name: str = ""

    def container_of(self, place: BackupPlace) -> str:
        """The container a backup at ``place`` is in (its record's ``container``)."""
        return place.container or self.container

    @abc.abstractmethod
    def put(self, place: BackupPlace, backup_id: str, name: str, data: bytes) -> None:
        """Store ``data``; the blob is complete or absent after a failure."""

    @abc.abstractmethod
    def get(self, place: BackupPlace, backup_id: str, name: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it does not exist."""

    @abc.abstractmethod
    def delete(self, place: BackupPlace, backup_id: str) -> None:
        """Remove every blob of the backup (absent: nothing to do)."""

    @abc.abstractmethod
    def exists(self, place: BackupPlace, backup_id: str, name: str) -> bool:
        """Whether the blob exists."""

    @abc.abstractmethod
    def used_bytes(self, place: BackupPlace, backup_id: str) -> int:
        """Bytes the backup's blobs take in the store."""
