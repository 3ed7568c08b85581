"""The fake driver: a real, supported driver that runs no workloads.

Instances are records in a small JSON file under the state directory, so
they survive a restart of onestack the way containers do.  Every operation
succeeds at once; the console shows a short boot banner.  It is what
``onestack up`` uses where runc or root is missing, and what API tests that
say so run against.
"""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from onestack.compute.conf import ComputeSettings
from onestack.compute.driver import (
    AttachedVolume,
    Capabilities,
    ComputeDriver,
    DiskStats,
    HostInfo,
    InstanceSpec,
    InstanceStats,
    RescueImage,
)
from onestack.compute.exceptions import InstanceNotFound
from onestack.compute.states import PowerState


class FakeComputeDriver(ComputeDriver):
    name = "fake"
    #: everything but real workloads: API tests reach every operation
    capabilities = Capabilities(
        pause=True,
        suspend=True,
        resize=True,
        snapshot=True,
        console_output=True,
        volume_attach=True,
        boot_from_volume=True,
        instance_stats=True,
        rescue=True,
    )

    def __init__(self, settings: ComputeSettings, state_dir: Path, host: str) -> None:
        super().__init__(settings, state_dir, host)
        self.path = state_dir / "fake" / f"{host}.json"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._instances: dict[str, dict[str, object]] = {}
        if self.path.is_file():
            self._instances = json.loads(self.path.read_text() or "{}")

    def _save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._instances))
        tmp.replace(self.path)

    def _set(self, instance_id: str, power: PowerState, **extra: object) -> None:
        with self._lock:
            record = self._instances.setdefault(instance_id, {})
            record.update(extra, power=int(power))
            self._save()

    def info(self) -> HostInfo:
        return HostInfo(
            hypervisor_type="fake",
            hypervisor_version=1000,
            hypervisor_hostname=self.host,
            vcpus=self.settings.fake_vcpus,
            memory_mb=self.settings.fake_memory_mb,
            local_gb=self.settings.fake_local_gb,
            host_ip=_host_ip(),
            cpu_info={"arch": "x86_64", "model": "fake", "vendor": "onestack"},
        )

    def list_instances(self) -> dict[str, PowerState]:
        with self._lock:
            return {
                k: PowerState.of(int(str(v.get("power", 0)))) for k, v in self._instances.items()
            }

    def spawn(self, spec: InstanceSpec) -> None:
        self._set(
            spec.id,
            PowerState.RUNNING,
            vcpus=spec.vcpus,
            memory_mb=spec.memory_mb,
            hostname=spec.hostname,
            root_device=spec.root_device,
            volumes={v.device_name: v.volume_id for v in spec.volumes},
        )

    def destroy(self, instance_id: str) -> None:
        with self._lock:
            if self._instances.pop(instance_id, None) is not None:
                self._save()

    def power_off(self, instance_id: str, timeout: float) -> None:
        self._set(instance_id, PowerState.SHUTDOWN)

    def power_on(self, spec: InstanceSpec) -> None:
        self._set(spec.id, PowerState.RUNNING)

    def get_power_state(self, instance_id: str) -> PowerState:
        return self.list_instances().get(instance_id, PowerState.NOSTATE)

    def pause(self, instance_id: str) -> None:
        self._set(instance_id, PowerState.PAUSED)

    def unpause(self, instance_id: str) -> None:
        self._set(instance_id, PowerState.RUNNING)

    def suspend(self, instance_id: str) -> None:
        self._set(instance_id, PowerState.SUSPENDED)

    def resume(self, instance_id: str) -> None:
        self._set(instance_id, PowerState.RUNNING)

    def rescue(self, spec: InstanceSpec, image: RescueImage) -> None:
        self._set(spec.id, PowerState.RUNNING, rescue_image=image.image_id)

    def unrescue(self, spec: InstanceSpec) -> None:
        self._set(spec.id, PowerState.RUNNING, rescue_image=None)

    def resize(self, spec: InstanceSpec) -> None:
        self._set(
            spec.id, self.get_power_state(spec.id), vcpus=spec.vcpus, memory_mb=spec.memory_mb
        )

    def snapshot(self, instance_id: str, target: Path) -> None:
        target.write_bytes(b"onestack fake snapshot of " + instance_id.encode() + b"\n")

    def attach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        """Records the device (``volumes`` in the instance's record)."""
        with self._lock:
            record = self._instances.setdefault(instance_id, {"power": int(PowerState.NOSTATE)})
            devices = dict(record.get("volumes") or {})  # type: ignore[call-overload]
            devices[volume.device_name] = volume.volume_id
            record["volumes"] = devices
            self._save()

    def detach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        with self._lock:
            record = self._instances.get(instance_id)
            if record is None:
                return
            devices = dict(record.get("volumes") or {})  # type: ignore[call-overload]
            devices.pop(volume.device_name, None)
            record["volumes"] = devices
            self._save()

    def instance_stats(self, instance_id: str) -> InstanceStats:
        """A fake instance runs nothing: no CPU time, no memory, no I/O on its disks.

        Read from the host's file, so that another reader of this host (the metering
        poller builds its own driver) sees the instances the agent's driver made."""
        with self._lock:
            stored = json.loads(self.path.read_text() or "{}") if self.path.is_file() else {}
            record = stored.get(instance_id)
        if record is None or record.get("power") != int(PowerState.RUNNING):
            raise InstanceNotFound(instance_id=instance_id)
        attached = record.get("volumes")
        names = attached if isinstance(attached, dict) else {}
        devices = ["vda", *sorted(str(d).removeprefix("/dev/") for d in names)]
        return InstanceStats(0, 0, 0, tuple(DiskStats(name, 0, 0, 0, 0) for name in devices))

    def console_output(self, instance_id: str, length: int | None) -> str:
        lines = [f"onestack fake instance {instance_id}", "onestack busybox image booted"]
        if self.get_power_state(instance_id) == PowerState.RUNNING:
            lines.append("onestack: ready")
        if length is not None:
            lines = lines[-length:] if length else []
        return "".join(line + "\n" for line in lines)


def _host_ip() -> str:
    try:
        return socket.gethostbyname(socket.gethostname())
    except OSError:
        return "127.0.0.1"


DRIVER = FakeComputeDriver
