"""User stories with the `openstack` CLI as a subprocess (python-openstackclient)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.functional.network.helpers import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli


def openstack(
    cloud: RunningCloud, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack", *args]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def test_network_subnet_router_story(cloud: RunningCloud) -> None:
    name = unique("cli")
    net = as_json(openstack(cloud, "network", "create", name, "--tag", "cli", "-f", "json"))
    try:
        sub = as_json(openstack(
            cloud, "subnet", "create", name, "--network", name, "--subnet-range",
            "10.77.0.0/24", "--dns-nameserver", "192.0.2.53", "-f", "json",
        ))  # fmt: skip
        assert sub["gateway_ip"] == "10.77.0.1" and sub["dns_nameservers"] == ["192.0.2.53"]
        openstack(cloud, "router", "create", name, "--external-gateway", "public")
        openstack(cloud, "router", "add", "subnet", name, name)
        shown = as_json(openstack(cloud, "router", "show", name, "-f", "json"))
        assert shown["external_gateway_info"]["network_id"]
        listed = as_json(openstack(cloud, "network", "list", "--tags", "cli", "-f", "json"))
        assert net["id"] in {n["ID"] for n in listed}
        failed = openstack(cloud, "network", "delete", name, check=False)
        assert failed.returncode != 0
        openstack(cloud, "router", "remove", "subnet", name, name)
        openstack(cloud, "router", "delete", name)
    finally:
        openstack(cloud, "network", "delete", name, check=False)
    assert openstack(cloud, "network", "show", name, check=False).returncode != 0


def test_security_group_story(cloud: RunningCloud) -> None:
    name = unique("cli-sg")
    openstack(cloud, "security", "group", "create", name)
    try:
        rule = as_json(openstack(
            cloud, "security", "group", "rule", "create", name, "--protocol", "tcp",
            "--dst-port", "22", "--remote-ip", "0.0.0.0/0", "-f", "json",
        ))  # fmt: skip
        assert rule["port_range_min"] == 22 and rule["protocol"] == "tcp"
        rules = as_json(openstack(cloud, "security", "group", "rule", "list", name, "-f", "json"))
        assert len(rules) == 3
    finally:
        openstack(cloud, "security", "group", "delete", name)
