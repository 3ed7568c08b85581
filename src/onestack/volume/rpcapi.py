"""The thin typed client for volume agents on the bus.

Topic ``volume``, addressed to one host (the part of Cinder's
``host@backend#pool`` before ``@``).  Casts start long work (create, delete,
snapshot, backup) whose progress shows in the records' statuses; calls wait
for short work that returns something (exporting a device).  The API's sync
routes run in worker threads and reach the event loop through LoopBridge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from onestack.common.bus import Bus
from onestack.common.exceptions import ServiceUnavailable

AGENT_TOPIC = "volume"

T = TypeVar("T")


def agent_of(host: str | None) -> str:
    """The agent's name in Cinder's ``host@backend#pool``."""
    if not host:
        raise ServiceUnavailable("The volume has no host.")
    return host.split("@", 1)[0].split("#", 1)[0]


class LoopBridge:
    """Runs bus coroutines on the server's event loop from worker threads."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 120.0) -> T:
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise ServiceUnavailable("The volume service is still starting; try again.")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


class VolumeAgentAPI:
    """Sends work to the agent of a volume's host (from any thread)."""

    def __init__(self, bus: Bus, bridge: LoopBridge) -> None:
        self.bus = bus
        self.bridge = bridge

    def cast(self, host: str | None, method: str, **kwargs: Any) -> None:
        self.bridge.run(self.bus.cast(AGENT_TOPIC, method, server=agent_of(host), **kwargs))

    def call(self, host: str | None, method: str, timeout: float = 120.0, **kwargs: Any) -> Any:
        coro = self.bus.call(AGENT_TOPIC, method, server=agent_of(host), timeout=timeout, **kwargs)
        return self.bridge.run(coro, timeout + 5)
