"""What other services may use of the compute service (its public Python interface).

The network service's metadata server (169.254.169.254) asks compute what
an instance may know about itself: ``instance_metadata`` (the network
service's ``MetadataProvider`` Protocol).  Other services reach compute
through ``cloud.neighbours.compute`` (a ``ComputeManager``), never through
its tables; everything else goes through the compute API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from onestack.network.interface import InstanceMetadata


class ComputeService(Protocol):
    def instance_metadata(self, instance_id: str) -> InstanceMetadata | None:
        """The instance's name, hostname, project, keys, user data and metadata items,
        or None when there is no live instance with that id."""
        ...
