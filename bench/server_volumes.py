"""Volumes in servers: attach and detach latency, boot-from-volume time against
an image boot, and sequential write/read inside a container on an attached
volume against the same I/O on the host's disk in the same run.

Starts its own ``onestack up`` with the container driver (temporary state
directory, free ports) and drives it with openstacksdk.  Needs root (runc,
loop devices).  The in-instance I/O is busybox ``dd`` on ``/dev/vdb`` run
with ``runc exec``; the host figure is the same ``dd`` on a file in the same
state directory.  Direct I/O keeps the page cache out of both.

    .venv/bin/python bench/server_volumes.py [--io-mib 512] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.compute.conftest import cleanup_containers
from tests.support.server import RunningCloud, new_cloud


def wait_volume(conn: Any, volume_id: str, status: str, timeout: float = 120) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if conn.block_storage.get_volume(volume_id).status == status:
            return time.monotonic() - began
        time.sleep(0.01)
    raise RuntimeError(f"volume {volume_id} did not become {status}")


def boot(conn: Any, image_id: str, **extra: Any) -> tuple[Any, float]:
    began = time.monotonic()
    server = conn.compute.create_server(image_id=image_id, flavor_id="42", networks="none", **extra)
    server = conn.compute.wait_for_server(server, interval=0.02, wait=300)
    return server, time.monotonic() - began


def exec_in(cloud: RunningCloud, server_id: str, script: str) -> float:
    """Seconds ``runc exec`` of ``script`` takes, timed on the host."""
    root = cloud.state_dir / "compute" / "runc"
    began = time.monotonic()
    subprocess.run(
        ["runc", "--root", str(root), "exec", server_id, "sh", "-c", script],
        capture_output=True,
        check=True,
    )
    return time.monotonic() - began


def dd_in(cloud: RunningCloud, server_id: str, args: str, mib: int) -> float:
    """MB/s of a busybox dd in the instance (the cost of an empty exec taken off)."""
    overhead = min(exec_in(cloud, server_id, "true") for _ in range(3))
    seconds = exec_in(cloud, server_id, f"dd {args} 2>/dev/null") - overhead
    return mib * 1024 * 1024 / seconds / 1e6


def dd_host(args: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(["dd", *args], capture_output=True, check=True)
    count = int(next(a for a in args if a.startswith("count=")).split("=")[1])
    return count * 1024 * 1024 / (time.monotonic() - began) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--io-mib", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    mib = args.io_mib
    base = Path(tempfile.mkdtemp(prefix="onestack-bench-server-volumes-"))
    cloud = new_cloud(base, ONESTACK_COMPUTE__DRIVER="container").start()
    try:
        conn = cloud.connect("admin", "admin")
        image = conn.image.find_image("onestack-busybox")
        server, image_boot = boot(conn, image.id, name="bench-image-boot")
        volume = conn.block_storage.create_volume(size=1, name="bench-data")
        wait_volume(conn, volume.id, "available")
        attach_s, detach_s = [], []
        for _ in range(args.rounds):
            began = time.monotonic()
            conn.compute.create_volume_attachment(server, volume_id=volume.id)
            wait_volume(conn, volume.id, "in-use")
            attach_s.append(time.monotonic() - began)
            began = time.monotonic()
            conn.compute.delete_volume_attachment(server, volume.id)
            wait_volume(conn, volume.id, "available")
            detach_s.append(time.monotonic() - began)
        conn.compute.create_volume_attachment(server, volume_id=volume.id)
        wait_volume(conn, volume.id, "in-use")
        count = f"count={mib}"
        vol_write = dd_in(
            cloud, server.id, f"if=/dev/zero of=/dev/vdb bs=1048576 {count} oflag=direct", mib
        )
        vol_read = dd_in(
            cloud, server.id, f"if=/dev/vdb of=/dev/null bs=1048576 {count} iflag=direct", mib
        )
        host_file = base / "host-io.bin"
        host_write = dd_host(
            ["if=/dev/zero", f"of={host_file}", "bs=1M", count, "oflag=direct", "conv=notrunc"]
        )
        host_read = dd_host([f"if={host_file}", "of=/dev/null", "bs=1M", count, "iflag=direct"])
        host_file.unlink()
        mapping = [
            {
                "uuid": image.id,
                "boot_index": 0,
                "source_type": "image",
                "destination_type": "volume",
                "volume_size": 1,
                "delete_on_termination": True,
            }
        ]
        bfv, bfv_boot = boot(conn, "", name="bench-bfv", block_device_mapping=mapping)
        for item in (server, bfv):
            conn.compute.delete_server(item)
        for item in (server, bfv):
            conn.compute.wait_for_delete(item, interval=0.05, wait=120)
        conn.block_storage.delete_volume(volume.id)
    finally:
        cloud.stop()
        cleanup_containers(cloud.state_dir)
        loops = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
        for line in loops.splitlines():
            if str(base) in line:
                subprocess.run(["losetup", "-d", line.split(":", 1)[0]], check=False)
        subprocess.run(["rm", "-rf", str(base)], check=False)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}"
    )
    print(f"attach (POST to volume in-use), median of {args.rounds}: "
          f"{statistics.median(attach_s) * 1000:.0f} ms")  # fmt: skip
    print(f"detach (DELETE to volume available), median of {args.rounds}: "
          f"{statistics.median(detach_s) * 1000:.0f} ms")  # fmt: skip
    print(f"boot from image to ACTIVE:              {image_boot:.2f} s")
    print(f"boot from a new 1 GiB volume to ACTIVE: {bfv_boot:.2f} s")
    print(f"sequential write in the instance, /dev/vdb: {vol_write:.0f} MB/s "
          f"(host disk {host_write:.0f})")  # fmt: skip
    print(f"sequential read in the instance, /dev/vdb:  {vol_read:.0f} MB/s "
          f"(host disk {host_read:.0f})")  # fmt: skip


if __name__ == "__main__":
    main()
