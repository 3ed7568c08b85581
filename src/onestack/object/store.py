"""Replicated object storage over the ring: quorum writes, read fallover, handoffs.

``ObjectStore`` is what the proxy uses for object bytes.  Each ring device is
an :class:`~onestack.object.backend.ObjectDevice` (``disk`` by default,
``memory`` when ``object.storage_backend`` says so).  A write goes to the
partition's primary devices; a primary that is unavailable is replaced by
the next handoff device.  It succeeds when a quorum (``replicas // 2 + 1``)
of replicas are fsynced and renamed into place, otherwise it raises
``InsufficientStorage`` (503) and no replica becomes visible.  A read looks
at every device, takes the newest version and falls over to the next replica
when one is missing or unreadable.  All methods block: call them from a
worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from onestack.common.exceptions import ServiceUnavailable
from onestack.object.backend import (
    CorruptObject,
    Document,
    ObjectDevice,
    ReplicaState,
    ReplicaWriter,
)
from onestack.object.ring import RING_FILE, Ring, RingHolder

#: the backend of each ring device, by device name
DeviceFactory = Callable[[str], ObjectDevice]

#: replicas are made durable in parallel: their fsyncs overlap instead of adding up
_COMMITS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="object-commit")

#: Headers a POST replaces (the rest of an object's metadata is fixed at PUT).
UPDATABLE_PREFIXES = ("x-object-meta-",)
UPDATABLE = ("content-disposition", "content-encoding", "x-delete-at", "x-object-manifest")


def is_updatable(name: str) -> bool:
    return name in UPDATABLE or name.startswith(UPDATABLE_PREFIXES)


class InsufficientStorage(ServiceUnavailable):
    msg_fmt = "Could not write to a quorum of devices ({written} of {wanted})."


@dataclass(frozen=True)
class Location:
    part: int
    name_hash: str
    primaries: list[ObjectDevice]
    handoffs: list[ObjectDevice]
    quorum: int

    def all_devices(self) -> list[ObjectDevice]:
        return [*self.primaries, *self.handoffs]

    def write_targets(self) -> list[ObjectDevice]:
        targets = [d for d in self.primaries if d.available]
        spare = (d for d in self.handoffs if d.available)
        for _ in range(len(self.primaries) - len(targets)):
            dev = next(spare, None)
            if dev is not None:
                targets.append(dev)
        return targets


@dataclass
class StoredObject:
    """One object version's metadata as the newest replica holds it."""

    path: str
    timestamp: str
    etag: str
    length: int
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    meta_timestamp: str | None = None

    @property
    def last_changed(self) -> str:
        return self.meta_timestamp or self.timestamp


def object_metadata(
    path: str,
    timestamp: str,
    etag: str,
    length: int,
    content_type: str,
    headers: dict[str, str],
) -> dict[str, Any]:
    return {
        "name": path,
        "timestamp": timestamp,
        "etag": etag,
        "length": length,
        "content_type": content_type,
        "headers": headers,
    }


class PutStream:
    """The replicas of one object being written; ``commit`` needs a quorum."""

    def __init__(self, loc: Location) -> None:
        self.loc = loc
        self.writers: list[ReplicaWriter] = []
        for dev in loc.write_targets():
            try:
                self.writers.append(dev.writer(loc.part, loc.name_hash))
            except OSError:
                continue
        if len(self.writers) < loc.quorum:
            self.abort()
            raise InsufficientStorage(written=len(self.writers), wanted=loc.quorum)

    def write(self, chunk: bytes) -> None:
        for writer in self.writers:
            writer.write(chunk)

    def commit(self, timestamp: str, metadata: dict[str, Any]) -> int:
        """Make the replicas durable; returns how many were written."""
        done = 0
        commits = [_COMMITS.submit(w.commit, timestamp, metadata) for w in self.writers]
        for writer, commit in zip(self.writers, commits, strict=True):
            try:
                commit.result()
                done += 1
            except OSError:
                writer.abort()
        if done < self.loc.quorum:
            raise InsufficientStorage(written=done, wanted=self.loc.quorum)
        return done

    def abort(self) -> None:
        for writer in self.writers:
            writer.abort()


class ObjectStore:
    """The replicas of every object, over the ring in ``<root>`` and ``devices``."""

    def __init__(self, root: Path, devices: DeviceFactory) -> None:
        self.root = root
        self.rings = RingHolder(root / RING_FILE)
        self.device = devices

    @property
    def ring(self) -> Ring:
        return self.rings.get()

    def devices(self) -> list[ObjectDevice]:
        """Every device of the ring, in the ring's order."""
        return [self.device(d.name) for d in self.ring.devices]

    def locate(self, account: str, container: str, obj: str) -> Location:
        ring = self.ring
        name_hash = ring.object_hash(account, container, obj)
        part = ring.partition_of(name_hash)
        return Location(
            part=part,
            name_hash=name_hash,
            primaries=[self.device(d.name) for d in ring.primaries(part)],
            handoffs=[self.device(d.name) for d in ring.handoffs(part)],
            quorum=ring.replicas // 2 + 1,
        )

    # -- writes -------------------------------------------------------------------

    def begin_put(self, account: str, container: str, obj: str) -> PutStream:
        return PutStream(self.locate(account, container, obj))

    def _put_document(
        self, loc: Location, kind: Document, timestamp: str, document: dict[str, Any]
    ) -> None:
        done = 0
        for dev in loc.write_targets():
            try:
                dev.put_document(loc.part, loc.name_hash, kind, timestamp, document)
                done += 1
            except OSError:
                continue
        if done < loc.quorum:
            raise InsufficientStorage(written=done, wanted=loc.quorum)

    def post(
        self,
        account: str,
        container: str,
        obj: str,
        timestamp: str,
        headers: dict[str, str],
        content_type: str | None,
    ) -> None:
        """Replace the object's updatable metadata (a ``.meta`` file)."""
        document = {"timestamp": timestamp, "headers": headers, "content_type": content_type}
        self._put_document(self.locate(account, container, obj), "meta", timestamp, document)

    def delete(self, account: str, container: str, obj: str, timestamp: str) -> None:
        """Write a tombstone: the object is gone once a quorum holds it."""
        loc = self.locate(account, container, obj)
        path = f"/{account}/{container}/{obj}"
        self._put_document(loc, "ts", timestamp, {"name": path, "timestamp": timestamp})

    # -- reads --------------------------------------------------------------------

    def _replicas(self, loc: Location) -> list[tuple[ObjectDevice, ReplicaState]]:
        """Every device's version of the object, newest first."""
        found = []
        for dev in loc.all_devices():
            state = dev.state(loc.part, loc.name_hash)
            if state is not None:
                found.append((dev, state))
        return sorted(found, key=lambda pair: pair[1].timestamp, reverse=True)

    def _open(self, loc: Location) -> tuple[StoredObject, IO[bytes]] | None:
        replicas = self._replicas(loc)
        metas = [(s.meta_timestamp, dev) for dev, s in replicas if s.meta_timestamp is not None]
        for dev, state in replicas:
            if state.deleted:
                return None
            try:
                opened = dev.open_data(loc.part, loc.name_hash, state.timestamp)
            except (OSError, CorruptObject):
                continue
            metadata = opened.metadata
            stored = StoredObject(
                path=str(metadata.get("name", "")),
                timestamp=state.timestamp,
                etag=str(metadata.get("etag", "")),
                length=opened.length,
                content_type=str(metadata.get("content_type") or "application/octet-stream"),
                headers=dict(metadata.get("headers") or {}),
            )
            newer = [(ts, d) for ts, d in metas if ts > state.timestamp]
            if newer:
                meta_ts, meta_dev = max(newer, key=lambda pair: pair[0])
                meta = meta_dev.read_document(loc.part, loc.name_hash, "meta", meta_ts)
                fixed = {k: v for k, v in stored.headers.items() if not is_updatable(k)}
                stored.headers = {**fixed, **dict(meta.get("headers") or {})}
                if meta.get("content_type"):
                    stored.content_type = str(meta["content_type"])
                stored.meta_timestamp = meta_ts
            return stored, opened.handle
        return None

    def head(self, account: str, container: str, obj: str) -> StoredObject | None:
        opened = self._open(self.locate(account, container, obj))
        if opened is None:
            return None
        opened[1].close()
        return opened[0]

    def open(self, account: str, container: str, obj: str) -> tuple[StoredObject, IO[bytes]] | None:
        """The newest readable replica, or None when the object does not exist."""
        return self._open(self.locate(account, container, obj))

    def copies(self, account: str, container: str, obj: str) -> list[str]:
        """Device names holding the newest version (for operators and tests)."""
        loc = self.locate(account, container, obj)
        replicas = self._replicas(loc)
        if not replicas:
            return []
        newest = replicas[0][1].timestamp
        return [s.device for _, s in replicas if s.timestamp == newest]


def read_range(handle: IO[bytes], start: int, end: int, chunk: int = 1 << 20) -> Iterator[bytes]:
    """Bytes ``start`` to ``end`` (exclusive) of an open replica, in chunks."""
    handle.seek(start)
    left = end - start
    while left > 0:
        data = handle.read(min(chunk, left))
        if not data:
            raise CorruptObject("replica shorter than its metadata says")
        left -= len(data)
        yield data
