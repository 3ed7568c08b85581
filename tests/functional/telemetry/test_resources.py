"""Resource types, resources, history and search through gnocchiclient."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from gnocchiclient import exceptions as gexc

from tests.support.names import unique


@pytest.fixture()
def rtype(gnocchi: Any) -> Iterator[str]:
    name = unique("rt")
    gnocchi.resource_type.create(
        {
            "name": name,
            "attributes": {
                "host": {"type": "string", "required": True, "max_length": 64},
                "size": {"type": "number", "required": False, "min": 0},
                "image": {"type": "uuid", "required": False},
                "on": {"type": "bool", "required": False},
            },
        }
    )
    yield name
    gnocchi.resource.batch_delete({"=": {"type": name}}, resource_type=name)
    gnocchi.resource_type.delete(name)


def test_ceilometer_resource_types_exist(gnocchi: Any) -> None:
    names = {t["name"] for t in gnocchi.resource_type.list()}
    assert {"generic", "instance", "instance_disk", "instance_network_interface", "volume",
            "image", "network", "swift_account"} <= names  # fmt: skip
    instance = gnocchi.resource_type.get("instance")
    assert instance["attributes"]["flavor_id"] == {
        "type": "string", "required": True, "min_length": 0, "max_length": 255,
    }  # fmt: skip
    assert instance["attributes"]["server_group"]["required"] is False
    assert gnocchi.resource_type.get("instance_disk")["attributes"]["instance_id"] == {
        "type": "uuid", "required": True,
    }  # fmt: skip


def test_resource_type_patch_adds_and_removes_attributes(gnocchi: Any, rtype: str) -> None:
    gnocchi.resource.create(rtype, {"id": str(uuid.uuid4()), "host": "h1"})
    with pytest.raises(gexc.BadRequest, match="fill"):
        gnocchi.resource_type.update(
            rtype,
            [
                {
                    "op": "add",
                    "path": "/attributes/zone",
                    "value": {"type": "string", "required": True},
                }
            ],
        )
    updated = gnocchi.resource_type.update(
        rtype,
        [
            {"op": "add", "path": "/attributes/zone",
             "value": {"type": "string", "required": True, "options": {"fill": "z1"}}},
            {"op": "remove", "path": "/attributes/on"},
        ],
    )  # fmt: skip
    assert "on" not in updated["attributes"] and updated["attributes"]["zone"]["required"] is True
    listed = gnocchi.resource.list(rtype)
    assert [r["zone"] for r in listed] == ["z1"] and "on" not in listed[0]


@pytest.mark.parametrize(
    "attributes",
    [
        {"id": {"type": "string"}},
        {"bad-name": {"type": "string"}},
        {"x": {"type": "color"}},
        {"x": {"type": "string", "min_length": 10, "max_length": 2}},
        {"x": {"type": "number", "min": 5, "max": 1}},
    ],
)
def test_invalid_resource_types_answer_400(gnocchi: Any, attributes: Any) -> None:
    with pytest.raises(gexc.BadRequest):
        gnocchi.resource_type.create({"name": unique("bad"), "attributes": attributes})


def test_resource_life_cycle_with_history(gnocchi: Any, rtype: str, policy_name: str) -> None:
    original = unique("host-resource")
    created = gnocchi.resource.create(
        rtype,
        {
            "id": original,
            "host": "node1",
            "size": 3,
            "project_id": "p-1",
            "metrics": {"load": {"archive_policy_name": policy_name, "unit": "%"}},
        },
    )
    user, project = created["creator"].split(":")
    assert created["original_resource_id"] == original
    assert created["id"] == str(uuid.uuid5(uuid.UUID("0a7a15ff-aa13-4ac2-897c-9bdf30ce175b"),
                                           original + "\x00" + created["creator"]))  # fmt: skip
    assert created["created_by_user_id"] == user and created["created_by_project_id"] == project
    assert created["ended_at"] is None and created["revision_end"] is None
    assert set(created["metrics"]) == {"load"} and created["size"] == 3
    assert gnocchi.resource.get(rtype, original)["id"] == created["id"]
    generic = gnocchi.resource.get("generic", created["id"])
    assert "host" not in generic and generic["type"] == rtype

    updated = gnocchi.resource.update(
        rtype, created["id"], {"host": "node2", "ended_at": "2030-01-01"}
    )
    assert updated["host"] == "node2" and updated["ended_at"].startswith("2030-01-01T00:00:00")
    history = gnocchi.resource.history(rtype, created["id"])
    assert [h["host"] for h in history] == ["node1", "node2"]
    assert history[0]["revision_end"] is not None and history[1]["revision_end"] is None

    same = gnocchi.resource.update(rtype, created["id"], {"host": "node2"})
    assert same["revision_start"] == updated["revision_start"]
    with pytest.raises(gexc.ResourceAlreadyExists):
        gnocchi.resource.create(rtype, {"id": original, "host": "x"})
    gnocchi.resource.delete(created["id"])
    with pytest.raises(gexc.ResourceNotFound):
        gnocchi.resource.get(rtype, created["id"])
    with pytest.raises(gexc.MetricNotFound):
        gnocchi.metric.get(created["metrics"]["load"])


@pytest.mark.parametrize(
    "body",
    [
        {"host": "no-id"},
        {"id": "x", "host": 5},
        {"id": "x", "host": "h" * 65},
        {"id": "x", "host": "h", "size": -1},
        {"id": "x", "host": "h", "image": "not-a-uuid"},
        {"id": "x", "host": "h", "unknown": 1},
        {"id": "a/b", "host": "h"},
        {"id": "x", "host": "h", "started_at": "2030-01-01", "ended_at": "2020-01-01"},
        {"id": "x", "host": "h", "metrics": {"m": {"archive_policy_name": "no-such-policy"}}},
    ],
)
def test_invalid_resources_answer_400(gnocchi: Any, rtype: str, body: Any) -> None:
    with pytest.raises(gexc.BadRequest):
        gnocchi.resource.create(rtype, dict(body))


def test_unknown_type_and_resource_answer_404(gnocchi: Any) -> None:
    with pytest.raises(gexc.ResourceTypeNotFound):
        gnocchi.resource_type.get(unique("none"))
    with pytest.raises(gexc.NotFound):
        gnocchi.resource.list(unique("none"))
    with pytest.raises(gexc.ResourceNotFound):
        gnocchi.resource.get("generic", str(uuid.uuid4()))


def test_search_with_the_json_body_and_the_filter_language(gnocchi: Any, rtype: str) -> None:
    image = str(uuid.uuid4())
    ids = [
        gnocchi.resource.create(rtype, {"id": str(uuid.uuid4()), "host": f"n{i}", "size": i,
                                        "image": image if i % 2 else None, "on": i > 2})["id"]
        for i in range(5)
    ]  # fmt: skip

    def found(query: Any) -> list[str]:
        return sorted(r["host"] for r in gnocchi.resource.search(resource_type=rtype, query=query))

    assert found({"and": [{">=": {"size": 2}}, {"=": {"image": image}}]}) == ["n3"]
    assert found("size>=2 and image=" + image) == ["n3"]
    assert found("host in ['n0', 'n4'] or not on=false") == ["n0", "n3", "n4"]
    assert found("(host like 'n%' and size<1) ∨ size≥4") == ["n0", "n4"]
    assert found("image=null") == ["n0", "n2", "n4"]
    assert found("image!=" + image) == ["n0", "n2", "n4"]
    assert found(f"id={ids[1]}") == ["n1"]
    page = gnocchi.resource.search(
        resource_type=rtype, query="size>=0", sorts=["size:desc"], limit=2
    )
    assert [r["host"] for r in page] == ["n4", "n3"]
    both = gnocchi.resource.list(rtype, sorts=["size:asc"])
    assert [r["host"] for r in both] == ["n0", "n1", "n2", "n3", "n4"]
    assert gnocchi.resource.batch_delete("size<2", resource_type=rtype) == {"deleted": 2}
    assert found("size>=0") == ["n2", "n3", "n4"]


@pytest.mark.parametrize(
    "query",
    ["size >>= 3", "size = ", "(size = 3", "size = 3 and", "color = 'red'", "size = 'many'"],
)
def test_malformed_filters_answer_400(gnocchi: Any, rtype: str, query: str) -> None:
    with pytest.raises(gexc.BadRequest):
        gnocchi.resource.search(resource_type=rtype, query=query)


def test_malformed_json_search_answers_400(gnocchi: Any, rtype: str) -> None:
    for query in ({"=": {"size": 1}, "<": {"size": 2}}, {"sometimes": {"size": 1}}, {"and": {}}):
        with pytest.raises(gexc.BadRequest):
            gnocchi.resource.search(resource_type=rtype, query=query)
