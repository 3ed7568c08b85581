"""User stories with the `openstack` CLI as a subprocess (python-openstackclient)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.functional.volume.conftest import unique
from tests.support.server import RunningCloud

pytestmark = pytest.mark.cli


def openstack(
    cloud: RunningCloud, *args: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    command = [
        str(Path(sys.executable).with_name("openstack")),
        "--os-cloud",
        "onestack-demo",
        *args,
    ]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def _wait(demo: Any, volume_id: str) -> None:
    for _ in range(300):
        if demo.block_storage.get_volume(volume_id).status == "available":
            return
        time.sleep(0.1)
    raise AssertionError(f"{volume_id} never became available")


def test_volume_story(cloud: RunningCloud, demo: Any) -> None:
    name = unique("cli-vol")
    created = as_json(openstack(cloud, "volume", "create", "--size", "1", "--property",
                                "tier=gold", name, "-f", "json"))  # fmt: skip
    volume_id = created["id"]
    snap: dict[str, Any] = {"id": ""}
    try:
        _wait(demo, volume_id)
        listed = as_json(openstack(cloud, "volume", "list", "-f", "json"))
        assert name in {v["Name"] for v in listed}
        shown = as_json(openstack(cloud, "volume", "show", name, "-f", "json"))
        assert shown["size"] == 1 and shown["status"] == "available"
        assert shown["properties"] == {"tier": "gold"}
        snap = as_json(openstack(cloud, "volume", "snapshot", "create", "--volume", name,
                                 unique("cli-snap"), "-f", "json"))  # fmt: skip
        for _ in range(300):
            if demo.block_storage.get_snapshot(snap["id"]).status == "available":
                break
            time.sleep(0.1)
        refused = openstack(cloud, "volume", "delete", name, check=False)
        assert refused.returncode != 0 and "snapshots" in refused.stderr
        openstack(cloud, "volume", "snapshot", "delete", snap["id"])
        quota = as_json(openstack(cloud, "quota", "show", "--volume", "-f", "json"))
        limits = {row["Resource"]: row["Limit"] for row in quota}
        assert limits["volumes"] == 10 and limits["per-volume-gigabytes"] == -1
    finally:
        for _ in range(100):
            if (
                not snap["id"]
                or demo.block_storage.find_snapshot(snap["id"], ignore_missing=True) is None
            ):
                break
            time.sleep(0.1)
        openstack(cloud, "volume", "delete", volume_id, check=False)
