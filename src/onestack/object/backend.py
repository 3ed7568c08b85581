"""Where a replica lives: the storage of one ring device, as a small interface.

The ring (``ring.py``) names the devices that hold each partition's
replicas; ``ObjectStore`` (``store.py``) writes to a quorum of them and reads
the newest; the replicator and the auditor walk them.  All of them see a
device only through :class:`ObjectDevice`.  Two backends implement it,
selected by ``object.storage_backend``:

- ``disk`` (``backends/disk.py``): a directory per device, Swift's layout,
  every file fsynced and renamed into place (durable);
- ``memory`` (``backends/memory.py``): dictionaries in this process (lost at
  shutdown; for tests and clouds that keep nothing).

What one device holds for one object (a partition and a name hash) is a set
of versions named by timestamp: the newest ``data`` (the bytes and their
metadata) or ``ts`` (a tombstone) decides what the object is; a ``meta``
document newer than the data replaces its user metadata.  Writing a newer
version removes the older ones.  Every method blocks; a device that is
missing or failed (``available`` False) refuses writes with ``OSError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import IO, Any, Literal

#: the two kinds of small JSON documents a device keeps beside the data
Document = Literal["meta", "ts"]


class CorruptObject(Exception):
    """A replica whose data cannot be read back as it was written."""


@dataclass(frozen=True)
class DeviceCapabilities:
    """What a backend guarantees (each False unless the backend says otherwise)."""

    #: a committed replica survives a crash of the process and of the machine
    durable: bool = False


@dataclass(frozen=True)
class ReplicaState:
    """What one device holds for one object."""

    device: str
    #: the newest ``data`` or ``ts`` version
    timestamp: str
    #: True when that version is a tombstone
    deleted: bool
    #: a ``meta`` document newer than the data (None: none, or the object is deleted)
    meta_timestamp: str | None = None

    @property
    def newest(self) -> str:
        """The timestamp of the newest change (a ``meta`` counts)."""
        return max(self.timestamp, self.meta_timestamp or "")


@dataclass(frozen=True)
class ReplicaData:
    """An opened ``data`` version: its metadata, its length and its bytes."""

    metadata: dict[str, Any]
    length: int
    #: the bytes from offset 0; read at most ``length`` (what follows is the
    #: backend's own); the caller closes it
    handle: IO[bytes]


class ReplicaWriter(ABC):
    """One ``data`` version being written to one device."""

    @abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append ``chunk``.  A failure is remembered and raised by ``commit``, so
        that one failing device does not stop the others' writes."""

    @abstractmethod
    def commit(self, timestamp: str, metadata: dict[str, Any]) -> None:
        """Make the version durable (as the backend can) and visible, then remove
        older versions.  Raises OSError when the device failed; after a failure
        nothing of this version is visible (``abort`` cleans up)."""

    @abstractmethod
    def abort(self) -> None:
        """Forget everything written (idempotent; safe after a failed commit)."""


class ObjectDevice(ABC):
    """The storage of one ring device."""

    name: str

    @property
    @abstractmethod
    def capabilities(self) -> DeviceCapabilities: ...

    @property
    @abstractmethod
    def available(self) -> bool:
        """False when the device is missing or failed (reads find nothing, writes fail)."""

    @abstractmethod
    def state(self, part: int, name_hash: str) -> ReplicaState | None:
        """What this device holds for the object (None: nothing)."""

    @abstractmethod
    def open_data(self, part: int, name_hash: str, timestamp: str) -> ReplicaData:
        """The ``data`` version ``timestamp``.  Raises FileNotFoundError when it is
        not here (any more), CorruptObject when it cannot be read back."""

    @abstractmethod
    def read_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str
    ) -> dict[str, Any]:
        """A ``meta`` or ``ts`` document ({} when it is missing or unreadable)."""

    @abstractmethod
    def writer(self, part: int, name_hash: str) -> ReplicaWriter:
        """A writer for a new ``data`` version; OSError when the device is unavailable."""

    @abstractmethod
    def put_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str, document: dict[str, Any]
    ) -> None:
        """Durably add a ``meta`` or ``ts`` document (then remove what it makes
        obsolete); OSError when the device is unavailable, and nothing is added."""

    @abstractmethod
    def partitions(self) -> list[int]:
        """The partitions this device holds anything of, in order."""

    @abstractmethod
    def hashes(self, part: int) -> list[str]:
        """The object name hashes held in partition ``part`` (in no particular order)."""

    @abstractmethod
    def remove(self, part: int, name_hash: str) -> None:
        """Forget everything of the object here (a handoff copy, a reclaimed tombstone)."""

    @abstractmethod
    def quarantine(self, part: int, name_hash: str) -> None:
        """Set the object's replica aside: reads and replication no longer see it."""
