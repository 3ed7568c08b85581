"""OS::Aodh resources in a stack: created as the stack's owner, changed in place,
deleted with the stack."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from tests.support.cli import Cli
from tests.support.names import unique

TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  threshold:
    type: number
resources:
  alarm:
    type: OS::Aodh::GnocchiResourcesAlarm
    properties:
      metric: cpu
      resource_id: %s
      resource_type: instance
      aggregation_method: mean
      granularity: 300
      threshold: {get_param: threshold}
      comparison_operator: gt
      severity: critical
      alarm_actions: [http://192.0.2.7/scale]
outputs:
  alarm_id:
    value: {get_resource: alarm}
"""


def test_an_alarm_lives_and_dies_with_its_stack(osc: Cli, alarms_demo: Any, tmp_path: Path) -> None:
    template = tmp_path / "alarm.yaml"
    template.write_text(TEMPLATE % uuid.uuid4())
    name = unique("alarm-stack")
    demo = {"cloud_name": "onestack-demo"}
    osc("stack", "create", "-t", str(template), "--parameter", "threshold=50", "--wait", name,
        **demo)  # fmt: skip
    alarm_id = osc.json("stack", "output", "show", name, "alarm_id", **demo)["output_value"]
    alarm = alarms_demo.alarm.get(alarm_id)
    assert alarm["name"].startswith(f"{name}-alarm-")
    assert alarm["repeat_actions"] is True and alarm["severity"] == "critical"
    assert alarm["gnocchi_resources_threshold_rule"]["threshold"] == 50.0
    osc("stack", "update", "--existing", "--parameter", "threshold=70", "--wait", name, **demo)
    changed = alarms_demo.alarm.get(alarm_id)  # changed in place: the same alarm
    assert changed["gnocchi_resources_threshold_rule"]["threshold"] == 70.0
    types = osc("orchestration", "resource", "type", "list", "-f", "value", **demo)
    assert "OS::Aodh::GnocchiAggregationByResourcesAlarm" in types
    osc("stack", "delete", "--yes", "--wait", name, **demo)
    assert alarm_id not in {a["alarm_id"] for a in alarms_demo.alarm.list()}
