"""The backup store contract: named blobs grouped by backup id.

A store keeps each backup's chunks and its manifest; the engine
(``engine.py``) decides what goes in them.  The directory store is the
default; an object-storage store can implement the same five methods.
"""

from __future__ import annotations

import abc


class BackupStore(abc.ABC):
    #: where the chunks live, as Cinder's ``container`` field shows it
    container: str = "backups"

    @abc.abstractmethod
    def put(self, backup_id: str, name: str, data: bytes) -> None:
        """Store ``data``; the blob is complete or absent after a failure."""

    @abc.abstractmethod
    def get(self, backup_id: str, name: str) -> bytes:
        """The blob's bytes; FileNotFoundError when it does not exist."""

    @abc.abstractmethod
    def delete(self, backup_id: str) -> None:
        """Remove every blob of the backup (absent: nothing to do)."""

    @abc.abstractmethod
    def exists(self, backup_id: str, name: str) -> bool:
        """Whether the blob exists."""

    @abc.abstractmethod
    def used_bytes(self, backup_id: str) -> int:
        """Bytes the backup's blobs take in the store."""
