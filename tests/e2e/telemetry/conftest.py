"""Metering of real containers on the real data plane (root).

One cloud for the package: the container driver, the network data plane, a poll
every two seconds and Ceilometer's "high" archive policies (one-second
granularity), so measures show up within seconds.  Everything it makes is
removed afterwards, also when a test fails.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.functional.telemetry.conftest import client
from tests.support.cli import Cli
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.root

POLL = 2.0


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None
    if os.geteuid() != 0:
        return "needs root (containers and the network data plane)"
    if shutil.which("runc") is None:
        return "needs runc (scripts/install installs it)"
    return None


@dataclass
class Metering:
    cloud: RunningCloud
    admin: Any  # openstacksdk
    gnocchi: Any  # gnocchiclient as admin
    cli: Cli

    def runc(self, *args: str) -> subprocess.CompletedProcess[str]:
        root = self.cloud.state_dir / "compute" / "runc"
        return subprocess.run(
            ["runc", "--root", str(root), *args], capture_output=True, text=True, timeout=30
        )

    def start_in(self, server_id: str, command: str) -> int:
        """Start ``command`` in the server's container (its cgroups), detached."""
        root = self.cloud.state_dir / "compute" / "runc"
        return subprocess.run(
            ["runc", "--root", str(root), "exec", "-d", server_id, "sh", "-c", command],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=30,
        ).returncode  # fmt: skip

    def inside(self, server_id: str, command: str) -> subprocess.CompletedProcess[str]:
        """A command in the server's network namespace (its own network stack)."""
        return subprocess.run(
            ["nsenter", f"--net=/run/netns/osvm-{server_id}", "--", "sh", "-c", command],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip


@pytest.fixture(scope="package")
def metering(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Metering]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from tests.e2e.compute.conftest import cleanup_containers
    from tests.e2e.network.conftest import _delete_everything, onestack_namespaces

    before = onestack_namespaces()
    cloud = new_cloud(
        tmp_path_factory.mktemp("metering-e2e"),
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_NETWORK__DATA_PLANE="on",
        ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{random.randint(100, 199)}.0/24",
        ONESTACK_TELEMETRY__POLL_INTERVAL=str(POLL),
        ONESTACK_TELEMETRY__ARCHIVE_POLICY="ceilometer-high",
        ONESTACK_TELEMETRY__ARCHIVE_POLICY_RATE="ceilometer-high-rate",
        ONESTACK_ALARMING__EVALUATION_INTERVAL="1",
        # alarms at the one-second granularity see polls two seconds apart: a window
        # of granularity x (periods + 1) seconds is widened to hold enough of them
        ONESTACK_ALARMING__ADDITIONAL_INGESTION_LAG="8",
    ).start()
    plane = Metering(cloud, cloud.connect("admin", "admin"), client(cloud, "admin", "admin"),
                     Cli(cloud))  # fmt: skip
    try:
        yield plane
    finally:
        try:
            _delete_everything(plane)
        finally:
            cloud.stop()
            cleanup_containers(cloud.state_dir)
            _remove_namespaces(cloud.state_dir, before)


def _remove_namespaces(state_dir: Path, before: set[str]) -> None:
    from onestack.network.drivers.linux import commands as linux
    from onestack.network.drivers.linux.registry import Registry, registry_dir
    from tests.e2e.network.conftest import onestack_namespaces

    owned = Registry(registry_dir(state_dir)).names()
    for ns in (onestack_namespaces() - before) & owned:
        for pid in linux.pids_in(ns):
            subprocess.run(["kill", str(pid)], check=False)
        linux.delete_netns(ns)
    for link in linux.links() & owned:
        linux.ip("link", "del", link, check=False)


def boot(plane: Metering, name: str, network_id: str) -> Any:
    image = plane.admin.image.find_image("onestack-busybox")
    server = plane.admin.compute.create_server(
        name=name, image_id=image.id, flavor_id="42", networks=[{"uuid": network_id}],
        metadata={"metering.server_group": name.rsplit("-", 1)[0]},
    )  # fmt: skip
    return plane.admin.compute.wait_for_server(server, interval=0.2, wait=120)


def as_json(text: str) -> Any:
    return json.loads(text)
