"""The networking service's plug-in to the all-in-one server.

``prepare`` creates the external network ``public`` on first start;
``start`` serves the networking Protocol on the bus (``rpcapi``) and runs
the network agent when this host has a data plane (root and the tools
present, or ``network.data_plane = "on"``); otherwise the service is
API-only and says so once.  ``stop`` stops the agent and leaves the tenant
data plane running: instances outlive the service.
"""

from __future__ import annotations

import asyncio
import importlib
import ipaddress
import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.common import owners
from onestack.common.bus import Bus
from onestack.identity.bootstrap import CatalogEntry
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.driver import NetworkDataPlane
from onestack.network.drivers import MetadataSource, NoDataPlane, select_data_plane
from onestack.network.interface import MetadataProvider
from onestack.network.manager import NetworkManager
from onestack.network.public_range import HeldRange, check_existing, choose
from onestack.network.rpcapi import (
    AGENT_NOTIFY_TOPIC,
    TOPIC,
    AgentNotifier,
    AgentNotifyEndpoint,
    NetworkEndpoint,
)
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def manager_of(cloud: Cloud) -> NetworkManager:
    """The cloud's NetworkManager, created and registered once, with this host's data
    plane (``drivers.select_data_plane``: the one place that picks it)."""

    def build() -> NetworkManager:
        settings = cloud.settings.network
        # wait condition signals from instances reach the orchestration API through the
        # metadata address (MetadataSource.proxies)
        metadata = MetadataSource(
            _configured_provider(settings),
            proxies={"/heat/": cloud.settings.url("orchestration")},
        )
        plane: NetworkDataPlane
        if cloud.settings.controller:
            plane = NoDataPlane("a controller builds no data plane: network hosts do")
        else:
            plane = select_data_plane(settings, cloud.settings.state_dir, metadata)
        return NetworkManager(
            settings, cloud.db, cloud.enforcer, data_plane=plane, metadata=metadata
        )

    return cloud.services.get_or_create("network", NetworkManager, build)


def _configured_provider(settings: NetworkSettings) -> MetadataProvider | None:
    """The metadata provider ``network.metadata_provider`` names (``module:attribute``)."""
    if not settings.metadata_provider:
        return None
    module, _, attr = settings.metadata_provider.partition(":")
    provider: MetadataProvider = getattr(importlib.import_module(module), attr)
    return provider


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry("network", "neutron", settings.url("network"), "Networking (Neutron v2.0)")
    ]


def _prepare(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    settings = cloud.settings.network
    result = cloud.bootstrap_result
    if settings.create_public_network and result is not None:
        # a controller's network hosts give their own host the address
        plane = manager.core.plane
        host_address = cloud.settings.controller or plane.capabilities().host_address
        host_leg = host_address and settings.public_host_address
        cidr = _public_range(cloud, plane, host_leg and not cloud.settings.controller)
        manager.ensure_public_network(result.admin_project_id, host_leg=host_leg, cidr_text=cidr)


def _public_range(cloud: Cloud, plane: NetworkDataPlane, check: bool) -> str | None:
    """The range ``public`` is made on (None: it exists already), checked against what
    this host holds when the host gets an address on it (``public_range``): the
    addresses on the host, and the ranges running clouds recorded (one that has not
    made its host link yet).  A stopped cloud's link, if it left one, is an address."""
    settings = cloud.settings.network
    existing = manager_of(cloud).public_network()
    if not check:
        return None if existing else settings.public_cidr
    state_dir = cloud.settings.state_dir
    with owners.host_lock():
        held = plane.host_ranges(existing[0] if existing else None)
        for owner in owners.all_owners():
            if owner.key != owners.key_of(state_dir) and owner.public_cidr and owner.alive():
                held.append(HeldRange(
                    ipaddress.ip_network(owner.public_cidr),
                    f"the running cloud of state directory {owner.state_dir}",
                ))  # fmt: skip
        if existing:
            if existing[1] is not None:
                check_existing(existing[1], held)
                owners.set_public_cidr(state_dir, existing[1])
            return None
        explicit = "public_cidr" in settings.model_fields_set
        choice = choose(settings.public_cidr, held, explicit=explicit)
        owners.set_public_cidr(state_dir, choice.cidr)
    if choice.notice:
        LOG.warning("network: %s", choice.notice)
        cloud.notices.append(choice.notice)
    return choice.cidr


def host_of(cloud: Cloud) -> str:
    """This host's name: where ``network.<host>`` bus calls (instance plugging) arrive."""
    return cloud.settings.network.host or socket.gethostname()


async def _start(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    host = host_of(cloud)
    notifier = AgentNotifier(cloud.bus)
    notifier.loop = asyncio.get_running_loop()
    manager.core.add_listener(notifier.changed)
    await cloud.bus.serve(TOPIC, NetworkEndpoint(manager), server=host)
    if not cloud.settings.controller:
        await start_host_agent(manager, cloud.bus, host)


async def start_host_agent(manager: NetworkManager, bus: Bus, host: str) -> None:
    """Run this host's network agent (when its data plane builds anything) and let the
    control plane wake it over the bus."""
    await manager.start_agent(host)
    agent = manager.core.agent
    if agent is not None:
        await bus.serve(AGENT_NOTIFY_TOPIC, AgentNotifyEndpoint(agent.wake), server=host)


async def _stop(cloud: Cloud) -> None:
    await manager_of(cloud).stop_agent()


def _build_app(cloud: Cloud) -> Any:
    from onestack.network.api.routes import build_app

    return build_app(manager_of(cloud), cloud.identity.tokens, cloud.settings)


PLUGIN = ServicePlugin(
    name="network",
    package="onestack.network",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
    prepare=_prepare,
    start=_start,
    stop=_stop,
)
