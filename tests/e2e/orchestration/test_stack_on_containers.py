"""A full stack on real containers and the real data plane (root): the server boots, its
user_data signals a wait condition with curl (through the metadata address), and the
server answers ping on its floating IP.  Deleting the stack leaves nothing behind.

The default image has no real curl: its ``/usr/bin/curl`` is a small shim over busybox
``wget`` that understands the options Heat's ``curl_cli`` and signal scripts use.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.functional.orchestration import templates
from tests.functional.orchestration.helpers import openstack
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud

pytestmark = [pytest.mark.root, pytest.mark.cli]


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None
    if os.geteuid() != 0:
        return "needs root (containers, namespaces)"
    if shutil.which("runc") is None:
        return "needs runc (scripts/install installs it)"
    return None


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    from onestack.network.drivers.linux import commands as linux
    from onestack.network.drivers.linux.registry import Registry, registry_dir

    third = random.randint(200, 249)  # the network e2e tests take 100-199
    running = new_cloud(
        tmp_path_factory.mktemp("orchestration-e2e"),
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_NETWORK__DATA_PLANE="on",
        ONESTACK_NETWORK__PUBLIC_CIDR=f"172.24.{third}.0/24",
        ONESTACK_NETWORK__RESYNC_INTERVAL="0.3",
        ONESTACK_ORCHESTRATION__POLL_INTERVAL="0.2",
    )
    running.start()
    try:
        yield running
    finally:
        admin = running.connect("admin", "admin")
        for found in admin.orchestration.stacks():
            admin.orchestration.delete_stack(found)
        for server in list(admin.compute.servers(all_projects=True)):
            admin.compute.delete_server(server)
            admin.compute.wait_for_delete(server, wait=120)
        running.stop()
        from tests.e2e.compute.conftest import cleanup_containers

        cleanup_containers(running.state_dir)
        owned = Registry(registry_dir(running.state_dir)).names()
        for ns in set(linux.namespaces()) & owned:
            for pid in linux.pids_in(ns):
                subprocess.run(["kill", str(pid)], check=False)
            linux.delete_netns(ns)
        for link in linux.links() & owned:
            linux.ip("link", "del", link, check=False)


SIGNALLED = (
    templates.FULL_STACK.replace(
        """  user_data:
    type: string
    default: |
      #!/bin/sh
      echo hello from the stack
""",
        "",
    ).replace(
        """      user_data_format: RAW
      user_data: {get_param: user_data}
""",
        """      user_data_format: RAW
      user_data:
        str_replace:
          template: |
            #!/bin/sh
            wc_notify --data-binary '{"status": "SUCCESS", "data": "booted '$(hostname)'"}'
          params:
            wc_notify: {get_attr: [handle, curl_cli]}
  handle:
    type: OS::Heat::WaitConditionHandle
  wait:
    type: OS::Heat::WaitCondition
    depends_on: server
    properties:
      handle: {get_resource: handle}
      timeout: 120
""",
    )
    + """  signal:
    value: {get_attr: [wait, data]}
"""
)


def _pong(address: str) -> bool:
    return (
        subprocess.run(["ping", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0
    )


def test_stack_boots_signals_and_answers_ping(cloud: RunningCloud, tmp_path: Path) -> None:
    demo: Any = cloud.connect("demo", "demo")
    template = tmp_path / "stack.yaml"
    template.write_text(SIGNALLED)
    name = unique("e2e")
    started = time.monotonic()
    openstack(cloud, "stack", "create", "-t", str(template), "--wait", name, timeout=400)
    shown = openstack(cloud, "stack", "show", name, "-f", "json")
    took = time.monotonic() - started
    outputs = {o["output_key"]: o["output_value"] for o in shown["outputs"]}
    assert shown["stack_status"] == "CREATE_COMPLETE", shown["stack_status_reason"]
    # the instance's user_data script signalled the wait condition from inside
    assert "booted" in outputs["signal"], outputs["signal"]
    address = outputs["floating_ip"]
    deadline = time.monotonic() + 30
    while not _pong(address):
        assert time.monotonic() < deadline, f"no answer from {address} (stack took {took:.1f}s)"
        time.sleep(0.5)
    server_id = outputs["server_id"]
    openstack(cloud, "stack", "delete", "--yes", "--wait", name, timeout=300)
    assert demo.compute.find_server(server_id) is None
    assert not _pong(address)
    assert list(demo.network.ips()) == []
    assert [n for n in demo.network.networks() if n.project_id == demo.current_project_id] == []
