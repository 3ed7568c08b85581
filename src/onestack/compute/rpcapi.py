"""Thin typed clients for the compute service's bus endpoints.

Topics: ``compute-conductor`` (the conductor), ``compute-scheduler`` (the
scheduler) and ``compute`` addressed to one host (its agent).  The same calls
work on the in-process bus and on RabbitMQ.  Control-plane code that runs in
a worker thread (the API's sync routes) uses :class:`LoopBridge` to send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from onestack.common.bus import Bus
from onestack.common.exceptions import ServiceUnavailable

CONDUCTOR_TOPIC = "compute-conductor"
SCHEDULER_TOPIC = "compute-scheduler"
AGENT_TOPIC = "compute"

T = TypeVar("T")


class LoopBridge:
    """Runs bus coroutines on the server's event loop from worker threads."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        loop = self.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise ServiceUnavailable("The compute service is still starting; try again.")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("LoopBridge.run called on the event loop itself")
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)


class SchedulerAPI:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def select_destinations(self, instance_ids: list[str]) -> dict[str, Any]:
        result = await self.bus.call(
            SCHEDULER_TOPIC, "select_destinations", instance_ids=instance_ids
        )
        return dict(result)

    async def claim_resize(self, instance_id: str, flavor: dict[str, Any]) -> None:
        await self.bus.call(SCHEDULER_TOPIC, "claim_resize", instance_id=instance_id, flavor=flavor)


class ConductorAPI:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def build_instances(self, instance_ids: list[str], request_id: str) -> None:
        await self.bus.cast(
            CONDUCTOR_TOPIC, "build_instances", instance_ids=instance_ids, request_id=request_id
        )

    async def resize_instance(
        self, instance_id: str, flavor: dict[str, Any], request_id: str
    ) -> None:
        await self.bus.cast(
            CONDUCTOR_TOPIC,
            "resize_instance",
            instance_id=instance_id,
            flavor=flavor,
            request_id=request_id,
        )


class AgentAPI:
    """One method per agent operation; ``host`` picks the agent."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def cast(self, host: str, method: str, **kwargs: Any) -> None:
        await self.bus.cast(AGENT_TOPIC, method, server=host, **kwargs)

    async def call(self, host: str, method: str, timeout: float = 60.0, **kwargs: Any) -> Any:
        return await self.bus.call(AGENT_TOPIC, method, server=host, timeout=timeout, **kwargs)

    async def build_and_run_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self.cast(
            host, "build_and_run_instance", instance_id=instance_id, request_id=request_id
        )

    async def run_action(
        self, host: str, instance_id: str, action: str, request_id: str, **params: Any
    ) -> None:
        """stop, start, reboot, pause, unpause, suspend, resume, rebuild, resize,
        confirmResize, revertResize, delete (see ``ComputeAgent.run_action``)."""
        await self.cast(
            host,
            "run_action",
            instance_id=instance_id,
            action=action,
            request_id=request_id,
            params=params,
        )

    async def snapshot_instance(
        self,
        host: str,
        instance_id: str,
        request_id: str,
        name: str,
        metadata: dict[str, str],
        user_id: str,
        project_id: str,
    ) -> str:
        result = await self.call(
            host,
            "snapshot_instance",
            timeout=600,
            instance_id=instance_id,
            request_id=request_id,
            name=name,
            metadata=metadata,
            user_id=user_id,
            project_id=project_id,
        )
        return str(result)

    async def console_socket(self, host: str, instance_id: str, kind: str) -> str:
        """The Unix socket of a running instance's ``serial`` port or ``vnc`` display."""
        result = await self.call(host, "console_socket", instance_id=instance_id, kind=kind)
        return str(result)

    async def console_output(self, host: str, instance_id: str, length: int | None) -> str:
        result = await self.call(host, "console_output", instance_id=instance_id, length=length)
        return str(result)
