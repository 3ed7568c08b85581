"""Aggregation methods over time series (numpy), with Gnocchi's semantics.

A series is two sorted arrays: timestamps (int64 microseconds, unique) and
values (float64).  ``aggregate`` groups it into buckets of ``granularity``
(``floor(ts / granularity) * granularity``, aligned on the Epoch) and applies one
method per bucket:

- ``mean``, ``sum``, ``min``, ``max``, ``count``, ``first``, ``last``;
- ``std``: the sample standard deviation (n - 1); buckets of one point have none;
- ``median`` and ``Npct`` (1-99): linear interpolation between the two nearest
  ranks;
- ``rate:X``: X over the differences between consecutive points, each stamped
  with the later point's time (the first point of the series has none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

BASE_METHODS = ("mean", "sum", "last", "max", "min", "std", "median", "first", "count")
_PCT = re.compile(r"^([1-9][0-9]?)pct$")
PLAIN_METHODS = frozenset((*BASE_METHODS, *(f"{i}pct" for i in range(1, 100))))
VALID_METHODS = PLAIN_METHODS | frozenset(f"rate:{m}" for m in PLAIN_METHODS)
#: the stored code of every method (a small integer per row instead of a name)
METHOD_CODES: dict[str, int] = {name: i for i, name in enumerate(sorted(VALID_METHODS))}
METHOD_NAMES: dict[int, str] = {code: name for name, code in METHOD_CODES.items()}


@dataclass(frozen=True)
class Series:
    timestamps: IntArray
    values: FloatArray

    def __len__(self) -> int:
        return len(self.timestamps)

    @classmethod
    def empty(cls) -> Series:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))

    @classmethod
    def of(cls, timestamps: list[int], values: list[float]) -> Series:
        return cls(np.asarray(timestamps, dtype=np.int64), np.asarray(values, dtype=np.float64))

    def since(self, start: int | None) -> Series:
        if start is None:
            return self
        index = int(np.searchsorted(self.timestamps, start))
        return Series(self.timestamps[index:], self.values[index:])

    def until(self, stop: int | None) -> Series:
        """Points strictly before ``stop``."""
        if stop is None:
            return self
        index = int(np.searchsorted(self.timestamps, stop))
        return Series(self.timestamps[:index], self.values[:index])

    def after(self, oldest: int) -> Series:
        """Points strictly after ``oldest`` (Gnocchi's timespan truncation)."""
        index = int(np.searchsorted(self.timestamps, oldest, side="right"))
        return Series(self.timestamps[index:], self.values[index:])


def merge(old: Series, new: Series) -> Series:
    """Both series in one, sorted; where a timestamp is in both, ``new`` wins."""
    timestamps = np.concatenate((new.timestamps, old.timestamps))
    values = np.concatenate((new.values, old.values))
    unique, index = np.unique(timestamps, return_index=True)
    return Series(unique, values[index])


def dedup_last(timestamps: list[int], values: list[float]) -> Series:
    """Sort measures by time; of equal timestamps the last given wins."""
    ts = np.asarray(timestamps, dtype=np.int64)
    vs = np.asarray(values, dtype=np.float64)
    # reverse so that np.unique's first occurrence is the last one given
    unique, index = np.unique(ts[::-1], return_index=True)
    return Series(unique, vs[::-1][index])


def derive(series: Series) -> Series:
    if len(series) < 2:
        return Series.empty()
    return Series(series.timestamps[1:], np.diff(series.values))


def plain_method(method: str) -> str:
    return method[5:] if method.startswith("rate:") else method


def aggregate(series: Series, granularity: int, method: str, start: int | None = None) -> Series:
    """``method`` over buckets of ``granularity`` µs, keeping buckets at or after ``start``.

    For ``rate:`` methods the differences are taken over the whole series first,
    so that the first point at or after ``start`` keeps its predecessor.
    """
    if method.startswith("rate:"):
        series = derive(series)
        method = method[5:]
    if start is not None:
        series = series.since(start)
    if not len(series):
        return Series.empty()
    ts = series.timestamps
    values = series.values
    index = ts // granularity * granularity
    buckets, starts, counts = np.unique(index, return_index=True, return_counts=True)
    result: FloatArray
    if method == "count":
        result = counts.astype(np.float64)
    elif method == "sum":
        result = np.add.reduceat(values, starts)
    elif method == "mean":
        result = np.add.reduceat(values, starts) / counts
    elif method == "min":
        result = np.minimum.reduceat(values, starts)
    elif method == "max":
        result = np.maximum.reduceat(values, starts)
    elif method == "first":
        result = values[starts]
    elif method == "last":
        result = values[starts + counts - 1]
    elif method == "std":
        sums = np.add.reduceat(values, starts)
        means = np.repeat(sums / counts, counts)
        squares = np.add.reduceat(np.square(values - means), starts)
        keep = counts > 1
        return Series(buckets[keep], np.sqrt(squares[keep] / (counts[keep] - 1)))
    else:
        q = 50.0 if method == "median" else _quantile(method)
        result = _quantiles(values, index, starts, counts, q)
    return Series(buckets.astype(np.int64), result.astype(np.float64))


def _quantile(method: str) -> float:
    match = _PCT.match(method)
    if match is None:
        raise ValueError(f"Unknown aggregation method `{method}'")
    return float(match.group(1))


def _quantiles(
    values: FloatArray, index: IntArray, starts: IntArray, counts: IntArray, q: float
) -> FloatArray:
    order = np.lexsort((values, index))
    ordered = values[order]
    real = starts + (counts - 1) * (q / 100.0)
    low = np.floor(real).astype(np.int64)
    high = np.ceil(real).astype(np.int64)
    weight = real - low
    result: FloatArray = ordered[low] * (1.0 - weight) + ordered[high] * weight
    return result


def resample(series: Series, granularity: int, method: str) -> Series:
    """An aggregated series regrouped into coarser buckets with the same method."""
    return aggregate(series, granularity, method)
