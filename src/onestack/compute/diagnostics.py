"""Server diagnostics (``GET /servers/{id}/diagnostics``), from real measurements.

The host's agent measures a running instance (``AgentAPI.instance_stats``: the
CPU time of all its processes, its memory in use and resident, each disk's
I/O); the rest comes from the instance's record (vCPUs, memory, config drive,
launch time) and its ports.  What onestack does not measure is null where
Nova's schema allows it, never made up:

- CPU time is the instance's total, not per vCPU: from 2.48 ``cpu_details``
  holds one entry with ``id`` null; before 2.48 the key is ``cpu_time``;
- disk errors, per-NIC counters and CPU utilisation are not measured (null);
- ``driver`` is ``libvirt``: Nova's schema names only Nova's drivers, and
  onestack's drivers do what Nova's libvirt driver does with its ``qemu``/``kvm``
  (the qemu driver) and ``lxc`` (the container driver) virt types;
  ``hypervisor`` names the host's real hypervisor type.

Before 2.48 the answer is a flat, driver-specific dict in libvirt's style
(``memory`` and ``memory-rss`` in KiB, ``vda_read``, ``vda_read_req``, ...);
from 2.48 Nova's standard structure, with memory in MiB.  A server whose power
state is not running is Nova's 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from onestack.common.context import RequestContext
from onestack.common.db import utcnow
from onestack.common.exceptions import Conflict, NotFound
from onestack.compute.driver import InstanceStats
from onestack.compute.exceptions import InvalidState
from onestack.compute.models import ComputeNode, Instance
from onestack.compute.states import PowerState

if TYPE_CHECKING:
    from onestack.compute.core import ComputeCore

#: Nova's power_state names (``nova.compute.power_state.STATE_MAP``)
STATE_NAMES = {
    PowerState.NOSTATE: "pending",
    PowerState.RUNNING: "running",
    PowerState.PAUSED: "paused",
    PowerState.SHUTDOWN: "shutdown",
    PowerState.CRASHED: "crashed",
    PowerState.SUSPENDED: "suspended",
}
MIB = 1024 * 1024
NIC_COUNTERS = ("octets", "errors", "drop", "packets", "rate")


@dataclass(frozen=True)
class Diagnostics:
    """One measurement of an instance with what its record says."""

    stats: InstanceStats
    hypervisor: str | None
    vcpus: int
    memory_mb: int
    config_drive: bool
    uptime: int | None
    mac_addresses: tuple[str, ...]

    def legacy(self) -> dict[str, Any]:
        """Before 2.48: libvirt's flat keys for what onestack measures."""
        body: dict[str, Any] = {
            "cpu_time": self.stats.cpu_time_ns,
            "memory": self.memory_mb * 1024,
            "memory-rss": self.stats.memory_resident_bytes // 1024,
        }
        for disk in self.stats.disks:
            body[f"{disk.device}_read_req"] = disk.read_requests
            body[f"{disk.device}_read"] = disk.read_bytes
            body[f"{disk.device}_write_req"] = disk.write_requests
            body[f"{disk.device}_write"] = disk.write_bytes
        return body

    def standard(self) -> dict[str, Any]:
        """From 2.48: Nova's structure."""
        nic_keys = [f"{way}_{what}" for way in ("rx", "tx") for what in NIC_COUNTERS]
        return {
            "state": STATE_NAMES[PowerState.RUNNING],
            "driver": "libvirt",
            "hypervisor": self.hypervisor,
            "hypervisor_os": "linux",
            "uptime": self.uptime,
            "config_drive": self.config_drive,
            "num_cpus": self.vcpus,
            "num_disks": len(self.stats.disks),
            "num_nics": len(self.mac_addresses),
            "memory_details": {
                "maximum": self.memory_mb,
                "used": self.stats.memory_usage_bytes // MIB,
            },
            "cpu_details": [{"id": None, "time": self.stats.cpu_time_ns, "utilisation": None}],
            "nic_details": [
                {"mac_address": mac, **dict.fromkeys(nic_keys)} for mac in self.mac_addresses
            ],
            "disk_details": [
                {
                    "read_bytes": d.read_bytes,
                    "read_requests": d.read_requests,
                    "write_bytes": d.write_bytes,
                    "write_requests": d.write_requests,
                    "errors_count": None,
                }
                for d in self.stats.disks
            ],
        }


class DiagnosticsManager:
    def __init__(self, core: ComputeCore) -> None:
        self.core = core
        self.db = core.db

    def get(self, ctx: RequestContext, server_id: str) -> Diagnostics:
        with self.db.reader() as session:
            instance = self.core.instance(session, ctx, server_id)
            self.core.enforce(ctx, "os-server-diagnostics", instance.project_id)
            power = PowerState.of(instance.power_state)
            if instance.host is None or power != PowerState.RUNNING:
                raise InvalidState(
                    action="get_diagnostics",
                    instance_id=server_id,
                    attr="power state",
                    state=STATE_NAMES[power],
                )
            self.core.require(session, instance, "instance_stats", "Server diagnostics")
            node = session.scalars(
                select(ComputeNode).where(ComputeNode.host == instance.host)
            ).first()
            host = instance.host
            facts = _facts(instance, node)
        try:
            stats = self.core.call(self.core.rpc.agents.instance_stats(host, server_id), timeout=35)
        except NotFound:  # it stopped since its record said running
            raise Conflict(f"Instance {server_id} is not ready") from None
        network = self.core.neighbours.network
        macs: tuple[str, ...] = ()
        if network is not None:
            macs = tuple(p.mac_address for p in network.get_instance_nw_info(ctx, server_id))
        return Diagnostics(stats=stats, mac_addresses=macs, **facts)


def _facts(instance: Instance, node: ComputeNode | None) -> dict[str, Any]:
    uptime = None
    if instance.launched_at is not None:
        uptime = max(0, int((utcnow() - instance.launched_at).total_seconds()))
    return {
        "hypervisor": node.hypervisor_type.lower() if node is not None else None,
        "vcpus": int(instance.vcpus),
        "memory_mb": int(instance.memory_mb),
        "config_drive": str(instance.config_drive).lower() in ("true", "1", "yes"),
        "uptime": uptime,
    }
