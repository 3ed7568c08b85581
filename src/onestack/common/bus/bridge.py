"""Sending on the bus from worker threads.

Managers and agents run their blocking work in worker threads (sync API routes,
bus endpoints, periodic tasks); the bus lives on the server's event loop.  A
:class:`LoopBridge` hands a bus coroutine to that loop and waits for its result
in the calling thread.  The loop is set once it runs (``bridge.loop =
asyncio.get_running_loop()`` at start), so typed clients can be built before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from onestack.common.exceptions import ServiceUnavailable

T = TypeVar("T")


class LoopBridge:
    """Runs coroutines on one event loop from other threads."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None, *, owner: str = "") -> None:
        self.loop = loop
        #: named in the 503 raised before the loop runs ("The network service ...")
        self.owner = owner or "cloud"

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """The coroutine's result; raises what it raises.

        Never call this on the loop itself (it would wait for itself): that is a
        RuntimeError.  Before the loop runs (or after it closed) it is a 503.
        """
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise ServiceUnavailable(f"The {self.owner} service is still starting; try again.")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            coro.close()
            raise RuntimeError("LoopBridge.run called on the event loop itself")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)
