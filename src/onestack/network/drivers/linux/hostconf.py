"""What makes one host's data plane its own: its namespace scope and its tunnel endpoint.

A host of its own (``scope`` empty, ``underlay_netns`` None) builds its bridge
namespaces as ``osnet-<network>`` and its VXLAN devices and external-network
address in the root namespace.  A host simulated on a machine shared with
others (``onestack cluster``) has a scope (its namespaces are
``osnet-<scope>-<network>``) and an underlay namespace that holds its address
(``local_ip``) and stands in for the root namespace: VXLAN devices are made
there and its external-network address (the host leg) lives there.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HostConfig:
    #: namespace scope of a simulated host ('' on a host of its own)
    scope: str = ""
    #: this host's VXLAN tunnel endpoint address; None: no tunnels (one host serves all)
    local_ip: str | None = None
    #: the namespace that holds ``local_ip`` (None: the root namespace)
    underlay_netns: str | None = None
    #: UDP port of VXLAN (IANA's)
    vxlan_port: int = 4789

    @property
    def tunnels(self) -> bool:
        return self.local_ip is not None
