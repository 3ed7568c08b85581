"""Cron expressions of alarm time constraints (``start``), and whether now is inside one.

Five fields (minute, hour, day of month, month, day of week) with ``*``, lists,
ranges and steps, as croniter reads them for Aodh.  A constraint holds from a
time its ``start`` matches for ``duration`` seconds, in its ``timezone``.
"""

from __future__ import annotations

import datetime
import zoneinfo

_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field(text: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        body, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise ValueError(f"bad step in {part!r}")
        if body == "*":
            start, end = low, high
        elif "-" in body:
            first, _, last = body.partition("-")
            start, end = int(first), int(last)
        else:
            start = int(body)
            end = high if step_text else start
        if not (low <= start <= high and low <= end <= high and start <= end):
            raise ValueError(f"{part!r} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def parse(expression: str) -> tuple[set[int], ...]:
    """The sets of each field; ValueError when the expression is not valid."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError("Exactly 5 or 6 columns has to be specified for iterator expression.")
    parsed = tuple(_field(f, low, high) for f, (low, high) in zip(fields, _BOUNDS, strict=True))
    days_of_week = {0 if d == 7 else d for d in parsed[4]}
    return (*parsed[:4], days_of_week)


def _matches(fields: tuple[set[int], ...], moment: datetime.datetime) -> bool:
    minute, hour, day, month, weekday = fields
    cron_weekday = (moment.weekday() + 1) % 7  # cron: 0 is Sunday
    return (
        moment.minute in minute
        and moment.hour in hour
        and moment.month in month
        and moment.day in day
        and cron_weekday in weekday
    )


def within(start: str, duration: int, timezone: str, now: datetime.datetime) -> bool:
    """Whether ``now`` is at most ``duration`` seconds after a minute ``start`` matches."""
    fields = parse(start)
    zone = zoneinfo.ZoneInfo(timezone) if timezone else datetime.UTC
    local = now.astimezone(zone).replace(second=0, microsecond=0)
    minutes = min(duration // 60, 60 * 24 * 366)
    for back in range(minutes + 1):
        moment = local - datetime.timedelta(minutes=back)
        if _matches(fields, moment):
            return True
    return False
