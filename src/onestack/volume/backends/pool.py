"""The reflink pool the file backend keeps volumes in.

As root, ``open_pool`` makes (once) a sparse filesystem image
``<dir>/pool.img`` formatted XFS with reflink (or btrfs) and loop-mounts it at
``<dir>/pool``, so ``cp --reflink=always`` snapshots and clones in
milliseconds.  Without root, or when that fails, the pool is the plain
directory ``<dir>/pool`` and copies are full copies; the reason is logged and
reported by ``BackendInfo.notes``.  ``close_pool`` unmounts and releases the
loop device unless a volume is still exported (an instance outlives the
service); the next start mounts it again or finds it still mounted.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from onestack.volume.backends import loop
from onestack.volume.backends._shell import run
from onestack.volume.exceptions import CommandFailed

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pool:
    path: Path
    filesystem: str  # xfs, btrfs or directory
    reflink: bool
    image: Path | None = None
    notes: str = ""


def _mounted_fs(path: Path) -> str | None:
    target = str(path.resolve())
    with open("/proc/self/mounts") as handle:
        for line in handle:
            parts = line.split()
            if len(parts) >= 3 and parts[1].replace("\\040", " ") == target:
                return parts[2]
    return None


def _mkfs(image: Path, filesystem: str) -> None:
    if filesystem == "xfs":
        run("mkfs.xfs", "-q", "-m", "reflink=1", str(image))
    else:
        run("mkfs.btrfs", "-q", str(image))


def _image_fs(image: Path) -> str | None:
    out = run("blkid", "-o", "value", "-s", "TYPE", str(image), check=False).strip()
    return out or None


def _try_mount(directory: Path, filesystem: str, size_gb: int) -> Pool:
    path = directory / "pool"
    image = directory / "pool.img"
    path.mkdir(parents=True, exist_ok=True)
    mounted = _mounted_fs(path)
    if mounted in ("xfs", "btrfs"):
        return Pool(path, mounted, _reflinks(path), image)
    if not image.exists():
        if shutil.which(f"mkfs.{filesystem}") is None:
            raise CommandFailed(command=f"mkfs.{filesystem}", stderr="not installed")
        with open(image, "wb") as handle:
            handle.truncate(size_gb * 1024**3)
        try:
            _mkfs(image, filesystem)
        except CommandFailed:
            image.unlink(missing_ok=True)
            raise
    found = _image_fs(image) or filesystem
    # mount -o loop sets autoclear: the loop device goes away with the mount
    run("mount", "-o", "loop", "-t", found, str(image), str(path))
    return Pool(path, found, _reflinks(path), image)


def _reflinks(path: Path) -> bool:
    """Whether ``cp --reflink=always`` really works in ``path`` (probed)."""
    probe, copy = path / ".reflink-probe", path / ".reflink-probe.copy"
    try:
        probe.write_bytes(b"onestack")
        return (
            not run("cp", "--reflink=always", str(probe), str(copy), check=False) and copy.exists()
        )
    except (OSError, CommandFailed):
        return False
    finally:
        probe.unlink(missing_ok=True)
        copy.unlink(missing_ok=True)


def open_pool(directory: Path, filesystem: str, size_gb: int) -> Pool:
    directory.mkdir(parents=True, exist_ok=True)
    if filesystem != "directory":
        if os.geteuid() != 0:
            reason = "not running as root: no loop-mounted reflink pool"
        else:
            choices = ("xfs", "btrfs") if filesystem == "auto" else (filesystem,)
            errors = []
            for choice in choices:
                try:
                    return _try_mount(directory, choice, size_gb)
                except CommandFailed as exc:
                    errors.append(f"{choice}: {exc.message}")
            reason = "; ".join(errors)
        LOG.warning("volume: pool is a plain directory, clones are full copies (%s)", reason)
        path = directory / "pool"
        path.mkdir(parents=True, exist_ok=True)
        return Pool(path, "directory", False, None, f"full copies: {reason}")
    path = directory / "pool"
    path.mkdir(parents=True, exist_ok=True)
    return Pool(path, "directory", False, None, "full copies (configured)")


def close_pool(pool: Pool) -> None:
    if pool.image is None or _mounted_fs(pool.path) is None:
        return
    busy = [p for p in pool.path.iterdir() if loop.devices_of(p)]
    if busy:
        LOG.info("volume: pool stays mounted: %d volume(s) still exported", len(busy))
        return
    try:
        run("umount", str(pool.path))
    except CommandFailed as exc:
        LOG.warning("volume: cannot unmount the pool: %s", exc.message)
