"""A controller and simulated hosts for tests: ``onestack.cluster`` on PostgreSQL and a
RabbitMQ vhost of the test's own, with liveness timers short enough for tests.

``running_cluster`` builds and tears down the whole cluster (processes, namespaces,
instances, the database, the vhost) also when the test fails; it skips with a reason
when PostgreSQL, RabbitMQ or root are missing.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest

from onestack.cluster import Cluster, ClusterState, HostSpec
from tests.support.databases import postgres_database, rabbitmq_vhost
from tests.support.server import SERVICE_NAMES, free_ports

T = TypeVar("T")

#: heartbeats every second; down after 6 s (OpenStack's defaults are 10/60 and 30/75)
FAST_LIVENESS = {
    "ONESTACK_COMPUTE__HEARTBEAT_INTERVAL": "1",
    "ONESTACK_COMPUTE__SERVICE_DOWN_TIME": "6",
    "ONESTACK_COMPUTE__SYNC_POWER_STATE_INTERVAL": "3",
    "ONESTACK_NETWORK__REPORT_INTERVAL": "1",
    "ONESTACK_NETWORK__AGENT_DOWN_TIME": "6",
    "ONESTACK_NETWORK__RESYNC_INTERVAL": "1",
    "ONESTACK_LOG_LEVEL": "info",
}
DOWN_TIME = 6.0


@dataclass
class RunningCluster:
    cluster: Cluster
    state: ClusterState
    admin_password: str

    @property
    def auth_url(self) -> str:
        return self.state.endpoints["identity"] + "/v3"

    def connect(self) -> Any:
        import openstack

        return openstack.connect(
            auth_url=self.auth_url, username="admin", password=self.admin_password,
            project_name="admin", user_domain_id="default", project_domain_id="default",
            region_name="RegionOne", identity_api_version="3",
        )  # fmt: skip

    def host(self, name: str) -> dict[str, Any]:
        return next(h for h in self.cluster.state.hosts if h["name"] == name)

    def sh(self, netns: str, command: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        """Run ``command`` with busybox's tools in a namespace of the cluster."""
        return subprocess.run(
            ["nsenter", f"--net=/run/netns/{netns}", "--", "sh", "-c", command],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def ping(self, netns: str, address: str) -> bool:
        return self.sh(netns, f"ping -c 1 -W 1 {address}").returncode == 0


def wait_for(what: str, check: Callable[[], T], timeout: float = 60.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout} seconds")
        time.sleep(0.2)


@contextmanager
def running_cluster(
    base: Path, hosts: list[HostSpec], driver: str = "container", **env: str
) -> Iterator[RunningCluster]:
    if os.geteuid() != 0:
        pytest.skip("simulated hosts need root (network namespaces)")
    password = f"admin-{uuid.uuid4().hex[:12]}"
    with postgres_database() as db_url, rabbitmq_vhost() as bus_url:
        ports = dict(zip(SERVICE_NAMES, free_ports(len(SERVICE_NAMES)), strict=True))
        environment = {
            **FAST_LIVENESS,
            "ONESTACK_ADMIN_PASSWORD": password,
            "ONESTACK_DEMO_PASSWORD": f"demo-{uuid.uuid4().hex[:12]}",
            "ONESTACK_VOLUME__POOL_FILESYSTEM": "directory",
            **env,
        }
        cluster = Cluster(base / f"cluster-{uuid.uuid4().hex[:6]}")
        try:
            state = cluster.up(hosts, db_url, bus_url, ports=ports, driver=driver, env=environment)
            yield RunningCluster(cluster, state, password)
        finally:
            cluster.down()
