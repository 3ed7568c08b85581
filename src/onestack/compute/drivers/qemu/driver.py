"""The qemu driver: every instance is a ``qemu-system-x86_64`` process driven over QMP.

No libvirt.  Each VM's QEMU runs daemonized (it outlives onestack), with its
files in ``<state_dir>/compute/vms/<id>/`` (see ``disks`` and ``layout``);
the driver keeps one QMP connection per running VM and finds them again
after a restart.  When a connection drops without a ``SHUTDOWN`` event the
guest is taken as crashed: the runtime files are removed and the power state
is CRASHED until the next start.

Operations: spawn from a qcow2 overlay on a cached base (flavor's root size,
ephemeral and swap disks, config drive), power off (ACPI powerdown, ``quit``
after the timeout), power on, reboot, pause/unpause (QMP ``stop``/``cont``),
suspend/resume (the guest's state migrated to a file, QEMU ended; resumed
with ``-incoming``), rebuild, resize (new vCPUs/RAM/disk: the VM restarts),
snapshot (a standalone qcow2), volume and interface hot-plug over QMP, the
serial console log, and Unix sockets for the serial and VNC consoles.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
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
    TapVif,
)
from onestack.compute.drivers.qemu import accel, disks, process, taps
from onestack.compute.drivers.qemu.layout import VmFiles, remove_socket_link, socket_base
from onestack.compute.drivers.qemu.qmp import QmpClient, QmpClosed, QmpError
from onestack.compute.exceptions import DriverError, InstanceNotFound
from onestack.compute.states import PowerState

LOG = logging.getLogger(__name__)

_STATUS_POWER = {
    "running": PowerState.RUNNING,
    "paused": PowerState.PAUSED,
    "suspended": PowerState.PAUSED,
    "debug": PowerState.PAUSED,
    "inmigrate": PowerState.PAUSED,
    "prelaunch": PowerState.PAUSED,
    "postmigrate": PowerState.PAUSED,
    "finish-migrate": PowerState.PAUSED,
    "save-vm": PowerState.PAUSED,
    "restore-vm": PowerState.PAUSED,
    "shutdown": PowerState.SHUTDOWN,
    "internal-error": PowerState.CRASHED,
    "io-error": PowerState.PAUSED,
    "guest-panicked": PowerState.CRASHED,
    "watchdog": PowerState.CRASHED,
}
#: how long QEMU may take to exit after ``quit``
QUIT_TIMEOUT = 10.0
#: seconds between two unplug requests to a guest that has not answered
UNPLUG_RETRY = 3.0
#: block node of the root disk -> its name in the guest
_ROOT_DISK = {"disk0": "vda"}


class QemuComputeDriver(ComputeDriver):
    name = "qemu"
    snapshot_disk_format = "qcow2"
    capabilities = Capabilities(
        pause=True,
        suspend=True,
        resize=True,
        snapshot=True,
        console_output=True,
        volume_attach=True,
        boot_from_volume=True,
        real_workloads=True,
        tap_vifs=True,
        interface_attach=True,
        remote_consoles=True,
        instance_stats=True,
        rescue=True,
    )

    def __init__(self, settings: ComputeSettings, state_dir: Path, host: str) -> None:
        super().__init__(settings, state_dir, host)
        self.binary = process.qemu_binary(settings.qemu)
        self.version = process.qemu_version(self.binary)
        self.vms = state_dir / "vms"
        self.vms.mkdir(parents=True, exist_ok=True)
        self.base_cache = state_dir / "vm-base"
        self.accelerator = accel.AcceleratorChoice(settings.qemu_accel, self.binary, self.version)
        self._monitors: dict[str, QmpClient] = {}
        #: instances whose QEMU is meant to exit now (stop, suspend, destroy)
        self._exiting: set[str] = set()
        self._guard = threading.RLock()

    # -- files and monitors ------------------------------------------------------------------

    def files(self, instance_id: str) -> VmFiles:
        return VmFiles(self.vms / instance_id, socket_base(self.vms) / instance_id)

    def _pid(self, instance_id: str) -> int | None:
        return process.read_pid(self.files(instance_id).pidfile)

    def _monitor(self, instance_id: str) -> QmpClient:
        """The VM's QMP connection (reconnected when onestack restarted)."""
        with self._guard:
            client = self._monitors.get(instance_id)
            if client is not None and not client.closed:
                return client
            if self._pid(instance_id) is None:
                raise QmpClosed(f"instance {instance_id} has no running QEMU")
            client = QmpClient.connect(
                self.files(instance_id).qmp,
                timeout=10,
                on_close=lambda clean: self._lost(instance_id, clean),
            )
            self._monitors[instance_id] = client
            return client

    def _lost(self, instance_id: str, clean: bool) -> None:
        """QEMU closed its QMP connection: it exited (or was killed)."""
        with self._guard:
            self._monitors.pop(instance_id, None)
            expected = instance_id in self._exiting
        files = self.files(instance_id)
        if not files.directory.is_dir():
            return
        if not clean and not expected:
            LOG.warning(
                "instance %s: QEMU went away without a guest shutdown; taking it as crashed",
                instance_id,
            )
            files.crashed.touch()
        self._cleanup_runtime(instance_id)

    def _cleanup_runtime(self, instance_id: str) -> None:
        """Remove what only a running QEMU needs (sockets, pid file, cgroups)."""
        pid = self._pid(instance_id)
        if pid is not None:
            return  # still running (a reconnect raced with us)
        files = self.files(instance_id)
        for path in (files.qmp, files.serial, files.vnc, files.pidfile):
            path.unlink(missing_ok=True)
        process.remove_cgroups(_cgroup(instance_id))

    def close(self) -> None:
        """Close every QMP connection (the VMs keep running; a new driver reconnects)."""
        with self._guard:
            clients = list(self._monitors.values())
            self._monitors.clear()
        for client in clients:
            client.close()

    def _forget(self, instance_id: str) -> None:
        with self._guard:
            client = self._monitors.pop(instance_id, None)
        if client is not None:
            client.close()

    # -- host --------------------------------------------------------------------------------

    def info(self) -> HostInfo:
        usage = shutil.disk_usage(self.state_dir)
        chosen = self.accelerator.current()
        major, minor, micro = self.version
        return HostInfo(
            hypervisor_type=chosen.hypervisor_type,
            hypervisor_version=major * 1000000 + minor * 1000 + micro,
            hypervisor_hostname=self.host,
            vcpus=os.cpu_count() or 1,
            memory_mb=_mem_total_mb(),
            local_gb=usage.total // (1024**3),
            host_ip="127.0.0.1",
            cpu_info={
                "arch": os.uname().machine,
                "accelerator": chosen.name,
                "accelerator_reason": chosen.reason,
                "emulator": f"qemu {major}.{minor}.{micro}",
            },
        )

    def list_instances(self) -> dict[str, PowerState]:
        found: dict[str, PowerState] = {}
        for directory in self.vms.iterdir():
            if directory.is_dir() and not directory.name.startswith("."):
                found[directory.name] = self.get_power_state(directory.name)
        return found

    def get_power_state(self, instance_id: str) -> PowerState:
        files = self.files(instance_id)
        if not files.directory.is_dir():
            return PowerState.NOSTATE
        if self._pid(instance_id) is None:
            if files.suspended.exists():
                return PowerState.SUSPENDED
            if files.crashed.exists():
                return PowerState.CRASHED
            return PowerState.SHUTDOWN
        try:
            status = self._monitor(instance_id).execute("query-status", timeout=10)
        except (QmpClosed, QmpError, TimeoutError) as exc:
            LOG.warning("instance %s: query-status failed: %s", instance_id, exc)
            return PowerState.RUNNING if self._pid(instance_id) is not None else PowerState.SHUTDOWN
        return _STATUS_POWER.get(str(status.get("status")), PowerState.NOSTATE)

    # -- life cycle --------------------------------------------------------------------------

    def spawn(self, spec: InstanceSpec) -> None:
        try:
            files = self.files(spec.id)
            files.directory.mkdir(parents=True, exist_ok=True)
            self._prepare_disks(spec)
            self._launch(spec)
        except BaseException:
            self.destroy(spec.id)
            raise

    def _prepare_disks(self, spec: InstanceSpec) -> None:
        files = self.files(spec.id)
        files.image_id.write_text(spec.image_id)
        if spec.root_device is None:
            if spec.image_path is None:
                raise DriverError(reason=f"image {spec.image_id} has no data on this host")
            base = disks.ensure_base(
                self.base_cache, spec.image_id, spec.image_path, spec.image_disk_format
            )
            if spec.image_disk_format == "iso":  # the image is a CD-ROM; the root disk blank
                disks.create_blank(files.root, max(spec.root_gb, 1))
            else:
                disks.create_overlay(base, files.root, spec.root_gb)
        if spec.ephemeral_gb and not files.ephemeral.exists():
            disks.create_blank(files.ephemeral, spec.ephemeral_gb)
        if spec.swap_mb and not files.swap.exists():
            size_gb = max(1, (spec.swap_mb + 1023) // 1024)
            disks.create_blank(files.swap, size_gb)

    def _needs_config_drive(self, spec: InstanceSpec) -> bool:
        """Nova's rule: when the user asks, or when no metadata service can be reached."""
        return spec.config_drive or not spec.vifs

    def _launch(self, spec: InstanceSpec, incoming: Path | None = None) -> None:
        files = self.files(spec.id)
        files.sockets.mkdir(parents=True, exist_ok=True)
        files.crashed.unlink(missing_ok=True)
        if self._needs_config_drive(spec):
            disks.write_config_iso(spec, files.directory)
        else:
            files.config_iso.unlink(missing_ok=True)
        fds: list[int] = []
        try:
            for vif in spec.vifs:
                fds.append(taps.open_tap(vif.netns_path, vif.device))
            chosen = self.accelerator.current()
            argv = layout_argv(self, spec, files, chosen.name, fds, incoming)
            files.trim_console(self.settings.console_log_max_bytes)
            with self._guard:
                self._exiting.discard(spec.id)
            pid = process.launch(argv, tuple(fds), files.pidfile, files.qemu_log)
        finally:
            for fd in fds:
                os.close(fd)
        process.join_cgroups(_cgroup(spec.id), pid)
        names = {
            _volume_node(v.volume_id): v.device_name.removeprefix("/dev/") for v in spec.volumes
        }
        if files.rescue.exists():  # the rescue disk boots first
            names.update(rescue0="vda", disk0="vdb")
        files.disk_names.write_text(json.dumps(names))
        launched = {"vcpus": spec.vcpus, "memory_mb": spec.memory_mb}
        files.launched.write_text(json.dumps({**launched, "root_device": spec.root_device}))
        self._monitor(spec.id)

    def destroy(self, instance_id: str) -> None:
        with self._guard:
            self._exiting.add(instance_id)
        pid = self._pid(instance_id)
        if pid is not None:
            try:
                self._monitor(instance_id).execute("quit", timeout=5)
            except (QmpClosed, QmpError, TimeoutError):
                pass
            if not _wait_gone(pid, QUIT_TIMEOUT):
                process.kill(pid)
        self._forget(instance_id)
        self._cleanup_runtime(instance_id)
        files = self.files(instance_id)
        if files.sockets != files.directory and files.sockets.exists():
            shutil.rmtree(files.sockets, ignore_errors=True)
        if files.directory.exists():
            shutil.rmtree(files.directory)
        if not any(self.vms.iterdir()):
            remove_socket_link(self.vms)
        with self._guard:
            self._exiting.discard(instance_id)

    def _stop_process(self, instance_id: str, timeout: float) -> None:
        """ACPI powerdown, ``quit`` after ``timeout`` seconds, SIGKILL as the last resort."""
        pid = self._pid(instance_id)
        if pid is None:
            return
        with self._guard:
            self._exiting.add(instance_id)
        try:
            monitor = self._monitor(instance_id)
            if timeout > 0:
                status = monitor.execute("query-status").get("status")
                if status != "running":
                    monitor.execute("cont")
                monitor.execute("system_powerdown")
                if monitor.wait_closed(timeout):
                    _wait_gone(pid, QUIT_TIMEOUT)
                else:
                    LOG.info("instance %s ignored the ACPI powerdown for %ss", instance_id, timeout)
            if self._pid(instance_id) is not None:
                monitor.execute("quit", timeout=5)
        except (QmpClosed, QmpError, TimeoutError):
            pass
        if not _wait_gone(pid, QUIT_TIMEOUT):
            process.kill(pid)
        self._forget(instance_id)
        self._cleanup_runtime(instance_id)

    def power_off(self, instance_id: str, timeout: float) -> None:
        self._stop_process(instance_id, timeout)
        files = self.files(instance_id)
        files.suspended.unlink(missing_ok=True)
        files.crashed.unlink(missing_ok=True)

    def power_on(self, spec: InstanceSpec) -> None:
        files = self.files(spec.id)
        if spec.root_device is None and not files.root.exists():
            raise DriverError(reason=f"instance {spec.id} has no disk on this host")
        if self._pid(spec.id) is not None:
            return
        self._prepare_disks_again(spec)
        try:
            self._launch(spec)
        except BaseException:
            self._stop_process(spec.id, 0)
            raise

    def _prepare_disks_again(self, spec: InstanceSpec) -> None:
        """A start after resize: grow the root disk to the flavor's size."""
        files = self.files(spec.id)
        if spec.root_device is None and spec.root_gb:
            disks.grow(files.root, spec.root_gb)
        if spec.ephemeral_gb and not files.ephemeral.exists():
            disks.create_blank(files.ephemeral, spec.ephemeral_gb)

    def rescue(self, spec: InstanceSpec, image: RescueImage) -> None:
        """The rescue image's overlay boots as vda, the root disk is vdb (Nova's
        libvirt layout); the guest is asked to shut down first."""
        self.power_off(spec.id, self.settings.stop_timeout)
        files = self.files(spec.id)
        if image.disk_format == "iso":
            raise DriverError(reason="a CD-ROM image cannot be a rescue disk here")
        try:
            base = disks.ensure_base(
                self.base_cache, image.image_id, image.image_path, image.disk_format
            )
            files.rescue.unlink(missing_ok=True)
            disks.create_overlay(base, files.rescue, 0)
            self.power_on(spec)
        except BaseException:
            self._stop_process(spec.id, 0)
            files.rescue.unlink(missing_ok=True)
            raise

    def unrescue(self, spec: InstanceSpec) -> None:
        self._stop_process(spec.id, 0)
        self.files(spec.id).rescue.unlink(missing_ok=True)
        self.power_on(spec)

    def reboot(self, spec: InstanceSpec, hard: bool, timeout: float) -> None:
        self.power_off(spec.id, 0 if hard else timeout)
        self.power_on(spec)

    def pause(self, instance_id: str) -> None:
        self._running_monitor(instance_id).execute("stop")

    def unpause(self, instance_id: str) -> None:
        self._running_monitor(instance_id).execute("cont")

    def _running_monitor(self, instance_id: str) -> QmpClient:
        try:
            return self._monitor(instance_id)
        except QmpClosed as exc:
            raise DriverError(reason=f"instance {instance_id} is not running") from exc

    def suspend(self, instance_id: str) -> None:
        """Save the guest's state to a file and end QEMU (its memory is freed)."""
        files = self.files(instance_id)
        monitor = self._running_monitor(instance_id)
        partial = files.directory / "suspend.partial"
        partial.unlink(missing_ok=True)
        monitor.execute("stop")
        try:
            monitor.execute("migrate", {"uri": f"exec:cat > {_quote(partial)}"})
            deadline = time.monotonic() + 600
            while True:
                info = monitor.execute("query-migrate")
                status = info.get("status")
                if status == "completed":
                    break
                if status in ("failed", "cancelled") or time.monotonic() > deadline:
                    raise DriverError(reason=f"saving the state failed: {info.get('error-desc')}")
                time.sleep(0.05)
        except BaseException:
            partial.unlink(missing_ok=True)
            monitor.execute("cont")
            raise
        os.replace(partial, files.suspended)
        self._stop_process(instance_id, 0)

    def resume(self, instance_id: str) -> None:
        files = self.files(instance_id)
        if not files.suspended.exists():
            raise DriverError(reason=f"instance {instance_id} has no saved state")
        spec = files.load_spec()
        if spec is None:
            raise DriverError(reason=f"instance {instance_id} has no launch record")
        self._launch(spec, incoming=files.suspended)
        monitor = self._monitor(instance_id)
        deadline = time.monotonic() + 600
        while True:
            status = monitor.execute("query-status").get("status")
            if status in ("paused", "postmigrate", "running"):
                migrate = monitor.execute("query-migrate").get("status")
                if migrate in ("completed", None) or status == "running":
                    break
            if time.monotonic() > deadline:
                raise DriverError(reason="restoring the saved state timed out")
            time.sleep(0.05)
        monitor.execute("cont")
        files.suspended.unlink(missing_ok=True)

    def rebuild(self, spec: InstanceSpec) -> None:
        self.destroy(spec.id)
        self.spawn(spec)

    def resize(self, spec: InstanceSpec) -> None:
        """The new flavor takes effect at the next boot: a running VM restarts now."""
        files = self.files(spec.id)
        running = self._pid(spec.id) is not None
        if running:
            self._stop_process(spec.id, self.settings.stop_timeout)
        self._prepare_disks_again(spec)
        files.save_spec(spec)
        if running:
            self._launch(spec)

    def snapshot(self, instance_id: str, target: Path) -> None:
        """The root disk as a qcow2 image: the local disk, or the boot volume's block
        device (a volume-backed server's image holds the volume's bytes, as onestack's
        container driver does)."""
        files = self.files(instance_id)
        source, disk_format = files.root, "qcow2"
        if not files.root.exists():
            try:
                device = json.loads(files.launched.read_text()).get("root_device")
            except (FileNotFoundError, ValueError):
                device = None
            if not device or not Path(device).exists():
                raise DriverError(reason=f"instance {instance_id} has no root disk to copy")
            source, disk_format = Path(device), "raw"
        monitor: QmpClient | None = None
        paused = False
        if self._pid(instance_id) is not None:
            monitor = self._monitor(instance_id)
            if monitor.execute("query-status").get("status") == "running":
                monitor.execute("stop")
                paused = True
        try:
            disks.snapshot(source, target, disk_format)
        finally:
            if monitor is not None and paused:
                monitor.execute("cont")

    def instance_stats(self, instance_id: str) -> InstanceStats:
        """QEMU's CPU time and resident memory (its guest's, as the host pays for them)
        and each disk's I/O from QMP ``query-blockstats``."""
        pid = self._pid(instance_id)
        if pid is None:
            raise InstanceNotFound(instance_id=instance_id)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            raise InstanceNotFound(instance_id=instance_id) from None
        ticks = int(fields[11]) + int(fields[12])  # utime + stime
        cpu_ns = ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
        rss = next((int(line.split()[1]) * 1024 for line in status.splitlines()
                    if line.startswith("VmRSS:")), 0)  # fmt: skip
        disks = []
        names = self._disk_names(instance_id)
        try:
            for entry in self._monitor(instance_id).execute("query-blockstats"):
                node = entry.get("node-name") or entry.get("device") or ""
                name = names.get(node, node)
                stats = entry.get("stats", {})
                disks.append(
                    DiskStats(
                        device=name,
                        read_bytes=int(stats.get("rd_bytes", 0)),
                        write_bytes=int(stats.get("wr_bytes", 0)),
                        read_requests=int(stats.get("rd_operations", 0)),
                        write_requests=int(stats.get("wr_operations", 0)),
                    )
                )
        except (QmpClosed, QmpError, TimeoutError) as exc:
            LOG.warning("instance %s: query-blockstats failed: %s", instance_id, exc)
        return InstanceStats(cpu_ns, rss, rss, tuple(disks))

    def _disk_names(self, instance_id: str) -> dict[str, str]:
        """Block node -> the name the instance knows the disk by (root, volumes)."""
        names = dict(_ROOT_DISK)
        try:
            names.update(json.loads(self.files(instance_id).disk_names.read_text()))
        except (OSError, ValueError):
            pass
        return names

    def _name_disk(self, instance_id: str, node: str, name: str | None) -> None:
        names = self._disk_names(instance_id)
        if name is None:
            names.pop(node, None)
        else:
            names[node] = name
        self.files(instance_id).disk_names.write_text(json.dumps(names))

    def console_output(self, instance_id: str, length: int | None) -> str:
        return self.files(instance_id).console_text(self.settings.console_log_max_bytes, length)

    def console_socket(self, instance_id: str, kind: str) -> Path:
        if self._pid(instance_id) is None:
            raise DriverError(reason=f"instance {instance_id} is not running")
        files = self.files(instance_id)
        return files.serial if kind == "serial" else files.vnc

    # -- hot plug ----------------------------------------------------------------------------

    def attach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        if self._pid(instance_id) is None:
            return  # a stopped VM sees it at its next start (InstanceSpec.volumes)
        monitor = self._monitor(instance_id)
        node = _volume_node(volume.volume_id)
        monitor.execute(
            "blockdev-add",
            json.loads(process.blockdev(node, volume.host_device, "raw", volume.read_only)),
        )
        try:
            monitor.execute(
                "device_add",
                {"driver": "virtio-blk-pci", "drive": node, "id": f"{node}-dev",
                 "serial": volume.volume_id[:20]},
            )  # fmt: skip
        except BaseException:
            monitor.execute("blockdev-del", {"node-name": node})
            raise
        self._name_disk(instance_id, node, volume.device_name.removeprefix("/dev/"))

    def detach_volume(self, instance_id: str, volume: AttachedVolume) -> None:
        if self._pid(instance_id) is None:
            return
        node = _volume_node(volume.volume_id)
        self._unplug(instance_id, f"{node}-dev")
        self._name_disk(instance_id, node, None)
        try:
            self._monitor(instance_id).execute("blockdev-del", {"node-name": node})
        except QmpError as exc:
            if "find node" not in exc.description.lower():  # already gone
                raise

    def _unplug(self, instance_id: str, device: str, timeout: float = 60.0) -> None:
        """``device_del`` and wait for ``DEVICE_DELETED`` (the guest let the device go).

        The request is an ACPI event the guest must answer; one sent before the
        guest's OS listens (early in its boot) is lost, so it is sent again every
        few seconds, as Nova's libvirt driver retries a detach.
        """
        monitor = self._monitor(instance_id)
        since = time.time() - 1
        deadline = time.monotonic() + timeout
        while True:
            try:
                monitor.execute("device_del", {"id": device})
            except QmpError as exc:
                if exc.error_class == "DeviceNotFound":
                    return
                if "already in the process of unplug" not in exc.description:
                    raise
            wait = min(UNPLUG_RETRY, deadline - time.monotonic())
            event = monitor.wait_event(
                "DEVICE_DELETED", wait, match=lambda e: e.data.get("device") == device, after=since
            )
            if event is not None:
                return
            if time.monotonic() >= deadline:
                raise DriverError(
                    reason=f"the guest did not release {device} within {timeout:.0f} s"
                )

    def attach_interface(self, instance_id: str, vif: TapVif) -> None:
        if self._pid(instance_id) is None:
            return
        monitor = self._monitor(instance_id)
        netdev = _netdev(vif.port_id)
        fd = taps.open_tap(vif.netns_path, vif.device)
        try:
            monitor.send_fd(netdev, fd)
        finally:
            os.close(fd)
        monitor.execute("netdev_add", {"type": "tap", "id": netdev, "fd": netdev})
        try:
            monitor.execute(
                "device_add",
                {"driver": "virtio-net-pci", "netdev": netdev, "id": f"{netdev}-dev",
                 "mac": vif.mac_address},
            )  # fmt: skip
        except BaseException:
            monitor.execute("netdev_del", {"id": netdev})
            raise

    def detach_interface(self, instance_id: str, port_id: str) -> None:
        if self._pid(instance_id) is None:
            return
        netdev = _netdev(port_id)
        self._unplug(instance_id, f"{netdev}-dev")
        try:
            self._monitor(instance_id).execute("netdev_del", {"id": netdev})
        except QmpError as exc:
            if exc.error_class != "DeviceNotFound" and "not found" not in exc.description:
                raise


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return True
        time.sleep(0.02)
    return not Path(f"/proc/{pid}").exists()


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"


def _cgroup(instance_id: str) -> str:
    return f"onestack-vm-{instance_id}"


def _volume_node(volume_id: str) -> str:
    return "vol-" + volume_id.replace("-", "")[:24]


def _netdev(port_id: str) -> str:
    return "port-" + port_id.replace("-", "")[:20]


def _mem_total_mb() -> int:
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return 0


def layout_argv(
    driver: QemuComputeDriver,
    spec: InstanceSpec,
    files: VmFiles,
    accelerator: str,
    fds: list[int],
    incoming: Path | None,
) -> list[str]:
    from onestack.compute.drivers.qemu.layout import command_line

    files.save_spec(spec)
    return command_line(
        driver.binary, driver.settings.qemu_machine, accelerator, spec, files, fds, incoming
    )
