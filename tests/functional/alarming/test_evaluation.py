"""The evaluator (every second) against real measures, and the actions it runs:
http, trust+http (a Keystone trust, scrubbed from answers), composite rules,
insufficient data, history and counters, and a project's alarm never reading
another project's resources."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from tests.functional.alarming.conftest import Receiver, aodh
from tests.functional.telemetry.conftest import client
from tests.support.names import unique
from tests.support.server import RunningCloud


def _resource(gnocchi: Any) -> str:
    created = gnocchi.resource.create(
        "generic",
        {"id": str(uuid.uuid4()), "metrics": {"load": {"archive_policy_name": "high"}}},
    )
    return str(created["id"])


def _push(gnocchi: Any, resource_id: str, *values: float) -> None:
    now = time.time()
    measures = [{"timestamp": now - len(values) + i, "value": v} for i, v in enumerate(values)]
    gnocchi.metric.add_measures("load", measures, resource_id=resource_id)


def _fed(gnocchi: Any, resource_id: str, values: tuple[float, ...], path: str) -> Any:
    """A ``Receiver.wait`` check for a call to ``path`` that keeps pushing ``values`` (as
    a poller would) so that they stay in the evaluation window however late it runs."""
    pushed = [0.0]

    def check(calls: list[Any]) -> list[Any]:
        if time.monotonic() - pushed[0] >= 0.5:
            _push(gnocchi, resource_id, *values)
            pushed[0] = time.monotonic()
        return [c for c in calls if c.path == path]

    return check


def _rule(resource_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "metric": "load", "resource_id": resource_id, "resource_type": "generic",
        "threshold": 50, "comparison_operator": "gt", "aggregation_method": "mean",
        "granularity": 1, "evaluation_periods": 2, **extra,
    }  # fmt: skip


def test_threshold_alarm_goes_to_alarm_and_back_to_ok(
    evaluating: RunningCloud, receiver: Receiver
) -> None:
    gnocchi = client(evaluating, "demo", "demo")
    alarms = aodh(evaluating, "demo", "demo")
    resource = _resource(gnocchi)
    tag = unique("th")
    alarm = alarms.alarm.create(
        {"name": tag, "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": _rule(resource),
         "alarm_actions": [receiver.url(f"/{tag}/alarm")],
         "ok_actions": [receiver.url(f"/{tag}/ok")]}
    )  # fmt: skip
    called = receiver.wait(_fed(gnocchi, resource, (70, 80, 90), f"/{tag}/alarm"))
    body = called[0].body
    assert body["alarm_id"] == alarm["alarm_id"] and body["current"] == "alarm"
    assert body["previous"] == "insufficient data" and body["severity"] == "low"
    assert body["reason_data"]["disposition"] == "outside"
    assert body["reason"].startswith("Transition to alarm due to 2 samples outside threshold")
    assert alarms.alarm.get(alarm["alarm_id"])["state"] == "alarm"
    receiver.wait(_fed(gnocchi, resource, (10, 20), f"/{tag}/ok"))
    history = alarms.alarm_history.get(alarm["alarm_id"])
    transitions = [json.loads(h["detail"]) for h in history if h["type"] == "state transition"]
    assert [t["state"] for t in transitions][:2] == ["ok", "alarm"]
    counters = alarms.metrics.get()["evaluation_results"]
    mine = [c for c in counters if c["alarm_id"] == alarm["alarm_id"]]
    assert mine and mine[0]["state_counters"]["alarm"] >= 1
    alarms.alarm.delete(alarm["alarm_id"])


def test_trust_action_acts_as_the_owner_and_the_trust_ends_with_the_alarm(
    evaluating: RunningCloud, receiver: Receiver
) -> None:
    gnocchi = client(evaluating, "demo", "demo")
    alarms = aodh(evaluating, "demo", "demo")
    resource = _resource(gnocchi)
    tag = unique("trust")
    alarm = alarms.alarm.create(
        {"name": tag, "type": "gnocchi_resources_threshold",
         "gnocchi_resources_threshold_rule": _rule(resource),
         "alarm_actions": [f"trust+{receiver.url(f'/{tag}')}"]}
    )  # fmt: skip
    assert alarm["alarm_actions"] == [f"trust+{receiver.url(f'/{tag}')}"]  # scrubbed
    called = receiver.wait(_fed(gnocchi, resource, (99, 99, 99), f"/{tag}"))
    token = {k.lower(): v for k, v in called[0].headers.items()}["x-auth-token"]
    admin_token = evaluating.connect("admin", "admin").auth_token
    checked = httpx.get(
        f"{evaluating.auth_url}/auth/tokens",
        headers={"X-Auth-Token": admin_token, "X-Subject-Token": token},
    )
    assert checked.status_code == 200, checked.text
    scoped = checked.json()["token"]
    assert scoped["user"]["id"] == alarm["user_id"]  # impersonation: the owner acts
    assert scoped["project"]["id"] == alarm["project_id"]
    trust_id = scoped["OS-TRUST:trust"]["id"]
    trusts = httpx.get(
        f"{evaluating.auth_url}/OS-TRUST/trusts/{trust_id}", headers={"X-Auth-Token": admin_token}
    )
    assert trusts.status_code == 200
    alarms.alarm.delete(alarm["alarm_id"])
    gone = httpx.get(
        f"{evaluating.auth_url}/OS-TRUST/trusts/{trust_id}", headers={"X-Auth-Token": admin_token}
    )
    assert gone.status_code == 404


def test_composite_and_insufficient_data(evaluating: RunningCloud, receiver: Receiver) -> None:
    gnocchi = client(evaluating, "admin", "admin")
    alarms = aodh(evaluating, "admin", "admin")
    resource = _resource(gnocchi)
    tag = unique("comp")
    composite = alarms.alarm.create(
        {"name": tag, "type": "composite",
         "composite_rule": {"or": [
             {"type": "gnocchi_resources_threshold", **_rule(str(uuid.uuid4()))},
             {"type": "gnocchi_resources_threshold", **_rule(resource, threshold=5)}]},
         "alarm_actions": [receiver.url(f"/{tag}"), "log://"]}
    )  # fmt: skip
    missing = alarms.alarm.create(
        {"name": f"{tag}-missing", "type": "gnocchi_resources_threshold", "state": "ok",
         "gnocchi_resources_threshold_rule": _rule(str(uuid.uuid4())),
         "insufficient_data_actions": [receiver.url(f"/{tag}/unknown")]}
    )  # fmt: skip
    called = receiver.wait(_fed(gnocchi, resource, (10, 10, 10), f"/{tag}"))
    assert called[0].body["reason_data"]["type"] == "composite"
    assert "rule2" in called[0].body["reason_data"]["causative_rules"]
    unknown = receiver.wait(lambda calls: [c for c in calls if c.path == f"/{tag}/unknown"])
    assert unknown[0].body["current"] == "insufficient data"
    assert unknown[0].body["previous"] == "ok"
    for alarm in (composite, missing):
        alarms.alarm.delete(alarm["alarm_id"])


def test_a_projects_alarm_never_reads_another_projects_resource(
    evaluating: RunningCloud, receiver: Receiver
) -> None:
    admin_gnocchi = client(evaluating, "admin", "admin")
    demo_alarms = aodh(evaluating, "demo", "demo")
    theirs = _resource(admin_gnocchi)  # admin's project, not demo's
    tag = unique("iso")
    alarm = demo_alarms.alarm.create(
        {"name": tag, "type": "gnocchi_resources_threshold", "state": "ok",
         "gnocchi_resources_threshold_rule": _rule(theirs),
         "alarm_actions": [receiver.url(f"/{tag}/alarm")],
         "insufficient_data_actions": [receiver.url(f"/{tag}/unknown")]}
    )  # fmt: skip
    # their measures stay current (above the threshold) all along
    receiver.wait(_fed(admin_gnocchi, theirs, (99, 99, 99), f"/{tag}/unknown"))
    feed = _fed(admin_gnocchi, theirs, (99, 99, 99), f"/{tag}/alarm")
    with pytest.raises(AssertionError):
        receiver.wait(feed, timeout=3)
    assert not [c for c in receiver.calls if c.path == f"/{tag}/alarm"]
    demo_alarms.alarm.delete(alarm["alarm_id"])
