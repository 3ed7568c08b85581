"""The container driver: every instance is an OCI container run by ``runc``.

Layout under ``<state_dir>/compute/``::

    base/<image_id>/            the image's filesystem, unpacked once, read-only
    instances/<id>/upper, work  the instance's overlayfs layer (its disk)
    instances/<id>/rootfs       the overlay mount (lower = base)
    instances/<id>/config/      the config drive (mounted read-only at
                                /run/onestack/config in the container)
    instances/<id>/console.log  the init's stdout and stderr
    instances/<id>/config.json  the OCI bundle's spec
    instances/<id>/rescue/      while rescued: the rescue image's overlay
                                (``image_id``, upper, work, rootfs)
    runc/                       runc's state (``--root``)

The flavor becomes cgroup v1 limits (memory, CPU shares and quota, pids)
under onestack's own cgroup (a relative ``cgroupsPath``), the server name the
hostname, the image's ``/sbin/init`` PID 1.  Containers run in their own
session, so they outlive onestack; ``list_instances`` finds them again.
Until networking lands every container has its own network namespace with
only ``lo``.  Suspend is a freeze, like pause (the marker file ``suspended``
tells the two apart).

Rescue boots the container from a fresh overlay of the rescue image (by
default the instance's own) with the instance's own root filesystem, as it
was, bind-mounted read-write at ``/mnt/root`` (Nova's libvirt driver attaches
the original disk as the second disk instead): a user repairs it there, then
unrescue drops the rescue overlay and boots the instance's own root again.
"""

from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import time
from pathlib import Path
from typing import Any

from onestack.compute.conf import ComputeSettings
from onestack.compute.configdrive import write_config_drive
from onestack.compute.driver import (
    AttachedVolume,
    Capabilities,
    ComputeDriver,
    HostInfo,
    InstanceSpec,
    InstanceStats,
    RescueImage,
)
from onestack.compute.drivers import _block, _rootfs, _stats
from onestack.compute.drivers._runc import Runc
from onestack.compute.exceptions import DriverError, InstanceNotFound
from onestack.compute.states import PowerState

LOG = logging.getLogger(__name__)

CONFIG_MOUNT = "/run/onestack/config"
#: where a rescued container sees the instance's own root filesystem
RESCUE_MOUNT = "/mnt/root"
CAPABILITIES = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_SETFCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_NET_ADMIN",
    "CAP_SYS_CHROOT",
    "CAP_MKNOD",
    "CAP_AUDIT_WRITE",
]
_RUNC_POWER = {
    "running": PowerState.RUNNING,
    "created": PowerState.SHUTDOWN,
    "paused": PowerState.PAUSED,
    "stopped": PowerState.SHUTDOWN,
}


class ContainerComputeDriver(ComputeDriver):
    name = "container"
    capabilities = Capabilities(
        pause=True,
        suspend=True,
        resize=True,
        snapshot=True,
        console_output=True,
        volume_attach=True,
        boot_from_volume=True,
        real_workloads=True,
        instance_stats=True,
        rescue=True,
    )

    def __init__(self, settings: ComputeSettings, state_dir: Path, host: str) -> None:
        super().__init__(settings, state_dir, host)
        self.base_cache = state_dir / "base"
        self.instances = state_dir / "instances"
        self.instances.mkdir(parents=True, exist_ok=True)
        self.runc = Runc(settings.runc, state_dir / "runc")

    # -- host ------------------------------------------------------------------

    def info(self) -> HostInfo:
        usage = shutil.disk_usage(self.state_dir)
        version = self.runc.version()
        digits = [int(p) for p in version.split("+")[0].split(".")[:3] if p.isdigit()]
        while len(digits) < 3:
            digits.append(0)
        return HostInfo(
            hypervisor_type="container",
            hypervisor_version=digits[0] * 1000000 + digits[1] * 1000 + digits[2],
            hypervisor_hostname=self.host,
            vcpus=os.cpu_count() or 1,
            memory_mb=_mem_total_mb(),
            local_gb=usage.total // (1024**3),
            host_ip="127.0.0.1",
            cpu_info={"arch": os.uname().machine, "runtime": f"runc {version}"},
        )

    def list_instances(self) -> dict[str, PowerState]:
        found = {c.id: _RUNC_POWER.get(c.status, PowerState.NOSTATE) for c in self.runc.list()}
        for path in self.instances.iterdir():
            if path.is_dir() and path.name not in found:
                found[path.name] = PowerState.SHUTDOWN
        return {k: self._power(k, v) for k, v in found.items()}

    def _power(self, instance_id: str, power: PowerState) -> PowerState:
        if power == PowerState.PAUSED and (self._dir(instance_id) / "suspended").exists():
            return PowerState.SUSPENDED
        return power

    def get_power_state(self, instance_id: str) -> PowerState:
        state = self.runc.state(instance_id)
        if state is None:
            return PowerState.SHUTDOWN if self._dir(instance_id).is_dir() else PowerState.NOSTATE
        return self._power(instance_id, _RUNC_POWER.get(state.status, PowerState.NOSTATE))

    # -- life cycle ------------------------------------------------------------

    def _dir(self, instance_id: str) -> Path:
        return self.instances / instance_id

    def spawn(self, spec: InstanceSpec) -> None:
        try:
            self._prepare_disk(spec)
            self._start(spec)
        except BaseException:
            self.destroy(spec.id)
            raise

    def _prepare_disk(self, spec: InstanceSpec) -> None:
        if spec.root_device:  # boot from volume: its filesystem is the root
            _block.prepare_root(self._dir(spec.id), spec)
            return
        if spec.image_path is None:
            raise DriverError(reason=f"image {spec.image_id} has no data on this host")
        base = _rootfs.ensure_base(self.base_cache, spec.image_id, spec.image_path)
        directory = self._dir(spec.id)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "image_id").write_text(spec.image_id)
        rootfs = directory / "rootfs"
        _rootfs.mount_overlay(base, directory / "upper", directory / "work", rootfs)
        etc = rootfs / "etc"
        etc.mkdir(exist_ok=True)
        (etc / "hostname").write_text(spec.hostname + "\n")
        if spec.key_data:
            ssh = rootfs / "root" / ".ssh"
            ssh.mkdir(parents=True, exist_ok=True, mode=0o700)
            keys = ssh / "authorized_keys"
            keys.write_text(spec.key_data.strip() + "\n")
            keys.chmod(0o600)

    def _ensure_disk(self, spec: InstanceSpec) -> None:
        """Mount the instance's existing layer again (after a host reboot)."""
        directory = self._dir(spec.id)
        if spec.root_device:
            _block.mount_root(directory, spec.root_device)
            return
        if not (directory / "upper").is_dir():
            raise DriverError(reason=f"instance {spec.id} has no disk on this host")
        image_id = (directory / "image_id").read_text().strip()
        base = self.base_cache / image_id
        if not base.is_dir():
            if spec.image_path is None or spec.image_id != image_id:
                raise DriverError(reason=f"the base of image {image_id} is gone")
            base = _rootfs.ensure_base(self.base_cache, image_id, spec.image_path)
        _rootfs.mount_overlay(base, directory / "upper", directory / "work", directory / "rootfs")

    def _mount_rescue(self, directory: Path, hostname: str) -> bool:
        """Mount the rescue overlay of a rescued instance; False when it is not rescued."""
        rescue = directory / "rescue"
        if not (rescue / "image_id").is_file():
            return False
        base = self.base_cache / (rescue / "image_id").read_text().strip()
        if not base.is_dir():
            raise DriverError(reason=f"the base of rescue image {base.name} is gone")
        _rootfs.mount_overlay(base, rescue / "upper", rescue / "work", rescue / "rootfs")
        etc = rescue / "rootfs" / "etc"
        etc.mkdir(exist_ok=True)
        (etc / "hostname").write_text(hostname + "\n")
        return True

    def _drop_rescue(self, directory: Path) -> None:
        rescue = directory / "rescue"
        _rootfs.unmount(rescue / "rootfs")
        if rescue.exists():
            shutil.rmtree(rescue)

    def _start(self, spec: InstanceSpec) -> None:
        directory = self._dir(spec.id)
        write_config_drive(spec, directory / "config")
        oci = _block.add_to_spec(self._oci_spec(spec), spec)
        if self._mount_rescue(directory, spec.hostname):
            oci["root"]["path"] = "rescue/rootfs"
            oci["mounts"].append(
                {
                    "destination": RESCUE_MOUNT,
                    "type": "bind",
                    "source": str(directory / "rootfs"),
                    "options": ["rbind", "rw"],
                }
            )
        (directory / "config.json").write_text(json.dumps(oci, indent=1))
        (directory / "suspended").unlink(missing_ok=True)
        console = directory / "console.log"
        self._trim_console(console)
        self.runc.delete(spec.id)
        self.runc.run(spec.id, directory, console)
        state = self.runc.state(spec.id)
        if state is None or state.status != "running":
            raise DriverError(reason=f"container {spec.id} did not start")

    def _oci_spec(self, spec: InstanceSpec) -> dict[str, Any]:
        memory = spec.memory_mb * 1024 * 1024
        return {
            "ociVersion": "1.0.2",
            "process": {
                "terminal": False,
                "user": {"uid": 0, "gid": 0},
                "args": ["/sbin/init"],
                "env": [
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "TERM=linux",
                    "container=onestack",
                ],
                "cwd": "/",
                "capabilities": {k: CAPABILITIES for k in ("bounding", "effective", "permitted")},
                "rlimits": [{"type": "RLIMIT_NOFILE", "hard": _nofile(), "soft": _nofile()}],
                "noNewPrivileges": False,
            },
            "root": {"path": "rootfs", "readonly": False},
            "hostname": spec.hostname,
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {
                    "destination": "/dev",
                    "type": "tmpfs",
                    "source": "tmpfs",
                    "options": ["nosuid", "strictatime", "mode=755", "size=65536k"],
                },
                {
                    "destination": "/dev/pts",
                    "type": "devpts",
                    "source": "devpts",
                    "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"],
                },
                {
                    "destination": "/dev/shm",
                    "type": "tmpfs",
                    "source": "shm",
                    "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
                },
                {
                    "destination": "/sys",
                    "type": "sysfs",
                    "source": "sysfs",
                    "options": ["nosuid", "noexec", "nodev", "ro"],
                },
                {
                    "destination": CONFIG_MOUNT,
                    "type": "bind",
                    "source": str(self._dir(spec.id) / "config"),
                    "options": ["rbind", "ro", "nosuid", "nodev"],
                },
            ],
            "linux": {
                "cgroupsPath": f"onestack-{spec.id}",
                "resources": {
                    "devices": [{"allow": False, "access": "rwm"}],
                    "memory": {"limit": memory, "swap": memory},
                    "cpu": {
                        "shares": 1024 * spec.vcpus,
                        "quota": 100000 * spec.vcpus,
                        "period": 100000,
                    },
                    "pids": {"limit": self.settings.pids_limit},
                },
                "namespaces": [
                    {"type": "network", "path": spec.netns_path}
                    if t == "network" and spec.netns_path
                    else {"type": t}
                    for t in ("pid", "network", "ipc", "uts", "mount")
                ],
                "maskedPaths": [
                    "/proc/acpi",
                    "/proc/kcore",
                    "/proc/keys",
                    "/proc/latency_stats",
                    "/proc/timer_list",
                    "/proc/sched_debug",
                    "/sys/firmware",
                    "/proc/scsi",
                ],
                "readonlyPaths": [
                    "/proc/bus",
                    "/proc/fs",
                    "/proc/irq",
                    "/proc/sys",
                    "/proc/sysrq-trigger",
                ],
            },
        }

    def _trim_console(self, console: Path) -> None:
        limit = self.settings.console_log_max_bytes
        if console.exists() and console.stat().st_size > limit:
            data = console.read_bytes()[-(limit // 2) :]
            console.write_bytes(data)

    def destroy(self, instance_id: str) -> None:
        self._kill(instance_id, 0)
        directory = self._dir(instance_id)
        self._drop_rescue(directory)
        _rootfs.unmount(directory / "rootfs")
        if directory.exists():
            shutil.rmtree(directory)

    def _kill(self, instance_id: str, timeout: float) -> None:
        state = self.runc.state(instance_id)
        if state is None:
            return
        if state.status == "paused":
            self.runc.resume(instance_id)
        if state.status in ("running", "paused") and timeout > 0:
            self.runc.kill(instance_id, "TERM")
            if not self._wait_stopped(instance_id, timeout):
                LOG.info("instance %s ignored SIGTERM for %ss; killing it", instance_id, timeout)
        state = self.runc.state(instance_id)
        if state is not None and state.status != "stopped":
            self.runc.kill(instance_id, "KILL")
            self._wait_stopped(instance_id, 10)
        self.runc.delete(instance_id)
        if self.runc.state(instance_id) is not None:
            raise DriverError(reason=f"container {instance_id} could not be deleted")

    def _wait_stopped(self, instance_id: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            state = self.runc.state(instance_id)
            if state is None or state.status == "stopped":
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def power_off(self, instance_id: str, timeout: float) -> None:
        self._kill(instance_id, timeout)
        (self._dir(instance_id) / "suspended").unlink(missing_ok=True)

    def power_on(self, spec: InstanceSpec) -> None:
        self._ensure_disk(spec)
        try:
            self._start(spec)
        except BaseException:
            self._kill(spec.id, 0)
            raise

    def reboot(self, spec: InstanceSpec, hard: bool, timeout: float) -> None:
        self.power_off(spec.id, 0 if hard else timeout)
        self.power_on(spec)

    def rescue(self, spec: InstanceSpec, image: RescueImage) -> None:
        # A hard stop, as Nova's: the container's writes are already in the host's layer.
        self.power_off(spec.id, 0)
        directory = self._dir(spec.id)
        try:
            self._ensure_disk(spec)
            _rootfs.ensure_base(self.base_cache, image.image_id, image.image_path)
            (directory / "rescue").mkdir(exist_ok=True)
            (directory / "rescue" / "image_id").write_text(image.image_id)
            self._start(spec)
        except BaseException:
            self._kill(spec.id, 0)
            self._drop_rescue(directory)
            raise

    def unrescue(self, spec: InstanceSpec) -> None:
        self.power_off(spec.id, 0)
        self._drop_rescue(self._dir(spec.id))
        self.power_on(spec)

    def pause(self, instance_id: str) -> None:
        self.runc.pause(instance_id)

    def unpause(self, instance_id: str) -> None:
        self.runc.resume(instance_id)

    def suspend(self, instance_id: str) -> None:
        self.runc.pause(instance_id)
        (self._dir(instance_id) / "suspended").touch()

    def resume(self, instance_id: str) -> None:
        self.runc.resume(instance_id)
        (self._dir(instance_id) / "suspended").unlink(missing_ok=True)

    def rebuild(self, spec: InstanceSpec) -> None:
        self.destroy(spec.id)
        self.spawn(spec)

    def resize(self, spec: InstanceSpec) -> None:
        directory = self._dir(spec.id)
        config = directory / "config.json"
        if config.exists():
            oci = json.loads(config.read_text())
            fresh = self._oci_spec(spec)["linux"]["resources"]
            oci["linux"]["resources"] = fresh
            config.write_text(json.dumps(oci, indent=1))
        state = self.runc.state(spec.id)
        if state is not None and state.status in ("running", "paused"):
            self.runc.update(
                spec.id,
                memory=spec.memory_mb * 1024 * 1024,
                cpu_shares=1024 * spec.vcpus,
                cpu_quota=100000 * spec.vcpus,
                pids=self.settings.pids_limit,
            )
            _block.reallow(state.pid, spec.volumes)

    def snapshot(self, instance_id: str, target: Path) -> None:
        rootfs = self._dir(instance_id) / "rootfs"
        if not _rootfs.is_mounted(rootfs):
            raise DriverError(reason=f"instance {instance_id} has no disk mounted")
        state = self.runc.state(instance_id)
        frozen = state is not None and state.status == "running"
        if frozen:
            self.runc.pause(instance_id)
        try:
            _rootfs.make_ext4(rootfs, target)
        finally:
            if frozen:
                self.runc.resume(instance_id)

    def attach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        state = self.runc.state(instance_id)
        if state is not None and state.status in ("running", "paused", "created"):
            _block.plug(state.pid, volume)

    def detach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        state = self.runc.state(instance_id)
        if state is not None and state.status in ("running", "paused", "created"):
            _block.unplug(state.pid, volume)

    def instance_stats(self, instance_id: str) -> InstanceStats:
        state = self.runc.state(instance_id)
        if state is None or state.status not in ("running", "paused") or state.pid <= 0:
            raise InstanceNotFound(instance_id=instance_id)
        try:
            return _stats.read(state.pid, self._dir(instance_id))
        except FileNotFoundError:  # the container ended between the two reads
            raise InstanceNotFound(instance_id=instance_id) from None

    def console_output(self, instance_id: str, length: int | None) -> str:
        console = self._dir(instance_id) / "console.log"
        if not console.exists():
            return ""
        text = console.read_bytes()[-self.settings.console_log_max_bytes :]
        lines = text.decode(errors="replace").splitlines(keepends=True)
        if length is not None:
            lines = lines[-length:] if length else []
        return "".join(lines)


def _nofile() -> int:
    """Open files per container: 65536, or less where our own hard limit is lower."""
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    return 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)


def _mem_total_mb() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


DRIVER = ContainerComputeDriver
