"""Usage counters of a container from its cgroup v1 hierarchies (metering).

The container's cgroups are found from its init process (``/proc/<pid>/cgroup``):

- CPU time: ``cpuacct.usage`` (nanoseconds, every process of the container);
- memory: ``memory.usage_in_bytes`` minus the inactive page cache
  (``total_inactive_file``), and the resident set ``total_rss`` of ``memory.stat``;
- disk I/O: ``blkio.throttle.io_service_bytes`` and ``io_serviced`` per block
  device, named as the container sees it: ``vda`` for the device holding its root
  filesystem, and the ``/dev/vdX`` nodes of its attached volumes.

cgroup v1 charges a write to the cgroup of the process that submits it: reads,
direct and synchronous writes (``O_DIRECT``, ``fsync``) count, while buffered
writes flushed later by the kernel's writeback threads are not charged to the
container.
"""

from __future__ import annotations

import os
import stat
from collections import defaultdict
from pathlib import Path

from onestack.compute.driver import DiskStats, InstanceStats

CGROUP_ROOT = Path("/sys/fs/cgroup")


def cgroup_dirs(pid: int) -> dict[str, Path]:
    """controller -> the process's cgroup directory (v1 hierarchies only)."""
    found: dict[str, Path] = {}
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller and not controller.startswith("name="):
                found[controller] = CGROUP_ROOT / controller / path.lstrip("/")
    return found


def _read_int(path: Path) -> int:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _memory(directory: Path | None) -> tuple[int, int]:
    if directory is None:
        return 0, 0
    usage = _read_int(directory / "memory.usage_in_bytes")
    values: dict[str, int] = {}
    try:
        for line in (directory / "memory.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            values[key] = int(value)
    except (OSError, ValueError):
        pass
    working_set = max(0, usage - values.get("total_inactive_file", 0))
    return working_set, values.get("total_rss", values.get("rss", 0))


def _blkio(directory: Path | None, name: str) -> dict[tuple[int, int], dict[str, int]]:
    """(major, minor) -> {"Read": n, "Write": n} from a blkio statistics file."""
    result: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    if directory is None:
        return result
    try:
        text = (directory / name).read_text()
    except OSError:
        return result
    for line in text.splitlines():
        parts = line.split()
        if len(parts) != 3 or ":" not in parts[0]:
            continue
        major, _, minor = parts[0].partition(":")
        result[(int(major), int(minor))][parts[1]] = int(parts[2])
    return result


def whole_disk(numbers: tuple[int, int]) -> tuple[int, int]:
    """The disk of a partition (blkio counts per disk); a disk stays itself."""
    sys_dev = Path(f"/sys/dev/block/{numbers[0]}:{numbers[1]}")
    if (sys_dev / "partition").exists():
        try:
            major, minor = (sys_dev.resolve().parent / "dev").read_text().strip().split(":")
            return int(major), int(minor)
        except (OSError, ValueError):
            return numbers
    return numbers


def device_names(pid: int, root: Path) -> dict[tuple[int, int], str]:
    """(major, minor) -> the name the instance gives the device (``vda`` for its root)."""
    names: dict[tuple[int, int], str] = {}
    root_device = root / "root_device"
    try:
        if root_device.exists():
            rdev = os.stat(root_device.read_text().strip()).st_rdev
            names[(os.major(rdev), os.minor(rdev))] = "vda"
        else:
            dev = os.stat(root / "upper").st_dev
            names[whole_disk((os.major(dev), os.minor(dev)))] = "vda"
    except OSError:
        pass
    dev_dir = Path(f"/proc/{pid}/root/dev")
    try:
        entries = sorted(dev_dir.iterdir())
    except OSError:
        entries = []
    for node in entries:
        if not node.name.startswith("vd"):
            continue
        try:
            info = os.stat(node)
        except OSError:
            continue
        if stat.S_ISBLK(info.st_mode):
            names[(os.major(info.st_rdev), os.minor(info.st_rdev))] = node.name
    return names


def read(pid: int, instance_dir: Path) -> InstanceStats:
    dirs = cgroup_dirs(pid)
    working_set, resident = _memory(dirs.get("memory"))
    blkio = dirs.get("blkio")
    service_bytes = _blkio(blkio, "blkio.throttle.io_service_bytes")
    serviced = _blkio(blkio, "blkio.throttle.io_serviced")
    disks = []
    for numbers, name in sorted(device_names(pid, instance_dir).items(), key=lambda i: i[1]):
        moved, done = service_bytes.get(numbers, {}), serviced.get(numbers, {})
        disks.append(
            DiskStats(
                device=name,
                read_bytes=moved.get("Read", 0),
                write_bytes=moved.get("Write", 0),
                read_requests=done.get("Read", 0),
                write_requests=done.get("Write", 0),
            )
        )
    cpuacct = dirs.get("cpuacct")
    return InstanceStats(
        cpu_time_ns=_read_int(cpuacct / "cpuacct.usage") if cpuacct else 0,
        memory_usage_bytes=working_set,
        memory_resident_bytes=resident,
        disks=tuple(disks),
    )
