"""Whole-cloud snapshot benchmark: ``onestack snapshot save`` and ``restore`` of a
cloud with N container servers, N volumes and M objects, beside a plain ``cp -a``
of the same state directory and a ``cp --reflink=always`` of the volume files, in
the same run.

Starts its own ``onestack up`` (container driver, the XFS reflink volume pool,
temporary state directory, free ports) and fills it through openstacksdk: servers
(no network), volumes of ``--volume-gib`` with ``--fill-mib`` MiB written into
each (on the host, into the volume's pool file), ``--objects`` objects of 4 KiB.
Then it times, each as the ``onestack`` command a user runs (its Python start-up
included):

- ``snapshot save`` on the running cloud (writes paused for the copy);
- ``cp -a`` of the whole state directory, the cloud stopped (the pool image is
  one sparse file then: cp copies its data);
- ``snapshot save`` of the stopped cloud (it mounts the pool for the copy);
- ``snapshot restore`` of the first snapshot (the cloud stopped);
- ``onestack up`` after the restore until every server is ACTIVE and running;
- ``cp -a --reflink=always`` of the volume files inside the mounted pool (the
  floor any reflink copy of the volumes has).

Needs root (containers, loop devices).  Removes what it made.

    .venv/bin/python bench/snapshot.py [--servers 10] [--volumes 10] [--objects 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.compute.conftest import cleanup_containers
from tests.support.server import RunningCloud, new_cloud

MiB = 1024**2


def timed(*command: str) -> tuple[float, str]:
    began = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.monotonic() - began
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {proc.stderr}")
    return elapsed, proc.stdout.strip()


def onestack(*args: str) -> tuple[float, str]:
    return timed(sys.executable, "-m", "onestack", *args)


def fill(cloud: RunningCloud, args: argparse.Namespace) -> list[str]:
    conn = cloud.connect("admin", "admin")
    flavor = next(iter(conn.compute.flavors()))
    image = conn.image.find_image("onestack-busybox")
    servers = [
        conn.compute.create_server(
            name=f"bench-{n}", image_id=image.id, flavor_id=flavor.id, networks="none"
        )
        for n in range(args.servers)
    ]
    volumes = [
        conn.block_storage.create_volume(size=args.volume_gib, name=f"bench-{n}")
        for n in range(args.volumes)
    ]
    conn.object_store.create_container("bench")
    payload = os.urandom(4096)

    def put(n: int) -> None:
        conn.object_store.upload_object(container="bench", name=f"o{n:05d}", data=payload)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(args.objects)))
    for server in servers:
        conn.compute.wait_for_server(server, interval=0.2, wait=600)
    block = os.urandom(MiB)
    pool_dir = cloud.state_dir / "volume" / "pool"
    for volume in volumes:
        conn.block_storage.wait_for_status(volume, "available", interval=0.2, wait=600)
        with open(pool_dir / f"volume-{volume.id}", "r+b") as handle:
            for _ in range(args.fill_mib):
                handle.write(block)
            os.fsync(handle.fileno())
    return [s.id for s in servers]


def all_running(cloud: RunningCloud, count: int, timeout: float = 600) -> None:
    conn = cloud.connect("admin", "admin")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        servers = list(conn.compute.servers())
        if len(servers) == count and all(
            s.status == "ACTIVE" and s.power_state == 1 for s in servers
        ):
            return
        time.sleep(0.2)
    raise RuntimeError("the servers did not come back")


def unmount_all(state_dir: Path) -> None:
    cleanup_containers(state_dir)
    pool = state_dir / "volume" / "pool"
    if str(pool) in Path("/proc/self/mounts").read_text():
        subprocess.run(["umount", str(pool)], check=False)
    out = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if str(state_dir) in line:
            subprocess.run(["losetup", "-d", line.split(":", 1)[0]], check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--volumes", type=int, default=10)
    parser.add_argument("--volume-gib", type=int, default=1)
    parser.add_argument("--fill-mib", type=int, default=256, help="MiB written per volume")
    parser.add_argument("--objects", type=int, default=1000)
    args = parser.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("needs root (containers, loop devices)")
    base = Path(tempfile.mkdtemp(prefix="onestack-bench-snapshot-"))
    cloud = new_cloud(
        base,
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_VOLUME__POOL_FILESYSTEM="xfs",
        ONESTACK_VOLUME__POOL_SIZE_GB=str(max(16, 4 * args.volumes * args.volume_gib)),
    )
    state = str(cloud.state_dir)
    figures: dict[str, float] = {}
    try:
        cloud.start(timeout=120)
        began = time.monotonic()
        fill(cloud, args)
        fill_s = time.monotonic() - began

        figures["save (running cloud)"], out = onestack(
            "snapshot", "save", "running", "--state-dir", state
        )
        print(out)
        pool = Path(state) / "volume" / "pool"
        volumes = [str(p) for p in pool.glob("volume-*")]
        copy = pool / ".bench-reflink"
        copy.mkdir()
        figures["cp -a --reflink=always of the volume files"], _ = timed(
            "cp", "-a", "--reflink=always", *volumes, str(copy)
        )
        shutil.rmtree(copy)

        cloud.stop()
        _, used = timed("du", "-sh", "--exclude=snapshots", state)
        target = base / "cp-copy"
        figures["cp -a of the state directory (stopped)"], _ = timed("cp", "-a", state, str(target))
        shutil.rmtree(target)

        figures["save (stopped cloud)"], out = onestack(
            "snapshot", "save", "stopped", "--state-dir", state
        )
        print(out)
        figures["restore (stopped cloud)"], out = onestack(
            "snapshot", "restore", "running", "--state-dir", state
        )
        print(out)
        began = time.monotonic()
        cloud.start(timeout=120)
        all_running(cloud, args.servers)
        figures["onestack up after restore, to every server ACTIVE"] = time.monotonic() - began
        listing = json.loads((Path(state) / "snapshots" / "running" / "manifest.json").read_text())
    finally:
        cloud.stop()
        unmount_all(cloud.state_dir)
        subprocess.run(["rm", "-rf", str(base)], check=False)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} vCPU, Python {platform.python_version()}"
    )
    print(
        f"cloud: {args.servers} servers, {args.volumes} volumes of {args.volume_gib} GiB "
        f"({args.fill_mib} MiB written in each), {args.objects} objects of 4 KiB "
        f"(x3 replicas); filled in {fill_s:.1f} s; state directory {used.split()[0]}"
    )
    print(f"snapshot: {json.dumps(listing['counts'])}")
    for name, seconds in figures.items():
        print(f"{name:<52} {seconds:8.3f} s")


if __name__ == "__main__":
    main()
