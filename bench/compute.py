"""Compute benchmarks: boot latency, concurrent boots, list latency.

    .venv/bin/python bench/compute.py [--driver container|fake] [--boots 20]
        [--concurrent 50] [--list 1000]

Starts its own onestack on free ports.  Figures: time from POST /servers to
ACTIVE (p50/p95 over sequential boots, polled every 10 ms), total time for
concurrent boots until all are ACTIVE, and GET /servers and
/servers/detail latency with many servers (fake driver).  Results go to
docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.server import new_cloud


def _wait_active(conn: Any, server_id: str, timeout: float = 120.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = conn.compute.get(f"/servers/{server_id}", microversion="2.1").json()["server"]
        if body["status"] == "ACTIVE":
            return time.monotonic()
        if body["status"] == "ERROR":
            raise RuntimeError(f"{server_id} went to ERROR: {body.get('fault')}")
        time.sleep(0.01)
    raise TimeoutError(server_id)


def _post(conn: Any, image_id: str, name: str, count: int = 1) -> str:
    body = {
        "server": {
            "name": name,
            "imageRef": image_id,
            "flavorRef": "42",
            "networks": "none",
            "min_count": count,
            "max_count": count,
        }
    }
    resp = conn.compute.post("/servers", json=body, microversion="2.37")
    return str(resp.json()["server"]["id"])


def _delete_all(conn: Any) -> None:
    servers = list(conn.compute.servers())
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda s: conn.compute.delete_server(s), servers))
    for server in servers:
        conn.compute.wait_for_delete(server, interval=0.2, wait=300)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_boots(driver: str, boots: int, concurrent: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cloud = new_cloud(
            Path(tmp), ONESTACK_COMPUTE__DRIVER=driver, ONESTACK_COMPUTE__CPU_ALLOCATION_RATIO="64"
        ).start()
        try:
            conn = cloud.connect()
            conn.compute.update_quota_set(conn.current_project_id, instances=-1, cores=-1, ram=-1)
            image_id = conn.image.find_image("onestack-busybox").id
            times = []
            for n in range(boots):
                began = time.monotonic()
                server_id = _post(conn, image_id, f"seq-{n}")
                times.append(_wait_active(conn, server_id) - began)
            print(
                f"[{driver}] sequential boots: n={boots} p50={statistics.median(times):.3f}s "
                f"p95={_pct(times, 0.95):.3f}s first={times[0]:.3f}s min={min(times):.3f}s"
            )
            _delete_all(conn)
            began = time.monotonic()
            with ThreadPoolExecutor(concurrent) as pool:
                ids = list(pool.map(lambda n: _post(conn, image_id, f"par-{n}"), range(concurrent)))
                list(pool.map(lambda i: _wait_active(conn, i, 300), ids))
            total = time.monotonic() - began
            print(f"[{driver}] concurrent boots: n={concurrent} all ACTIVE in {total:.2f}s")
            _delete_all(conn)
        finally:
            cloud.stop()


def bench_list(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cloud = new_cloud(Path(tmp), ONESTACK_COMPUTE__DRIVER="fake").start()
        try:
            conn = cloud.connect()
            conn.compute.update_quota_set(conn.current_project_id, instances=-1, cores=-1, ram=-1)
            image_id = conn.image.find_image("onestack-busybox").id
            made = 0
            while made < count:
                batch = min(100, count - made)
                _post(conn, image_id, f"many-{made}", batch)
                made += batch
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                body = conn.compute.get("/servers?status=BUILD&limit=1", microversion="2.1")
                if not body.json()["servers"]:
                    break
                time.sleep(0.5)
            for path in (
                "/servers?limit=1000",
                "/servers/detail?limit=1000",
                "/servers/detail?limit=100",
            ):
                samples = []
                for _ in range(10):
                    began = time.monotonic()
                    resp = conn.compute.get(path, microversion="2.100")
                    samples.append(time.monotonic() - began)
                    assert resp.status_code == 200
                n = len(resp.json()["servers"])
                print(
                    f"[fake] GET {path} ({n} servers of {count}): "
                    f"p50={statistics.median(samples) * 1000:.0f} ms "
                    f"p95={_pct(samples, 0.95) * 1000:.0f} ms"
                )
        finally:
            cloud.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--driver", default="container", choices=["container", "fake"])
    parser.add_argument("--boots", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--list", type=int, default=1000)
    args = parser.parse_args()
    if args.boots and args.concurrent:
        bench_boots(args.driver, args.boots, args.concurrent)
    if args.list:
        bench_list(args.list)


if __name__ == "__main__":
    main()
