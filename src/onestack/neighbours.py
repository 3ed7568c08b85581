"""The services a service may call: a typed, frozen set of neighbours.

Services never reach each other through a shared dictionary or each other's
tables.  ``Cloud`` builds one :class:`Neighbours` and gives it to every
service's constructor.  Each property is typed by the neighbour's Protocol
(its ``interface.py``): in the all-in-one it resolves to the neighbour's
manager; on a host of its own an agent gets a ``Neighbours`` whose entries
are clients over HTTP or the bus implementing the same Protocols.

Resolution is late (at call time), so services can be built in any order and
neighbours may depend on each other; the set itself never changes after
start.  A neighbour that does not run is ``None`` from the plain property and
raises :class:`NeighbourMissing` (a 503 in every service's error format) from
``require(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from onestack.common.exceptions import ServiceUnavailable

if TYPE_CHECKING:
    from onestack.compute.interface import ComputeService
    from onestack.identity.interface import IdentityService
    from onestack.image.interface import ImageService
    from onestack.network.interface import NetworkProxyService, NetworkService
    from onestack.volume.interface import VolumeProxyService, VolumeService

T = TypeVar("T")


class NeighbourMissing(ServiceUnavailable):
    msg_fmt = "The {service} service is not running in this cloud."


@dataclass(frozen=True)
class Neighbours:
    """Typed access to the other services; see the module docstring."""

    _lookup: Callable[[str], object | None]

    @classmethod
    def of(cls, services: Mapping[str, object]) -> Neighbours:
        return cls(services.get)

    def _get(self, name: str) -> Any:
        return self._lookup(name)

    @property
    def compute(self) -> ComputeService | None:
        return cast("ComputeService | None", self._get("compute"))

    @property
    def identity(self) -> IdentityService | None:
        return cast("IdentityService | None", self._get("identity"))

    @property
    def image(self) -> ImageService | None:
        return cast("ImageService | None", self._get("image"))

    @property
    def network(self) -> NetworkService | None:
        return cast("NetworkService | None", self._get("network"))

    @property
    def network_proxy(self) -> NetworkProxyService | None:
        """The network service as Nova's proxy APIs use it (control plane only)."""
        return cast("NetworkProxyService | None", self._get("network"))

    @property
    def volume(self) -> VolumeService | None:
        return cast("VolumeService | None", self._get("volume"))

    @property
    def volume_proxy(self) -> VolumeProxyService | None:
        """The volume service as Nova's proxy APIs use it (control plane only)."""
        return cast("VolumeProxyService | None", self._get("volume"))

    def require(self, value: T | None, service: str) -> T:
        """``value`` (one of the properties above), or NeighbourMissing naming ``service``."""
        if value is None:
            raise NeighbourMissing(service=service)
        return value
