"""Clouds as test fixtures on one host (root): two at once never break each other, `down`
and `down --purge` leave nothing of a cloud on the host, and `doctor --fix` removes what
a killed cloud whose state directory was deleted left, and nothing of a live one.

The clouds use the default range of `public` (they are not given one), so that the
second takes a free range of its own.  Everything is checked from the host: namespaces,
links, processes, mounts, loop devices and cgroups, found through the clouds' owner
records before the step under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from onestack import lifecycle
from onestack.common import owners
from onestack.network.drivers.linux import commands
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.root


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None
    if os.geteuid() != 0 or commands.missing_tools():
        return "needs root and the data-plane tools"
    if shutil.which("runc") is None:
        return "needs runc (scripts/install installs it)"
    return None


def _onestack(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestack", *args], capture_output=True, text=True,
        timeout=timeout, check=False,
    )  # fmt: skip


def _pong(address: str) -> bool:
    done = subprocess.run(["ping", "-c", "1", "-W", "1", address], capture_output=True)
    return done.returncode == 0


def _wait_pong(address: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not _pong(address):
        assert time.monotonic() < deadline, f"no answer from {address}"
        time.sleep(0.5)


@dataclass
class Placed:
    cloud: RunningCloud
    server_id: str
    address: str
    public: str


def _start(base: Path) -> RunningCloud:
    return new_cloud(
        base,
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_COMPUTE__VM_HOST="off",
        ONESTACK_NETWORK__DATA_PLANE="on",
        ONESTACK_NETWORK__RESYNC_INTERVAL="0.3",
        ONESTACK_VOLUME__POOL_FILESYSTEM="auto",
        ONESTACK_VOLUME__POOL_SIZE_GB="2",
    ).start(timeout=120)


def _network(conn: Any) -> tuple[Any, Any]:
    net = conn.network.create_network(name=unique("lc"))
    subnet = conn.network.create_subnet(network_id=net.id, cidr="10.77.0.0/24", ip_version=4)
    public = conn.network.find_network("public")
    router = conn.network.create_router(
        name=unique("lc"), external_gateway_info={"network_id": public.id}
    )
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    return net, public


def _boot(cloud: RunningCloud) -> Placed:
    conn = cloud.connect("demo", "demo")
    net, public = _network(conn)
    group = conn.network.find_security_group("default", project_id=conn.current_project_id)
    conn.network.create_security_group_rule(
        security_group_id=group.id, direction="ingress", protocol="icmp", ethertype="IPv4"
    )
    image = conn.image.find_image("onestack-busybox")
    flavor = conn.compute.find_flavor("m1.tiny")
    server = conn.compute.create_server(
        name=unique("lc"), image_id=image.id, flavor_id=flavor.id, networks=[{"uuid": net.id}]
    )
    server = conn.compute.wait_for_server(server, wait=180)
    # an attached volume: a loop device on a file inside the loop-mounted pool
    volume = conn.block_storage.create_volume(size=1, name=unique("lc"))
    conn.block_storage.wait_for_status(volume, "available", wait=60)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    conn.block_storage.wait_for_status(volume, "in-use", wait=60)
    port = next(iter(conn.network.ports(device_id=server.id)))
    fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
    subnet = next(iter(conn.network.subnets(network_id=public.id)))
    return Placed(cloud, server.id, fip.floating_ip_address, subnet.cidr)


def _trace(cloud: RunningCloud) -> lifecycle.Trace:
    owner = owners.read(cloud.state_dir)
    assert owner is not None, f"no owner record for {cloud.state_dir}"
    return lifecycle.trace(owner)


def _assert_gone(before: lifecycle.Trace, state_dir: Path) -> None:
    """Nothing of ``before`` is on the host, nor any mount or loop device of the cloud."""
    assert not set(before.namespaces) & commands.namespaces()
    assert not set(before.links) & commands.links()
    assert [p.pid for p in before.processes if lifecycle._exists(p.pid)] == []
    assert [c for c in before.cgroups if c.exists()] == []
    assert lifecycle._mounts(str(state_dir)) == []
    assert lifecycle._loops(str(state_dir)) == []
    assert owners.read(state_dir) is None


def _assert_everything_made(found: lifecycle.Trace, placed: Placed) -> None:
    assert any(n.startswith("osrtr-") for n in found.namespaces), found
    assert any(n.startswith("osdhcp-") for n in found.namespaces), found
    assert any(n.startswith("osvm-") for n in found.namespaces), found
    assert found.links, found
    assert placed.server_id in found.instances, found
    assert any(p.name == "dnsmasq" for p in found.processes), found
    assert found.mounts and found.cgroups, found
    assert len(found.loops) >= 2, found  # the pool's and the attached volume's


@pytest.fixture(scope="module")
def clouds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Placed]]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("lifecycle-e2e")
    started: list[RunningCloud] = []
    placed: dict[str, Placed] = {}
    try:
        first = _start(base)
        started.append(first)
        placed["a"] = _boot(first)
        second = _start(base)  # while the first runs
        started.append(second)
        placed["b"] = _boot(second)
        yield placed
    finally:
        for cloud in started:
            cloud.kill()
            if cloud.state_dir.exists():
                _onestack("down", "--purge", "--state-dir", str(cloud.state_dir))
        _onestack("doctor", "--fix", "--state-dir", str(base / "none"))


def test_two_clouds_take_their_own_public_ranges_and_both_answer(
    clouds: dict[str, Placed],
) -> None:
    a, b = clouds["a"], clouds["b"]
    assert a.public != b.public
    for placed in (a, b):
        notices = json.loads((placed.cloud.state_dir / "onestack.state.json").read_text())[
            "notices"
        ]
        if placed.public != "172.24.4.0/24":  # the default was taken: said, with the range
            assert any(placed.public in notice for notice in notices), notices
    _wait_pong(a.address)
    _wait_pong(b.address)


def test_a_cloud_given_a_range_in_use_refuses_to_start_naming_it_and_the_fix(
    clouds: dict[str, Placed], tmp_path: Path
) -> None:
    taken = clouds["b"].public
    cloud = new_cloud(
        tmp_path, ONESTACK_NETWORK__DATA_PLANE="on", ONESTACK_NETWORK__PUBLIC_CIDR=taken
    )
    with pytest.raises(RuntimeError) as caught:
        cloud.start(timeout=120)
    message = str(caught.value)
    assert f"{taken} (the range of the network `public`) is in use" in message, message
    assert "osx-" in message and "--public-cidr" in message, message
    assert owners.read(cloud.state_dir) is None  # it made nothing on the host


def test_doctor_fix_removes_what_a_killed_cloud_left_and_nothing_of_a_live_one(
    clouds: dict[str, Placed],
) -> None:
    a, b = clouds["a"], clouds["b"]
    killed = _trace(a.cloud)
    _assert_everything_made(killed, a)
    live = _trace(b.cloud)
    a.cloud.kill()
    shutil.rmtree(a.cloud.state_dir, ignore_errors=True)  # `rm -rf`, mounts and all
    assert set(killed.namespaces) <= commands.namespaces()  # still there: orphaned
    done = _onestack("doctor", "--fix", "--state-dir", str(b.cloud.state_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "whose state directory is gone" in done.stdout, done.stdout
    _assert_gone(killed, a.cloud.state_dir)
    # the live cloud keeps everything, and its floating IP answers
    assert set(live.namespaces) <= commands.namespaces()
    assert set(live.links) <= commands.links()
    assert all(lifecycle._exists(p.pid) for p in live.processes if p.instance)
    _wait_pong(b.address, 10)


def test_down_keeps_a_running_instance_and_says_what_stays(clouds: dict[str, Placed]) -> None:
    b = clouds["b"]
    before = _trace(b.cloud)
    done = _onestack("down", "--state-dir", str(b.cloud.state_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    b.cloud.process = None  # stopped by `down`
    assert b.server_id in done.stdout and "still run" in done.stdout, done.stdout
    assert "down --purge" in done.stdout
    assert all(lifecycle._exists(p.pid) for p in before.processes if p.instance)
    assert set(before.namespaces) <= commands.namespaces()
    _wait_pong(b.address, 10)


def test_purge_ends_the_instances_and_delete_state_leaves_nothing(
    clouds: dict[str, Placed],
) -> None:
    b = clouds["b"]
    before = _trace(b.cloud)
    assert before.instances == [b.server_id]
    done = _onestack("down", "--purge", "--delete-state", "--state-dir", str(b.cloud.state_dir))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"ended 1 instance(s): {b.server_id}" in done.stdout, done.stdout
    _assert_gone(before, b.cloud.state_dir)
    assert not b.cloud.state_dir.exists()
    assert not _pong(b.address)


def test_down_of_a_cloud_without_instances_leaves_nothing(
    clouds: dict[str, Placed], tmp_path: Path
) -> None:
    cloud = _start(tmp_path)
    try:
        conn = cloud.connect("demo", "demo")
        net, _ = _network(conn)
        port_ids = [p.id for p in conn.network.ports(network_id=net.id)]
        deadline = time.monotonic() + 30
        while True:
            before = _trace(cloud)
            if any(p.name == "dnsmasq" for p in before.processes) and len(before.namespaces) >= 4:
                break
            assert time.monotonic() < deadline, before
            time.sleep(0.3)
        assert before.instances == [] and before.links and before.mounts and before.loops
        done = _onestack("down", "--state-dir", str(cloud.state_dir))
        assert done.returncode == 0, done.stdout + done.stderr
        cloud.process = None
        assert "removed from the host" in done.stdout, done.stdout
        _assert_gone(before, cloud.state_dir)
        rules = subprocess.run(["iptables-save"], capture_output=True, text=True).stdout
        assert not [p for p in port_ids if p.replace("-", "")[:20] in rules]
        assert cloud.state_dir.is_dir()  # the cloud itself stays: `up` starts it again
    finally:
        cloud.kill()
        _onestack("down", "--purge", "--delete-state", "--state-dir", str(cloud.state_dir))
