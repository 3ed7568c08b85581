"""One lock per instance, shared by everything on an agent that changes it.

The compute agent's operations and its block devices (attach, detach) take
the instance's lock, so that two operations on one instance never overlap,
while operations on different instances run side by side.  Both receive the
same :class:`InstanceLocks` in their constructor.
"""

from __future__ import annotations

import threading


class InstanceLocks:
    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, instance_id: str) -> threading.Lock:
        """The lock of ``instance_id`` (``with locks(instance_id): ...``)."""
        with self._guard:
            return self._locks.setdefault(instance_id, threading.Lock())
