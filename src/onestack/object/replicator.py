"""The replicator: every partition back to its full replica count.

One pass (``replicate_once``) walks every available device of the store.
For each object it finds, it pushes the newest version (``data`` or ``ts``,
and a newer ``meta``) to every primary device of the partition that lacks
it; a primary that is unavailable is stood in for by the first available
handoff devices.  A device that holds a partition it is neither primary nor
stand-in for (a handoff, or a device the ring moved the partition away from)
forgets its copy once every target has it.  Tombstones older than
``reclaim_age`` are removed.  Copies are written like any other replica,
through the target device's writer.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from onestack.object.backend import CorruptObject, ObjectDevice, ReplicaState
from onestack.object.store import ObjectStore

LOG = logging.getLogger(__name__)

RECLAIM_AGE = 7 * 24 * 3600.0


@dataclass
class ReplicationStats:
    objects: int = 0
    pushed: int = 0
    removed_handoffs: int = 0
    reclaimed: int = 0
    errors: int = 0


def _push_main(
    local: ReplicaState, source: ObjectDevice, target: ObjectDevice, part: int, name_hash: str
) -> None:
    if local.deleted:
        document = source.read_document(part, name_hash, "ts", local.timestamp)
        target.put_document(part, name_hash, "ts", local.timestamp, document)
        return
    opened = source.open_data(part, name_hash, local.timestamp)
    with opened.handle:
        writer = target.writer(part, name_hash)
        try:
            left = opened.length
            while left > 0:
                chunk = opened.handle.read(min(1 << 20, left))
                if not chunk:
                    raise CorruptObject(f"{source.name}: replica of {name_hash} is short")
                writer.write(chunk)
                left -= len(chunk)
            writer.commit(local.timestamp, opened.metadata)
        except BaseException:
            writer.abort()
            raise


def _sync(
    local: ReplicaState, source: ObjectDevice, target: ObjectDevice, part: int, name_hash: str
) -> int:
    """Push what ``target`` lacks; returns how many versions were copied."""
    theirs = target.state(part, name_hash)
    pushed = 0
    if theirs is None or theirs.timestamp < local.timestamp:
        _push_main(local, source, target, part, name_hash)
        pushed += 1
        theirs = target.state(part, name_hash)
    meta = local.meta_timestamp
    if (
        meta is not None
        and theirs is not None
        and theirs.timestamp == local.timestamp
        and (theirs.meta_timestamp is None or theirs.meta_timestamp < meta)
    ):
        document = source.read_document(part, name_hash, "meta", meta)
        target.put_document(part, name_hash, "meta", meta, document)
        pushed += 1
    return pushed


def _in_sync(local: ReplicaState, target: ObjectDevice, part: int, name_hash: str) -> bool:
    theirs = target.state(part, name_hash)
    return theirs is not None and theirs.newest >= local.newest


def replicate_once(store: ObjectStore, reclaim_age: float = RECLAIM_AGE) -> ReplicationStats:
    """One replication pass over every device of the store's ring."""
    ring = store.ring
    devices = {d.id: store.device(d.name) for d in ring.devices}
    stats = ReplicationStats()
    now = time.time()
    for device in devices.values():
        if not device.available:
            continue
        for part in device.partitions():
            if part >= ring.partitions:
                continue
            primaries = [devices[d.id] for d in ring.primaries(part)]
            targets = [d for d in primaries if d.available]
            spares = (devices[d.id] for d in ring.handoffs(part) if devices[d.id].available)
            for _ in range(len(primaries) - len(targets)):
                spare = next(spares, None)
                if spare is not None:
                    targets.append(spare)
            keep_local = any(t.name == device.name for t in targets)
            for name_hash in device.hashes(part):
                _replicate_object(
                    device, part, name_hash, targets, keep_local, now, reclaim_age, stats
                )
    return stats


def _replicate_object(
    device: ObjectDevice,
    part: int,
    name_hash: str,
    targets: list[ObjectDevice],
    keep_local: bool,
    now: float,
    reclaim_age: float,
    stats: ReplicationStats,
) -> None:
    local = device.state(part, name_hash)
    if local is None:
        device.remove(part, name_hash)
        return
    stats.objects += 1
    if local.deleted and now - float(local.timestamp) > reclaim_age:
        device.remove(part, name_hash)
        stats.reclaimed += 1
        return
    synced = True
    for target in targets:
        if target.name == device.name:
            continue
        try:
            stats.pushed += _sync(local, device, target, part, name_hash)
            synced = synced and _in_sync(local, target, part, name_hash)
        except (OSError, CorruptObject) as exc:
            LOG.warning(
                "replicating %s/%s to %s failed: %s", device.name, name_hash, target.name, exc
            )
            stats.errors += 1
            synced = False
    if not keep_local and synced and targets:
        device.remove(part, name_hash)
        stats.removed_handoffs += 1
