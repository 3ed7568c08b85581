"""Samples and Ceilometer's meters: names, units, types and where they go in Gnocchi."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

GAUGE = "gauge"
CUMULATIVE = "cumulative"


@dataclass(frozen=True)
class Sample:
    """One measured value of one resource (Ceilometer's Sample)."""

    name: str
    type: str
    unit: str
    volume: float
    resource_id: str
    resource_type: str
    timestamp: str  # ISO 8601, UTC
    project_id: str | None = None
    user_id: str | None = None
    #: the Gnocchi resource's attributes (Ceilometer's resource definition)
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Meter:
    name: str
    type: str
    unit: str
    resource_type: str


METERS: dict[str, Meter] = {
    m.name: m
    for m in (
        Meter("cpu", CUMULATIVE, "ns", "instance"),
        Meter("vcpus", GAUGE, "vcpu", "instance"),
        Meter("memory", GAUGE, "MiB", "instance"),
        Meter("memory.usage", GAUGE, "MiB", "instance"),
        Meter("memory.resident", GAUGE, "MiB", "instance"),
        Meter("disk.root.size", GAUGE, "GiB", "instance"),
        Meter("disk.ephemeral.size", GAUGE, "GiB", "instance"),
        Meter("power.state", GAUGE, "", "instance"),
        Meter("disk.device.read.bytes", CUMULATIVE, "B", "instance_disk"),
        Meter("disk.device.write.bytes", CUMULATIVE, "B", "instance_disk"),
        Meter("disk.device.read.requests", CUMULATIVE, "request", "instance_disk"),
        Meter("disk.device.write.requests", CUMULATIVE, "request", "instance_disk"),
        Meter("network.incoming.bytes", CUMULATIVE, "B", "instance_network_interface"),
        Meter("network.outgoing.bytes", CUMULATIVE, "B", "instance_network_interface"),
        Meter("network.incoming.packets", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("network.outgoing.packets", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("network.incoming.packets.drop", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("network.outgoing.packets.drop", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("network.incoming.packets.error", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("network.outgoing.packets.error", CUMULATIVE, "packet", "instance_network_interface"),
        Meter("volume.size", GAUGE, "GiB", "volume"),
        Meter("image.size", GAUGE, "B", "image"),
        Meter("ip.floating", GAUGE, "ip", "network"),
        Meter("storage.objects", GAUGE, "object", "swift_account"),
        Meter("storage.objects.size", GAUGE, "B", "swift_account"),
        Meter("storage.objects.containers", GAUGE, "container", "swift_account"),
    )
}


def sample(
    name: str,
    volume: float,
    resource_id: str,
    timestamp: str,
    project_id: str | None,
    user_id: str | None,
    attributes: Mapping[str, Any] | None = None,
) -> Sample:
    meter = METERS[name]
    return Sample(
        name=name,
        type=meter.type,
        unit=meter.unit,
        volume=float(volume),
        resource_id=resource_id,
        resource_type=meter.resource_type,
        timestamp=timestamp,
        project_id=project_id,
        user_id=user_id,
        attributes=dict(attributes or {}),
    )
