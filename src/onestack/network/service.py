"""The networking service's plug-in to the all-in-one server.

``prepare`` creates the external network ``public`` on first start;
``start`` runs the network agent when this host can build the data plane
(root and the tools present, or ``network.data_plane = "on"``), otherwise
the service is API-only and says so once.  ``stop`` stops the agent and
leaves the tenant data plane running: instances outlive the service.
"""

from __future__ import annotations

import logging
import socket
from typing import TYPE_CHECKING, Any

from onestack.identity.bootstrap import CatalogEntry
from onestack.network import policies
from onestack.network.manager import NetworkManager
from onestack.network.rpcapi import TOPIC, NetworkEndpoint
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud

LOG = logging.getLogger(__name__)


def manager_of(cloud: Cloud) -> NetworkManager:
    """The cloud's NetworkManager (``cloud.services["network"]``), created once."""
    existing = cloud.services.get("network")
    if isinstance(existing, NetworkManager):
        return existing
    manager = NetworkManager(cloud.settings.network, cloud.db, cloud.enforcer)
    cloud.services["network"] = manager
    return manager


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry("network", "neutron", settings.url("network"), "Networking (Neutron v2.0)")
    ]


def _data_plane_wanted(cloud: Cloud) -> tuple[bool, str]:
    from onestack.network.agent.linux import missing_tools

    mode = cloud.settings.network.data_plane
    if mode == "off":
        return False, "network.data_plane is off"
    missing = missing_tools()
    if not missing:
        return True, ""
    if mode == "on":
        raise RuntimeError(f"network.data_plane is on but {missing} is not available")
    return False, missing


def _prepare(cloud: Cloud) -> None:
    manager = manager_of(cloud)
    settings = cloud.settings.network
    result = cloud.bootstrap_result
    if settings.create_public_network and result is not None:
        wanted, _ = _data_plane_wanted(cloud)
        manager.ensure_public_network(
            result.admin_project_id, host_leg=wanted and settings.public_host_address
        )
    if settings.metadata_provider:
        import importlib

        module, _, attr = settings.metadata_provider.partition(":")
        manager.configured_metadata_provider = getattr(importlib.import_module(module), attr)


def host_of(cloud: Cloud) -> str:
    """This host's name: where ``network.<host>`` bus calls (instance plugging) arrive."""
    return cloud.settings.network.host or socket.gethostname()


async def _start(cloud: Cloud) -> None:
    wanted, reason = _data_plane_wanted(cloud)
    manager = manager_of(cloud)
    await cloud.bus.serve(TOPIC, NetworkEndpoint(manager), server=host_of(cloud))
    if not wanted:
        LOG.warning("networking is API-only on this host (%s): no bridges, DHCP or routers", reason)
        return
    from onestack.network.agent.agent import NetworkAgent

    agent = NetworkAgent(manager, cloud.settings.network, cloud.settings.state_dir)
    cloud.services["network-agent"] = agent
    await agent.start()


async def _stop(cloud: Cloud) -> None:
    agent: Any = cloud.services.pop("network-agent", None)
    if agent is not None:
        await agent.stop()


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
