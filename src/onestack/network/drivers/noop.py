"""The data plane of the API-only tier: it builds nothing.

Selected when ``network.data_plane = "off"``, or ``"auto"`` on a host that
cannot build one (not root, tools missing).  The networking API works in
full; nothing carries packets, and plugging an instance answers the
service's "not supported" error, so compute keeps instances in a private
namespace of their own.
"""

from __future__ import annotations

from onestack.network.driver import DataPlaneCapabilities, NetworkDataPlane, Presence
from onestack.network.topology import Desired


class NoDataPlane(NetworkDataPlane):
    name = "none"

    def __init__(self, reason: str = "") -> None:
        #: why this host has no data plane (logged once at start)
        self.reason = reason

    def capabilities(self) -> DataPlaneCapabilities:
        return DataPlaneCapabilities()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def apply(self, desired: Desired) -> None:
        return None

    def present(self) -> Presence:
        return Presence()
