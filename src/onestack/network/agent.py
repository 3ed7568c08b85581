"""NetworkAgent: keeps this host's data plane equal to the database.

One periodic task (``onestack.common.periodic``) reads the desired state
(``desired.read_desired``) and hands it to the data plane whenever the
service reports a change (``wake``), and at least every
``network.resync_interval`` seconds, so that changes made by another process
are picked up too.  A failing pass is logged with its traceback by the task
runner and the next one tries again.  The first pass runs before ``start``
returns.  ``stop`` waits for a pass in progress and leaves the tenant data
plane running: instances outlive the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from onestack.common.db import Database
from onestack.common.periodic import PeriodicTask, TaskRunner
from onestack.network.conf import NetworkSettings
from onestack.network.desired import read_desired
from onestack.network.driver import NetworkDataPlane

LOG = logging.getLogger(__name__)

#: seconds between the end of one pass and the wait for the next (bursts of changes
#: made meanwhile are applied together)
PASS_GAP = 0.05


class NetworkAgent:
    def __init__(self, db: Database, plane: NetworkDataPlane, settings: NetworkSettings) -> None:
        self.db = db
        self.plane = plane
        self.settings = settings
        #: passes started and finished (they run one at a time, in order)
        self.started = 0
        self.passes = 0
        self._pass_done = threading.Condition()
        #: held while a pass runs (``stop`` waits for it)
        self._in_pass = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None
        self.runner = TaskRunner(
            "network-agent",
            [PeriodicTask("sync", PASS_GAP, self._next_pass, initial_delay=PASS_GAP)],
        )

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._woken = asyncio.Event()
        await self.plane.start()
        await asyncio.to_thread(self.sync)
        self.runner.start()

    async def stop(self) -> None:
        await self.runner.stop()
        # a pass running in a worker thread cannot be cancelled: let it finish
        if await asyncio.to_thread(self._in_pass.acquire, True, 60):
            self._in_pass.release()
        else:
            LOG.warning("network agent: a pass still runs after 60 s; stopping anyway")
        await self.plane.stop()
        self._loop = None

    def wake(self) -> None:
        """Ask for a pass soon (from any thread)."""
        loop, woken = self._loop, self._woken
        if loop is None or woken is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nothing to wake
            loop.call_soon_threadsafe(woken.set)

    async def _next_pass(self) -> None:
        assert self._woken is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woken.wait(), self.settings.resync_interval)
        self._woken.clear()
        await asyncio.to_thread(self.sync)

    def sync(self) -> None:
        """One pass: read the desired state, apply it (blocking)."""
        with self._in_pass:
            with self._pass_done:
                self.started += 1
            self.plane.apply(read_desired(self.db))
        with self._pass_done:
            self.passes += 1
            self._pass_done.notify_all()

    def wait_for_pass(self, timeout: float = 10.0) -> bool:
        """Block until a pass that started after this call has finished (True), or
        ``timeout`` seconds passed (False)."""
        with self._pass_done:
            target = self.started + 1
            self.wake()
            return self._pass_done.wait_for(lambda: self.passes >= target, timeout)
