"""The replicator: every partition back to its full replica count.

One pass (``replicate_once``) walks every available device.  For each object
directory it finds, it pushes the newest files (``.data``/``.ts``/``.meta``)
to every primary device of the partition that lacks them; a primary whose
directory is missing is stood in for by the first available handoff devices.
A device that holds a partition it is neither primary nor stand-in for (a
handoff, or a device the ring moved the partition away from) deletes its copy
once every target has it.  Tombstones older than ``reclaim_age`` are removed.
Copies are written like any other replica: temp file, fsync, rename.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from onestack.object.diskfile import DeviceDir, ObjectFiles, files_in, install
from onestack.object.ring import RING_FILE, Ring

LOG = logging.getLogger(__name__)

RECLAIM_AGE = 7 * 24 * 3600.0


@dataclass
class ReplicationStats:
    objects: int = 0
    pushed: int = 0
    removed_handoffs: int = 0
    reclaimed: int = 0
    errors: int = 0


def _copy(source: Path, target: DeviceDir, directory: Path) -> None:
    tmp, handle = target.open_temp()
    try:
        with handle, open(source, "rb") as src:
            shutil.copyfileobj(src, handle, 1 << 20)
            handle.flush()
            os.fsync(handle.fileno())
        install(tmp, directory, source.name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _sync(local: ObjectFiles, target: DeviceDir, part: int, name_hash: str) -> int:
    """Push what ``target`` lacks; returns how many files were copied."""
    theirs = target.files(part, name_hash)
    directory = target.object_dir(part, name_hash)
    pushed = 0
    if theirs is None or theirs.timestamp < local.timestamp:
        main = local.directory / f"{local.timestamp}.{'ts' if local.deleted else 'data'}"
        _copy(main, target, directory)
        pushed += 1
        theirs = target.files(part, name_hash)
    if (
        local.meta is not None
        and theirs is not None
        and theirs.timestamp == local.timestamp
        and (theirs.meta is None or theirs.meta.name < local.meta.name)
    ):
        _copy(local.meta, target, directory)
        pushed += 1
    return pushed


def _in_sync(local: ObjectFiles, target: DeviceDir, part: int, name_hash: str) -> bool:
    theirs = target.files(part, name_hash)
    return theirs is not None and theirs.newest >= local.newest


def replicate_once(root: Path, reclaim_age: float = RECLAIM_AGE) -> ReplicationStats:
    """One replication pass over every device of the ring under ``root``."""
    ring = Ring.load(root / RING_FILE)
    devices = {d.id: DeviceDir(d.name, root / "devices" / d.name) for d in ring.devices}
    stats = ReplicationStats()
    now = time.time()
    for dev_id, device in devices.items():
        objects = device.root / "objects"
        if not device.available or not objects.is_dir():
            continue
        for part_dir in sorted(objects.iterdir()):
            if not part_dir.name.isdigit() or int(part_dir.name) >= ring.partitions:
                continue
            part = int(part_dir.name)
            primaries = [devices[d.id] for d in ring.primaries(part)]
            targets = [d for d in primaries if d.available]
            spares = (devices[d.id] for d in ring.handoffs(part) if devices[d.id].available)
            for _ in range(len(primaries) - len(targets)):
                spare = next(spares, None)
                if spare is not None:
                    targets.append(spare)
            keep_local = any(t.root == device.root for t in targets)
            _replicate_partition(
                device, part, part_dir, targets, keep_local, now, reclaim_age, stats
            )
        del dev_id
    return stats


def _replicate_partition(
    device: DeviceDir,
    part: int,
    part_dir: Path,
    targets: list[DeviceDir],
    keep_local: bool,
    now: float,
    reclaim_age: float,
    stats: ReplicationStats,
) -> None:
    for suffix_dir in sorted(part_dir.iterdir()):
        if not suffix_dir.is_dir():
            continue
        for hash_dir in sorted(suffix_dir.iterdir()):
            local = files_in(device.name, hash_dir)
            if local is None:
                shutil.rmtree(hash_dir, ignore_errors=True)
                continue
            stats.objects += 1
            if local.deleted and now - float(local.timestamp) > reclaim_age:
                shutil.rmtree(hash_dir, ignore_errors=True)
                stats.reclaimed += 1
                continue
            synced = True
            for target in targets:
                if target.root == device.root:
                    continue
                try:
                    stats.pushed += _sync(local, target, part, hash_dir.name)
                    synced = synced and _in_sync(local, target, part, hash_dir.name)
                except OSError as exc:
                    LOG.warning("replicating %s to %s failed: %s", hash_dir, target.name, exc)
                    stats.errors += 1
                    synced = False
            if not keep_local and synced and targets:
                shutil.rmtree(hash_dir, ignore_errors=True)
                stats.removed_handoffs += 1
        _remove_if_empty(suffix_dir)
    _remove_if_empty(part_dir)


def _remove_if_empty(path: Path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
