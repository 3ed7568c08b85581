"""Block devices for containers: attached volumes and volume root filesystems.

An attached volume is a block device on the host (the volume service's loop
device).  A container sees it as ``/dev/vdX``:

- at container start, from the OCI spec: a ``linux.devices`` entry (runc
  makes the node in the container's own tmpfs ``/dev``) and an allow rule
  in ``linux.resources.devices`` (cgroup v1 devices controller);
- in a running container (hot plug): ``b MAJ:MIN rwm`` written to the
  container's ``devices.allow``, then the node made with ``mknod`` through
  ``/proc/<init pid>/root/dev`` (the container's mount namespace, seen from
  the host; no binary inside the image is needed).

Hot unplug undoes that in reverse: filesystems of the device mounted inside
the container are lazily unmounted (``nsenter -t PID -m umount -l``), the
node is removed and the device denied again, so the host can release it.

Boot from volume: the volume holds a raw ext4 filesystem; it is mounted on
the host at the instance's ``rootfs`` instead of the overlay, and the host
device is remembered in ``root_device`` so a restart mounts it again.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

from onestack.compute.driver import AttachedVolume, InstanceSpec
from onestack.compute.drivers import _rootfs
from onestack.compute.exceptions import DriverError

LOG = logging.getLogger(__name__)
CGROUP_ROOT = Path("/sys/fs/cgroup")


def numbers(host_device: str) -> tuple[int, int]:
    """(major, minor) of a host block device."""
    try:
        info = os.stat(host_device)
    except OSError as exc:
        raise DriverError(reason=f"block device {host_device} is not available: {exc}") from exc
    if not stat.S_ISBLK(info.st_mode):
        raise DriverError(reason=f"{host_device} is not a block device")
    return os.major(info.st_rdev), os.minor(info.st_rdev)


def _access(volume: AttachedVolume) -> str:
    return "rm" if volume.read_only else "rwm"


def _node_name(volume: AttachedVolume) -> str:
    name = volume.device_name.removeprefix("/dev/")
    if not name or "/" in name or name.startswith("."):
        raise DriverError(reason=f"invalid device name {volume.device_name}")
    return name


# -- at container start (OCI spec) ---------------------------------------------


def add_to_spec(oci: dict[str, Any], spec: InstanceSpec) -> dict[str, Any]:
    """Add the spec's attached volumes to an OCI config (devices and allow rules)."""
    linux = oci.setdefault("linux", {})
    devices = linux.setdefault("devices", [])
    rules = linux.setdefault("resources", {}).setdefault("devices", [])
    for volume in spec.volumes:
        major, minor = numbers(volume.host_device)
        devices.append(
            {
                "path": f"/dev/{_node_name(volume)}",
                "type": "b",
                "major": major,
                "minor": minor,
                "fileMode": 0o660,
                "uid": 0,
                "gid": 0,
            }
        )
        rules.append(
            {"allow": True, "type": "b", "major": major, "minor": minor, "access": _access(volume)}
        )
    return oci


# -- running containers (hot plug) ---------------------------------------------


def devices_cgroup(pid: int) -> Path:
    """The devices cgroup directory of a process (cgroup v1)."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if "devices" in controllers.split(","):
            return CGROUP_ROOT / "devices" / path.lstrip("/")
    raise DriverError(reason=f"process {pid} has no devices cgroup")


def _rule(kind: str, pid: int, major: int, minor: int, access: str) -> None:
    target = devices_cgroup(pid) / f"devices.{kind}"
    try:
        target.write_text(f"b {major}:{minor} {access}\n")
    except OSError as exc:
        raise DriverError(reason=f"writing {target} failed: {exc}") from exc


def plug(pid: int, volume: AttachedVolume) -> None:
    """Allow the device in the container's cgroup and make its node in its /dev."""
    major, minor = numbers(volume.host_device)
    node = Path(f"/proc/{pid}/root/dev") / _node_name(volume)
    _rule("allow", pid, major, minor, _access(volume))
    try:
        if os.path.lexists(node):
            node.unlink()
        os.mknod(node, 0o660 | stat.S_IFBLK, os.makedev(major, minor))
    except OSError as exc:
        _rule("deny", pid, major, minor, "rwm")
        raise DriverError(
            reason=f"creating {volume.device_name} in the instance failed: {exc}"
        ) from exc


def mounts_of(pid: int, major: int, minor: int) -> list[str]:
    """Mount points inside the container's namespace of the device major:minor."""
    try:
        lines = Path(f"/proc/{pid}/mountinfo").read_text().splitlines()
    except OSError:
        return []
    wanted = f"{major}:{minor}"
    return [line.split()[4] for line in lines if line.split()[2] == wanted]


def unplug(pid: int, volume: AttachedVolume) -> None:
    """Unmount the device inside the container, remove its node, deny it."""
    major, minor = numbers(volume.host_device)
    for mountpoint in reversed(mounts_of(pid, major, minor)):
        proc = subprocess.run(
            ["nsenter", "-t", str(pid), "-m", "--", "umount", "-l", mountpoint],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=30,
        )
        if proc.returncode != 0:
            LOG.warning(
                "could not unmount %s in container %s: %s", mountpoint, pid, proc.stderr.strip()
            )
    node = Path(f"/proc/{pid}/root/dev") / _node_name(volume)
    try:
        if os.path.lexists(node):
            node.unlink()
    except OSError as exc:
        raise DriverError(
            reason=f"removing {volume.device_name} from the instance failed: {exc}"
        ) from exc
    _rule("deny", pid, major, minor, "rwm")


def reallow(pid: int, volumes: tuple[AttachedVolume, ...]) -> None:
    """Allow the volumes again (``runc update`` rewrites the devices cgroup)."""
    for volume in volumes:
        major, minor = numbers(volume.host_device)
        _rule("allow", pid, major, minor, _access(volume))


# -- boot from volume ----------------------------------------------------------


def mount_root(directory: Path, host_device: str) -> Path:
    """Mount the boot volume's filesystem at ``<directory>/rootfs``."""
    rootfs = directory / "rootfs"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root_device").write_text(host_device)
    rootfs.mkdir(exist_ok=True)
    if _rootfs.is_mounted(rootfs):
        return rootfs
    numbers(host_device)
    proc = subprocess.run(
        ["mount", host_device, str(rootfs)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise DriverError(
            reason=f"the boot volume ({host_device}) holds no filesystem onestack can mount: "
            f"{proc.stderr.strip()[-300:]}"
        )
    return rootfs


def prepare_root(directory: Path, spec: InstanceSpec) -> None:
    """A fresh boot-from-volume instance: mount its volume, set hostname and key."""
    assert spec.root_device is not None
    rootfs = mount_root(directory, spec.root_device)
    etc = rootfs / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "hostname").write_text(spec.hostname + "\n")
    if spec.key_data:
        ssh = rootfs / "root" / ".ssh"
        ssh.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = ssh / "authorized_keys"
        keys.write_text(spec.key_data.strip() + "\n")
        keys.chmod(0o600)
