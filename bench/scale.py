"""Scale-out benchmark: many fake-driver servers over simulated compute hosts.

    .venv/bin/python bench/scale.py [--servers 500] [--hosts 1,5,20] [--batch 25]
        [--scheduler-hosts 1,20,200,1000]

Needs root, PostgreSQL and RabbitMQ on 127.0.0.1 (a database and a vhost of its
own for each run).  For each host count it starts ``onestack cluster`` (a
controller and that many compute hosts, fake driver, no data plane) and boots
``--servers`` servers in requests of ``--batch`` (``min_count``), four requests
at a time.  Figures:

- boots per second: servers / (first POST until every server is ACTIVE);
- scheduling latency: from the API's record (``created_at``) until the
  scheduler's choice is in the database (polled every 20 ms), p50/p95;
- ``GET /servers`` and ``GET /servers/detail`` latency with every server there
  (p50 over 10 calls);
- the scheduler alone (``select_destinations`` of one server, in process) with
  ``--scheduler-hosts`` synthetic hosts, for docs/scaling.md.

Results go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from tests.support.cluster import running_cluster
from tests.support.databases import postgres_database

from onestack.cluster import HostSpec
from onestack.common.db import Database, utcnow
from onestack.compute.models import ComputeNode, ComputeService, Instance


def _post(conn: Any, image_id: str, name: str, count: int) -> None:
    body = {
        "server": {
            "name": name, "imageRef": image_id, "flavorRef": "42", "networks": "none",
            "min_count": count, "max_count": count,
        }
    }  # fmt: skip
    resp = conn.compute.post("/servers", json=body, microversion="2.37")
    if resp.status_code != 202:
        raise RuntimeError(f"POST /servers: {resp.status_code} {resp.text}")


def _db_url(cluster: Any) -> str:
    from onestack.node import JoinToken

    token = Path(cluster.state.state_dir) / "controller" / "join-token"
    return JoinToken.decode(token.read_text()).db_url


def _run(hosts: int, servers: int, batch: int) -> dict[str, float]:
    specs = [HostSpec(f"host-{n}", ("compute",)) for n in range(1, hosts + 1)]
    with (
        tempfile.TemporaryDirectory(prefix="onestack-bench-scale-") as base,
        running_cluster(
            Path(base), specs, driver="fake",
            ONESTACK_NETWORK__DATA_PLANE="off", ONESTACK_LOG_LEVEL="warning",
            ONESTACK_COMPUTE__HEARTBEAT_INTERVAL="10", ONESTACK_COMPUTE__SERVICE_DOWN_TIME="60",
            # the controller's share of PostgreSQL's 100 connections (hosts keep 4 each)
            ONESTACK_DB_POOL_SIZE="10", ONESTACK_DB_MAX_OVERFLOW="5",
        ) as cluster,
    ):  # fmt: skip
        conn = cluster.connect()
        db = Database(_db_url(cluster))
        quota = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
        conn.compute.put(f"/os-quota-sets/{conn.current_project_id}", json=quota)
        image = conn.image.find_image("onestack-busybox")
        scheduled: dict[str, float] = {}
        created: dict[str, float] = {}
        began = time.monotonic()
        wall = utcnow()
        with ThreadPoolExecutor(4) as pool:
            requests = [
                pool.submit(_post, conn, image.id, f"scale-{i}", batch)
                for i in range(servers // batch)
            ]
            while True:
                with db.reader() as session:
                    rows = session.execute(
                        select(Instance.id, Instance.created_at, Instance.host, Instance.vm_state)
                    ).all()
                now = time.monotonic()
                active = 0
                for instance_id, created_at, host, vm_state in rows:
                    created[instance_id] = (created_at - wall).total_seconds()
                    if host is not None and instance_id not in scheduled:
                        scheduled[instance_id] = now - began
                    if vm_state == "error":
                        raise RuntimeError(f"{instance_id} went to ERROR")
                    active += vm_state == "active"
                for request in requests:
                    if request.done() and request.exception() is not None:
                        raise RuntimeError("a boot request failed") from request.exception()
                if active >= servers and all(r.done() for r in requests):
                    break
                if now - began > 900:
                    raise TimeoutError(f"{active} of {servers} ACTIVE after 900 s")
                time.sleep(0.02)
            for request in requests:
                request.result()
        elapsed = time.monotonic() - began
        latencies = sorted(max(0.0, scheduled[i] - created[i]) for i in scheduled)
        placed = Counter_of(db)
        listing = _list_latency(conn)
        db.dispose()
        return {
            "hosts": hosts, "servers": servers, "seconds": elapsed,
            "boots_per_s": servers / elapsed,
            "sched_p50_ms": 1000 * statistics.median(latencies),
            "sched_p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
            "hosts_used": len(placed), "max_per_host": max(placed.values()),
            **listing,
        }  # fmt: skip


def Counter_of(db: Database) -> dict[str, int]:
    with db.reader() as session:
        rows = session.execute(
            select(Instance.host, func.count()).where(~Instance.deleted).group_by(Instance.host)
        ).all()
    return {str(host): int(count) for host, count in rows}


def _list_latency(conn: Any) -> dict[str, float]:
    result = {}
    for path, key in (("/servers", "list_ms"), ("/servers/detail", "detail_ms")):
        times = []
        for _ in range(10):
            start = time.perf_counter()
            resp = conn.compute.get(path + "?limit=1000", microversion="2.1")
            times.append(time.perf_counter() - start)
            assert resp.status_code == 200
        result[key] = 1000 * statistics.median(times)
    return result


def _scheduler_alone(host_counts: list[int]) -> list[tuple[int, float]]:
    """``select_destinations`` of one instance with many synthetic hosts (PostgreSQL)."""
    from onestack.common.migrations import upgrade
    from onestack.compute.conf import ComputeSettings
    from onestack.compute.scheduler import Scheduler

    results = []
    for count in host_counts:
        with postgres_database() as url:
            db = Database(url)
            upgrade(db, ["onestack.compute"])
            with db.writer() as session:
                for n in range(count):
                    host = f"synthetic-{n}"
                    session.add(ComputeService(id=str(uuid.uuid4()), host=host,
                                               binary="nova-compute", zone="nova"))  # fmt: skip
                    session.add(ComputeNode(
                        id=str(uuid.uuid4()), host=host, hypervisor_hostname=host,
                        hypervisor_type="fake", vcpus=64, memory_mb=262144, local_gb=2000,
                        capabilities={},
                    ))  # fmt: skip
                    for i in range(5):  # a few instances per host, as a busy cloud has
                        session.add(_instance(host, f"{host}-{i}"))
            scheduler = Scheduler(db, ComputeSettings())
            times = []
            for i in range(30):
                with db.writer() as session:
                    row = _instance(None, f"new-{i}")
                    session.add(row)
                    instance_id = row.id
                start = time.perf_counter()
                placed = scheduler.select_destinations([instance_id])
                times.append(time.perf_counter() - start)
                assert isinstance(placed[instance_id], str), placed
            results.append((count, 1000 * statistics.median(times)))
            db.dispose()
    return results


def _instance(host: str | None, name: str) -> Instance:
    return Instance(
        id=str(uuid.uuid4()), name=name, project_id="p", user_id="u", hostname=name,
        flavor={"vcpus": 1, "ram": 64, "disk": 1}, flavor_id="42", vcpus=1, memory_mb=64,
        root_gb=1, vm_state="active" if host else "building", host=host,
        reservation_id="r-bench",
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", type=int, default=500)
    parser.add_argument("--hosts", default="1,5,20")
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--scheduler-hosts", default="1,20,200,1000")
    args = parser.parse_args()
    print("| hosts | servers | boots/s | scheduling p50 / p95 (ms) | hosts used (most on one) "
          "| GET /servers (ms) | GET /servers/detail (ms) |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for hosts in [int(h) for h in args.hosts.split(",") if h]:
        r = _run(hosts, args.servers, args.batch)
        print(
            f"| {hosts} | {args.servers} | {r['boots_per_s']:.1f} | "
            f"{r['sched_p50_ms']:.0f} / {r['sched_p95_ms']:.0f} | "
            f"{r['hosts_used']:.0f} ({r['max_per_host']:.0f}) | {r['list_ms']:.0f} | "
            f"{r['detail_ms']:.0f} |",
            flush=True,
        )
    print()
    print("| synthetic hosts | select_destinations of one server (ms, p50) |")
    print("| --- | --- |")
    for count, ms in _scheduler_alone([int(h) for h in args.scheduler_hosts.split(",") if h]):
        print(f"| {count} | {ms:.1f} |", flush=True)


if __name__ == "__main__":
    main()
