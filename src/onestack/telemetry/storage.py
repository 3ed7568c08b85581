"""Time series storage in the cloud's own database, aggregated as measures arrive.

Choice: the database every onestack already runs (SQLite, PostgreSQL or
MariaDB), not object storage.  Reads are range scans on one primary key, no
new server is needed, and a batch of measures is aggregated in the same
transaction that stores it, so ``refresh`` never has anything left to do.

Gnocchi's model, per metric:

- the raw measures of the current block of the coarsest granularity are kept
  (``telemetry_raw``; plus ``back_window`` older blocks, plus one more when a
  ``rate:`` method needs the previous point).  A measure older than the first
  kept block is dropped, as Gnocchi drops it;
- for every granularity and method of the archive policy, the buckets touched
  by the new measures are recomputed from the raw measures and replaced
  (``telemetry_aggregates``), and buckets older than the timespan removed.

Cost per measure: one raw row written, and per (granularity x method) of the
policy one aggregate row rewritten for the bucket it falls in.  A batch is a
constant number of statements whatever the number of metrics and measures
in it (``executemany``), so the cost per measure falls with batch size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from onestack.telemetry.aggregation import METHOD_CODES, Series, aggregate
from onestack.telemetry.archive_policies import Policy
from onestack.telemetry.models import Aggregate, Metric, RawMeasure
from onestack.telemetry.timeutil import floor

_CHUNK = 400
# Core tables: executemany statements with bound parameters, no ORM bookkeeping
_RAW = cast(Table, RawMeasure.__table__)
_AGG = cast(Table, Aggregate.__table__)
_METRICS = cast(Table, Metric.__table__)


@dataclass(frozen=True)
class Target:
    """A metric about to receive measures, as read (and locked) by the caller."""

    metric_id: str
    key: int
    policy: Policy
    last_raw: int | None


def _chunks(items: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class MeasureStore:
    """Reads and writes the raw and aggregated series (inside the caller's transaction)."""

    def ingest(self, session: Session, batches: Sequence[tuple[Target, Series]]) -> int:
        """Store and aggregate new measures; returns how many were dropped as too old."""
        accepted: list[tuple[Target, Series]] = []
        dropped_total = 0
        dropped: dict[str, int] = {}
        for target, series in batches:
            if not len(series):
                continue
            if target.last_raw is not None:
                first_block = (
                    floor(target.last_raw, target.policy.max_granularity)
                    - target.policy.max_granularity * target.policy.raw_blocks
                )
                kept = series.since(first_block)
                if len(kept) != len(series):
                    dropped[target.metric_id] = len(series) - len(kept)
                    dropped_total += len(series) - len(kept)
                series = kept
            if len(series):
                accepted.append((target, series))
        if accepted:
            self._store_raw(session, accepted)
            self._aggregate(session, accepted)
        self._record(session, accepted, dropped)
        return dropped_total

    @staticmethod
    def _store_raw(session: Session, accepted: list[tuple[Target, Series]]) -> None:
        overlaps = [
            {"k": target.key, "t": int(ts)}
            for target, series in accepted
            if target.last_raw is not None and int(series.timestamps[0]) <= target.last_raw
            for ts in series.timestamps
            if int(ts) <= target.last_raw
        ]
        if overlaps:
            session.execute(
                delete(_RAW)
                .where(_RAW.c.metric_key == bindparam("k"))
                .where(_RAW.c.ts == bindparam("t")),
                overlaps,
            )
        rows = [
            {"metric_key": target.key, "ts": ts, "value": value}
            for target, series in accepted
            for ts, value in zip(series.timestamps.tolist(), series.values.tolist(), strict=True)
        ]
        session.execute(insert(_RAW), rows)

    def _buffers(self, session: Session, keys: list[int]) -> dict[int, Series]:
        stamps: dict[int, list[int]] = defaultdict(list)
        values: dict[int, list[float]] = defaultdict(list)
        for chunk in _chunks(sorted(set(keys))):
            query = (
                select(RawMeasure.metric_key, RawMeasure.ts, RawMeasure.value)
                .where(RawMeasure.metric_key.in_(chunk))
                .order_by(RawMeasure.metric_key, RawMeasure.ts)
            )
            for key, ts, value in session.execute(query):
                stamps[key].append(ts)
                values[key].append(value)
        return {key: Series.of(stamps[key], values[key]) for key in stamps}

    def _aggregate(self, session: Session, accepted: list[tuple[Target, Series]]) -> None:
        buffers = self._buffers(session, [t.key for t, _ in accepted])
        replaced: list[dict[str, int]] = []
        expired: list[dict[str, int]] = []
        raw_expired: list[dict[str, int]] = []
        rows: list[dict[str, float | int]] = []
        for target, new in accepted:
            policy = target.policy
            buffer = buffers.get(target.key, new)
            first_new = int(new.timestamps[0])
            last = int(buffer.timestamps[-1])
            for item in policy.items:
                granularity = item.granularity
                start = floor(first_new, granularity)
                replaced.append({"k": target.key, "g": granularity, "s": start})
                for method in sorted(policy.methods):
                    result = aggregate(buffer, granularity, method, start)
                    code = METHOD_CODES[method]
                    rows.extend(
                        {
                            "metric_key": target.key,
                            "granularity": granularity,
                            "method": code,
                            "ts": ts,
                            "value": value,
                        }
                        for ts, value in zip(
                            result.timestamps.tolist(), result.values.tolist(), strict=True
                        )
                    )
                if item.timespan is not None:
                    oldest = floor(last, granularity) - item.timespan
                    expired.append({"k": target.key, "g": granularity, "o": oldest})
            first_block = floor(last, policy.max_granularity) - (
                policy.max_granularity * policy.raw_blocks
            )
            raw_expired.append({"k": target.key, "f": first_block})
        session.execute(
            delete(_AGG)
            .where(_AGG.c.metric_key == bindparam("k"))
            .where(_AGG.c.granularity == bindparam("g"))
            .where(_AGG.c.ts >= bindparam("s")),
            replaced,
        )
        if rows:
            session.execute(insert(_AGG), rows)
        if expired:
            session.execute(
                delete(_AGG)
                .where(_AGG.c.metric_key == bindparam("k"))
                .where(_AGG.c.granularity == bindparam("g"))
                .where(_AGG.c.ts <= bindparam("o")),
                expired,
            )
        session.execute(
            delete(_RAW)
            .where(_RAW.c.metric_key == bindparam("k"))
            .where(_RAW.c.ts < bindparam("f")),
            raw_expired,
        )

    @staticmethod
    def _record(
        session: Session, accepted: list[tuple[Target, Series]], dropped: dict[str, int]
    ) -> None:
        changes: dict[str, dict[str, int | str]] = {}
        for target, series in accepted:
            newest = int(series.timestamps[-1])
            last = newest if target.last_raw is None else max(newest, target.last_raw)
            changes[target.metric_id] = {"i": target.metric_id, "l": last, "d": 0}
        for metric_id, count in dropped.items():
            changes.setdefault(metric_id, {"i": metric_id, "l": -1, "d": 0})["d"] = count
        with_last = [c for c in changes.values() if c["l"] != -1]
        if with_last:
            session.execute(
                update(_METRICS)
                .where(_METRICS.c.id == bindparam("i"))
                .values(last_raw=bindparam("l"), dropped=_METRICS.c.dropped + bindparam("d")),
                with_last,
            )
        only_dropped = [c for c in changes.values() if c["l"] == -1]
        if only_dropped:
            session.execute(
                update(_METRICS)
                .where(_METRICS.c.id == bindparam("i"))
                .values(dropped=_METRICS.c.dropped + bindparam("d")),
                only_dropped,
            )

    # -- reading -------------------------------------------------------------

    @staticmethod
    def fetch(
        session: Session,
        key: int,
        granularity: int,
        method: str,
        start: int | None = None,
        stop: int | None = None,
    ) -> Series:
        """Stored aggregates of one metric at or after ``start`` and before ``stop``."""
        query = (
            select(Aggregate.ts, Aggregate.value)
            .where(Aggregate.metric_key == key)
            .where(Aggregate.granularity == granularity)
            .where(Aggregate.method == METHOD_CODES[method])
            .order_by(Aggregate.ts)
        )
        if start is not None:
            query = query.where(Aggregate.ts >= start)
        if stop is not None:
            query = query.where(Aggregate.ts < stop)
        stamps: list[int] = []
        values: list[float] = []
        for ts, value in session.execute(query):
            stamps.append(ts)
            values.append(value)
        return Series.of(stamps, values)

    @staticmethod
    def delete(session: Session, keys: Sequence[int]) -> None:
        """Remove every measure of these metrics."""
        for chunk in _chunks(list(keys)):
            session.execute(delete(_RAW).where(_RAW.c.metric_key.in_(chunk)))
            session.execute(delete(_AGG).where(_AGG.c.metric_key.in_(chunk)))
