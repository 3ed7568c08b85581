"""A VM's files and its QEMU command line.

``<state_dir>/compute/vms/<id>/``::

    disk.qcow2 ephemeral.qcow2 swap.qcow2 config.iso   the disks (see ``disks``)
    console.log      everything the guest wrote to its serial port
    qemu.log         QEMU's own messages
    spec.json        the last launch's InstanceSpec (resume starts from it)
    suspended        the saved guest state while suspended
    crashed          marks a QEMU that went away without a guest shutdown
    image_id

The Unix sockets (``qmp.sock``, ``serial.sock``, ``vnc.sock``) and
``qemu.pid`` are in the same directory, or, when its path is too long for a
socket address (108 bytes), in a directory reached through a short symbolic
link in ``/run/onestack-vms/``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from onestack.compute.driver import AttachedVolume, InstanceSpec, TapVif
from onestack.compute.drivers.qemu.process import blockdev

#: the longest socket name below the sockets directory, plus room
_SOCKET_TAIL = len("/00000000-0000-0000-0000-000000000000/serial.sock") + 2
_MAX_SOCKET_PATH = 107
SHORT_LINKS = Path("/run/onestack-vms")


def socket_base(vms: Path) -> Path:
    """Where the VMs' sockets go: ``vms`` itself, or a short link to it."""
    if len(str(vms)) + _SOCKET_TAIL <= _MAX_SOCKET_PATH:
        return vms
    SHORT_LINKS.mkdir(parents=True, exist_ok=True)
    link = SHORT_LINKS / hashlib.sha256(str(vms).encode()).hexdigest()[:12]
    try:
        if os.readlink(link) != str(vms):
            link.unlink()
            link.symlink_to(vms)
    except FileNotFoundError:
        link.symlink_to(vms)
    return link


def remove_socket_link(vms: Path) -> None:
    """Remove the short link of ``vms`` (when onestack made one)."""
    link = SHORT_LINKS / hashlib.sha256(str(vms).encode()).hexdigest()[:12]
    if link.is_symlink():
        link.unlink()


@dataclass(frozen=True)
class VmFiles:
    directory: Path
    sockets: Path  # the same directory, possibly through a short link

    @property
    def root(self) -> Path:
        return self.directory / "disk.qcow2"

    @property
    def rescue(self) -> Path:
        """While rescued: the rescue image's overlay, booted as the first disk."""
        return self.directory / "disk.rescue.qcow2"

    @property
    def ephemeral(self) -> Path:
        return self.directory / "ephemeral.qcow2"

    @property
    def swap(self) -> Path:
        return self.directory / "swap.qcow2"

    @property
    def config_iso(self) -> Path:
        return self.directory / "config.iso"

    @property
    def console(self) -> Path:
        return self.directory / "console.log"

    @property
    def qemu_log(self) -> Path:
        return self.directory / "qemu.log"

    @property
    def spec(self) -> Path:
        return self.directory / "spec.json"

    @property
    def launched(self) -> Path:
        return self.directory / "launched.json"

    @property
    def suspended(self) -> Path:
        return self.directory / "suspended"

    @property
    def disk_names(self) -> Path:
        return self.directory / "disk_names.json"

    @property
    def crashed(self) -> Path:
        return self.directory / "crashed"

    @property
    def image_id(self) -> Path:
        return self.directory / "image_id"

    @property
    def pidfile(self) -> Path:
        return self.sockets / "qemu.pid"

    @property
    def qmp(self) -> Path:
        return self.sockets / "qmp.sock"

    @property
    def serial(self) -> Path:
        return self.sockets / "serial.sock"

    @property
    def vnc(self) -> Path:
        return self.sockets / "vnc.sock"

    def save_spec(self, spec: InstanceSpec) -> None:
        data = dataclasses.asdict(spec)
        temp = self.spec.with_name("spec.json.tmp")
        temp.write_text(json.dumps(data, default=str))
        os.replace(temp, self.spec)

    def load_spec(self) -> InstanceSpec | None:
        try:
            data: dict[str, Any] = json.loads(self.spec.read_text())
        except (OSError, ValueError):
            return None
        for key in ("image_path", "kernel_path", "ramdisk_path"):
            if data.get(key):
                data[key] = Path(data[key])
        data["volumes"] = tuple(AttachedVolume(**v) for v in data.get("volumes", ()))
        data["vifs"] = tuple(TapVif(**v) for v in data.get("vifs", ()))
        return InstanceSpec(**data)

    def trim_console(self, limit: int) -> None:
        """Keep the console log below ``limit`` bytes (QEMU appends to it)."""
        if self.console.exists() and self.console.stat().st_size > limit:
            data = self.console.read_bytes()[-(limit // 2) :]
            self.console.write_bytes(data)

    def console_text(self, limit: int, length: int | None) -> str:
        if not self.console.exists():
            return ""
        with open(self.console, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - limit))
            text = handle.read().decode(errors="replace").replace("\r\n", "\n")
        lines = text.splitlines(keepends=True)
        if length is not None:
            lines = lines[-length:] if length else []
        return "".join(lines)


def command_line(
    binary: str,
    machine: str,
    accelerator: str,
    spec: InstanceSpec,
    files: VmFiles,
    fds: list[int],
    incoming: Path | None = None,
) -> list[str]:
    """QEMU's arguments for ``spec`` (``fds``: the open taps of ``spec.vifs``, in order)."""
    argv = [
        binary,
        "-name", f"guest={spec.name.replace(',', ',,')},debug-threads=on",
        "-uuid", spec.id,
        "-machine", machine,
        # TCG's translation cache defaults to 1 GiB; 64 MiB keeps a small guest fast
        # and its host memory small
        "-accel", "kvm" if accelerator == "kvm" else "tcg,tb-size=64",
        "-cpu", "host" if accelerator == "kvm" else "max",
        "-smp", str(max(1, spec.vcpus)),
        "-m", f"{max(16, spec.memory_mb)}M",
        "-nodefaults", "-no-user-config",
        "-daemonize", "-pidfile", str(files.pidfile),
        "-qmp", f"unix:{files.qmp},server=on,wait=off",
        "-chardev",
        f"socket,id=serial0,path={files.serial},server=on,wait=off,"
        f"logfile={files.console},logappend=on",
        "-device", "isa-serial,chardev=serial0",
        "-vnc", f"unix:{files.vnc}",
        "-vga", "std",
        "-smbios",
        f"type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova,"
        f"serial={spec.id},uuid={spec.id},family=Virtual Machine",
        "-device", "virtio-rng-pci",
        "-device", "virtio-balloon-pci,id=balloon0",
    ]  # fmt: skip
    root_device = "virtio-blk-pci,drive=disk0,id=disk0-dev,bootindex=1"
    if files.rescue.exists():  # rescued: the rescue disk boots (vda), the root disk is vdb
        argv += ["-blockdev", blockdev("rescue0", str(files.rescue), "qcow2"),
                 "-device", "virtio-blk-pci,drive=rescue0,id=rescue0-dev,bootindex=1"]  # fmt: skip
        root_device = "virtio-blk-pci,drive=disk0,id=disk0-dev"
    if spec.image_disk_format == "iso" and spec.root_device is None and spec.image_path:
        base = files.directory.parent.parent / "vm-base" / f"{spec.image_id}.qcow2"
        argv += ["-blockdev", blockdev("cdrom0", str(base), "qcow2", read_only=True),
                 "-device", "ide-cd,drive=cdrom0,bootindex=0"]  # fmt: skip
    if spec.root_device:
        argv += ["-blockdev", blockdev("disk0", spec.root_device, "raw"),
                 "-device", root_device]  # fmt: skip
    else:
        argv += ["-blockdev", blockdev("disk0", str(files.root), "qcow2"),
                 "-device", root_device]  # fmt: skip
    if spec.ephemeral_gb and files.ephemeral.exists():
        argv += ["-blockdev", blockdev("disk1", str(files.ephemeral), "qcow2"),
                 "-device", "virtio-blk-pci,drive=disk1,id=disk1-dev"]  # fmt: skip
    if spec.swap_mb and files.swap.exists():
        argv += ["-blockdev", blockdev("disk2", str(files.swap), "qcow2"),
                 "-device", "virtio-blk-pci,drive=disk2,id=disk2-dev"]  # fmt: skip
    if files.config_iso.exists():
        argv += ["-blockdev", blockdev("config", str(files.config_iso), "raw", read_only=True),
                 "-device", "virtio-blk-pci,drive=config,id=config-dev"]  # fmt: skip
    for volume in spec.volumes:
        node = "vol-" + volume.volume_id.replace("-", "")[:24]
        argv += ["-blockdev", blockdev(node, volume.host_device, "raw", volume.read_only),
                 "-device", f"virtio-blk-pci,drive={node},id={node}-dev,"
                 f"serial={volume.volume_id[:20]}"]  # fmt: skip
    for vif, fd in zip(spec.vifs, fds, strict=True):
        netdev = "port-" + vif.port_id.replace("-", "")[:20]
        argv += ["-netdev", f"tap,id={netdev},fd={fd},vhost=off",
                 "-device", f"virtio-net-pci,netdev={netdev},id={netdev}-dev,"
                 f"mac={vif.mac_address},host_mtu={vif.mtu}"]  # fmt: skip
    if spec.kernel_path is not None:
        argv += ["-kernel", str(spec.kernel_path)]
        if spec.ramdisk_path is not None:
            argv += ["-initrd", str(spec.ramdisk_path)]
        command = spec.image_properties.get("os_command_line") or "root=/dev/vda console=ttyS0"
        argv += ["-append", command]
    if incoming is not None:
        argv += ["-incoming", f"exec:cat {_quote(incoming)}"]
    return argv


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "'\\''") + "'"
