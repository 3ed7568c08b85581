"""Two controllers on one PostgreSQL database and one RabbitMQ vhost serve one cloud.

Controller A starts first; controller B starts on other ports from a copy of A's
key repositories and secrets (Fernet and credential keys, the generated
passwords: as Keystone's keys are distributed to every node); the image and
object stores are the same directories (shared storage, as Glance's file store on
NFS).  One compute host (fake driver) joins with A's join token.
Clients of both controllers create and delete networks, ports, security groups
and servers at the same time; no request gets a 5xx, and afterwards both
controllers list exactly the records that were created and not deleted, each
once.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support.databases import postgres_database, rabbitmq_vhost
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.rabbitmq

ROOT = Path(__file__).resolve().parents[3]
SERVICES = ("compute", "network", "image", "volume")


@pytest.fixture(scope="module")
def controllers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningCloud, ...]]:
    base = tmp_path_factory.mktemp("controllers")
    with postgres_database() as db_url, rabbitmq_vhost() as bus_url:
        env = {"ONESTACK_BUS_URL": bus_url, "ONESTACK_CONTROLLER": "true"}
        first = new_cloud(base, db_url, **env, ONESTACK_COMPUTE__HOST="controller-a")
        second = new_cloud(base, db_url, **env, ONESTACK_COMPUTE__HOST="controller-b")
        second.admin_password, second.demo_password = first.admin_password, first.demo_password
        host: subprocess.Popen[bytes] | None = None
        try:
            first.start(timeout=120)
            second.state_dir.mkdir(parents=True)
            for keys in ("fernet-keys", "credential-keys", "secrets"):
                shutil.copytree(first.state_dir / keys, second.state_dir / keys)
            for shared in ("images", "object"):  # stores on shared storage (NFS, say)
                (second.state_dir / shared).symlink_to(first.state_dir / shared)
            second.start(timeout=120)
            host = _join(first, base / "host")
            yield first, second
        finally:
            if host is not None:
                host.terminate()
                host.wait(30)
            second.stop()
            first.stop()


def _join(controller: RunningCloud, state: Path) -> subprocess.Popen[bytes]:
    state.mkdir()
    env = {**os.environ, "ONESTACK_NETWORK__DATA_PLANE": "off", "ONESTACK_LOG_LEVEL": "info"}
    argv = [
        sys.executable, "-m", "onestack", "host", "join", "--token-file",
        str(controller.state_dir / "join-token"), "--name", "fake-1", "--roles", "compute",
        "--state-dir", str(state), "--driver", "fake",
    ]  # fmt: skip
    with open(state / "host.log", "wb") as log:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while not (state / "host.state.json").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("the host did not join:\n" + (state / "host.log").read_text())
        time.sleep(0.05)
    return process


def _connect(cloud: RunningCloud) -> Any:
    """A client of this controller alone (every service's endpoint is its own)."""
    import openstack

    overrides = {f"{s}_endpoint_override": cloud.url(s) for s in SERVICES}
    overrides["compute_endpoint_override"] = cloud.url("compute") + "/v2.1"
    overrides["volume_endpoint_override"] = cloud.url("volume") + "/v3"
    return openstack.connect(
        auth_url=cloud.auth_url, username="admin", password=cloud.admin_password,
        project_name="admin", user_domain_id="default", project_domain_id="default",
        region_name="RegionOne", identity_api_version="3", **overrides,
    )  # fmt: skip


def _work(conn: Any, tag: str, rounds: int) -> dict[str, set[str]]:
    """Creates and deletes; the names of what should remain and of what was deleted."""
    kept: set[str] = set()
    gone: set[str] = set()
    for index in range(rounds):
        name = f"{tag}-{index}"
        network = conn.network.create_network(name=name)
        conn.network.create_subnet(
            network_id=network.id, ip_version=4, cidr=f"10.{index + 1}.0.0/24", name=name
        )
        port = conn.network.create_port(network_id=network.id, name=name)
        group = conn.network.create_security_group(name=name)
        server = conn.compute.create_server(
            name=name, image_id=_image(conn), flavor_id="42", networks="none"
        )
        if index % 2:
            conn.network.delete_port(port)
            conn.network.delete_security_group(group)
            conn.compute.wait_for_server(server, interval=0.1, wait=60)
            conn.compute.delete_server(server)
            conn.compute.wait_for_delete(server, interval=0.1, wait=60)
            gone.add(name)
        else:
            kept.add(name)
    return {"kept": kept, "gone": gone}


def unlimited(conn: Any) -> None:
    """No compute or networking quota for the admin project (the load is larger)."""
    project = conn.current_project_id
    body = {"quota_set": {"instances": -1, "cores": -1, "ram": -1}}
    answer = conn.compute.put(f"/os-quota-sets/{project}", json=body)
    assert answer.status_code == 200, answer.text
    limits = {k: -1 for k in ("network", "subnet", "port", "security_group")}
    answer = conn.network.put(f"/quotas/{project}", json={"quota": limits})
    assert answer.status_code == 200, answer.text


_IMAGES: dict[int, str] = {}


def _image(conn: Any) -> str:
    if id(conn) not in _IMAGES:
        _IMAGES[id(conn)] = conn.image.find_image("onestack-busybox").id
    return _IMAGES[id(conn)]


def _names(items: Any, prefix: str) -> list[str]:
    return sorted(i.name for i in items if i.name and i.name.startswith(prefix))


def test_two_controllers_serve_one_cloud_under_concurrent_load(
    controllers: tuple[RunningCloud, RunningCloud],
) -> None:
    first, second = controllers
    conns = [_connect(first), _connect(second), _connect(first), _connect(second)]
    # a token one controller issued is good at the other
    token = conns[0].session.get_token()
    answer = conns[1].session.get(
        second.url("compute") + "/v2.1/flavors", headers={"X-Auth-Token": token}
    )
    assert answer.status_code == 200

    unlimited(conns[0])
    run = uuid.uuid4().hex[:6]
    with ThreadPoolExecutor(len(conns)) as pool:
        results = list(
            pool.map(lambda pair: _work(pair[1], f"two-{run}-{pair[0]}", 6), enumerate(conns))
        )  # any 5xx raises here, failing the test
    kept = set().union(*(r["kept"] for r in results))
    gone = set().union(*(r["gone"] for r in results))
    prefix = f"two-{run}-"
    for conn in conns[:2]:
        assert _names(conn.network.networks(), prefix) == sorted(kept | gone)
        assert _names(conn.network.ports(), prefix) == sorted(kept)
        assert _names(conn.network.security_groups(), prefix) == sorted(kept)
        assert _names(conn.compute.servers(), prefix) == sorted(kept)
    placed = {s.compute_host for s in conns[1].compute.servers() if s.name.startswith(prefix)}
    assert placed == {"fake-1"}
    services = {s.host for s in conns[0].compute.services(binary="nova-conductor")}
    assert services == {"controller-a", "controller-b"}
