"""The ``memory`` backend: every device's replicas in dictionaries of this process.

Nothing survives the process (``durable`` is False): for tests and for clouds
that keep no objects.  It keeps the disk backend's rules — versions named by
timestamp, the newest ``data``/``ts`` wins, a newer ``meta`` overrides, a
write is invisible until committed — so the store, the replicator and the
auditor behave the same over it.  ``online`` False stands for a failed disk:
the device then holds nothing and refuses writes, and comes back empty.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from typing import Any

from onestack.object.backend import (
    DeviceCapabilities,
    Document,
    ObjectDevice,
    ReplicaData,
    ReplicaState,
    ReplicaWriter,
)

CAPABILITIES = DeviceCapabilities(durable=False)

Key = tuple[int, str]


@dataclass
class _Versions:
    """The versions of one object on one device."""

    data: dict[str, tuple[bytes, dict[str, Any]]] = field(default_factory=dict)
    documents: dict[tuple[Document, str], dict[str, Any]] = field(default_factory=dict)

    def newest(self) -> tuple[str, bool, str | None] | None:
        stamps = [(ts, False) for ts in self.data]
        stamps += [(ts, True) for kind, ts in self.documents if kind == "ts"]
        if not stamps:
            return None
        timestamp, deleted = max(stamps)
        metas = [ts for kind, ts in self.documents if kind == "meta" and ts > timestamp]
        return timestamp, deleted, None if deleted or not metas else max(metas)

    def cleanup(self) -> None:
        newest = self.newest()
        if newest is None:
            return
        timestamp, deleted, meta = newest
        self.data = {ts: v for ts, v in self.data.items() if ts == timestamp and not deleted}
        keep = {("ts", timestamp)} if deleted else set()
        if meta is not None:
            keep.add(("meta", meta))
        self.documents = {k: v for k, v in self.documents.items() if k in keep}


class _MemoryWriter(ReplicaWriter):
    def __init__(self, device: MemoryDevice, key: Key) -> None:
        self.device = device
        self.key = key
        self.buffer: io.BytesIO | None = io.BytesIO()

    def write(self, chunk: bytes) -> None:
        if self.buffer is not None:
            self.buffer.write(chunk)

    def commit(self, timestamp: str, metadata: dict[str, Any]) -> None:
        if self.buffer is None:
            raise OSError(f"device {self.device.name}: the write was aborted")
        data, self.buffer = self.buffer.getvalue(), None
        with self.device.lock:
            self.device.check_online()
            versions = self.device.objects.setdefault(self.key, _Versions())
            versions.data[timestamp] = (data, dict(metadata))
            versions.cleanup()

    def abort(self) -> None:
        self.buffer = None


class MemoryDevice(ObjectDevice):
    def __init__(self, name: str) -> None:
        self.name = name
        self.online = True
        self.lock = threading.Lock()
        self.objects: dict[Key, _Versions] = {}
        #: what ``quarantine`` set aside, by key
        self.quarantined: dict[Key, list[_Versions]] = {}

    @property
    def capabilities(self) -> DeviceCapabilities:
        return CAPABILITIES

    @property
    def available(self) -> bool:
        return self.online

    def fail(self) -> None:
        """The disk is gone: everything on it is lost and writes fail until ``replace``."""
        with self.lock:
            self.online = False
            self.objects.clear()

    def replace(self) -> None:
        """An empty disk takes the failed one's place."""
        with self.lock:
            self.online = True

    def check_online(self) -> None:
        if not self.online:
            raise FileNotFoundError(f"device {self.name} is not available")

    def _versions(self, part: int, name_hash: str) -> _Versions | None:
        return self.objects.get((part, name_hash))

    def state(self, part: int, name_hash: str) -> ReplicaState | None:
        with self.lock:
            versions = self._versions(part, name_hash)
            newest = versions.newest() if versions is not None else None
        if newest is None:
            return None
        timestamp, deleted, meta = newest
        return ReplicaState(self.name, timestamp, deleted, meta)

    def open_data(self, part: int, name_hash: str, timestamp: str) -> ReplicaData:
        with self.lock:
            versions = self._versions(part, name_hash)
            found = versions.data.get(timestamp) if versions is not None else None
        if found is None:
            raise FileNotFoundError(f"{self.name}: no data {timestamp} of {name_hash}")
        data, metadata = found
        return ReplicaData(dict(metadata), len(data), io.BytesIO(data))

    def read_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str
    ) -> dict[str, Any]:
        with self.lock:
            versions = self._versions(part, name_hash)
            found = versions.documents.get((kind, timestamp)) if versions is not None else None
        return dict(found) if found is not None else {}

    def writer(self, part: int, name_hash: str) -> ReplicaWriter:
        self.check_online()
        return _MemoryWriter(self, (part, name_hash))

    def put_document(
        self, part: int, name_hash: str, kind: Document, timestamp: str, document: dict[str, Any]
    ) -> None:
        with self.lock:
            self.check_online()
            versions = self.objects.setdefault((part, name_hash), _Versions())
            versions.documents[(kind, timestamp)] = dict(document)
            versions.cleanup()

    def partitions(self) -> list[int]:
        with self.lock:
            return sorted({part for part, _ in self.objects})

    def hashes(self, part: int) -> list[str]:
        with self.lock:
            return sorted(name_hash for p, name_hash in self.objects if p == part)

    def remove(self, part: int, name_hash: str) -> None:
        with self.lock:
            self.objects.pop((part, name_hash), None)

    def quarantine(self, part: int, name_hash: str) -> None:
        with self.lock:
            versions = self.objects.pop((part, name_hash), None)
            if versions is not None:
                self.quarantined.setdefault((part, name_hash), []).append(versions)


class MemoryDevices:
    """The memory devices of one cloud, one per ring device name (made on first use)."""

    def __init__(self) -> None:
        self._devices: dict[str, MemoryDevice] = {}
        self._lock = threading.Lock()

    def __call__(self, name: str) -> MemoryDevice:
        with self._lock:
            device = self._devices.get(name)
            if device is None:
                device = self._devices[name] = MemoryDevice(name)
            return device
