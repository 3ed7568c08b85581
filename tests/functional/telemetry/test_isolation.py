"""Tenant isolation: a project sees its own resources, metrics and measures, and those
a service created for it (``project_id``), never another project's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from gnocchiclient import exceptions as gexc

T0 = 1_700_000_040


def _project_of(client: Any) -> str:
    created = client.metric.create({"archive_policy_name": "low"})
    client.metric.delete(created["id"])
    return str(created["created_by_project_id"])


def test_projects_see_only_their_own(gnocchi: Any, gnocchi_demo: Any) -> None:
    demo_project = _project_of(gnocchi_demo)
    mine = gnocchi_demo.resource.create(
        "generic", {"id": str(uuid.uuid4()), "metrics": {"m": {"archive_policy_name": "low"}}}
    )
    theirs = gnocchi.resource.create(
        "generic", {"id": str(uuid.uuid4()), "project_id": "someone-else",
                    "metrics": {"m": {"archive_policy_name": "low"}}},
    )  # fmt: skip
    for_demo = gnocchi.resource.create(  # as Ceilometer records a tenant's resource
        "generic", {"id": str(uuid.uuid4()), "project_id": demo_project,
                    "metrics": {"m": {"archive_policy_name": "low"}}},
    )  # fmt: skip
    try:
        gnocchi.metric.add_measures(
            "m", [{"timestamp": T0, "value": 7}], resource_id=for_demo["id"]
        )
        visible = {r["id"] for r in gnocchi_demo.resource.list("generic")}
        assert mine["id"] in visible and for_demo["id"] in visible
        assert theirs["id"] not in visible
        searched = {r["id"] for r in gnocchi_demo.resource.search(query={"=": {"type": "generic"}})}
        assert theirs["id"] not in searched and for_demo["id"] in searched
        with pytest.raises(gexc.ResourceNotFound):
            gnocchi_demo.resource.get("generic", theirs["id"])
        with pytest.raises(gexc.ResourceNotFound):
            gnocchi_demo.resource.update("generic", theirs["id"], {"user_id": "x"})
        their_metric = theirs["metrics"]["m"]
        with pytest.raises(gexc.MetricNotFound):
            gnocchi_demo.metric.get(their_metric)
        with pytest.raises(gexc.MetricNotFound):
            gnocchi_demo.metric.get_measures(their_metric)
        with pytest.raises(gexc.NotFound):
            gnocchi_demo.aggregates.fetch(["metric", their_metric, "mean"])
        with pytest.raises(gexc.ClientException) as raised:
            gnocchi_demo.metric.batch_metrics_measures({their_metric: []})
        assert raised.value.code in (403, 404)
        assert their_metric not in {m["id"] for m in gnocchi_demo.metric.list()}
        assert gnocchi_demo.metric.get_measures("m", resource_id=for_demo["id"])[0][2] == 7
        grouped = gnocchi_demo.aggregates.fetch(
            ["metric", "m", "mean"], search={"=": {"type": "generic"}}, resource_type="generic",
            needed_overlap=0,
        )  # fmt: skip
        assert theirs["id"] not in grouped["measures"]
        assert gnocchi_demo.resource.batch_delete({"=": {"id": theirs["id"]}}) == {"deleted": 0}
        admin_view = {r["id"] for r in gnocchi.resource.list("generic")}
        assert {mine["id"], theirs["id"], for_demo["id"]} <= admin_view
    finally:
        for resource in (mine, theirs, for_demo):
            gnocchi.resource.delete(resource["id"])
