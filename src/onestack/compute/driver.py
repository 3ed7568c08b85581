"""The compute driver contract: what an agent asks of a hypervisor.

A driver runs instances on one host.  Parameters are frozen dataclasses; the
capabilities a driver has are a typed dataclass from ``info()``.  Optional
operations raise :class:`DriverNotSupported` by default, which the API turns
into Nova's 501 ``notImplemented``.  Every method is synchronous and may
block (the agent runs it in a worker thread); each docstring says what holds
after a failure.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from onestack.compute.conf import ComputeSettings
from onestack.compute.exceptions import DriverNotSupported
from onestack.compute.states import PowerState


@dataclass(frozen=True)
class Capabilities:
    """What a driver can do beyond the operations every driver has.

    Every flag defaults to False: a driver states what it supports.  The agent
    records them per host (the compute node), and the API answers Nova's 501
    ``notImplemented`` before anything is cast when the server's host lacks the
    operation.  ``CAPABILITY_METHODS`` names the driver methods behind each flag;
    the contract suite checks that a driver overrides exactly those it claims.
    """

    #: pause and unpause (freeze every process or vCPU, memory kept)
    pause: bool = False
    #: suspend and resume
    suspend: bool = False
    #: resize to another flavor (confirm/revert)
    resize: bool = False
    #: createImage: the instance's disk as a new image
    snapshot: bool = False
    #: os-getConsoleOutput
    console_output: bool = False
    #: attach and detach volumes while the instance exists
    volume_attach: bool = False
    #: a volume as the root disk (``InstanceSpec.root_device``)
    boot_from_volume: bool = False
    #: instances really run (the fake driver runs nothing)
    real_workloads: bool = False
    #: the instance's ports are tap devices (``InstanceSpec.vifs``), not a namespace
    tap_vifs: bool = False
    #: hot-plug a port into a running instance (tap VIFs)
    interface_attach: bool = False
    #: remote consoles (``console_socket``): serial and VNC
    remote_consoles: bool = False
    #: usage statistics of an instance (CPU time, memory, disk I/O) for metering
    instance_stats: bool = False
    #: rescue and unrescue (boot a rescue image, the instance's root as a second disk)
    rescue: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {f.name: bool(getattr(self, f.name)) for f in fields(self)}

    @classmethod
    def from_dict(cls, values: Mapping[str, object] | None) -> Capabilities:
        """From a recorded dict; unknown keys are ignored, missing ones are False."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: bool(v) for k, v in (values or {}).items() if k in known})


#: the driver methods each capability stands for (raising DriverNotSupported without it)
CAPABILITY_METHODS: Mapping[str, tuple[str, ...]] = {
    "pause": ("pause", "unpause"),
    "suspend": ("suspend", "resume"),
    "resize": ("resize",),
    "snapshot": ("snapshot",),
    "console_output": ("console_output",),
    "volume_attach": ("attach_volume", "detach_volume"),
    "interface_attach": ("attach_interface", "detach_interface"),
    "remote_consoles": ("console_socket",),
    "instance_stats": ("instance_stats",),
    "rescue": ("rescue", "unrescue"),
}


@dataclass(frozen=True)
class HostInfo:
    """What a driver reports about its host (os-hypervisors)."""

    hypervisor_type: str
    hypervisor_version: int
    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    local_gb: int
    host_ip: str = "127.0.0.1"
    cpu_info: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class AttachedVolume:
    """A volume exposed to an instance: ``host_device`` (a block device on the
    host, e.g. a loop device) appears in the instance as ``device_name``."""

    volume_id: str
    device_name: str  # /dev/vdb
    host_device: str  # /dev/loop3
    read_only: bool = False


@dataclass(frozen=True)
class TapVif:
    """One port as a tap device on its network's bridge, in the network's namespace."""

    port_id: str
    mac_address: str
    mtu: int
    netns_path: str  # /run/netns/osnet-<network id>
    device: str  # the tap's name there


@dataclass(frozen=True)
class DiskStats:
    """Cumulative I/O of one of an instance's disks, named as the instance sees it."""

    device: str  # vda, vdb...
    read_bytes: int
    write_bytes: int
    read_requests: int
    write_requests: int


@dataclass(frozen=True)
class InstanceStats:
    """What the hypervisor measured of one instance (the metering poller's input)."""

    #: CPU time used since the instance started (nanoseconds)
    cpu_time_ns: int
    #: memory in use by the instance, page cache it could drop excluded (bytes)
    memory_usage_bytes: int
    #: resident memory of the instance's processes (bytes)
    memory_resident_bytes: int
    disks: tuple[DiskStats, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_wire(cls, data: dict[str, Any]) -> InstanceStats:
        disks = tuple(DiskStats(**d) for d in data.get("disks") or ())
        return cls(
            cpu_time_ns=int(data["cpu_time_ns"]),
            memory_usage_bytes=int(data["memory_usage_bytes"]),
            memory_resident_bytes=int(data["memory_resident_bytes"]),
            disks=disks,
        )


@dataclass(frozen=True)
class RescueImage:
    """The image a rescued instance boots from (Nova's default: its own image)."""

    image_id: str
    #: local file of the image on this host
    image_path: Path
    #: its Glance ``disk_format``
    disk_format: str = "raw"


@dataclass(frozen=True)
class InstanceSpec:
    """Everything a driver needs to create (or re-create) one instance."""

    id: str
    name: str
    hostname: str
    project_id: str
    user_id: str
    image_id: str
    #: local raw image file of ``image_id`` (None when the driver needs no bytes)
    image_path: Path | None
    image_properties: Mapping[str, str]
    vcpus: int
    memory_mb: int
    root_gb: int
    availability_zone: str
    launch_index: int = 0
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None  # base64, as the API received it
    metadata: Mapping[str, str] = field(default_factory=dict)
    #: attached volumes the instance sees from its start
    volumes: tuple[AttachedVolume, ...] = ()
    #: boot from volume: the host block device holding the root filesystem
    root_device: str | None = None
    #: a named network namespace prepared by the network service (None: a private one)
    netns_path: str | None = None
    #: the image's Glance ``disk_format`` (how a VM driver reads ``image_path``)
    image_disk_format: str = "raw"
    #: direct kernel boot (the image's ``kernel_id``/``ramdisk_id`` images)
    kernel_path: Path | None = None
    ramdisk_path: Path | None = None
    ephemeral_gb: int = 0
    swap_mb: int = 0
    #: the user asked for a config drive
    config_drive: bool = False
    #: ports as taps (drivers with ``Capabilities.tap_vifs``)
    vifs: tuple[TapVif, ...] = ()


class ComputeDriver(abc.ABC):
    """One host's hypervisor.  Instances are named by their server id.

    Required: ``info``, ``list_instances``, ``spawn``, ``destroy``, ``power_off``,
    ``power_on``, ``get_power_state`` (and ``reboot``, ``rebuild``, which have
    defaults built on them).  Optional: the methods of ``CAPABILITY_METHODS``,
    each raising :class:`DriverNotSupported` unless the driver's ``capabilities``
    say otherwise.
    """

    name: ClassVar[str] = "base"
    #: what this driver supports (all False unless the driver says so)
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: the disk format ``snapshot`` writes (Glance ``disk_format``)
    snapshot_disk_format: ClassVar[str] = "raw"

    def __init__(self, settings: ComputeSettings, state_dir: Path, host: str) -> None:
        """Every driver is built alike: the compute settings, its own directory
        (``<state dir>/compute`` on the all-in-one) and the host's name."""
        self.settings = settings
        self.state_dir = state_dir
        self.host = host

    @abc.abstractmethod
    def info(self) -> HostInfo:
        """The host's capacity."""

    @abc.abstractmethod
    def list_instances(self) -> dict[str, PowerState]:
        """Every instance this driver knows on the host, with its power state."""

    @abc.abstractmethod
    def spawn(self, spec: InstanceSpec) -> None:
        """Create and start the instance (power state RUNNING after).

        On failure, any partial instance is completely cleaned up.
        """

    @abc.abstractmethod
    def destroy(self, instance_id: str) -> None:
        """Stop the instance and remove everything it has on the host.

        Idempotent: destroying an unknown instance succeeds.
        """

    @abc.abstractmethod
    def power_off(self, instance_id: str, timeout: float) -> None:
        """Ask the instance to stop, force it after ``timeout`` seconds; its disk stays.

        On failure the instance may still run; its disk is never removed.
        """

    @abc.abstractmethod
    def power_on(self, spec: InstanceSpec) -> None:
        """Start a powered-off instance from its existing disk.

        On failure the instance is powered off, its disk intact.
        """

    @abc.abstractmethod
    def get_power_state(self, instance_id: str) -> PowerState:
        """The instance's power state (``PowerState.NOSTATE`` when unknown)."""

    def reboot(self, spec: InstanceSpec, hard: bool, timeout: float) -> None:
        """Restart the instance from its existing disk (soft: ask first; hard: kill).

        On failure the instance is powered off, its disk intact.
        """
        self.power_off(spec.id, 0 if hard else timeout)
        self.power_on(spec)

    def pause(self, instance_id: str) -> None:
        """Freeze every process of the instance.  On failure nothing changed."""
        raise DriverNotSupported(operation="pause", driver=self.name)

    def unpause(self, instance_id: str) -> None:
        """Thaw a paused instance.  On failure it stays paused."""
        raise DriverNotSupported(operation="unpause", driver=self.name)

    def suspend(self, instance_id: str) -> None:
        """Suspend the instance.  On failure nothing changed."""
        raise DriverNotSupported(operation="suspend", driver=self.name)

    def resume(self, instance_id: str) -> None:
        """Resume a suspended instance.  On failure it stays suspended."""
        raise DriverNotSupported(operation="resume", driver=self.name)

    def rebuild(self, spec: InstanceSpec) -> None:
        """Replace the instance's disk with a fresh one from ``spec.image_id`` and start it.

        On failure the instance is destroyed (the agent marks it ERROR).
        """
        self.destroy(spec.id)
        self.spawn(spec)

    def resize(self, spec: InstanceSpec) -> None:
        """Apply the flavor in ``spec`` (vcpus, memory) to the instance.

        On failure the old limits stay in force.
        """
        raise DriverNotSupported(operation="resize", driver=self.name)

    def snapshot(self, instance_id: str, target: Path) -> None:
        """Write the instance's disk as a raw image file at ``target``.

        On failure ``target`` does not exist; the instance is unchanged.
        """
        raise DriverNotSupported(operation="snapshot", driver=self.name)

    def console_output(self, instance_id: str, length: int | None) -> str:
        """The last ``length`` lines (all when None) of the instance's console."""
        raise DriverNotSupported(operation="console output", driver=self.name)

    def attach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        """Expose ``volume`` in the running instance (a stopped one sees it at its next
        start, from ``InstanceSpec.volumes``).

        On failure the instance does not see the device.
        """
        raise DriverNotSupported(operation="volume attach", driver=self.name)

    def detach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        """Remove ``volume`` from the instance so the host device can be released.

        Idempotent: detaching a device the instance does not have succeeds.
        """
        raise DriverNotSupported(operation="volume detach", driver=self.name)

    def attach_interface(self, instance_id: str, vif: TapVif) -> None:
        """Plug one more port into the running instance.  On failure it does not see it."""
        raise DriverNotSupported(operation="interface attach", driver=self.name)

    def detach_interface(self, instance_id: str, port_id: str) -> None:
        """Unplug a port from the instance.  Idempotent."""
        raise DriverNotSupported(operation="interface detach", driver=self.name)

    def console_socket(self, instance_id: str, kind: str) -> Path:
        """The Unix socket of the running instance's ``serial`` port or ``vnc`` display."""
        raise DriverNotSupported(operation=f"{kind} console", driver=self.name)

    def rescue(self, spec: InstanceSpec, image: RescueImage) -> None:
        """Boot the instance from a fresh disk of ``image``, its own root disk (and
        volumes) attached as further disks; the root disk is kept unchanged otherwise.

        On failure the rescue disk is gone and the instance is powered off, its own
        disk intact.
        """
        raise DriverNotSupported(operation="rescue", driver=self.name)

    def unrescue(self, spec: InstanceSpec) -> None:
        """Stop the rescue boot, drop its disk and start the instance from its own disk.

        On failure the instance is powered off, its own disk intact.
        """
        raise DriverNotSupported(operation="unrescue", driver=self.name)

    def instance_stats(self, instance_id: str) -> InstanceStats:
        """Usage counters of a running instance (what the metering poller publishes).

        Read-only; ``InstanceNotFound`` when the instance does not run on this host.
        """
        raise DriverNotSupported(operation="instance statistics", driver=self.name)
