"""Every ``openstack alarm`` verb (aodhclient's CLI plugin), run in this process, and
one user story through the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import Cli
from tests.support.names import unique
from tests.support.server import RunningCloud


def test_every_alarm_verb(osc: Cli) -> None:
    name = f"cli_alarm_{uuid.uuid4().hex[:10]}"  # the CLI's query parser stops at "-"
    created = osc.json(
        "alarm", "create", "--name", name, "--type", "gnocchi_resources_threshold",
        "--metric", "cpu", "--resource-id", str(uuid.uuid4()), "--resource-type", "instance",
        "--threshold", "80", "--aggregation-method", "mean", "--comparison-operator", "gt",
        "--granularity", "300", "--evaluation-periods", "2", "--severity", "moderate",
        "--alarm-action", "log://",
    )  # fmt: skip
    alarm_id = created["alarm_id"]
    assert created["severity"] == "moderate" and created["granularity"] == 300
    assert alarm_id in osc("alarm", "list", "-f", "value", "-c", "alarm_id")
    assert osc.json("alarm", "list", "--query", f"name={name}")[0]["alarm_id"] == alarm_id
    assert osc.json("alarm", "show", alarm_id)["name"] == name
    osc("alarm", "update", alarm_id, "--threshold", "90", "--name", f"{name}-2")
    updated = osc.json("alarm", "show", alarm_id)
    assert updated["threshold"] == 90.0 and updated["name"] == f"{name}-2"
    assert osc.json("alarm", "state", "get", alarm_id)["state"] == "insufficient data"
    osc("alarm", "state", "set", "--state", "ok", alarm_id)
    assert osc.json("alarm", "state", "get", alarm_id)["state"] == "ok"
    history = osc.json("alarm-history", "show", alarm_id)
    assert {h["type"] for h in history} >= {"creation", "rule change", "state transition"}
    searched = osc.json("alarm-history", "search", "--query", f"alarm_id={alarm_id}")
    assert len(searched) == len(history)
    project = updated["project_id"]
    osc("alarm", "quota", "set", "--alarm", "50", project)
    quota = osc.json("alarm", "quota", "show", "--project", project)
    assert quota["alarms"] == 50
    osc("alarm", "quota", "set", "--alarm", "-1", project)
    # rows per evaluated alarm and state (this cloud evaluates once a minute)
    assert isinstance(osc.json("alarm", "metrics"), list)
    assert "alarms:query:complex" in osc("alarming", "capabilities", "list", "-f", "json")
    osc("alarm", "delete", alarm_id)
    assert "not found" in osc("alarm", "show", alarm_id, check=False)


@pytest.mark.cli
def test_cli_story_creates_and_reads_an_alarm(cloud: RunningCloud) -> None:
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack-demo"]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}

    def run(*args: str) -> Any:
        done = subprocess.run([*command, *args], capture_output=True, text=True, env=env,
                              timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip().startswith(("{", "[")) else None

    query = json.dumps({"=": {"server_group": "web"}})
    alarm = run(
        "alarm", "create", "--name", unique("story"),
        "--type", "gnocchi_aggregation_by_resources_threshold", "--metric", "cpu",
        "--resource-type", "instance", "--query", query, "--threshold", "1",
        "--aggregation-method", "rate:mean", "-f", "json",
    )  # fmt: skip
    shown = run("alarm", "show", alarm["alarm_id"], "-f", "json")
    assert shown["aggregation_method"] == "rate:mean"
    run("alarm", "delete", alarm["alarm_id"])
