"""The compute service's bus seams: typed clients and the agent's endpoint.

Topics (Nova's names): ``conductor`` (the conductor), ``scheduler`` (the
scheduler) and ``compute`` addressed to one host (its agent).  Callers use
the typed methods of :class:`SchedulerAPI`, :class:`ConductorAPI` and
:class:`AgentAPI`; method names on the wire appear only in this module.
:class:`AgentEndpoint` is what an agent serves: exactly the methods of
``AgentAPI`` (minus the host), each handing on to the agent, so nothing else
of the agent can be called over the bus.  The same calls work on the
in-process bus and on RabbitMQ.  Control-plane code that runs in a worker
thread (the API's sync routes) uses :class:`LoopBridge` to send.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from onestack.common.bus import Bus
from onestack.common.bus.bridge import LoopBridge
from onestack.compute.driver import InstanceStats

if TYPE_CHECKING:
    from onestack.compute.agent import ComputeAgent

CONDUCTOR_TOPIC = "conductor"
SCHEDULER_TOPIC = "scheduler"
AGENT_TOPIC = "compute"
#: seconds the API waits for an agent's snapshot (its answer is the new image's id)
SNAPSHOT_TIMEOUT = 600.0
#: seconds the metering poller waits for an instance's statistics
STATS_TIMEOUT = 30.0

T = TypeVar("T")


class SchedulerAPI:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def select_destinations(self, instance_ids: list[str]) -> dict[str, Any]:
        """``{instance_id: host}`` or ``{instance_id: {"error": reason}}`` (claimed)."""
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

    async def unshelve_instance(self, instance_id: str, request_id: str) -> None:
        await self.bus.cast(
            CONDUCTOR_TOPIC, "unshelve_instance", instance_id=instance_id, request_id=request_id
        )


class AgentAPI:
    """One method per agent operation; ``host`` picks the agent.

    Casts return at once (the instance's state shows the progress); the
    snapshot and the console output are calls that wait for the answer.
    """

    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def _cast(self, host: str, method: str, **kwargs: Any) -> None:
        await self.bus.cast(AGENT_TOPIC, method, server=host, **kwargs)

    async def build_and_run_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(
            host, "build_and_run_instance", instance_id=instance_id, request_id=request_id
        )

    async def terminate_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "terminate_instance", instance_id=instance_id, request_id=request_id)

    async def stop_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "stop_instance", instance_id=instance_id, request_id=request_id)

    async def start_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "start_instance", instance_id=instance_id, request_id=request_id)

    async def reboot_instance(
        self, host: str, instance_id: str, request_id: str, hard: bool
    ) -> None:
        await self._cast(
            host, "reboot_instance", instance_id=instance_id, request_id=request_id, hard=hard
        )

    async def rescue_instance(
        self, host: str, instance_id: str, request_id: str, image_ref: str
    ) -> None:
        await self._cast(
            host,
            "rescue_instance",
            instance_id=instance_id,
            request_id=request_id,
            image_ref=image_ref,
        )

    async def unrescue_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "unrescue_instance", instance_id=instance_id, request_id=request_id)

    async def pause_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "pause_instance", instance_id=instance_id, request_id=request_id)

    async def unpause_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "unpause_instance", instance_id=instance_id, request_id=request_id)

    async def suspend_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "suspend_instance", instance_id=instance_id, request_id=request_id)

    async def resume_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "resume_instance", instance_id=instance_id, request_id=request_id)

    async def rebuild_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "rebuild_instance", instance_id=instance_id, request_id=request_id)

    async def resize_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "resize_instance", instance_id=instance_id, request_id=request_id)

    async def confirm_resize(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "confirm_resize", instance_id=instance_id, request_id=request_id)

    async def revert_resize(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "revert_resize", instance_id=instance_id, request_id=request_id)

    async def snapshot_instance(self, host: str, instance_id: str, request: SnapshotRequest) -> str:
        """The new image's id once its bytes are uploaded."""
        result = await self.bus.call(
            AGENT_TOPIC,
            "snapshot_instance",
            server=host,
            timeout=SNAPSHOT_TIMEOUT,
            instance_id=instance_id,
            request=request.to_wire(),
        )
        return str(result)

    async def shelve_instance(
        self, host: str, instance_id: str, request: SnapshotRequest, offload: bool
    ) -> None:
        await self._cast(
            host,
            "shelve_instance",
            instance_id=instance_id,
            request=request.to_wire(),
            offload=offload,
        )

    async def shelve_offload_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(
            host, "shelve_offload_instance", instance_id=instance_id, request_id=request_id
        )

    async def unshelve_instance(self, host: str, instance_id: str, request_id: str) -> None:
        await self._cast(host, "unshelve_instance", instance_id=instance_id, request_id=request_id)

    async def attach_interface(self, host: str, instance_id: str, port_id: str) -> None:
        """Hot-plug a port into a running VM (hosts with ``interface_attach``)."""
        await self.bus.call(
            AGENT_TOPIC, "attach_interface", server=host, instance_id=instance_id, port_id=port_id
        )

    async def detach_interface(self, host: str, instance_id: str, port_id: str) -> None:
        await self.bus.call(
            AGENT_TOPIC, "detach_interface", server=host, instance_id=instance_id, port_id=port_id
        )

    async def console_socket(self, host: str, instance_id: str, kind: str) -> str:
        """The Unix socket of a running instance's ``serial`` port or ``vnc`` display."""
        result = await self.bus.call(
            AGENT_TOPIC, "console_socket", server=host, instance_id=instance_id, kind=kind
        )
        return str(result)

    async def get_console_output(self, host: str, instance_id: str, length: int | None) -> str:
        result = await self.bus.call(
            AGENT_TOPIC, "get_console_output", server=host, instance_id=instance_id, length=length
        )
        return str(result)

    async def attach_volume(self, host: str, bdm_id: str, request_id: str) -> None:
        await self._cast(host, "attach_volume", bdm_id=bdm_id, request_id=request_id)

    async def instance_stats(self, host: str, instance_id: str) -> InstanceStats:
        """What the host's driver measures of a running instance (NotFound when it does
        not run there, NotSupported when the driver measures nothing)."""
        result = await self.bus.call(
            AGENT_TOPIC,
            "instance_stats",
            server=host,
            timeout=STATS_TIMEOUT,
            instance_id=instance_id,
        )
        return InstanceStats.from_wire(result)

    async def detach_volume(self, host: str, bdm_id: str, request_id: str) -> None:
        await self._cast(host, "detach_volume", bdm_id=bdm_id, request_id=request_id)


@dataclass(frozen=True)
class SnapshotRequest:
    """What createImage asks of the agent: the image to make, and for whom."""

    request_id: str
    name: str
    metadata: dict[str, str]
    user_id: str
    project_id: str

    def to_wire(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "name": self.name,
            "metadata": dict(self.metadata),
            "user_id": self.user_id,
            "project_id": self.project_id,
        }

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> SnapshotRequest:
        return cls(
            request_id=str(data["request_id"]),
            name=str(data["name"]),
            metadata={str(k): str(v) for k, v in dict(data.get("metadata") or {}).items()},
            user_id=str(data["user_id"]),
            project_id=str(data["project_id"]),
        )


class AgentEndpoint:
    """The agent's side of :class:`AgentAPI` (served on ``compute``, server = host).

    Each operation runs on ``pool``, the agent's own worker threads.
    """

    def __init__(self, agent: ComputeAgent, pool: Executor) -> None:
        self._agent = agent
        self._pool = pool

    async def _run(self, func: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    async def build_and_run_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.build_and_run_instance, instance_id, request_id)

    async def terminate_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.terminate_instance, instance_id, request_id)

    async def stop_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.stop_instance, instance_id, request_id)

    async def start_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.start_instance, instance_id, request_id)

    async def reboot_instance(self, instance_id: str, request_id: str, hard: bool) -> None:
        await self._run(self._agent.reboot_instance, instance_id, request_id, hard)

    async def rescue_instance(self, instance_id: str, request_id: str, image_ref: str) -> None:
        await self._run(self._agent.rescue_instance, instance_id, request_id, image_ref)

    async def unrescue_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.unrescue_instance, instance_id, request_id)

    async def pause_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.pause_instance, instance_id, request_id)

    async def unpause_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.unpause_instance, instance_id, request_id)

    async def suspend_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.suspend_instance, instance_id, request_id)

    async def resume_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.resume_instance, instance_id, request_id)

    async def rebuild_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.rebuild_instance, instance_id, request_id)

    async def resize_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.resize_instance, instance_id, request_id)

    async def confirm_resize(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.confirm_resize, instance_id, request_id)

    async def revert_resize(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.revert_resize, instance_id, request_id)

    async def snapshot_instance(self, instance_id: str, request: dict[str, Any]) -> str:
        snapshot = SnapshotRequest.from_wire(request)
        return await self._run(self._agent.snapshot_instance, instance_id, snapshot)

    async def shelve_instance(
        self, instance_id: str, request: dict[str, Any], offload: bool
    ) -> None:
        shelve = SnapshotRequest.from_wire(request)
        await self._run(self._agent.shelve_instance, instance_id, shelve, offload)

    async def shelve_offload_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.shelve_offload_instance, instance_id, request_id)

    async def unshelve_instance(self, instance_id: str, request_id: str) -> None:
        await self._run(self._agent.unshelve_instance, instance_id, request_id)

    async def get_console_output(self, instance_id: str, length: int | None) -> str:
        return await self._run(self._agent.get_console_output, instance_id, length)

    async def console_socket(self, instance_id: str, kind: str) -> str:
        return await self._run(self._agent.console_socket, instance_id, kind)

    async def attach_interface(self, instance_id: str, port_id: str) -> None:
        await self._run(self._agent.attach_interface, instance_id, port_id)

    async def detach_interface(self, instance_id: str, port_id: str) -> None:
        await self._run(self._agent.detach_interface, instance_id, port_id)

    async def attach_volume(self, bdm_id: str, request_id: str) -> None:
        await self._run(self._agent.block.attach_volume, bdm_id, request_id)

    async def instance_stats(self, instance_id: str) -> dict[str, Any]:
        stats = await self._run(self._agent.instance_stats, instance_id)
        return stats.to_wire()

    async def detach_volume(self, bdm_id: str, request_id: str) -> None:
        await self._run(self._agent.block.detach_volume, bdm_id, request_id)


@dataclass(frozen=True)
class ComputeRPC:
    """The typed bus clients the control plane's managers send through."""

    bridge: LoopBridge
    agents: AgentAPI
    conductor: ConductorAPI
    scheduler: SchedulerAPI

    @classmethod
    def over(cls, bus: Bus) -> ComputeRPC:
        bridge = LoopBridge(owner="compute")
        return cls(bridge, AgentAPI(bus), ConductorAPI(bus), SchedulerAPI(bus))


class InstanceStatsClient:
    """The statistics of one host's instances, from its compute agent over the bus, for
    code in worker threads (the metering poller of that host)."""

    def __init__(self, bus: Bus, bridge: LoopBridge, host: str) -> None:
        self.agents = AgentAPI(bus)
        self.bridge = bridge
        self.host = host

    def instance_stats(self, instance_id: str) -> InstanceStats:
        coro = self.agents.instance_stats(self.host, instance_id)
        return self.bridge.run(coro, STATS_TIMEOUT + 5)
