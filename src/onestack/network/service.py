"""The networking service's plug-in to the all-in-one server.

``prepare`` creates the external network ``public`` on first start;
``start`` serves the networking Protocol on the bus (``rpcapi``) and runs
the network agent when this host has a data plane (root and the tools
present, or ``network.data_plane = "on"``); otherwise the service is
API-only and says so once.  ``stop`` stops the agent and leaves the tenant
data plane running: instances outlive the service.
"""

from __future__ import annotations

import importlib
import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.network import policies
from onestack.network.conf import NetworkSettings
from onestack.network.drivers import MetadataSource, select_data_plane
from onestack.network.interface import MetadataProvider
from onestack.network.manager import NetworkManager
from onestack.network.rpcapi import TOPIC, NetworkEndpoint
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
        host_address = manager.core.plane.capabilities().host_address
        manager.ensure_public_network(
            result.admin_project_id, host_leg=host_address and settings.public_host_address
        )


def host_of(cloud: Cloud) -> str:
    """This host's name: where ``network.<host>`` bus calls (instance plugging) arrive."""
    return cloud.settings.network.host or socket.gethostname()


async def _start(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    await cloud.bus.serve(TOPIC, NetworkEndpoint(manager), server=host_of(cloud))
    await manager.start_agent()


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
