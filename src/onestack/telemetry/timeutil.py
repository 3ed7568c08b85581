"""Gnocchi's input forms for instants and durations, and its output forms.

Internally every instant and duration is an integer number of microseconds
since the Epoch (UTC).  Accepted input, as Gnocchi accepts it:

- instants: a number of seconds since the Epoch (``1425652440.5``), an ISO 8601
  date (``2015-03-06T14:33:57``, ``...Z``, ``...+02:00``; naive means UTC),
  ``now``/``today``, or a duration relative to now (``-10 minutes``, ``-1 day``);
- durations: a number of seconds (``300``, ``"0.5"``) or a human form
  (``5 minutes``, ``1 hour``, ``30 days``, ``1h30m``, ``1 week, 2 days``,
  ``0:05:00``).

Output: instants of measures as ``2015-03-06T14:33:00+00:00`` (whole seconds),
durations as seconds (``300.0``); archive policy definitions as Python's
``str(timedelta)`` (``0:05:00``, ``30 days, 0:00:00``).
"""

from __future__ import annotations

import datetime
import math
import re
import time

US = 1_000_000
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)

_UNITS = {
    "s": 1.0,
    "sec": 1.0,
    "secs": 1.0,
    "second": 1.0,
    "seconds": 1.0,
    "m": 60.0,
    "min": 60.0,
    "mins": 60.0,
    "minute": 60.0,
    "minutes": 60.0,
    "h": 3600.0,
    "hr": 3600.0,
    "hrs": 3600.0,
    "hour": 3600.0,
    "hours": 3600.0,
    "d": 86400.0,
    "day": 86400.0,
    "days": 86400.0,
    "w": 604800.0,
    "wk": 604800.0,
    "wks": 604800.0,
    "week": 604800.0,
    "weeks": 604800.0,
}
_PART = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-z]+)\s*(?:,\s*|and\s+)?", re.IGNORECASE)
_CLOCK = re.compile(r"^(?:(\d+)\s+days?,\s*)?(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")


def parse_seconds(value: object) -> float:
    """A duration in seconds from a number or a human form; ValueError if neither."""
    if isinstance(value, bool) or value is None:
        raise ValueError("Invalid timespan")
    number: float
    if isinstance(value, int | float):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("Unable to parse timespan")
        return number
    if not isinstance(value, str):
        raise ValueError("Invalid timespan")
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(number):
            raise ValueError("Unable to parse timespan")
        return number
    sign = 1.0
    if text[:1] in "+-":
        sign = -1.0 if text[0] == "-" else 1.0
        text = text[1:].strip()
    clock = _CLOCK.match(text)
    if clock:
        days, hours, minutes, seconds = clock.groups()
        clock_total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60
        return sign * (clock_total + float(seconds or 0))
    total, pos = 0.0, 0
    while pos < len(text):
        part = _PART.match(text, pos)
        if part is None or part.group(2).lower() not in _UNITS:
            raise ValueError("Unable to parse timespan")
        total += float(part.group(1)) * _UNITS[part.group(2).lower()]
        pos = part.end()
    if pos == 0:
        raise ValueError("Unable to parse timespan")
    return sign * total


def parse_timespan(value: object, allow_le_zero: bool = False) -> int:
    """A duration in microseconds (Gnocchi's ``to_timespan``)."""
    us = round(parse_seconds(value) * US)
    if not allow_le_zero and us <= 0:
        raise ValueError("Timespan must be positive")
    return us


def now_us() -> int:
    return int(time.time() * US)


def _iso(text: str) -> datetime.datetime:
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def parse_timestamp(value: object) -> int:
    """An instant in microseconds since the Epoch (Gnocchi's ``to_timestamp``)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("Unable to convert timestamps")
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=datetime.UTC)
        us = datetime_to_us(value)
    elif isinstance(value, int | float):
        if not math.isfinite(float(value)):
            raise ValueError("Unable to convert timestamps")
        us = round(float(value) * US)
    elif isinstance(value, str):
        text = value.strip()
        try:
            us = round(float(text) * US)
        except ValueError:
            if text.lower() == "now":
                us = now_us()
            elif text.lower() == "today":
                us = now_us() // (86400 * US) * 86400 * US
            else:
                try:
                    us = datetime_to_us(_iso(text))
                except ValueError:
                    us = now_us() + parse_timespan(text, allow_le_zero=True)
    else:
        raise ValueError("Unable to convert timestamps")
    if us < 0:
        raise ValueError("Timestamp must be after Epoch")
    return us


def datetime_to_us(value: datetime.datetime) -> int:
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def us_to_datetime(us: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(microseconds=us)


def format_measure_time(us: int) -> str:
    """``2015-03-06T14:33:00+00:00``: whole seconds, as Gnocchi writes measures."""
    seconds = us // US
    stamp = time.gmtime(seconds)
    return time.strftime("%Y-%m-%dT%H:%M:%S", stamp) + "+00:00"


def format_seconds(us: int) -> float:
    return us / US


def format_timedelta(us: int | None) -> str | None:
    """``0:05:00`` or ``30 days, 0:00:00`` (Python's ``str(timedelta)``)."""
    if us is None:
        return None
    return str(datetime.timedelta(microseconds=us))


def floor(us: int, granularity: int) -> int:
    return us // granularity * granularity
