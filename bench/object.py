"""Object storage figures: 4 KiB and 1 GiB PUT/GET through the Swift API vs plain files.

Starts its own onestack (state in a temporary directory on the same disk),
then with 8 concurrent clients (python-swiftclient, one connection each):

- PUT and GET of 4 KiB objects: ops/s, p50 and p99 latency;
- PUT and GET of one 1 GiB object (streamed, 3 replicas): MB/s;
- the same sizes written (with fsync) and read as plain files in the same
  directory tree, for the ratio.

Usage: .venv/bin/python bench/object.py [--seconds 10] [--gib 1]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import swiftclient
from tests.support.server import RunningCloud, new_cloud

CLIENTS = 8
SMALL = 4096
CHUNK = 4 << 20


def connection(cloud: RunningCloud) -> swiftclient.Connection:
    return swiftclient.Connection(
        authurl=cloud.auth_url,
        user="admin",
        key=cloud.admin_password,
        auth_version="3",
        os_options={
            "project_name": "admin",
            "user_domain_id": "default",
            "project_domain_id": "default",
        },
    )


def run_clients(seconds: float, work: Callable[[int, int], None]) -> list[float]:
    """Run ``work(client, i)`` in 8 threads for ``seconds``; latencies in seconds."""
    latencies: list[list[float]] = [[] for _ in range(CLIENTS)]
    deadline = time.monotonic() + seconds

    def loop(client: int) -> None:
        i = 0
        while time.monotonic() < deadline:
            began = time.perf_counter()
            work(client, i)
            latencies[client].append(time.perf_counter() - began)
            i += 1

    threads = [threading.Thread(target=loop, args=(c,)) for c in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [x for per in latencies for x in per]


def report(label: str, latencies: list[float], seconds: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"{label:<28} {len(ordered) / seconds:9.0f} ops/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms"
    )


def small_objects(cloud: RunningCloud, seconds: float) -> None:
    conns = [connection(cloud) for _ in range(CLIENTS)]
    container = f"bench-{uuid.uuid4().hex[:6]}"
    conns[0].put_container(container)
    payload = os.urandom(SMALL)
    written: list[list[str]] = [[] for _ in range(CLIENTS)]

    def put(client: int, i: int) -> None:
        name = f"{client}/{i}"
        conns[client].put_object(container, name, payload)
        written[client].append(name)

    started = time.monotonic()
    lat = run_clients(seconds, put)
    report("Swift PUT 4 KiB", lat, time.monotonic() - started)

    def get(client: int, i: int) -> None:
        names = written[client]
        conns[client].get_object(container, names[i % len(names)])

    started = time.monotonic()
    lat = run_clients(seconds, get)
    report("Swift GET 4 KiB", lat, time.monotonic() - started)


def plain_small(directory: Path, seconds: float) -> None:
    payload = os.urandom(SMALL)
    for client in range(CLIENTS):
        (directory / str(client)).mkdir(parents=True, exist_ok=True)
    counts = [0] * CLIENTS

    def put(client: int, i: int) -> None:
        path = directory / str(client) / str(i)
        with open(path, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        counts[client] = i + 1

    started = time.monotonic()
    lat = run_clients(seconds, put)
    report("file write+fsync 4 KiB", lat, time.monotonic() - started)

    def get(client: int, i: int) -> None:
        (directory / str(client) / str(i % max(counts[client], 1))).read_bytes()

    started = time.monotonic()
    lat = run_clients(seconds, get)
    report("file read 4 KiB", lat, time.monotonic() - started)


def blocks(total: int) -> Iterator[bytes]:
    block = os.urandom(CHUNK)
    sent = 0
    while sent < total:
        piece = block[: min(CHUNK, total - sent)]
        sent += len(piece)
        yield piece


class RandomReader:
    """A file-like source of ``total`` bytes (so the upload has a Content-Length)."""

    def __init__(self, total: int) -> None:
        self.left = total
        self.block = os.urandom(CHUNK)

    def read(self, size: int = -1) -> bytes:
        size = CHUNK if size < 0 else min(size, CHUNK)
        piece = self.block[: min(size, self.left)]
        self.left -= len(piece)
        return piece


def big_object(cloud: RunningCloud, size: int) -> None:
    conn = connection(cloud)
    container = f"bench-big-{uuid.uuid4().hex[:6]}"
    conn.put_container(container)
    began = time.monotonic()
    conn.put_object(container, "big", RandomReader(size), content_length=size, chunk_size=CHUNK)
    elapsed = time.monotonic() - began
    print(
        f"{'Swift PUT 1 GiB':<28} {size / elapsed / 1e6:9.1f} MB/s  ({elapsed:.1f} s, 3 replicas)"
    )
    began = time.monotonic()
    _, body = conn.get_object(container, "big", resp_chunk_size=CHUNK)
    got = sum(len(piece) for piece in body)
    elapsed = time.monotonic() - began
    assert got == size
    print(f"{'Swift GET 1 GiB':<28} {size / elapsed / 1e6:9.1f} MB/s  ({elapsed:.1f} s)")
    conn.delete_object(container, "big")


def plain_big(directory: Path, size: int) -> None:
    path = directory / "big.bin"
    began = time.monotonic()
    with open(path, "wb") as handle:
        for piece in blocks(size):
            handle.write(piece)
        handle.flush()
        os.fsync(handle.fileno())
    elapsed = time.monotonic() - began
    print(f"{'file write+fsync 1 GiB':<28} {size / elapsed / 1e6:9.1f} MB/s  ({elapsed:.1f} s)")
    began = time.monotonic()
    with open(path, "rb") as handle:
        while handle.read(CHUNK):
            pass
    elapsed = time.monotonic() - began
    print(f"{'file read 1 GiB':<28} {size / elapsed / 1e6:9.1f} MB/s  ({elapsed:.1f} s)")
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gib", type=float, default=1.0)
    args = parser.parse_args()
    size = int(args.gib * 1024**3)
    with tempfile.TemporaryDirectory(dir=Path(__file__).resolve().parents[1]) as tmp:
        base = Path(tmp)
        cloud = new_cloud(
            base,
            ONESTACK_OBJECT__REPLICATOR_INTERVAL="0",
            ONESTACK_OBJECT__AUDITOR_INTERVAL="0",
        ).start()
        try:
            print(f"onestack object storage, {CLIENTS} clients, {args.seconds:.0f} s per test")
            small_objects(cloud, args.seconds)
            plain_small(base / "plain", args.seconds)
            big_object(cloud, size)
            plain_big(base / "plain", size)
        finally:
            cloud.stop()


if __name__ == "__main__":
    main()
