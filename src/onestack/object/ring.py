"""The consistent-hashing ring: partitions, replicas, devices in zones.

An object's path hashes (MD5 with the ring's secret suffix) to one of
``2**part_power`` partitions; the ring assigns every partition ``replicas``
devices, in distinct zones where there are enough zones, in proportion to the
devices' weights.  ``handoffs(part)`` yields the other devices in a fixed,
zone-spreading order: where writes go when a primary is missing.

The ring is a JSON file (``<state_dir>/object/object.ring.json``), written
atomically; ``rebalance()`` moves as few partition replicas as it can.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RING_FILE = "object.ring.json"


class RingError(ValueError):
    """A ring that cannot be built or used as asked."""


@dataclass(frozen=True)
class Device:
    id: int
    name: str
    zone: int
    weight: float = 1.0


@dataclass
class Ring:
    part_power: int
    replicas: int
    hash_suffix: str
    devices: list[Device] = field(default_factory=list)
    #: assignment[replica][partition] = device id
    assignment: list[list[int]] = field(default_factory=list)
    version: int = 0

    # -- lookups ------------------------------------------------------------

    @property
    def partitions(self) -> int:
        return 1 << self.part_power

    def device(self, device_id: int) -> Device:
        for dev in self.devices:
            if dev.id == device_id:
                return dev
        raise RingError(f"no device {device_id}")

    def object_hash(self, account: str, container: str, obj: str) -> str:
        path = f"/{account}/{container}/{obj}".encode()
        return hashlib.md5(path + self.hash_suffix.encode(), usedforsecurity=False).hexdigest()

    def partition_of(self, name_hash: str) -> int:
        return int(name_hash[:8], 16) >> (32 - self.part_power)

    def primaries(self, part: int) -> list[Device]:
        if not self.assignment:
            raise RingError("the ring has not been balanced")
        by_id = {d.id: d for d in self.devices}
        return [by_id[row[part]] for row in self.assignment if row[part] in by_id]

    def handoffs(self, part: int) -> Iterator[Device]:
        """Every non-primary device, zones not holding the partition first."""
        primaries = self.primaries(part)
        used_zones = {d.zone for d in primaries}
        ids = {d.id for d in primaries}
        others = [d for d in self.devices if d.id not in ids and d.weight > 0]

        def order(dev: Device) -> tuple[int, str]:
            digest = hashlib.md5(f"{part}:{dev.id}".encode(), usedforsecurity=False).hexdigest()
            return (1 if dev.zone in used_zones else 0, digest)

        yield from sorted(others, key=order)

    # -- building ---------------------------------------------------------------

    def add_device(self, name: str, zone: int, weight: float = 1.0) -> Device:
        if any(d.name == name for d in self.devices):
            raise RingError(f"device {name!r} is already in the ring")
        if not name or "/" in name or name.startswith("."):
            raise RingError(f"invalid device name {name!r}")
        if weight < 0:
            raise RingError("weight must not be negative")
        dev = Device(max((d.id for d in self.devices), default=-1) + 1, name, zone, weight)
        self.devices.append(dev)
        return dev

    def remove_device(self, name: str) -> None:
        before = len(self.devices)
        self.devices = [d for d in self.devices if d.name != name]
        if len(self.devices) == before:
            raise RingError(f"no device {name!r} in the ring")

    def rebalance(self) -> int:
        """Assign every partition replica; returns how many assignments changed."""
        live = [d for d in self.devices if d.weight > 0]
        if len(live) < self.replicas:
            raise RingError(
                f"{self.replicas} replicas need at least {self.replicas} devices "
                f"with weight > 0; the ring has {len(live)}"
            )
        parts = self.partitions
        total_weight = sum(d.weight for d in live)
        want = {d.id: parts * self.replicas * d.weight / total_weight for d in live}
        live_ids = set(want)
        zone_of = {d.id: d.zone for d in live}
        old = self.assignment if len(self.assignment) == self.replicas else []
        table: list[list[int | None]] = [[None] * parts for _ in range(self.replicas)]
        count = dict.fromkeys(want, 0)
        # Keep every assignment that is still valid (a live device, once per partition).
        for part in range(parts):
            seen: set[int] = set()
            for replica in range(len(old)):
                dev_id = old[replica][part] if part < len(old[replica]) else -1
                if dev_id in live_ids and dev_id not in seen:
                    table[replica][part] = dev_id
                    count[dev_id] += 1
                    seen.add(dev_id)
        # Shed what is over a device's share, from partitions with no gap yet first, so
        # that no partition loses several replicas at once.
        order = sorted(
            range(parts),
            key=lambda p: hashlib.md5(
                f"{self.version}:{p}".encode(), usedforsecurity=False
            ).digest(),
        )
        gaps = [sum(1 for r in range(self.replicas) if table[r][p] is None) for p in range(parts)]
        for dev_id in sorted(want):
            limit = math.ceil(want[dev_id])
            for allowed_gaps in range(self.replicas):
                for part in order:
                    if count[dev_id] <= limit:
                        break
                    if gaps[part] > allowed_gaps:
                        continue
                    for replica in range(self.replicas):
                        if table[replica][part] == dev_id:
                            table[replica][part] = None
                            count[dev_id] -= 1
                            gaps[part] += 1
                            break
        # Fill the gaps with the most under-filled device in an unused zone.
        for part in order:
            assigned = {table[r][part] for r in range(self.replicas)} - {None}
            for replica in range(self.replicas):
                if table[replica][part] is not None:
                    continue
                zones = {zone_of[d] for d in assigned if d is not None}
                candidates = [d for d in live_ids if d not in assigned]
                best = max(
                    candidates,
                    key=lambda d: (zone_of[d] not in zones, (want[d] - count[d]) / want[d], -d),
                )
                table[replica][part] = best
                count[best] += 1
                assigned.add(best)
        new = [[int(d) for d in row] for row in table]  # type: ignore[arg-type]
        changed = sum(
            1
            for r in range(self.replicas)
            for p in range(parts)
            if not old or old[r][p] != new[r][p]
        )
        self.assignment = new
        self.version += 1
        return changed

    # -- persistence ---------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "part_power": self.part_power,
            "replicas": self.replicas,
            "hash_suffix": self.hash_suffix,
            "devices": [asdict(d) for d in self.devices],
            "assignment": self.assignment,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Ring:
        return cls(
            part_power=int(data["part_power"]),
            replicas=int(data["replicas"]),
            hash_suffix=str(data["hash_suffix"]),
            devices=[Device(**d) for d in data["devices"]],
            assignment=[[int(x) for x in row] for row in data["assignment"]],
            version=int(data.get("version", 0)),
        )

    def save(self, path: Path) -> None:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "w") as handle:
            json.dump(self.to_dict(), handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Ring:
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise RingError(f"no ring at {path}; `onestack up` creates one") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise RingError(f"unreadable ring {path}: {exc}") from None

    @classmethod
    def create(cls, part_power: int, replicas: int) -> Ring:
        return cls(part_power=part_power, replicas=replicas, hash_suffix=secrets.token_hex(8))


def ensure_ring(
    root: Path, part_power: int, replicas: int, devices: int, *, directories: bool = True
) -> Ring:
    """Load ``root``'s ring, or create one over ``devices`` devices in distinct zones
    (with a directory each under ``<root>/devices`` when ``directories``)."""
    path = root / RING_FILE
    root.mkdir(parents=True, exist_ok=True)
    if directories:
        (root / "devices").mkdir(exist_ok=True)
    if path.exists():
        return Ring.load(path)
    ring = Ring.create(part_power, replicas)
    for index in range(max(devices, replicas)):
        ring.add_device(f"d{index}", zone=index + 1)
    ring.rebalance()
    if directories:
        for dev in ring.devices:
            (root / "devices" / dev.name).mkdir(exist_ok=True)
    ring.save(path)
    return ring


class RingHolder:
    """The current ring of a running service, reloaded when its file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime = -1.0
        self._ring: Ring | None = None

    def get(self) -> Ring:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = -1.0
        if self._ring is None or mtime != self._mtime:
            self._ring = Ring.load(self.path)
            self._mtime = mtime
        return self._ring
