"""The autoscaling story through ``openstack stack create``: an AutoScalingGroup of
container servers tagged ``metering.server_group``, two ScalingPolicies and two
OS::Aodh alarms on the group's CPU whose actions are ``trust+`` the policies'
signal URLs.  A load started inside the server grows the group to 2; the load
stopped shrinks it to 1; deleting the stack removes the alarms, their trusts and
the servers.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.telemetry.conftest import POLL, Metering
from tests.functional.alarming.conftest import aodh
from tests.functional.telemetry.stories import eventually

TEMPLATE = """
heat_template_version: 2018-08-31
parameters:
  high:
    type: number
  low:
    type: number
  net:
    type: string
resources:
  group:
    type: OS::Heat::AutoScalingGroup
    properties:
      min_size: 1
      max_size: 2
      cooldown: 15
      resource:
        type: OS::Nova::Server
        properties:
          image: onestack-busybox
          flavor: m1.nano
          networks: [{network: {get_param: net}}]
          metadata: {"metering.server_group": {get_param: "OS::stack_id"}}
  scale_up:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: group}
      scaling_adjustment: 1
  scale_down:
    type: OS::Heat::ScalingPolicy
    properties:
      adjustment_type: change_in_capacity
      auto_scaling_group_id: {get_resource: group}
      scaling_adjustment: -1
  cpu_high:
    type: OS::Aodh::GnocchiAggregationByResourcesAlarm
    properties:
      description: Scale up when the group's CPU is busy
      metric: cpu
      aggregation_method: rate:mean
      granularity: 1
      evaluation_periods: 2
      threshold: {get_param: high}
      comparison_operator: gt
      resource_type: instance
      alarm_actions:
        - str_replace:
            template: trust+url
            params:
              url: {get_attr: [scale_up, signal_url]}
      query:
        str_replace:
          template: '{"=": {"server_group": "stack_id"}}'
          params:
            stack_id: {get_param: "OS::stack_id"}
  cpu_low:
    type: OS::Aodh::GnocchiAggregationByResourcesAlarm
    properties:
      description: Scale down when the group's CPU is idle
      metric: cpu
      aggregation_method: rate:mean
      granularity: 1
      evaluation_periods: 3
      threshold: {get_param: low}
      comparison_operator: lt
      resource_type: instance
      alarm_actions:
        - str_replace:
            template: trust+url
            params:
              url: {get_attr: [scale_down, signal_url]}
      query:
        str_replace:
          template: '{"=": {"server_group": "stack_id"}}'
          params:
            stack_id: {get_param: "OS::stack_id"}
outputs:
  size:
    value: {get_attr: [group, current_size]}
"""


def _members(plane: Metering, stack_id: str) -> list[Any]:
    servers = plane.admin.compute.servers(details=True, all_projects=True)
    return [
        s
        for s in servers
        if (s.metadata or {}).get("metering.server_group") == stack_id and s.status == "ACTIVE"
    ]


def test_a_group_grows_on_real_cpu_load_and_shrinks_when_it_stops(
    metering: Metering, tmp_path: Path
) -> None:
    plane = metering
    template = tmp_path / "autoscaling.yaml"
    template.write_text(TEMPLATE)
    name = f"scaling-{uuid.uuid4().hex[:6]}"
    # rate:mean of the group's cpu is CPU nanoseconds per poll (POLL seconds): busy above
    # a tenth of a vCPU on average, idle under a fortieth
    high, low = 0.1e9 * POLL, 0.025e9 * POLL
    demo = plane.cloud.connect("demo", "demo")
    net = demo.network.create_network(name=name)
    demo.network.create_subnet(network_id=net.id, cidr="10.98.0.0/24", ip_version=4)
    plane.cli(
        "stack", "create", "-t", str(template), "--parameter", f"high={high}",
        "--parameter", f"low={low}", "--parameter", f"net={net.id}", "--wait", name,
        cloud_name="onestack-demo",
    )  # fmt: skip
    stack = plane.cli.json("stack", "show", name, cloud_name="onestack-demo")
    stack_id = stack["id"]
    assert stack["stack_status"] == "CREATE_COMPLETE"
    first = eventually(lambda: _members(plane, stack_id), timeout=60)
    assert len(first) == 1
    server = first[0]
    demo_alarms = aodh(plane.cloud, "demo", "demo")
    alarms = [a for a in demo_alarms.alarm.list() if a["name"].startswith(name)]
    assert len(alarms) == 2
    for alarm in alarms:
        action = alarm["alarm_actions"][0]
        assert action.startswith("trust+http") and "@" not in action  # the trust is hidden
    alarm_ids = {a["alarm_id"] for a in alarms}

    script = "echo $$ > /tmp/burner.pid; exec sh -c 'while :; do :; done'"
    assert plane.start_in(server.id, script) == 0
    grown = eventually(lambda: len(_members(plane, stack_id)) == 2, timeout=180)
    assert grown
    assert eventually(
        lambda: plane.cli.json("stack", "output", "show", name, "size",
                               cloud_name="onestack-demo")["output_value"] == 2,
        timeout=30,
    )  # fmt: skip

    stopped = plane.runc("exec", server.id, "sh", "-c", "kill $(cat /tmp/burner.pid)")
    assert stopped.returncode == 0, stopped.stderr
    shrunk = eventually(lambda: len(_members(plane, stack_id)) == 1, timeout=180)
    assert shrunk
    assert [s.id for s in _members(plane, stack_id)] == [server.id]  # the newest went

    aodh_user = plane.admin.identity.find_user("aodh")
    admin_token = plane.admin.auth_token
    plane.cli("stack", "delete", "--yes", "--wait", name, cloud_name="onestack-demo")
    assert eventually(lambda: not _members(plane, stack_id), timeout=60)
    remaining = {a["alarm_id"] for a in demo_alarms.alarm.list()}
    assert not (alarm_ids & remaining)
    trusts = httpx.get(
        f"{plane.cloud.auth_url}/OS-TRUST/trusts",
        params={"trustee_user_id": aodh_user.id},
        headers={"X-Auth-Token": admin_token},
    ).json()["trusts"]
    assert trusts == [], json.dumps(trusts)
    demo.network.delete_network(net)
