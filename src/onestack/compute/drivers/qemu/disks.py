"""A VM's disks: a qcow2 overlay on a cached base, ephemeral and swap disks, config drive.

Layout under ``<state_dir>/compute/``::

    vm-base/<image_id>.qcow2    the image converted once to qcow2, shared, read-only
    vms/<id>/disk.qcow2         the root disk: an overlay on the base, the flavor's size
    vms/<id>/ephemeral.qcow2    the flavor's ephemeral disk (vfat-less, blank)
    vms/<id>/swap.qcow2         the flavor's swap disk (blank)
    vms/<id>/config.iso         the config drive (ISO 9660, label ``config-2``)

The image's own ``disk_format`` says how to read it (never guessed from the
bytes, so a raw image cannot pass for a qcow2 with a backing file); an image
that holds no OS still gives a disk, and its VM still starts.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from onestack.compute.configdrive import write_config_drive
from onestack.compute.driver import InstanceSpec
from onestack.compute.exceptions import DriverError

#: Glance disk_format -> qemu-img format name
FORMATS = {
    "qcow2": "qcow2",
    "raw": "raw",
    "vmdk": "vmdk",
    "vdi": "vdi",
    "vhd": "vpc",
    "vhdx": "vhdx",
    "qed": "qed",
    "iso": "raw",
    "ploop": "raw",
    "aki": "raw",
    "ari": "raw",
    "ami": "raw",
}


def qemu_img(*args: str, timeout: float = 600) -> str:
    binary = shutil.which("qemu-img")
    if binary is None:
        raise DriverError(reason="qemu-img not found: install the Debian package qemu-utils")
    done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise DriverError(reason=f"qemu-img {args[0]} failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def virtual_size(path: Path, fmt: str = "qcow2") -> int:
    info = json.loads(qemu_img("info", "--output", "json", "-U", "-f", fmt, str(path)))
    return int(info["virtual-size"])


def ensure_base(cache: Path, image_id: str, source: Path, disk_format: str) -> Path:
    """The image as a qcow2 base in ``cache`` (converted once, under a lock)."""
    cache.mkdir(parents=True, exist_ok=True)
    base = cache / f"{image_id}.qcow2"
    if base.exists():
        return base
    fmt = FORMATS.get(disk_format, "raw")
    with open(cache / f".{image_id}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if base.exists():
            return base
        with tempfile.NamedTemporaryFile(dir=cache, prefix=f".{image_id}.", delete=False) as tmp:
            temp = Path(tmp.name)
        try:
            qemu_img("convert", "-q", "-f", fmt, "-O", "qcow2", str(source), str(temp))
            temp.chmod(0o444)
            os.replace(temp, base)
        finally:
            temp.unlink(missing_ok=True)
    return base


def create_overlay(base: Path, target: Path, size_gb: int) -> None:
    """A qcow2 overlay on ``base``, grown to ``size_gb`` (never smaller than the base)."""
    size = max(size_gb << 30, virtual_size(base))
    qemu_img("create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", str(base), str(target), str(size))


def create_blank(target: Path, size_gb: int) -> None:
    qemu_img("create", "-q", "-f", "qcow2", str(target), f"{size_gb}G")


def grow(disk: Path, size_gb: int) -> None:
    """Grow ``disk`` to ``size_gb`` (a smaller size leaves it as it is)."""
    if disk.exists() and virtual_size(disk) < size_gb << 30:
        qemu_img("resize", "-q", "-f", "qcow2", str(disk), f"{size_gb}G")


def write_config_iso(spec: InstanceSpec, directory: Path) -> Path:
    """The config drive as an ISO 9660 image with the label ``config-2``."""
    tool = shutil.which("genisoimage") or shutil.which("mkisofs")
    if tool is None:
        raise DriverError(reason="genisoimage not found: install the Debian package genisoimage")
    with tempfile.TemporaryDirectory(dir=directory, prefix=".config-") as temp:
        tree = Path(temp) / "tree"
        write_config_drive(spec, tree)
        target = directory / "config.iso"
        partial = Path(temp) / "config.iso"
        done = subprocess.run(
            [tool, "-quiet", "-o", str(partial), "-V", "config-2", "-J", "-r",
             "-input-charset", "utf-8", str(tree)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if done.returncode != 0:
            raise DriverError(reason=f"genisoimage failed: {done.stderr.strip()[-300:]}")
        os.replace(partial, target)
    return target


def snapshot(disk: Path, target: Path, disk_format: str = "qcow2") -> None:
    """A standalone qcow2 copy of ``disk`` (its base folded in; unused clusters left out);
    ``disk_format`` raw for a boot volume's block device."""
    partial = target.with_name(target.name + ".partial")
    try:
        qemu_img("convert", "-q", "-U", "-f", disk_format, "-O", "qcow2", str(disk), str(partial))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
