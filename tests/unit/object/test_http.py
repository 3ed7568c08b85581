"""Ranges and conditional requests of the Swift API."""

from __future__ import annotations

import pytest

from onestack.object.api.http import check_conditions, http_date, parse_ranges
from onestack.object.exceptions import ConditionFailed, RangeNotSatisfiable


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", [(0, 10)]),
        ("bytes=5-", [(5, 100)]),
        ("bytes=-10", [(90, 100)]),
        ("bytes=0-0,50-59", [(0, 1), (50, 60)]),
        ("bytes=90-200", [(90, 100)]),
        ("bytes=9-3", None),
        ("items=0-1", None),
        ("bytes=x-1", None),
    ],
)
def test_parse_ranges(header: str, expected: list[tuple[int, int]] | None) -> None:
    assert parse_ranges(header, 100) == expected


def test_unsatisfiable_range() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_ranges("bytes=100-", 100)


def test_conditions() -> None:
    ts = "1700000000.50000"
    assert check_conditions({"if-none-match": '"abc"'}, "abc", ts) is False
    assert check_conditions({"if-match": "abc"}, "abc", ts) is True
    with pytest.raises(ConditionFailed):
        check_conditions({"if-match": "zzz"}, "abc", ts)
    assert check_conditions({"if-modified-since": http_date(ts)}, "abc", ts) is False
    with pytest.raises(ConditionFailed):
        check_conditions({"if-unmodified-since": "Mon, 01 Jan 2001 00:00:00 GMT"}, "abc", ts)
