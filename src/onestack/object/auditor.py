"""The auditor: finds replicas whose bytes no longer match their ETag.

One pass (``audit_once``) reads every ``data`` version on every available
device, checks that it reads back whole and that the MD5 of its bytes is the
ETag recorded at write time, and quarantines any replica that fails (the
disk backend moves it to ``<device>/quarantined/objects/<hash>``).  Reads
never see a quarantined replica, and the next replication pass copies a good
one back from another device.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

from onestack.object.backend import CorruptObject, ObjectDevice
from onestack.object.store import ObjectStore

LOG = logging.getLogger(__name__)


@dataclass
class AuditStats:
    checked: int = 0
    quarantined: list[str] = field(default_factory=list)


def verify(device: ObjectDevice, part: int, name_hash: str, timestamp: str) -> bool:
    """True when the replica's bytes match their recorded length and ETag."""
    try:
        opened = device.open_data(part, name_hash, timestamp)
        with opened.handle as handle:
            digest = hashlib.md5(usedforsecurity=False)
            left = opened.length
            while left > 0:
                chunk = handle.read(min(1 << 20, left))
                if not chunk:
                    return False
                digest.update(chunk)
                left -= len(chunk)
    except (CorruptObject, OSError):
        return False
    return digest.hexdigest() == opened.metadata.get("etag")


def audit_once(store: ObjectStore) -> AuditStats:
    stats = AuditStats()
    for device in store.devices():
        if not device.available:
            continue
        for part in device.partitions():
            for name_hash in device.hashes(part):
                state = device.state(part, name_hash)
                if state is None or state.deleted:
                    continue
                stats.checked += 1
                if not verify(device, part, name_hash, state.timestamp):
                    LOG.warning("quarantining %s on %s: bytes do not match", name_hash, device.name)
                    device.quarantine(part, name_hash)
                    stats.quarantined.append(f"{device.name}/{name_hash}")
    return stats
