"""The ring: balance, zone spread, minimal movement, handoffs, persistence."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from onestack.object.ring import Ring, RingError, ensure_ring


def test_new_ring_spreads_replicas_over_zones(tmp_path: Path) -> None:
    ring = ensure_ring(tmp_path, part_power=8, replicas=3, devices=4)
    assert ring.partitions == 256
    counts: Counter[int] = Counter()
    for part in range(ring.partitions):
        primaries = ring.primaries(part)
        assert len({d.zone for d in primaries}) == 3
        counts.update(d.id for d in primaries)
    assert set(counts.values()) == {192}
    assert sorted(p.name for p in (tmp_path / "devices").iterdir()) == ["d0", "d1", "d2", "d3"]
    assert Ring.load(tmp_path / "object.ring.json").assignment == ring.assignment


def test_rebalance_after_adding_moves_only_a_share(tmp_path: Path) -> None:
    ring = ensure_ring(tmp_path, part_power=8, replicas=3, devices=4)
    before = [row[:] for row in ring.assignment]
    ring.add_device("d4", zone=5)
    moved = ring.rebalance()
    total = ring.partitions * ring.replicas
    assert 0 < moved <= total // 5 + 3
    changed = sum(
        1 for r in range(3) for p in range(ring.partitions) if before[r][p] != ring.assignment[r][p]
    )
    assert changed == moved
    counts = Counter(d for row in ring.assignment for d in row)
    assert max(counts.values()) - min(counts.values()) <= 2


def test_handoffs_exclude_primaries(tmp_path: Path) -> None:
    ring = ensure_ring(tmp_path, part_power=4, replicas=3, devices=5)
    for part in range(ring.partitions):
        primaries = {d.id for d in ring.primaries(part)}
        handoffs = [d.id for d in ring.handoffs(part)]
        assert len(handoffs) == 2 and not primaries & set(handoffs)


def test_object_hash_is_stable_and_salted() -> None:
    a = Ring.create(8, 3)
    b = Ring.create(8, 3)
    assert a.object_hash("AUTH_x", "c", "o") == a.object_hash("AUTH_x", "c", "o")
    assert a.object_hash("AUTH_x", "c", "o") != b.object_hash("AUTH_x", "c", "o")
    assert 0 <= a.partition_of(a.object_hash("AUTH_x", "c", "o")) < 256


def test_too_few_devices_and_duplicates_are_refused() -> None:
    ring = Ring.create(4, 3)
    ring.add_device("a", 1)
    with pytest.raises(RingError, match="already in the ring"):
        ring.add_device("a", 2)
    with pytest.raises(RingError, match="at least 3 devices"):
        ring.rebalance()
    with pytest.raises(RingError, match="invalid device name"):
        ring.add_device("../x", 1)
