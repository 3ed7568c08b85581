"""Every ``openstack metric`` verb (gnocchiclient's CLI plugin), run in this process,
and one user story through the CLI as a subprocess."""

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

T0 = "2024-03-01T12:00:00"


def test_every_metric_verb(osc: Cli, gnocchi: Any) -> None:
    policy, rule, rtype = unique("cli-ap"), unique("cli-rule"), unique("cli-rt")
    created = osc.json(
        "metric", "archive-policy", "create", policy, "-d", "granularity:1s,points:60",
        "-d", "granularity:1m,timespan:1h", "-m", "mean", "-m", "max",
    )  # fmt: skip
    assert created["name"] == policy
    assert policy in osc("metric", "archive-policy", "list", "-f", "value", "-c", "name")
    assert osc.json("metric", "archive-policy", "show", policy)["back_window"] == 0
    osc("metric", "archive-policy", "update", policy, "-d", "granularity:1s,points:120",
        "-d", "granularity:1m,timespan:2h")  # fmt: skip
    osc("metric", "archive-policy-rule", "create", rule, "--archive-policy-name", policy,
        "--metric-pattern", f"{rule}.*")  # fmt: skip
    assert osc.json("metric", "archive-policy-rule", "show", rule)["metric_pattern"] == f"{rule}.*"
    assert rule in osc("metric", "archive-policy-rule", "list", "-f", "value", "-c", "name")

    osc("metric", "resource-type", "create", rtype, "-a", "host:string:true:max_length=64")
    osc("metric", "resource-type", "update", rtype, "-a", "rack:string:false")
    assert "attributes/rack" in osc.json("metric", "resource-type", "show", rtype)
    assert rtype in osc("metric", "resource-type", "list", "-f", "value", "-c", "name")

    rid = str(uuid.uuid4())
    resource = osc.json("metric", "resource", "create", rid, "--type", rtype,
                        "-a", "host:node1", "-n", f"{rule}.cpu")  # fmt: skip
    assert resource["host"] == "node1"
    osc("metric", "resource", "update", rid, "--type", rtype, "-a", "host:node2")
    assert osc.json("metric", "resource", "show", rid, "--type", rtype)["host"] == "node2"
    assert len(osc.json("metric", "resource", "history", rid, "--type", rtype)) == 2
    listed = osc.json("metric", "resource", "list", "--type", rtype)
    assert [r["id"] for r in listed] == [rid]
    found = osc.json("metric", "resource", "search", "--type", rtype, "host=node2")
    assert [r["id"] for r in found] == [rid]

    metric = osc.json("metric", "create", "--archive-policy-name", policy, unique("free"))
    assert osc.json("metric", "show", metric["id"])["archive_policy/name"] == policy
    assert metric["id"] in osc("metric", "list", "-f", "value", "-c", "id")
    osc("metric", "measures", "add", metric["id"], "-m", f"{T0}@5", "-m", f"{T0}Z@7")
    named = f"{rule}.cpu"
    osc("metric", "measures", "add", named, "--resource-id", rid, "-m", f"{T0}@1")
    batch = {metric["id"]: [{"timestamp": "2024-03-01T12:00:01", "value": 9}]}
    osc("metric", "measures", "batch-metrics", _json_file(batch))
    per_resource = {rid: {named: [{"timestamp": "2024-03-01T12:00:02", "value": 3}]}}
    osc("metric", "measures", "batch-resources-metrics", _json_file(per_resource))
    shown = osc.json("metric", "measures", "show", metric["id"], "--granularity", "1")
    assert [m["value"] for m in shown] == [7.0, 9.0]
    mean = osc.json("metric", "measures", "show", named, "--resource-id", rid,
                    "--granularity", "60")  # fmt: skip
    assert [m["value"] for m in mean] == [2.0]
    across = osc.json("metric", "measures", "aggregation", "-m", metric["id"], "--granularity", "1")
    assert [m["value"] for m in across] == [7.0, 9.0]
    aggregates = osc.json("metric", "aggregates", f"(aggregate max (metric {named} mean))",
                          f"id={rid}", "--resource-type", rtype, "--granularity", "1")  # fmt: skip
    assert [m["value"] for m in aggregates] == [1.0, 3.0]

    assert "aggregation_methods" in osc("metric", "capabilities", "list")
    assert osc.json("metric", "status")["storage/total number of measures to process"] == 0
    assert "version" in osc("metric", "server", "version")

    osc("metric", "delete", metric["id"])
    osc("metric", "resource", "delete", rid)
    other = str(uuid.uuid4())
    osc("metric", "resource", "create", other, "--type", rtype, "-a", "host:gone")
    assert "1" in osc("metric", "resource", "batch", "delete", "host=gone", "--type", rtype)
    osc("metric", "resource-type", "delete", rtype)
    osc("metric", "archive-policy-rule", "delete", rule)
    for leftover in gnocchi.metric.list():
        if leftover["archive_policy"]["name"] == policy:
            gnocchi.metric.delete(leftover["id"])
    osc("metric", "archive-policy", "delete", policy)
    error = osc("metric", "archive-policy", "show", policy, check=False)
    assert "does not exist" in error


def _json_file(data: Any) -> str:
    """gnocchiclient's batch verbs read a file; ``-`` would be this process's stdin."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"onestack-batch-{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(data))
    return str(path)


@pytest.mark.cli
def test_cli_story_records_and_reads_a_measure(cloud: RunningCloud) -> None:
    """The CLI as users run it: create a metric, add a measure, read it back."""
    command = [str(Path(sys.executable).with_name("openstack")), "--os-cloud", "onestack-demo"]
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(cloud.clouds_yaml)}

    def run(*args: str) -> Any:
        done = subprocess.run([*command, *args, "-f", "json"], capture_output=True, text=True,
                              env=env, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    metric = run("metric", "create", "--archive-policy-name", "medium", unique("story"))
    subprocess.run([*command, "metric", "measures", "add", metric["id"], "-m", f"{T0}@42"],
                   check=True, env=env, timeout=120, capture_output=True)  # fmt: skip
    measures = run("metric", "measures", "show", metric["id"], "--aggregation", "max")
    assert [(m["granularity"], m["value"]) for m in measures] == [(3600.0, 42.0), (60.0, 42.0)]
    subprocess.run([*command, "metric", "delete", metric["id"]], check=True, env=env,
                   timeout=120, capture_output=True)  # fmt: skip
