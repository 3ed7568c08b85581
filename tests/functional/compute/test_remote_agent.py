"""A compute agent in a process of its own, as on another host.

The control plane is ``onestack up`` on a RabbitMQ vhost of this test's own;
the agent (``tests.support.compute_agent``, host ``remote-1``, fake driver,
its own state directory) shares nothing with it but the database, the bus and
the APIs: it fetches the image's bytes from the image API as the compute
service user, and reaches networking and volumes over the bus.  A server
forced onto it boots with a port and a volume, and its deletion releases both.

Needs RabbitMQ on 127.0.0.1:5672 and ``rabbitmqctl`` (root) to make the vhost,
so that no other cloud on the same broker can take this one's messages.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import RABBITMQ, reachable
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.rabbitmq

REMOTE = "remote-1"
ROOT = Path(__file__).resolve().parents[3]


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def bus_url() -> Iterator[str]:
    if not reachable(RABBITMQ):
        pytest.skip("RabbitMQ is not reachable on 127.0.0.1:5672")
    if shutil.which("rabbitmqctl") is None or os.geteuid() != 0:
        pytest.skip("making a RabbitMQ vhost of the test's own needs rabbitmqctl as root")
    vhost = f"onestack-test-{uuid.uuid4().hex[:10]}"
    _rabbitmqctl("add_vhost", vhost)
    try:
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory, bus_url: str) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("controller"),
        ONESTACK_BUS_URL=bus_url,
        ONESTACK_COMPUTE__DRIVER="fake",
    ).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def remote_state(
    controller: RunningCloud, tmp_path_factory: pytest.TempPathFactory, bus_url: str
) -> Iterator[Path]:
    """The agent's process; its state directory."""
    state = tmp_path_factory.mktemp("remote-host")
    ready = state / "ready"
    password = (controller.state_dir / "secrets" / "nova-password").read_text().strip()
    env = {
        **os.environ,
        "ONESTACK_STATE_DIR": str(state),
        "ONESTACK_DB_URL": f"sqlite:///{controller.state_dir / 'onestack.db'}",
        "ONESTACK_BUS_URL": bus_url,
        "ONESTACK_PORTS__IDENTITY": str(controller.ports["identity"]),
        "ONESTACK_COMPUTE__HOST": REMOTE,
        "ONESTACK_COMPUTE__DRIVER": "fake",
        "ONESTACK_COMPUTE__SERVICE_PASSWORD": password,
        "ONESTACK_LOG_LEVEL": "info",
        "ONESTACK_TEST_READY_FILE": str(ready),
    }
    with open(state / "agent.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.compute_agent"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "the remote agent did not start:\n" + (state / "agent.log").read_text()[-4000:]
                )
            time.sleep(0.05)
        yield state
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} seconds")
        time.sleep(0.1)


def _instances(state: Path, host: str) -> dict[str, Any]:
    path = state / "compute" / "fake" / f"{host}.json"
    return dict(json.loads(path.read_text() or "{}")) if path.exists() else {}


def test_a_remote_agent_boots_a_server_with_a_volume_and_a_port(
    controller: RunningCloud, remote_state: Path
) -> None:
    admin = controller.connect("admin", "admin")
    hypervisors = {h.name: h for h in admin.compute.hypervisors(details=True)}
    assert REMOTE in hypervisors and hypervisors[REMOTE].state == "up"

    name = f"remote-{uuid.uuid4().hex[:8]}"
    network = admin.network.create_network(name=name)
    admin.network.create_subnet(network_id=network.id, ip_version=4, cidr="10.66.0.0/24", name=name)
    volume = admin.block_storage.create_volume(size=1, name=name)
    admin.block_storage.wait_for_status(volume, "available", interval=0.1, wait=60)
    image = admin.image.find_image("onestack-busybox")
    server = admin.compute.create_server(
        name=name,
        image_id=image.id,
        flavor_id="42",
        networks=[{"uuid": network.id}],
        availability_zone=f"nova:{REMOTE}",
        block_device_mapping=[
            {
                "uuid": volume.id,
                "source_type": "volume",
                "destination_type": "volume",
                "boot_index": -1,
                "delete_on_termination": False,
            }
        ],
    )
    try:
        server = admin.compute.wait_for_server(server, interval=0.1, wait=60)
        assert (server.status, server.compute_host) == ("ACTIVE", REMOTE)

        # the remote agent's driver runs it; the control plane's own agent never saw it
        assert server.id in _instances(remote_state, REMOTE)
        assert all(server.id not in _instances(controller.state_dir, h) for h in hypervisors)

        # the port: allocated over the bus by the agent, bound to its host
        ports = list(admin.network.ports(device_id=server.id))
        assert [p.binding_host_id for p in ports] == [REMOTE]
        assert ports[0].network_id == network.id

        # the volume: reserved, connected and completed over the bus from the agent's host
        volume = admin.block_storage.get_volume(volume.id)
        assert volume.status == "in-use"
        assert [(a["server_id"], a["host_name"]) for a in volume.attachments] == [
            (server.id, REMOTE)
        ]

        # the image: its bytes streamed from the image API into the host's own cache
        cached = remote_state / "compute" / "images" / image.id
        assert hashlib.md5(cached.read_bytes(), usedforsecurity=False).hexdigest() == (
            image.checksum
        )
    finally:
        admin.compute.delete_server(server, ignore_missing=True)
        admin.compute.wait_for_delete(server, interval=0.1, wait=60)

    assert server.id not in _instances(remote_state, REMOTE)
    assert list(admin.network.ports(device_id=server.id)) == []
    _wait(
        "the volume available again",
        lambda: admin.block_storage.get_volume(volume.id).status == "available",
    )
    admin.block_storage.delete_volume(volume.id)
    admin.network.delete_network(network.id)
