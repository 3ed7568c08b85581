"""The auditor: finds replicas whose bytes no longer match their ETag.

One pass (``audit_once``) reads every ``.data`` file on every available
device, checks its trailer, its length and the MD5 of its bytes against the
ETag recorded at write time, and quarantines the object directory of any
replica that fails (``<device>/quarantined/objects/<hash>``).  Reads never
see a quarantined replica, and the next replication pass copies a good one
back from another device.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from onestack.object.diskfile import CorruptObject, files_in, quarantine, read_trailer
from onestack.object.ring import RING_FILE, Ring

LOG = logging.getLogger(__name__)


@dataclass
class AuditStats:
    checked: int = 0
    quarantined: list[str] = field(default_factory=list)


def verify(path: Path) -> bool:
    """True when the ``.data`` file's bytes match its recorded length and ETag."""
    try:
        with open(path, "rb") as handle:
            metadata, length = read_trailer(handle)
            digest = hashlib.md5(usedforsecurity=False)
            left = length
            while left > 0:
                chunk = handle.read(min(1 << 20, left))
                if not chunk:
                    return False
                digest.update(chunk)
                left -= len(chunk)
    except (CorruptObject, OSError):
        return False
    return digest.hexdigest() == metadata.get("etag")


def audit_once(root: Path) -> AuditStats:
    ring = Ring.load(root / RING_FILE)
    stats = AuditStats()
    for dev in ring.devices:
        device_root = root / "devices" / dev.name
        objects = device_root / "objects"
        if not objects.is_dir():
            continue
        for hash_dir in sorted(objects.glob("*/*/*")):
            files = files_in(dev.name, hash_dir)
            if files is None or files.data is None:
                continue
            stats.checked += 1
            if not verify(files.data):
                LOG.warning("quarantining %s on %s: bytes do not match", hash_dir.name, dev.name)
                quarantine(device_root, hash_dir)
                stats.quarantined.append(f"{dev.name}/{hash_dir.name}")
    return stats
