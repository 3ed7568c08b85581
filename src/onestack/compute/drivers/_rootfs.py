"""Root filesystems for containers: a cached read-only base per image and a
per-instance overlayfs on top of it.

A base is the image's ext4 filesystem unpacked once with ``debugfs -R 'rdump
/ DIR'`` (no loop device, no mount) into ``base/<image_id>/`` and never
written again, so every later boot of the image only mounts an overlay.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from pathlib import Path

from onestack.compute.exceptions import DriverError

_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _lock(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


def _check(cmd: list[str], what: str, timeout: float = 600) -> None:
    proc = subprocess.run(
        cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise DriverError(reason=f"{what} failed: {(proc.stderr or proc.stdout).strip()[-400:]}")


def ensure_base(cache: Path, image_id: str, image_path: Path) -> Path:
    """The unpacked base of ``image_id`` (unpacked now if not cached)."""
    base = cache / image_id
    if base.is_dir():
        return base
    with _lock(f"base:{image_id}"):
        if base.is_dir():
            return base
        cache.mkdir(parents=True, exist_ok=True)
        tmp = cache / f".{image_id}.{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            _check(["debugfs", "-R", f"rdump / {tmp}", str(image_path)], "unpacking the image")
            # debugfs reports unreadable filesystems on stderr but exits 0.
            if not any(tmp.iterdir()):
                raise DriverError(
                    reason=f"image {image_id} is not a raw ext4 filesystem onestack can unpack"
                )
            lost = tmp / "lost+found"
            if lost.is_dir():
                shutil.rmtree(lost, ignore_errors=True)
            tmp.rename(base)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return base


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo") as handle:
        return any(line.split()[4] == target for line in handle)


def mount_overlay(base: Path, upper: Path, work: Path, target: Path) -> None:
    for directory in (upper, work, target):
        directory.mkdir(parents=True, exist_ok=True)
    if is_mounted(target):
        return
    options = f"lowerdir={base},upperdir={upper},workdir={work}"
    _check(["mount", "-t", "overlay", "overlay", "-o", options, str(target)], "mounting overlay")


def unmount(target: Path) -> None:
    while is_mounted(target):
        proc = subprocess.run(["umount", str(target)], capture_output=True, text=True)
        if proc.returncode != 0:
            proc = subprocess.run(["umount", "-l", str(target)], capture_output=True, text=True)
            if proc.returncode != 0:
                raise DriverError(reason=f"unmounting {target} failed: {proc.stderr.strip()}")


def make_ext4(source: Path, target: Path) -> None:
    """A raw ext4 image at ``target`` holding a copy of the tree at ``source``."""
    used = 0
    for root, dirs, files in os.walk(source):
        for name in files + dirs:
            try:
                used += os.lstat(os.path.join(root, name)).st_size + 4096
            except OSError:
                pass
    size_mb = max(16, int(used * 1.3) // (1024 * 1024) + 16)
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as handle:
            handle.truncate(size_mb * 1024 * 1024)
        _check(
            ["mkfs.ext4", "-q", "-F", "-L", "onestack-root", "-d", str(source), str(tmp)],
            "writing the snapshot filesystem",
        )
        tmp.rename(target)
    finally:
        tmp.unlink(missing_ok=True)
