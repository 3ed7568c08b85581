"""The network data planes (``linux``, ``noop``) and the one place that picks one
for this host.  Their interface is ``onestack.network.driver``; the desired state
they are given is ``onestack.network.topology``."""

from __future__ import annotations

import logging
from pathlib import Path

from onestack.network.conf import NetworkSettings
from onestack.network.driver import MetadataSource, NetworkDataPlane
from onestack.network.drivers.noop import NoDataPlane

LOG = logging.getLogger(__name__)


def unavailable_because(settings: NetworkSettings) -> str:
    """Why this host gets no data plane ('' when it gets the Linux one).

    ``off``: never; ``auto``: when running as root with the tools present;
    ``on``: always, and a RuntimeError when it cannot be built.
    """
    from onestack.network.drivers.linux.commands import missing_tools

    if settings.data_plane == "off":
        return "network.data_plane is off"
    missing = missing_tools()
    if missing and settings.data_plane == "on":
        raise RuntimeError(f"network.data_plane is on but {missing}")
    return missing


def select_data_plane(
    settings: NetworkSettings, state_dir: Path, metadata: MetadataSource
) -> NetworkDataPlane:
    """This host's data plane, as the settings and the host allow."""
    reason = unavailable_because(settings)
    if reason:
        LOG.warning("networking is API-only on this host (%s): no bridges, DHCP or routers", reason)
        return NoDataPlane(reason)
    from onestack.network.drivers.linux.driver import LinuxDataPlane

    return LinuxDataPlane(state_dir, metadata)


__all__ = ["MetadataSource", "NetworkDataPlane", "NoDataPlane", "select_data_plane"]
