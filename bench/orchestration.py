"""Orchestration benchmark: time to CREATE_COMPLETE of the network + router + security
group + server + floating IP + volume stack, against the same resources created one by
one through the APIs (openstacksdk, each waited for as a script would) in the same run;
and a stack of 50 engine-only resources (RandomString and TestResource), for the
engine's overhead per resource.

Starts its own ``onestack up`` (temporary state directory, free ports).  As root with
runc the servers are containers on the real data plane; otherwise the fake compute
driver and an API-only network (``--driver`` forces one).  Stacks are polled every
50 ms through the API (not the CLI's 5 s), so the figures are the engine's.

    .venv/bin/python bench/orchestration.py [--runs 3] [--driver auto|container|fake]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.functional.orchestration.templates import FULL_STACK
from tests.support.server import new_cloud


def wait_stack(conn: Any, name: str, stack_id: str, timeout: float = 600) -> str:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        shown = conn.orchestration.get(f"/stacks/{name}/{stack_id}?resolve_outputs=False").json()
        status = shown["stack"]["stack_status"]
        if not status.endswith("IN_PROGRESS"):
            return str(status)
        time.sleep(0.05)
    raise RuntimeError("timed out")


def stack_create(conn: Any, template: Any) -> tuple[float, float]:
    """Seconds to CREATE_COMPLETE, then to DELETE_COMPLETE."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    answer = conn.orchestration.post("/stacks", json={"stack_name": name, "template": template})
    stack_id = answer.json()["stack"]["id"]
    status = wait_stack(conn, name, stack_id)
    created = time.monotonic() - began
    if status != "CREATE_COMPLETE":
        raise RuntimeError(status)
    began = time.monotonic()
    conn.orchestration.delete(f"/stacks/{name}/{stack_id}")
    status = wait_stack(conn, name, stack_id)
    if status != "DELETE_COMPLETE":
        raise RuntimeError(status)
    return created, time.monotonic() - began


def one_by_one(conn: Any, cidr: str) -> tuple[float, float]:
    """The same resources through the APIs in a plain script; (create, delete) seconds."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    began = time.monotonic()
    public = conn.network.find_network("public")
    net = conn.network.create_network(name=name)
    subnet = conn.network.create_subnet(network_id=net.id, cidr=cidr, ip_version=4, name=name)
    router = conn.network.create_router(name=name, external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    group = conn.network.create_security_group(name=name)
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="icmp", ethertype="IPv4"
    )
    conn.network.create_security_group_rule(
        security_group_id=group.id,
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        ethertype="IPv4",
    )
    port = conn.network.create_port(network_id=net.id, security_group_ids=[group.id], name=name)
    image = conn.image.find_image("onestack-busybox")
    flavor = conn.compute.find_flavor("m1.nano")
    server = conn.compute.create_server(
        name=name,
        image_id=image.id,
        flavor_id=flavor.id,
        networks=[{"port": port.id}],
        user_data="IyEvYmluL3NoCmVjaG8gaGVsbG8K",
    )
    volume = conn.block_storage.create_volume(size=1, name=name)
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    server = conn.compute.wait_for_server(server, interval=0.05, wait=600)
    conn.block_storage.wait_for_status(volume, "available", interval=0.05, wait=600)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", interval=0.05, wait=600)
    created = time.monotonic() - began
    began = time.monotonic()
    conn.compute.delete_volume_attachment(server, volume.id)
    conn.block_storage.wait_for_status(volume, "available", interval=0.05, wait=600)
    conn.block_storage.delete_volume(volume)
    conn.network.delete_ip(fip)
    conn.compute.delete_server(server)
    conn.compute.wait_for_delete(server, interval=0.05, wait=600)
    conn.block_storage.wait_for_delete(volume, interval=0.05, wait=600)
    conn.network.delete_port(port)
    conn.network.delete_security_group(group)
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    return created, time.monotonic() - began


def many(count: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for index in range(count):
        if index % 2:
            resources[f"r{index}"] = {
                "type": "OS::Heat::RandomString",
                "properties": {"length": 16},
            }
        else:
            resources[f"r{index}"] = {
                "type": "OS::Heat::TestResource",
                "properties": {"value": "x"},
            }
    return {"heat_template_version": "2018-08-31", "resources": resources}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--driver", choices=("auto", "container", "fake"), default="auto")
    args = parser.parse_args()
    real = args.driver == "container" or (
        args.driver == "auto" and os.geteuid() == 0 and shutil.which("runc") is not None
    )
    env = {
        "ONESTACK_COMPUTE__DRIVER": "container" if real else "fake",
        "ONESTACK_ORCHESTRATION__POLL_INTERVAL": "0.05",
    }
    if real:
        env.update(
            ONESTACK_NETWORK__DATA_PLANE="on",
            ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{random.randint(200, 249)}.0/24",
        )
    base = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    cloud = new_cloud(base, **env).start()
    try:
        conn = cloud.connect("demo", "demo")
        # warm up (the engine's first service token, first catalog look-ups): not counted
        stack_create(conn, many(2))
        stacked, scripted, many_create, many_delete = [], [], [], []
        stacked_delete, scripted_delete = [], []
        for run in range(args.runs):
            made, gone = stack_create(conn, FULL_STACK)
            stacked.append(made)
            stacked_delete.append(gone)
            made, gone = one_by_one(conn, f"10.72.{run}.0/24")
            scripted.append(made)
            scripted_delete.append(gone)
            made, gone = stack_create(conn, many(50))
            many_create.append(made)
            many_delete.append(gone)
        median = statistics.median
        print(
            f"machine: {platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, driver {'container' if real else 'fake'}, "
            f"runs {args.runs}"
        )
        print(
            f"full stack (10 resources) to CREATE_COMPLETE: median {median(stacked):.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in stacked)}); "
            f"delete {median(stacked_delete):.2f} s"
        )
        print(
            f"the same resources one by one through the APIs: median {median(scripted):.2f} s "
            f"(runs {', '.join(f'{v:.2f}' for v in scripted)}); "
            f"delete {median(scripted_delete):.2f} s"
        )
        per = median(many_create) / 50
        print(
            f"50 RandomString/TestResource resources: create median {median(many_create):.2f} s "
            f"({per * 1000:.1f} ms per resource), delete median {median(many_delete):.2f} s"
        )
    finally:
        cloud.stop()
        if real:
            from tests.e2e.compute.conftest import cleanup_containers

            cleanup_containers(cloud.state_dir)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
