"""The networking service's Protocol over the bus: a typed client and its server.

A compute agent on a host of its own reaches networking only through
:class:`NetworkClient`, which implements ``interface.NetworkService`` with the
same signatures, results and errors as the in-process ``NetworkManager``; the
agent is given one or the other and cannot tell them apart.

Topic ``network``.  The process that runs the networking service serves a
:class:`NetworkEndpoint` once, named after its host (``serve(TOPIC, endpoint,
server=host)``), so it takes both its share of the topic and the calls
addressed to its host:

- control-plane calls (ports, addresses, security groups) go to any server of
  the topic: they only need the database;
- ``setup_instance_network``, ``setup_instance_taps`` and
  ``teardown_instance_network`` act on the data plane of one host, so the
  client addresses them to its own host
  (``network.<host>``); no networking service on that host means no server
  there, which the bus reports at once as MessagingTimeout.

On the wire everything is JSON: the request context as a dictionary
(``RequestContext.to_wire``, without the token), ``PortInfo`` and friends
as dictionaries, paths as strings.
Networking errors (``onestack.network.exceptions``) arrive at the caller as
the same classes with the same messages and statuses.  The client blocks: it
is called from worker threads, never on the event loop (see ``LoopBridge``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from onestack.common.bus import Bus
from onestack.common.bus.bridge import LoopBridge
from onestack.common.context import RequestContext
from onestack.network.exceptions import NotSupported
from onestack.network.interface import (
    Addresses,
    FixedIP,
    MetadataProvider,
    NetworkInfo,
    NetworkRequest,
    PortCounters,
    PortInfo,
    Requested,
    SecurityGroupInfo,
    VifTap,
)

if TYPE_CHECKING:
    from onestack.network.interface import NetworkService

LOG = logging.getLogger(__name__)

TOPIC = "network"
#: fanout to every host's network agent: "the desired state changed, resync" (Neutron's
#: q-agent-notifier topics, one here)
AGENT_NOTIFY_TOPIC = "q-agent-notifier"

#: seconds a call may take; plugging waits for the agent to wire the ports
DEFAULT_TIMEOUT = 60.0
SLOW_TIMEOUT = 180.0

Wire = dict[str, Any]

# -- encoding ---------------------------------------------------------------------------


def port_to_wire(port: PortInfo) -> Wire:
    return dataclasses.asdict(port)


def port_from_wire(data: Mapping[str, Any]) -> PortInfo:
    values = dict(data)
    values["fixed_ips"] = tuple(FixedIP(**ip) for ip in data.get("fixed_ips", ()))
    values["floating_ips"] = tuple(data.get("floating_ips", ()))
    values["security_groups"] = tuple(data.get("security_groups", ()))
    return PortInfo(**values)


def requested_to_wire(requested: Requested) -> str | list[Wire]:
    if isinstance(requested, str):
        return requested
    return [dataclasses.asdict(r) for r in requested]


def requested_from_wire(data: str | list[Wire]) -> Requested:
    if data == "auto":
        return "auto"
    if data == "none":
        return "none"
    if not isinstance(data, list):
        raise ValueError(f"requested networks must be 'auto', 'none' or a list, not {data!r}")
    return [NetworkRequest(**r) for r in data]


# -- the server -------------------------------------------------------------------------


class NetworkEndpoint:
    """Serves a ``NetworkService`` (the manager) on the bus: JSON in, JSON out."""

    def __init__(self, service: NetworkService) -> None:
        self._service = service

    def allocate_for_instance(
        self,
        ctx: Wire,
        instance_id: str,
        host: str,
        requested: str | list[Wire],
        security_groups: list[str] | None = None,
        availability_zone: str = "nova",
    ) -> list[Wire]:
        ports = self._service.allocate_for_instance(
            RequestContext.from_wire(ctx),
            instance_id,
            host,
            requested_from_wire(requested),
            security_groups=security_groups,
            availability_zone=availability_zone,
        )
        return [port_to_wire(p) for p in ports]

    def missing_security_groups(self, ctx: Wire, names: list[str]) -> list[str]:
        return self._service.missing_security_groups(RequestContext.from_wire(ctx), names)

    def deallocate_for_instance(self, ctx: Wire, instance_id: str) -> None:
        self._service.deallocate_for_instance(RequestContext.from_wire(ctx), instance_id)

    def get_instance_nw_info(self, ctx: Wire, instance_id: str) -> list[Wire]:
        ports = self._service.get_instance_nw_info(RequestContext.from_wire(ctx), instance_id)
        return [port_to_wire(p) for p in ports]

    def addresses(self, ctx: Wire, instance_id: str) -> Addresses:
        return self._service.addresses(RequestContext.from_wire(ctx), instance_id)

    def addresses_for(self, ctx: Wire, instance_ids: list[str]) -> dict[str, Addresses]:
        return self._service.addresses_for(RequestContext.from_wire(ctx), instance_ids)

    def attach_interface(self, ctx: Wire, instance_id: str, host: str, request: Wire) -> Wire:
        port = self._service.attach_interface(
            RequestContext.from_wire(ctx), instance_id, host, NetworkRequest(**request)
        )
        return port_to_wire(port)

    def detach_interface(self, ctx: Wire, instance_id: str, port_id: str) -> None:
        self._service.detach_interface(RequestContext.from_wire(ctx), instance_id, port_id)

    def setup_instance_network(self, instance_id: str, ports: list[Wire]) -> str:
        path = self._service.setup_instance_network(instance_id, [port_from_wire(p) for p in ports])
        return str(path)

    def setup_instance_taps(self, instance_id: str, ports: list[Wire]) -> list[Wire]:
        vifs = self._service.setup_instance_taps(instance_id, [port_from_wire(p) for p in ports])
        return [dataclasses.asdict(v) for v in vifs]

    def teardown_instance_network(self, instance_id: str) -> None:
        self._service.teardown_instance_network(instance_id)

    def port_counters(self, ports: list[list[str]]) -> list[Wire]:
        found = self._service.port_counters([(p[0], p[1]) for p in ports])
        return [dataclasses.asdict(c) for c in found.values()]

    def get_port_info(self, ctx: Wire, port_id: str) -> Wire:
        return port_to_wire(self._service.get_port_info(RequestContext.from_wire(ctx), port_id))

    def get_network_info(self, ctx: Wire, network_id: str) -> Wire:
        info = self._service.get_network_info(RequestContext.from_wire(ctx), network_id)
        return dataclasses.asdict(info)

    def find_security_group(self, ctx: Wire, name_or_id: str, project_id: str | None) -> Wire:
        group = self._service.find_security_group(
            RequestContext.from_wire(ctx), name_or_id, project_id
        )
        return dataclasses.asdict(group)

    def set_port_security_groups(self, ctx: Wire, port_id: str, group_ids: list[str]) -> Wire:
        port = self._service.set_port_security_groups(
            RequestContext.from_wire(ctx), port_id, group_ids
        )
        return port_to_wire(port)


class AgentNotifyEndpoint:
    """What a host's network agent serves on ``AGENT_NOTIFY_TOPIC``."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    def resync(self) -> None:
        self._wake()


class AgentNotifier:
    """Tells every network agent that the networking records changed (a fanout; never
    waits, callable from any thread once ``loop`` is set)."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.loop: asyncio.AbstractEventLoop | None = None

    def changed(self) -> None:
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self._send(), loop)

    async def _send(self) -> None:
        try:
            await self.bus.fanout(AGENT_NOTIFY_TOPIC, "resync")
        except Exception:
            LOG.exception("telling the network agents to resync failed")


# -- the client -------------------------------------------------------------------------


class NetworkClient:
    """``interface.NetworkService`` over the bus, for an agent on ``host``."""

    def __init__(
        self, bus: Bus, bridge: LoopBridge, host: str, *, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.bus = bus
        self.bridge = bridge
        #: the host whose data plane plugs this client's instances
        self.host = host
        self.timeout = timeout

    def _call(self, method: str, *, timeout: float | None = None, local: bool = False,
              **kwargs: Any) -> Any:  # fmt: skip
        wait = timeout or self.timeout
        server = self.host if local else None
        coro = self.bus.call(TOPIC, method, timeout=wait, server=server, **kwargs)
        return self.bridge.run(coro, wait + 5)

    def allocate_for_instance(
        self,
        ctx: RequestContext,
        instance_id: str,
        host: str,
        requested: Requested,
        *,
        security_groups: list[str] | None = None,
        availability_zone: str = "nova",
    ) -> list[PortInfo]:
        ports = self._call(
            "allocate_for_instance",
            timeout=SLOW_TIMEOUT,
            ctx=ctx.to_wire(),
            instance_id=instance_id,
            host=host,
            requested=requested_to_wire(requested),
            security_groups=security_groups,
            availability_zone=availability_zone,
        )
        return [port_from_wire(p) for p in ports]

    def missing_security_groups(self, ctx: RequestContext, names: list[str]) -> list[str]:
        found = self._call("missing_security_groups", ctx=ctx.to_wire(), names=names)
        return [str(n) for n in found]

    def deallocate_for_instance(self, ctx: RequestContext, instance_id: str) -> None:
        self._call("deallocate_for_instance", ctx=ctx.to_wire(), instance_id=instance_id)

    def get_instance_nw_info(self, ctx: RequestContext, instance_id: str) -> list[PortInfo]:
        ports = self._call("get_instance_nw_info", ctx=ctx.to_wire(), instance_id=instance_id)
        return [port_from_wire(p) for p in ports]

    def addresses(self, ctx: RequestContext, instance_id: str) -> Addresses:
        result: Addresses = self._call("addresses", ctx=ctx.to_wire(), instance_id=instance_id)
        return result

    def addresses_for(
        self, ctx: RequestContext, instance_ids: Sequence[str]
    ) -> dict[str, Addresses]:
        result: dict[str, Addresses] = self._call(
            "addresses_for", ctx=ctx.to_wire(), instance_ids=list(instance_ids)
        )
        return result

    def attach_interface(
        self, ctx: RequestContext, instance_id: str, host: str, request: NetworkRequest
    ) -> PortInfo:
        port = self._call(
            "attach_interface",
            timeout=SLOW_TIMEOUT,
            ctx=ctx.to_wire(),
            instance_id=instance_id,
            host=host,
            request=dataclasses.asdict(request),
        )
        return port_from_wire(port)

    def detach_interface(self, ctx: RequestContext, instance_id: str, port_id: str) -> None:
        self._call("detach_interface", ctx=ctx.to_wire(), instance_id=instance_id, port_id=port_id)

    def setup_instance_network(self, instance_id: str, ports: list[PortInfo]) -> Path:
        path = self._call(
            "setup_instance_network",
            timeout=SLOW_TIMEOUT,
            local=True,
            instance_id=instance_id,
            ports=[port_to_wire(p) for p in ports],
        )
        return Path(path)

    def setup_instance_taps(self, instance_id: str, ports: list[PortInfo]) -> list[VifTap]:
        vifs = self._call(
            "setup_instance_taps",
            timeout=SLOW_TIMEOUT,
            local=True,
            instance_id=instance_id,
            ports=[port_to_wire(p) for p in ports],
        )
        return [VifTap(**v) for v in vifs]

    def teardown_instance_network(self, instance_id: str) -> None:
        self._call("teardown_instance_network", local=True, instance_id=instance_id)

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> dict[str, PortCounters]:
        """Read by this host's network agent (``network.<host>``)."""
        found = self._call("port_counters", local=True, ports=[list(p) for p in ports])
        return {c["port_id"]: PortCounters(**c) for c in found}

    def set_metadata_provider(self, provider: MetadataProvider | None) -> None:
        raise NotSupported(
            operation="Registering a metadata provider over the bus (register it in the "
            "process that runs the networking service)"
        )

    def get_port_info(self, ctx: RequestContext, port_id: str) -> PortInfo:
        return port_from_wire(self._call("get_port_info", ctx=ctx.to_wire(), port_id=port_id))

    def get_network_info(self, ctx: RequestContext, network_id: str) -> NetworkInfo:
        data = self._call("get_network_info", ctx=ctx.to_wire(), network_id=network_id)
        return NetworkInfo(**data)

    def find_security_group(
        self, ctx: RequestContext, name_or_id: str, project_id: str | None = None
    ) -> SecurityGroupInfo:
        data = self._call(
            "find_security_group",
            ctx=ctx.to_wire(),
            name_or_id=name_or_id,
            project_id=project_id,
        )
        return SecurityGroupInfo(**data)

    def set_port_security_groups(
        self, ctx: RequestContext, port_id: str, group_ids: Sequence[str]
    ) -> PortInfo:
        data = self._call(
            "set_port_security_groups",
            ctx=ctx.to_wire(),
            port_id=port_id,
            group_ids=list(group_ids),
        )
        return port_from_wire(data)


if TYPE_CHECKING:

    def _implements_the_protocol(client: NetworkClient) -> NetworkService:
        return client
