"""Volume benchmark: create-from-image for a 1 GiB image, snapshot and clone
times, sequential write/read on an attached volume against the same I/O on
the host's disk in the same run, and backups of a 1 GiB volume to object
storage (full, then incremental after 10% changed) with their restores.

Starts its own ``onestack up`` (temporary state directory, free ports) and
drives it with openstacksdk.  Needs root (loop devices).  The volume I/O runs
on the loop device the attachment exports (what an instance's /dev/vdb is
backed by); the host figure is the same ``dd`` on a file in the same state
directory.  Direct I/O (``oflag=direct``/``iflag=direct``) keeps the page
cache out of both.

    .venv/bin/python bench/volume.py [--io-mib 512] [--pool auto|directory]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import new_cloud

GiB = 1024**3


def wait(get: Any, status: str, timeout: float = 600) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        current = get()
        if current.status == status:
            return time.monotonic() - began
        if current.status == "error":
            raise RuntimeError(f"went to error: {current}")
        time.sleep(0.02)
    raise RuntimeError("timed out")


def dd(args: list[str]) -> float:
    """MB/s that dd reports."""
    out = subprocess.run(["dd", *args], capture_output=True, text=True, check=True).stderr
    match = re.search(r"([\d.,]+) ([MG])B/s", out)
    if not match:
        raise RuntimeError(out)
    value = float(match.group(1).replace(",", "."))
    return value * 1000 if match.group(2) == "G" else value


def io(target: str, mib: int) -> tuple[float, float]:
    write = dd(
        ["if=/dev/zero", f"of={target}", "bs=1M", f"count={mib}", "oflag=direct", "conv=notrunc"]
    )
    read = dd([f"if={target}", "of=/dev/null", "bs=1M", f"count={mib}", "iflag=direct"])
    return write, read


def backup_figures(conn: Any, image_id: str) -> dict[str, float]:
    """Backups of a 1 GiB volume of random bytes to object storage: full, then an
    incremental after 10% of it changed; each restored into a new volume."""
    bs = conn.block_storage
    volume = bs.create_volume(size=1, image_id=image_id, name="bench-backup")
    wait(lambda: bs.get_volume(volume.id), "available")
    figures: dict[str, float] = {}
    full = bs.create_backup(volume_id=volume.id, name="bench-full")
    figures["backup, full (object storage):"] = wait(lambda: bs.get_backup(full.id), "available")
    attachment = bs.create_attachment(
        volume.id, connector={"host": "bench"}, instance_id=str(uuid.uuid4())
    )
    device = attachment.connection_info["data"]["device_path"]
    try:  # 10%: 4 MiB of new bytes every 40 MiB
        with open(device, "r+b") as handle:
            for offset in range(0, GiB, 40 << 20):
                handle.seek(offset)
                handle.write(os.urandom(4 << 20))
            handle.flush()
            os.fsync(handle.fileno())
    finally:
        bs.delete_attachment(attachment.id)
    wait(lambda: bs.get_volume(volume.id), "available")
    incremental = bs.create_backup(volume_id=volume.id, name="bench-incr", is_incremental=True)
    figures["backup, incremental (10% changed):"] = wait(
        lambda: bs.get_backup(incremental.id), "available"
    )
    made = [volume.id]
    for label, backup in (("restore, full:", full), ("restore, incremental:", incremental)):
        began = time.monotonic()
        answer = bs.post(f"/backups/{backup.id}/restore", json={"restore": {"name": "bench"}})
        target = answer.json()["restore"]["volume_id"]
        made.append(target)
        wait(lambda: bs.get_volume(target), "available")  # noqa: B023 (called at once)
        figures[label] = time.monotonic() - began
        wait(lambda: bs.get_backup(backup.id), "available")  # noqa: B023
    for backup in (incremental, full):
        bs.delete_backup(backup)
        bs.wait_for_delete(bs.get_backup(backup.id), interval=0.2, wait=300)
    for item in made:
        bs.delete(f"/volumes/{item}?cascade=true")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--io-mib", type=int, default=512)
    parser.add_argument(
        "--pool",
        default="auto",
        choices=["auto", "directory"],
        help="auto: the loop-mounted XFS/btrfs reflink pool `onestack up` makes as root",
    )
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="onestack-bench-volume-"))
    cloud = new_cloud(base, ONESTACK_VOLUME__POOL_FILESYSTEM=args.pool).start()
    try:
        conn = cloud.connect("admin", "admin")
        bs = conn.block_storage
        image_file = base / "image.raw"
        with open(image_file, "wb") as handle:  # 1 GiB, every MiB written (not sparse)
            block = os.urandom(1024 * 1024)
            for _ in range(1024):
                handle.write(block)
        image = conn.image.create_image(
            name=f"bench-{uuid.uuid4().hex[:6]}",
            filename=str(image_file),
            disk_format="raw",
            container_format="bare",
        )
        volume = bs.create_volume(size=1, image_id=image.id, name="bench-from-image")
        from_image = wait(lambda: bs.get_volume(volume.id), "available")
        snap = bs.create_snapshot(volume_id=volume.id, name="bench-snap")
        snapshot_s = wait(lambda: bs.get_snapshot(snap.id), "available")
        clone = bs.create_volume(size=1, source_volume_id=volume.id, name="bench-clone")
        clone_s = wait(lambda: bs.get_volume(clone.id), "available")
        pool = bs.get_volume(volume.id).host

        attachment = bs.create_attachment(
            volume.id, connector={"host": "bench"}, instance_id=str(uuid.uuid4())
        )
        device = attachment.connection_info["data"]["device_path"]
        try:
            vol_write, vol_read = io(device, args.io_mib)
        finally:
            bs.delete_attachment(attachment.id)
        host_file = base / "host-io.bin"
        host_file.write_bytes(b"")
        host_write, host_read = io(str(host_file), args.io_mib)
        host_file.unlink()
        backups = backup_figures(conn, image.id)
        for item in (clone.id, volume.id):
            bs.delete(f"/volumes/{item}?cascade=true")
        conn.image.delete_image(image)
    finally:
        cloud.stop()
        subprocess.run(["rm", "-rf", str(base)], check=False)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}"
    )
    print(f"pool: {pool}")
    print(f"create volume from a 1 GiB raw image: {from_image:.2f} s")
    print(f"snapshot of a 1 GiB volume:           {snapshot_s * 1000:.0f} ms")
    print(f"clone of a 1 GiB volume:              {clone_s * 1000:.0f} ms")
    print(
        f"sequential write, attached volume:    {vol_write:.0f} MB/s (host disk {host_write:.0f})"
    )
    print(f"sequential read, attached volume:     {vol_read:.0f} MB/s (host disk {host_read:.0f})")
    for label, seconds in backups.items():
        print(f"{label:<38}{seconds:.2f} s  ({1024 / seconds:.0f} MiB/s of volume)")


if __name__ == "__main__":
    main()
