"""Reset benchmark: ``POST /onestack/v1/reset`` after creating N resources of each kind,
beside the time of a fresh ``onestack up`` in the same run; and the cost of the fault
step on every request.

    .venv/bin/python bench/reset.py [--driver fake|container] [--n 10] [--rounds 3]

Starts its own onestack (SQLite, a new state directory; with ``--driver container``
as root, real containers and the real data plane).  Each round creates ``n`` servers
(on ``n`` networks, the data plane's too), ``n`` volumes, ``n`` images, ``n``
containers of 10 objects, ``n`` users and projects and ``n`` key pairs, then resets
and checks the cloud is back to the bootstrap state.  It also starts a second, fresh
cloud and reports its start-up time (command to every API ready), and the median
latency of ``GET /flavors`` with no fault and with an unrelated fault in force.
Results go to docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.functional.fixture.conftest import add_fault, onestack
from tests.support.server import RunningCloud, new_cloud


def _env(driver: str) -> dict[str, str]:
    env = {"ONESTACK_COMPUTE__DRIVER": driver}
    if driver == "container":
        env["ONESTACK_NETWORK__DATA_PLANE"] = "on"
        env["ONESTACK_NETWORK__PUBLIC_CIDR"] = f"172.24.{random.randint(100, 199)}.0/24"
    return env


def _fill(cloud: RunningCloud, n: int, round_: int) -> int:
    admin = cloud.connect("admin", "admin")
    demo = cloud.connect("demo", "demo")
    image = admin.image.find_image("onestack-busybox")

    def server(i: int) -> None:
        net = demo.network.create_network(name=f"b{round_}-net-{i}")
        demo.network.create_subnet(
            network_id=net.id, cidr=f"10.{100 + i}.{round_}.0/24", ip_version=4
        )
        made = demo.compute.create_server(
            name=f"b{round_}-srv-{i}", image_id=image.id, flavor_id="42",
            networks=[{"uuid": net.id}],
        )  # fmt: skip
        demo.compute.wait_for_server(made, interval=0.1, wait=300)

    def volume(i: int) -> None:
        made = demo.block_storage.create_volume(size=1, name=f"b{round_}-vol-{i}")
        demo.block_storage.wait_for_status(made, "available", interval=0.1, wait=120)

    def rest(i: int) -> None:
        demo.image.create_image(
            name=f"b{round_}-img-{i}", disk_format="raw", container_format="bare",
            data=b"x" * 65536,
        )  # fmt: skip
        container = f"b{round_}-c-{i}"
        demo.object_store.create_container(container)
        for o in range(10):
            demo.object_store.upload_object(container=container, name=f"o{o}", data=b"d" * 100)
        admin.identity.create_user(name=f"b{round_}-u-{i}", password="pw", domain_id="default")
        admin.identity.create_project(name=f"b{round_}-p-{i}", domain_id="default")
        demo.compute.create_keypair(name=f"b{round_}-k-{i}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(server, range(n)))
        list(pool.map(volume, range(n)))
        list(pool.map(rest, range(n)))
    # per i: network, subnet, server, its port, volume, image, container, 10 objects,
    # user, project, key pair
    return n * 20


def _remove_host_leftovers(cloud: RunningCloud) -> None:
    """What a stopped cloud leaves on the host (its public network's namespace and link;
    containers of a failed run): only what its own registry names."""
    if cloud.extra_env.get("ONESTACK_NETWORK__DATA_PLANE") != "on":
        return
    import subprocess

    from tests.e2e.compute.conftest import cleanup_containers

    from onestack.network.drivers.linux import commands
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    cleanup_containers(cloud.state_dir)
    owned = Registry(registry_dir(cloud.state_dir)).names()
    for ns in commands.namespaces() & owned:
        for pid in commands.pids_in(ns):
            subprocess.run(["kill", str(pid)], check=False)
        commands.delete_netns(ns)
    for link in commands.links() & owned:
        commands.ip("link", "del", link, check=False)


def _latency(conn: Any, calls: int = 200) -> float:
    times = []
    for _ in range(calls):
        began = time.perf_counter()
        conn.compute.get("/flavors")
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--driver", default="fake", choices=("fake", "container"))
    parser.add_argument("--n", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="onestack-bench-reset-") as tmp:
        cloud = new_cloud(Path(tmp), **_env(args.driver)).start(timeout=180)
        try:
            system = cloud.connect("admin", None, system_scope="all")
            onestack(system, "GET", "/faults")  # the token and the catalog, before timing
            began = time.monotonic()
            onestack(system, "POST", "/reset")
            empty = time.monotonic() - began
            rows = []
            for round_ in range(args.rounds):
                made = _fill(cloud, args.n, round_)
                began = time.monotonic()
                response = onestack(system, "POST", "/reset", timeout=600)
                took = time.monotonic() - began
                report = response.json()["reset"]
                assert not report["errors"], report["errors"]
                demo = cloud.connect("demo", "demo")
                assert list(demo.compute.servers()) == []
                assert list(demo.object_store.containers()) == []
                rows.append((made, took, report["steps"]))
            demo = cloud.connect("demo", "demo")
            quiet = _latency(demo)
            add_fault(system, service="network", path="/nowhere", status=500)
            faulted = _latency(demo)
            onestack(system, "DELETE", "/faults")
        finally:
            cloud.stop()
            _remove_host_leftovers(cloud)
        fresh = new_cloud(Path(tmp), **_env(args.driver)).start(timeout=180)
        fresh.stop()
        _remove_host_leftovers(fresh)
    print(f"driver {args.driver}, n = {args.n}")
    print(f"fresh `onestack up` (command to every API ready): {fresh.startup_seconds:.2f} s")
    print(f"reset of the bootstrapped cloud (nothing to delete): {empty:.2f} s")
    for made, took, steps in rows:
        print(f"reset after creating {made} resources: {took:.2f} s; steps (s): {steps}")
    print(f"reset median: {statistics.median(t for _, t, _ in rows):.2f} s")
    print(f"GET /flavors median: {quiet:.2f} ms with no fault, {faulted:.2f} ms with one")


if __name__ == "__main__":
    main()
