"""Telemetry benchmark: measures ingested per second through the batch API, and
aggregate query latency over 30 days of 1-minute data for 100 resources, side by
side with the same data in a plain SQL table of the same database in the same
run; and the memory of the metering poller per 100 instances.

Starts its own ``onestack up`` (temporary state directory, free ports, the fake
compute driver) and drives it with gnocchiclient.  The archive policy is 1 minute
and 1 hour granularities for 30 days, ``mean`` and ``max``.  The plain table is
one row per measure ``(metric, ts, value)`` with its primary key, filled by
``executemany`` and queried with ``GROUP BY`` over ``ts / bucket``.

    .venv/bin/python bench/telemetry.py [--resources 100] [--days 30] [--db-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from tests.functional.telemetry.conftest import client
from tests.support.server import RunningCloud, new_cloud

from onestack.config import normalize_db_url

MINUTE = 60
T0 = 1_700_000_000 // 86400 * 86400  # a midnight, UTC


def timed(function: Callable[[], Any], runs: int = 7) -> tuple[float, Any]:
    """Median seconds of ``runs`` calls (after one warm-up), and the last result."""
    result = function()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def ingest(gnocchi: Any, originals: list[str], days: int) -> tuple[float, int]:
    """One batch request per day of data of every resource; (seconds, measures)."""
    count = 0
    began = time.perf_counter()
    for day in range(days):
        start = T0 + day * 86400
        body = {
            original: {
                "load": [
                    {"timestamp": start + i * MINUTE, "value": float((i * 7 + n) % 100)}
                    for i in range(1440)
                ]
            }
            for n, original in enumerate(originals)
        }
        gnocchi.metric.batch_resources_metrics_measures(body)
        count += 1440 * len(originals)
    return time.perf_counter() - began, count


def small_batches(gnocchi: Any, originals: list[str], polls: int) -> tuple[float, int]:
    """What pollers send: one measure per metric per request (the newest minute), to a
    metric of its own (``poll``) so that the 30 days of ``load`` stay as they are."""
    start = T0
    began = time.perf_counter()
    for poll in range(polls):
        body = {
            original: {
                "poll": {
                    "archive_policy_name": "ceilometer-low",
                    "measures": [{"timestamp": start + poll * MINUTE, "value": 1.0}],
                }
            }
            for original in originals
        }
        gnocchi.metric.batch_resources_metrics_measures(body, create_metrics=True)
    return time.perf_counter() - began, polls * len(originals)


def plain_sql(url: str, metric_ids: list[str], days: int) -> tuple[Any, float, int]:
    """The same measures in a plain table of the same database: (engine, seconds, rows)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_plain_measures"))
        connection.execute(
            text(
                "CREATE TABLE bench_plain_measures (metric VARCHAR(36) NOT NULL, "
                "ts BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, "
                "PRIMARY KEY (metric, ts))"
            )
        )
    rows = 0
    began = time.perf_counter()
    for day in range(days):
        start = T0 + day * 86400
        batch = [
            {"m": metric, "t": start + i * MINUTE, "v": float((i * 7 + n) % 100)}
            for n, metric in enumerate(metric_ids)
            for i in range(1440)
        ]
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO bench_plain_measures (metric, ts, value) VALUES (:m, :t, :v)"),
                batch,
            )
        rows += len(batch)
    return engine, time.perf_counter() - began, rows


def poller_memory(cloud: RunningCloud, instances: int) -> dict[str, float]:
    """Resident memory of a process that runs one poll of ``instances`` servers, before
    and after its poll and at its peak; the peak of the Python allocations of a second
    poll (tracemalloc); and how long the first poll took."""
    script = f"""
import json, sys, time, tracemalloc
sys.path.insert(0, {str(Path(__file__).resolve().parent.parent)!r})
from onestack.config import load_settings
from onestack.compute.drivers import load_driver
from onestack.telemetry.service import build_poller
def rss():
    fields = dict(line.split(":", 1) for line in open("/proc/self/status"))
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])
settings = load_settings(state_dir={str(cloud.state_dir)!r})
poller = build_poller(settings, False, None, None)
# the statistics the host's compute agent answers over the bus, read here from the
# same driver (the fake driver's host file), so the poll includes the per-instance call
poller.compute.driver = load_driver(settings.compute, settings.state_dir, poller.host)
poller.session.token()
before, _ = rss()
began = time.perf_counter()
published = poller.poll_compute()
took = time.perf_counter() - began
after, peak = rss()
tracemalloc.start()
poller.poll_compute()
_, traced = tracemalloc.get_traced_memory()
print(json.dumps({{"before_kib": before, "after_kib": after, "peak_kib": peak,
                  "traced_kib": traced // 1024, "seconds": took, "samples": published}}))
"""
    env = {**os.environ, **cloud.env(), "ONESTACK_COMPUTE__DRIVER": "fake"}
    for name, port in cloud.ports.items():
        env[f"ONESTACK_PORTS__{name.upper()}"] = str(port)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--instances", type=int, default=100)
    parser.add_argument("--db-url", default=None)
    args = parser.parse_args()

    base = Path(tempfile.mkdtemp(prefix="onestack-bench-telemetry-"))
    cloud = new_cloud(
        base, args.db_url, ONESTACK_COMPUTE__DRIVER="fake", ONESTACK_TELEMETRY__POLL_INTERVAL="0"
    )
    cloud.start(timeout=180)
    try:
        gnocchi = client(cloud, "admin", "admin")
        policy = f"bench-{uuid.uuid4().hex[:6]}"
        gnocchi.archive_policy.create(
            {
                "name": policy,
                "aggregation_methods": ["mean", "max"],
                "definition": [
                    {"granularity": "1 minute", "timespan": f"{args.days} days"},
                    {"granularity": "1 hour", "timespan": f"{args.days} days"},
                ],
            }
        )
        originals = [f"bench-{i}" for i in range(args.resources)]
        metric_ids = []
        for original in originals:
            created = gnocchi.resource.create(
                "generic",
                {
                    "id": original,
                    "project_id": "bench",
                    "metrics": {"load": {"archive_policy_name": policy}},
                },
            )
            metric_ids.append(created["metrics"]["load"])
        print(f"ingesting {args.days} days x 1440 minutes x {args.resources} resources ...")
        seconds, measures = ingest(gnocchi, originals, args.days)
        small_seconds, small = small_batches(gnocchi, originals, 20)
        url = (
            normalize_db_url(args.db_url)
            if args.db_url
            else (f"sqlite:///{cloud.state_dir / 'onestack.db'}")
        )
        engine, sql_seconds, rows = plain_sql(url, metric_ids, args.days)

        one = metric_ids[0]
        stop = T0 + args.days * 86400

        # raw answers: gnocchiclient's parsing of every timestamp is the client's cost
        def get(path: str, params: dict[str, Any]) -> Any:
            return gnocchi.metric._get(path, params=params).json()

        def api_month() -> Any:
            return get(
                f"v1/metric/{one}/measures", {"granularity": 3600, "start": T0, "stop": stop}
            )

        def sql_month() -> Any:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT ts / 3600 * 3600 AS b, AVG(value) FROM bench_plain_measures "
                        "WHERE metric = :m AND ts >= :s AND ts < :e GROUP BY b ORDER BY b"
                    ),
                    {"m": one, "s": T0, "e": stop},
                ).all()

        def api_day() -> Any:
            return get(
                f"v1/metric/{one}/measures", {"granularity": 60, "start": T0, "stop": T0 + 86400}
            )

        def sql_day() -> Any:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT ts, value FROM bench_plain_measures WHERE metric = :m "
                        "AND ts >= :s AND ts < :e ORDER BY ts"
                    ),
                    {"m": one, "s": T0, "e": T0 + 86400},
                ).all()

        def api_across() -> Any:
            return gnocchi.metric._post(
                f"v1/aggregates?granularity=3600&start={T0}&stop={stop}",
                headers={"Content-Type": "application/json"},
                data=json.dumps(
                    {
                        "operations": ["aggregate", "mean", ["metric", "load", "mean"]],
                        "search": {"=": {"project_id": "bench"}},
                        "resource_type": "generic",
                    }
                ),
            ).json()

        def sql_across() -> Any:
            with engine.connect() as connection:
                return connection.execute(
                    text(
                        "SELECT ts / 3600 * 3600 AS b, AVG(value) FROM bench_plain_measures "
                        "WHERE ts >= :s AND ts < :e GROUP BY b ORDER BY b"
                    ),
                    {"s": T0, "e": stop},
                ).all()

        figures = []
        for label, api, sql, points in (
            (f"one metric, {args.days} days at 1 h (mean)", api_month, sql_month, 24 * args.days),
            ("one metric, 1 day at 1 min (mean)", api_day, sql_day, 1440),
            (
                f"mean of {args.resources} metrics, {args.days} days at 1 h",
                api_across,
                sql_across,
                24 * args.days,
            ),
        ):
            api_s, api_result = timed(api)
            sql_s, sql_result = timed(sql, runs=3 if "of" in label else 7)
            got = (
                len(api_result["measures"]["aggregated"])
                if isinstance(api_result, dict)
                else (len(api_result))
            )
            assert got == points == len(sql_result), (label, got, points, len(sql_result))
            figures.append((label, api_s, sql_s))

        print("creating servers for the poller ...")
        admin = cloud.connect("admin", "admin")
        project = admin.current_project_id
        admin.set_compute_quotas(
            project,
            instances=args.instances + 10,
            cores=args.instances + 10,
            ram=(args.instances + 10) * 512,
        )
        image = admin.image.find_image("onestack-busybox")
        servers = [
            admin.compute.create_server(
                name=f"bench-{i}", image_id=image.id, flavor_id="42", networks="none"
            )
            for i in range(args.instances)
        ]
        for server in servers:
            admin.compute.wait_for_server(server, interval=0.2, wait=300)
        memory = poller_memory(cloud, args.instances)

        print()
        print(
            f"machine: {platform.node()} {platform.machine()}, Python {platform.python_version()}, "
            f"database {url.split(':', 1)[0]}"
        )
        print(
            f"batch API, one day of {args.resources} metrics per request: "
            f"{measures / seconds:,.0f} measures/s ({measures:,} in {seconds:.1f} s)"
        )
        print(
            f"batch API, one measure of {args.resources} metrics per request: "
            f"{small / small_seconds:,.0f} measures/s ({small_seconds / 20 * 1000:.0f} ms "
            "per request)"
        )
        print(f"plain SQL inserts of the same rows: {rows / sql_seconds:,.0f} rows/s")
        for label, api_s, sql_s in figures:
            print(f"{label}: API {api_s * 1000:.1f} ms, plain SQL {sql_s * 1000:.1f} ms")
        print(
            f"poller, one poll of {args.instances} instances: {memory['seconds']:.2f} s, "
            f"{memory['samples']} samples; RSS {memory['before_kib'] / 1024:.1f} MiB before, "
            f"{memory['after_kib'] / 1024:.1f} MiB after, peak {memory['peak_kib'] / 1024:.1f} "
            f"MiB; Python allocations during a poll peak at {memory['traced_kib'] / 1024:.1f} MiB"
        )
    finally:
        cloud.stop()


if __name__ == "__main__":
    main()
