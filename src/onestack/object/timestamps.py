"""Swift-style timestamps (``1700000000.12345``): the version of every record and replica."""

from __future__ import annotations

import threading
import time

_last_ts = 0.0
_lock = threading.Lock()


def format_timestamp(value: float) -> str:
    return f"{value:016.5f}"


def new_timestamp() -> str:
    """A timestamp of now, strictly increasing within this process."""
    global _last_ts
    with _lock:
        now = max(time.time(), _last_ts + 0.00001)
        _last_ts = now
    return format_timestamp(now)
