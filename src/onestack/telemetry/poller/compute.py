"""The compute pollster: the instances of one compute host, measured.

The instances come from the compute API (``servers/detail?all_tenants&host=``,
as Ceilometer's ``local_instances`` discovery asks Nova), their flavors from
``flavors/detail``, their ports from the networking API; CPU time, memory and
disk I/O from this host's compute agent (``StatsSource``: the agent's
``instance_stats`` over the bus), network counters of the instances' ports from
this host's network agent (``CounterSource``: networking's ``port_counters``).  Meters, units and
resource ids are Ceilometer's:

- ``instance`` (the server id): cpu (ns), vcpus, memory, memory.usage,
  memory.resident (MiB), disk.root.size (GiB), power.state;
- ``instance_disk`` (``<server id>-<device>``): disk.device.{read,write}.{bytes,requests};
- ``instance_network_interface`` (``<instance name>-<server id>-<vnic>``):
  network.{incoming,outgoing}.{bytes,packets,packets.drop,packets.error}.

A server whose driver has no statistics (``NotSupported``) still gets the meters
that come from its flavor.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from onestack.common.exceptions import NotFound, NotSupported, OneStackError
from onestack.common.keystone_client import KeystoneSession, ServiceError
from onestack.telemetry.poller.meters import Sample, sample

LOG = logging.getLogger(__name__)
MiB = 1024 * 1024


class StatsSource(Protocol):
    """This host's hypervisor, as the pollster uses it (compute's
    ``rpcapi.InstanceStatsClient``)."""

    def instance_stats(self, instance_id: str) -> Any:
        """``InstanceStats`` of a running instance; NotFound when it does not run here,
        NotSupported when the driver measures nothing."""
        ...


class CounterSource(Protocol):
    """This host's data plane, as the pollster uses it (networking's
    ``NetworkService.port_counters``)."""

    def port_counters(self, ports: Sequence[tuple[str, str]]) -> Mapping[str, Any]:
        """port id -> ``PortCounters`` (the instance's view) of ``(port, network)`` pairs."""
        ...


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    instance_name: str
    host: str | None
    project_id: str
    user_id: str
    status: str
    power_state: int
    flavor_id: str
    image_id: str | None
    metadata: dict[str, str]
    availability_zone: str | None
    created: str | None
    launched_at: str | None

    @classmethod
    def of(cls, body: dict[str, Any]) -> Server:
        image = body.get("image")
        flavor = body.get("flavor") or {}
        return cls(
            id=body["id"],
            name=body.get("name") or "",
            instance_name=body.get("OS-EXT-SRV-ATTR:instance_name") or "",
            host=body.get("OS-EXT-SRV-ATTR:host"),
            project_id=body.get("tenant_id") or "",
            user_id=body.get("user_id") or "",
            status=body.get("status") or "",
            power_state=int(body.get("OS-EXT-STS:power_state") or 0),
            flavor_id=str(flavor.get("id", "")),
            image_id=image.get("id") if isinstance(image, dict) else None,
            metadata=dict(body.get("metadata") or {}),
            availability_zone=body.get("OS-EXT-AZ:availability_zone"),
            created=body.get("created"),
            launched_at=body.get("OS-SRV-USG:launched_at"),
        )


class ComputePollster:
    def __init__(
        self,
        session: KeystoneSession,
        host: str,
        driver: StatsSource | None,
        network: CounterSource | None = None,
    ) -> None:
        self.session = session
        self.host = host
        self.driver = driver
        self.network = network

    # -- discovery -------------------------------------------------------------------

    def servers(self) -> list[Server]:
        found: list[Server] = []
        marker: str | None = None
        while True:
            params: dict[str, Any] = {"all_tenants": "1", "host": self.host, "limit": 200}
            if marker:
                params["marker"] = marker
            page = self.session.request("compute", "GET", "/servers/detail", params=params)
            servers = page.get("servers", [])
            found.extend(Server.of(s) for s in servers)
            if len(servers) < 200:
                break
            marker = servers[-1]["id"]
        return [s for s in found if s.status not in ("DELETED", "SOFT_DELETED", "BUILD")]

    def flavors(self) -> dict[str, dict[str, Any]]:
        page = self.session.request(
            "compute", "GET", "/flavors/detail", params={"is_public": "None"}
        )
        return {str(f["id"]): f for f in page.get("flavors", [])}

    def ports(self) -> dict[str, list[dict[str, Any]]]:
        """server id -> its ports on this host."""
        try:
            page = self.session.request(
                "network", "GET", "/v2.0/ports", params={"binding:host_id": self.host}
            )
        except ServiceError as exc:
            LOG.warning("metering: cannot list the ports of %s: %s", self.host, exc)
            return {}
        by_server: dict[str, list[dict[str, Any]]] = {}
        for port in page.get("ports", []):
            if str(port.get("device_owner", "")).startswith("compute:"):
                by_server.setdefault(port["device_id"], []).append(port)
        return by_server

    # -- samples -----------------------------------------------------------------------

    def poll(self, now: str) -> tuple[list[Sample], list[Server]]:
        servers = self.servers()
        if not servers:
            return [], []
        flavors = self.flavors()
        ports = self.ports()
        vnics = self.counters([(p["id"], p["network_id"]) for ps in ports.values() for p in ps])
        samples: list[Sample] = []
        for server in servers:
            samples.extend(self._server(server, flavors.get(server.flavor_id, {}), now))
            samples.extend(self._network(server, ports.get(server.id, []), vnics, now))
        return samples, servers

    @staticmethod
    def attributes(server: Server, flavor: dict[str, Any]) -> dict[str, Any]:
        return {
            "display_name": server.name,
            "host": server.host,
            "flavor_id": server.flavor_id,
            "flavor_name": flavor.get("name", ""),
            "image_ref": server.image_id,
            "server_group": server.metadata.get("metering.server_group"),
            "availability_zone": server.availability_zone,
            "created_at": server.created,
            "launched_at": server.launched_at,
        }

    def _server(self, server: Server, flavor: dict[str, Any], now: str) -> list[Sample]:
        attributes = self.attributes(server, flavor)

        def make(name: str, volume: float) -> Sample:
            return sample(name, volume, server.id, now, server.project_id, server.user_id,
                          attributes)  # fmt: skip

        samples = [make("power.state", server.power_state)]
        if flavor:
            samples.extend(
                (
                    make("vcpus", flavor.get("vcpus", 0)),
                    make("memory", flavor.get("ram", 0)),
                    make(
                        "disk.root.size",
                        int(flavor.get("disk", 0))
                        - int(flavor.get("OS-FLV-EXT-DATA:ephemeral", 0)),
                    ),
                    make("disk.ephemeral.size", int(flavor.get("OS-FLV-EXT-DATA:ephemeral", 0))),
                )
            )
        stats = self._stats(server)
        if stats is None:
            return samples
        samples.extend(
            (
                make("cpu", stats.cpu_time_ns),
                make("memory.usage", round(stats.memory_usage_bytes / MiB, 3)),
                make("memory.resident", round(stats.memory_resident_bytes / MiB, 3)),
            )
        )
        for disk in stats.disks:
            disk_attributes = {"name": disk.device, "instance_id": server.id}
            resource = f"{server.id}-{disk.device}"
            for name, value in (
                ("disk.device.read.bytes", disk.read_bytes),
                ("disk.device.write.bytes", disk.write_bytes),
                ("disk.device.read.requests", disk.read_requests),
                ("disk.device.write.requests", disk.write_requests),
            ):
                samples.append(sample(name, value, resource, now, server.project_id,
                                      server.user_id, disk_attributes))  # fmt: skip
        return samples

    def counters(self, ports: list[tuple[str, str]]) -> Mapping[str, Any]:
        if self.network is None or not ports:
            return {}
        try:
            return self.network.port_counters(ports)
        except OneStackError as exc:  # no network agent here, or it failed
            LOG.warning("metering: cannot read the port counters of %s: %s", self.host, exc)
            return {}

    def _stats(self, server: Server) -> Any:
        if self.driver is None or server.power_state != 1:  # 1: RUNNING
            return None
        try:
            return self.driver.instance_stats(server.id)
        except (NotFound, NotSupported):
            return None
        except OneStackError as exc:  # no compute agent here, or it failed
            LOG.warning("metering: no statistics of %s: %s", server.id, exc)
            return None

    def _network(
        self,
        server: Server,
        ports: list[dict[str, Any]],
        vnics: Mapping[str, Any],
        now: str,
    ) -> list[Sample]:
        samples: list[Sample] = []
        for port in ports:
            stats = vnics.get(port["id"])
            if stats is None:
                continue
            resource = f"{server.instance_name}-{server.id}-{stats.device}"
            attributes = {"name": stats.device, "instance_id": server.id}
            for name, value in (
                ("network.incoming.bytes", stats.rx_bytes),
                ("network.outgoing.bytes", stats.tx_bytes),
                ("network.incoming.packets", stats.rx_packets),
                ("network.outgoing.packets", stats.tx_packets),
                ("network.incoming.packets.drop", stats.rx_drop),
                ("network.outgoing.packets.drop", stats.tx_drop),
                ("network.incoming.packets.error", stats.rx_errors),
                ("network.outgoing.packets.error", stats.tx_errors),
            ):
                samples.append(sample(name, value, resource, now, server.project_id,
                                      server.user_id, attributes))  # fmt: skip
        return samples


def gone(
    known: Iterable[dict[str, Any]], present: set[str], key: Callable[[dict[str, Any]], str]
) -> list[dict[str, Any]]:
    """The resources of ``known`` whose key is not in ``present``."""
    return [r for r in known if key(r) not in present]
