"""One runner for every background loop of a service (heartbeats, power-state sync,
replication, pollers, evaluators).

A :class:`PeriodicTask` names a piece of work and its interval.  A
:class:`TaskRunner` runs each task on the event loop; synchronous work runs in a
worker thread.  The contract:

- a task never overlaps itself: the next run starts ``interval`` seconds after the
  previous one ended;
- a failing run is logged with its traceback and the task's name, and the task
  runs again at its next interval; one task's failure never stops another;
- ``stop()`` cancels every task and waits for them; a run in a worker thread is
  allowed to finish (threads cannot be cancelled), its result is dropped;
- ``run_now(name)`` runs one task at once, outside its schedule, and raises what it
  raises (tests and "do it now" commands use it).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

LOG = logging.getLogger(__name__)

Work = Callable[[], Awaitable[Any]] | Callable[[], Any]


@dataclass(frozen=True)
class PeriodicTask:
    #: shown in logs, and the key of ``TaskRunner.run_now``
    name: str
    #: seconds between the end of one run and the start of the next (<= 0: never runs)
    interval: float
    #: a coroutine function (run on the loop) or a plain function (run in a thread)
    work: Work
    #: seconds before the first run (None: one interval)
    initial_delay: float | None = None


async def _call(work: Work) -> Any:
    if inspect.iscoroutinefunction(work):
        return await work()
    result = await asyncio.to_thread(work)
    if inspect.isawaitable(result):
        return await result
    return result


class TaskRunner:
    """Runs a service's periodic tasks; one runner per service or agent."""

    def __init__(self, owner: str, tasks: list[PeriodicTask] | None = None) -> None:
        self.owner = owner
        self._tasks: dict[str, PeriodicTask] = {}
        self._running: dict[str, asyncio.Task[None]] = {}
        self._started = False
        for task in tasks or []:
            self.add(task)

    def add(self, task: PeriodicTask) -> None:
        if task.name in self._tasks:
            raise ValueError(f"{self.owner}: a task named {task.name!r} exists")
        self._tasks[task.name] = task
        if self._started:
            self._launch(task)

    @property
    def names(self) -> list[str]:
        return list(self._tasks)

    def start(self) -> None:
        """Schedule every task on the running loop (call from the loop)."""
        self._started = True
        for task in self._tasks.values():
            self._launch(task)

    def _launch(self, task: PeriodicTask) -> None:
        if task.interval <= 0 or task.name in self._running:
            return
        self._running[task.name] = asyncio.get_running_loop().create_task(
            self._loop(task), name=f"{self.owner}-{task.name}"
        )

    async def _loop(self, task: PeriodicTask) -> None:
        delay = task.interval if task.initial_delay is None else task.initial_delay
        while True:
            await asyncio.sleep(delay)
            delay = task.interval
            try:
                await _call(task.work)
            except asyncio.CancelledError:
                raise
            except Exception:
                LOG.exception("%s: periodic task %s failed", self.owner, task.name)

    async def run_now(self, name: str) -> Any:
        return await _call(self._tasks[name].work)

    async def stop(self) -> None:
        self._started = False
        running = list(self._running.values())
        self._running.clear()
        for task in running:
            task.cancel()
        for task in running:
            with contextlib.suppress(asyncio.CancelledError):
                await task
