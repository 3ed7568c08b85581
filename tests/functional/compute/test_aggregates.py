"""Host aggregates (os-aggregates) and the availability zones they make."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from openstack import exceptions

from tests.functional.compute.conftest import raw
from tests.support.names import unique
from tests.support.server import new_cloud


@pytest.fixture()
def make_aggregate(admin: Any) -> Iterator[Callable[..., Any]]:
    """Create aggregates; afterwards empty and delete them."""
    made: list[Any] = []

    def make(**attrs: Any) -> Any:
        attrs.setdefault("name", unique("agg"))
        aggregate = admin.compute.create_aggregate(**attrs)
        made.append(aggregate)
        return aggregate

    yield make
    for aggregate in made:
        try:
            current = admin.compute.get_aggregate(aggregate.id)
        except exceptions.NotFoundException:
            continue
        for host in current.hosts or []:
            admin.compute.remove_host_from_aggregate(aggregate.id, host)
        admin.compute.delete_aggregate(aggregate.id)


@pytest.fixture(scope="module")
def compute_host(admin: Any) -> str:
    hosts = [s.host for s in admin.compute.services(binary="nova-compute") if s.state == "up"]
    assert hosts, "no compute host is up"
    return str(hosts[0])


def _services_zone(admin: Any, host: str) -> str:
    found = [s for s in admin.compute.services(binary="nova-compute") if s.host == host]
    return str(found[0].availability_zone)


def _zone_names(conn: Any) -> set[str]:
    body = raw(conn, "get", "/os-availability-zone").json()
    return {z["zoneName"] for z in body["availabilityZoneInfo"]}


def test_aggregate_lifecycle_through_the_sdk(
    admin: Any, make_aggregate: Any, compute_host: str
) -> None:
    zone = unique("az")
    created = make_aggregate(availability_zone=zone)
    assert isinstance(created.id, int)
    assert created.availability_zone == zone

    renamed = admin.compute.update_aggregate(created.id, name=created.name + "-new")
    assert renamed.name == created.name + "-new"
    assert renamed.updated_at is not None

    with_meta = admin.compute.set_aggregate_metadata(created.id, {"ssd": "true", "rack": "r1"})
    assert with_meta.metadata == {"availability_zone": zone, "ssd": "true", "rack": "r1"}
    without = admin.compute.set_aggregate_metadata(created.id, {"ssd": None, "gone": None})
    assert without.metadata == {"availability_zone": zone, "rack": "r1"}

    added = admin.compute.add_host_to_aggregate(created.id, compute_host)
    assert added.hosts == [compute_host]
    listed = {a.id: a for a in admin.compute.aggregates()}
    assert listed[created.id].hosts == [compute_host]
    assert listed[created.id].name == created.name + "-new"

    removed = admin.compute.remove_host_from_aggregate(created.id, compute_host)
    assert removed.hosts == []
    admin.compute.delete_aggregate(created.id)
    with pytest.raises(exceptions.NotFoundException):
        admin.compute.get_aggregate(created.id)


def test_aggregate_bodies_follow_the_microversion(admin: Any, make_aggregate: Any) -> None:
    created = make_aggregate()
    old = raw(admin, "get", f"/os-aggregates/{created.id}").json()["aggregate"]
    assert "uuid" not in old
    assert old["deleted"] is False and old["deleted_at"] is None
    assert old["availability_zone"] is None and old["metadata"] == {} and old["hosts"] == []
    new = raw(admin, "get", f"/os-aggregates/{created.id}", "2.41").json()["aggregate"]
    assert new["uuid"] == created.uuid and len(new["uuid"]) == 36
    made = raw(admin, "post", "/os-aggregates", json={"aggregate": {"name": unique("agg")}})
    assert made.status_code == 200
    body = made.json()["aggregate"]
    assert "hosts" not in body and "metadata" not in body
    gone = raw(admin, "delete", f"/os-aggregates/{body['id']}")
    assert gone.status_code == 200


def test_aggregate_zone_moves_the_host_services_zones_and_scheduling(
    admin: Any, demo: Any, make_aggregate: Any, make_server: Any, compute_host: str
) -> None:
    default = _services_zone(admin, compute_host)
    zone = unique("az")
    aggregate = make_aggregate(availability_zone=zone)
    assert zone not in _zone_names(demo)  # a zone without hosts is no zone yet
    with pytest.raises(exceptions.BadRequestException):
        make_server(demo, availability_zone=zone)

    admin.compute.add_host_to_aggregate(aggregate.id, compute_host)
    assert _services_zone(admin, compute_host) == zone
    assert zone in _zone_names(demo)
    server = make_server(demo, availability_zone=zone)
    assert server.status == "ACTIVE"
    assert server.availability_zone == zone
    detail = admin.compute.get_server(server.id)
    assert detail.compute_host == compute_host

    # the host has an instance now: its zone may not change under it
    reply = raw(
        admin,
        "post",
        f"/os-aggregates/{aggregate.id}/action",
        json={"remove_host": {"host": compute_host}},
    )
    assert reply.status_code == 409
    assert "would change" in reply.json()["conflictingRequest"]["message"]
    rezone = raw(
        admin,
        "put",
        f"/os-aggregates/{aggregate.id}",
        json={"aggregate": {"availability_zone": zone + "-other"}},
    )
    assert rezone.status_code == 400
    assert "contain instances" in rezone.json()["badRequest"]["message"]

    admin.compute.delete_server(server.id)
    admin.compute.wait_for_delete(server, interval=0.1, wait=30)
    admin.compute.remove_host_from_aggregate(aggregate.id, compute_host)
    assert _services_zone(admin, compute_host) == default
    assert zone not in _zone_names(demo)


def test_a_host_is_in_one_zone_only(admin: Any, make_aggregate: Any, compute_host: str) -> None:
    first = make_aggregate(availability_zone=unique("az"))
    second = make_aggregate(availability_zone=unique("az"))
    plain = make_aggregate()
    admin.compute.add_host_to_aggregate(first.id, compute_host)
    reply = raw(
        admin,
        "post",
        f"/os-aggregates/{second.id}/action",
        json={"add_host": {"host": compute_host}},
    )
    assert reply.status_code == 409
    assert "already in availability zone(s)" in reply.json()["conflictingRequest"]["message"]
    # an aggregate without a zone takes it, and may not then get a second zone
    admin.compute.add_host_to_aggregate(plain.id, compute_host)
    meta = raw(
        admin,
        "post",
        f"/os-aggregates/{plain.id}/action",
        json={"set_metadata": {"metadata": {"availability_zone": unique("az")}}},
    )
    assert meta.status_code == 400
    assert admin.compute.get_aggregate(plain.id).metadata == {}


def test_aggregate_errors(admin: Any, make_aggregate: Any, compute_host: str) -> None:
    aggregate = make_aggregate()
    dup = raw(admin, "post", "/os-aggregates", json={"aggregate": {"name": aggregate.name}})
    assert dup.status_code == 409
    assert dup.json()["conflictingRequest"]["message"] == (
        f"Aggregate {aggregate.name} already exists."
    )
    for name in ("", "a" * 256, " padded "):
        bad = raw(admin, "post", "/os-aggregates", json={"aggregate": {"name": name}})
        assert bad.status_code == 400, name
    bad_zone = {"aggregate": {"name": unique("agg"), "availability_zone": "a:b"}}
    assert raw(admin, "post", "/os-aggregates", json=bad_zone).status_code == 400
    assert raw(admin, "get", "/os-aggregates/-1").status_code == 404
    assert raw(admin, "delete", "/os-aggregates/-1").status_code == 404
    assert raw(admin, "get", "/os-aggregates/abc").status_code == 400
    empty = raw(admin, "put", f"/os-aggregates/{aggregate.id}", json={"aggregate": {}})
    assert empty.status_code == 400

    action = f"/os-aggregates/{aggregate.id}/action"
    unknown = raw(admin, "post", action, json={"add_host": {"host": "no-such-host"}})
    assert unknown.status_code == 404
    assert unknown.json()["itemNotFound"]["message"] == (
        "Compute host no-such-host could not be found."
    )
    not_member = raw(admin, "post", action, json={"remove_host": {"host": compute_host}})
    assert not_member.status_code == 404
    admin.compute.add_host_to_aggregate(aggregate.id, compute_host)
    again = raw(admin, "post", action, json={"add_host": {"host": compute_host}})
    assert again.status_code == 409
    busy = raw(admin, "delete", f"/os-aggregates/{aggregate.id}")
    assert busy.status_code == 400
    assert "Host aggregate is not empty" in busy.json()["badRequest"]["message"]
    bad_key = raw(admin, "post", action, json={"set_metadata": {"metadata": {"a/b": "c"}}})
    assert bad_key.status_code == 400
    for body in ([1, 2], {}, {"no_such": {}}, {"add_host": {"host": "a b"}}):
        assert raw(admin, "post", action, json=body).status_code == 400, body
    null_zone = {"aggregate": {"availability_zone": None}}
    cleared = raw(admin, "put", f"/os-aggregates/{aggregate.id}", json=null_zone)
    assert cleared.status_code == 400
    assert "empty named availability zone" in cleared.json()["badRequest"]["message"]
    assert admin.compute.get_aggregate(aggregate.id).hosts == [compute_host]


def test_aggregates_are_admin_only(demo: Any, make_aggregate: Any, compute_host: str) -> None:
    aggregate = make_aggregate()
    assert raw(demo, "get", "/os-aggregates").status_code == 403
    assert raw(demo, "get", f"/os-aggregates/{aggregate.id}").status_code == 403
    made = raw(demo, "post", "/os-aggregates", json={"aggregate": {"name": unique("agg")}})
    assert made.status_code == 403
    action = f"/os-aggregates/{aggregate.id}/action"
    added = raw(demo, "post", action, json={"add_host": {"host": compute_host}})
    assert added.status_code == 403
    assert raw(demo, "delete", f"/os-aggregates/{aggregate.id}").status_code == 403


def test_image_cache_requests_are_checked(admin: Any, make_aggregate: Any, image_id: str) -> None:
    aggregate = make_aggregate()
    path = f"/os-aggregates/{aggregate.id}/images"
    body = {"cache": [{"id": image_id}]}
    assert raw(admin, "post", path, "2.80", json=body).status_code == 404
    assert raw(admin, "post", path, "2.81", json=body).status_code == 202
    twice = {"cache": [{"id": image_id}, {"id": image_id}]}
    assert raw(admin, "post", path, "2.81", json=twice).status_code == 400
    assert raw(admin, "post", "/os-aggregates/-1/images", "2.81", json=body).status_code == 404


def test_a_deleted_compute_service_leaves_its_aggregates(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On a cloud of its own: deleting its only compute service would disturb others."""
    running = new_cloud(tmp_path_factory.mktemp("aggregates"), ONESTACK_COMPUTE__DRIVER="fake")
    running.start()
    try:
        admin = running.connect("admin", "admin")
        service = next(iter(admin.compute.services(binary="nova-compute")))
        aggregate = admin.compute.create_aggregate(name=unique("agg"), availability_zone="az1")
        admin.compute.add_host_to_aggregate(aggregate.id, service.host)
        reply = raw(admin, "delete", f"/os-services/{service.id}", "2.53")
        assert reply.status_code == 204
        assert admin.compute.get_aggregate(aggregate.id).hosts == []
        admin.compute.delete_aggregate(aggregate.id)
    finally:
        running.stop()
