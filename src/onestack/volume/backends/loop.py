"""Loop devices: how a file-backed volume becomes a local block device.

Only devices onestack attached are touched: ``attach`` returns the device it
made, ``detach`` releases one device, ``devices_of`` finds the devices that
still point at a file (for cleanup before the file is deleted).
"""

from __future__ import annotations

import os
from pathlib import Path

from onestack.volume.backends._shell import run
from onestack.volume.exceptions import CommandFailed


def attach(path: Path, readonly: bool = False) -> str:
    args = ["losetup", "--find", "--show"]
    if readonly:
        args.append("--read-only")
    device = run(*args, str(path)).strip()
    if not device.startswith("/dev/loop"):
        raise CommandFailed(command="losetup", stderr=f"unexpected answer {device!r}")
    return device


def detach(device: str) -> None:
    if not device.startswith("/dev/loop") or not os.path.exists(device):
        return
    try:
        run("losetup", "--detach", device)
    except CommandFailed as exc:
        if "No such device" not in exc.message and "No such device or address" not in exc.message:
            raise


def backing_file(device: str) -> Path | None:
    """The file behind ``/dev/loopN`` (None when it is not a loop device in use)."""
    if not device.startswith("/dev/loop"):
        return None
    try:
        name = Path(f"/sys/block/{Path(device).name}/loop/backing_file").read_text().strip()
    except OSError:
        return None
    return Path(name.removesuffix(" (deleted)")) if name else None


def refresh(device: str) -> None:
    """Make the kernel see a backing file's new size."""
    run("losetup", "--set-capacity", device)


def devices_of(path: Path) -> list[str]:
    try:
        out = run("losetup", "--associated", str(path), check=False)
    except CommandFailed:
        return []
    return [line.split(":", 1)[0] for line in out.splitlines() if line.startswith("/dev/loop")]


def size_of(device: str) -> int:
    return int(run("blockdev", "--getsize64", device).strip())
