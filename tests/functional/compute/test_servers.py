"""Servers through openstacksdk against the fake driver: life cycle, listing,
updates, metadata, tags, actions and instance actions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from openstack import exceptions

from tests.functional.compute.conftest import raw, unique


def test_version_documents_advertise_the_microversion_range(admin: Any) -> None:
    endpoint = admin.compute.get_endpoint()
    root = raw(admin, "get", endpoint.rsplit("/v2.1", 1)[0] + "/")
    version = raw(admin, "get", endpoint).json()["version"]
    assert root.status_code == 200
    assert root.json()["versions"][0]["id"] == "v2.1"
    assert version["min_version"] == "2.1"
    assert version["version"] == "2.100"
    assert version["status"] == "CURRENT"


def test_create_reaches_active_with_nova_fields(admin: Any, make_server: Any) -> None:
    server = make_server(admin, metadata={"role": "web"}, description="first")
    assert server.status == "ACTIVE"
    assert server.vm_state == "active"
    assert server.power_state == 1
    assert server.task_state is None
    assert server.flavor.original_name == "m1.nano"
    assert server.flavor.ram == 128
    assert server.metadata == {"role": "web"}
    assert server.description == "first"
    assert server.hypervisor_hostname
    assert server.launched_at
    body = raw(admin, "get", f"/servers/{server.id}", "2.1").json()["server"]
    assert body["flavor"]["id"] == "42"
    assert body["OS-EXT-STS:vm_state"] == "active"
    assert body["addresses"] == {}


def test_create_returns_202_with_admin_pass_and_location(admin: Any, image_id: str) -> None:
    name = unique("raw")
    body = {"server": {"name": name, "imageRef": image_id, "flavorRef": "42", "networks": "none"}}
    resp = raw(admin, "post", "/servers", "2.37", json=body)
    assert resp.status_code == 202
    server = resp.json()["server"]
    assert server["adminPass"]
    assert resp.headers["Location"].endswith(f"/v2.1/servers/{server['id']}")
    admin.compute.wait_for_server(admin.compute.get_server(server["id"]), interval=0.1)
    assert raw(admin, "delete", f"/servers/{server['id']}").status_code == 204


def test_networks_is_required_from_2_37(admin: Any, image_id: str) -> None:
    body: dict[str, Any] = {
        "server": {"name": unique("net"), "imageRef": image_id, "flavorRef": "42"}
    }
    resp = raw(admin, "post", "/servers", "2.37", json=body)
    assert resp.status_code == 400
    assert "networks" in resp.json()["badRequest"]["message"]
    body["server"]["networks"] = [{"uuid": "3b1a2c7e-0000-4000-8000-000000000000"}]
    resp = raw(admin, "post", "/servers", "2.37", json=body)
    assert resp.status_code == 400
    assert "network" in resp.json()["badRequest"]["message"].lower()


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"flavorRef": "no-such-flavor"}, "Invalid flavorRef"),
        ({"imageRef": "8a0b7a2c-0000-4000-8000-000000000000"}, "could not be found"),
        ({"key_name": "no-such-key"}, "Invalid key_name"),
        ({"name": ""}, "name"),
        ({"min_count": 0}, "min_count"),
        ({"bogus": 1}, "bogus"),
        ({"user_data": "not base64!"}, "base 64"),
        ({"availability_zone": "nowhere"}, "availability zone"),
    ],
)
def test_bad_create_requests_are_400(
    admin: Any, image_id: str, change: dict[str, Any], fragment: str
) -> None:
    server = {"name": unique("bad"), "imageRef": image_id, "flavorRef": "42", "networks": "none"}
    server.update(change)
    resp = raw(admin, "post", "/servers", "2.37", json={"server": server})
    assert resp.status_code == 400
    assert fragment in resp.json()["badRequest"]["message"]


def test_malformed_json_is_400(admin: Any) -> None:
    resp = raw(
        admin, "post", "/servers", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["code"] == 400


def test_flavor_too_small_for_image_min_disk(admin: Any, image_id: str) -> None:
    image = admin.image.create_image(
        name=unique("big"),
        disk_format="raw",
        container_format="bare",
        min_disk=50,
        data=b"x" * 1024,
    )
    try:
        server = {
            "name": unique("small"),
            "imageRef": image.id,
            "flavorRef": "42",
            "networks": "none",
        }
        resp = raw(admin, "post", "/servers", "2.37", json={"server": server})
        assert resp.status_code == 400
        assert "too small" in resp.json()["badRequest"]["message"]
    finally:
        admin.image.delete_image(image)


def test_unknown_server_is_404_item_not_found(admin: Any) -> None:
    resp = raw(admin, "get", "/servers/7c0b8d51-0000-4000-8000-000000000000")
    assert resp.status_code == 404
    assert "could not be found" in resp.json()["itemNotFound"]["message"]


def test_list_filters_sorting_and_pagination(admin: Any, make_server: Any) -> None:
    tag = unique("t")
    names = [unique("lst") for _ in range(3)]
    made = [make_server(admin, name=n, wait=False) for n in names]
    for server in made:
        admin.compute.wait_for_server(server, interval=0.1)
    servers = list(admin.compute.servers(name=names[1]))
    assert [s.name for s in servers] == [names[1]]
    resp = raw(admin, "put", f"/servers/{made[0].id}/tags", "2.26", json={"tags": [tag, "x"]})
    assert resp.status_code == 200
    tagged = raw(admin, "get", f"/servers?tags={tag}", "2.26").json()["servers"]
    assert [s["id"] for s in tagged] == [made[0].id]
    ordered = raw(admin, "get", "/servers?sort_key=display_name&sort_dir=asc&limit=2").json()
    page = ordered["servers"]
    assert len(page) == 2
    assert page[0]["name"] <= page[1]["name"]
    assert ordered["servers_links"][0]["rel"] == "next"
    nxt = raw(admin, "get", f"/servers?sort_key=display_name&sort_dir=asc&marker={page[1]['id']}")
    assert page[1]["id"] not in [s["id"] for s in nxt.json()["servers"]]
    bad = raw(admin, "get", "/servers?status=NOPE", "2.38")
    assert bad.status_code == 400
    assert "status" in bad.json()["badRequest"]["message"]
    bad_marker = raw(admin, "get", "/servers?marker=does-not-exist")
    assert bad_marker.status_code == 400


def test_changes_since_shows_deleted_servers(admin: Any, make_server: Any) -> None:
    before = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server = make_server(admin)
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, interval=0.1)
    listed = raw(admin, "get", f"/servers/detail?changes-since={before}").json()["servers"]
    found = [s for s in listed if s["id"] == server.id]
    assert found and found[0]["status"] == "DELETED"
    assert server.id not in [s["id"] for s in raw(admin, "get", "/servers").json()["servers"]]


def test_update_metadata_and_tags(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    new_name = unique("renamed")
    updated = admin.compute.update_server(server, name=new_name, description="d2")
    assert updated.name == new_name
    admin.compute.set_server_metadata(server, a="1", b="2")
    admin.compute.delete_server_metadata(server, ["a"])
    assert admin.compute.get_server_metadata(server).metadata == {"b": "2"}
    missing = raw(admin, "get", f"/servers/{server.id}/metadata/nope")
    assert missing.status_code == 404
    assert raw(admin, "put", f"/servers/{server.id}/tags/blue", "2.26").status_code == 201
    assert raw(admin, "get", f"/servers/{server.id}/tags/blue", "2.26").status_code == 204
    assert raw(admin, "delete", f"/servers/{server.id}/tags/blue", "2.26").status_code == 204
    gone = raw(admin, "get", f"/servers/{server.id}/tags/blue", "2.26")
    assert gone.status_code == 404


def _wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, interval=0.1, wait=30)


def _settled(conn: Any, server: Any) -> Any:
    """The server once no task is under way (a stale object's status proves nothing)."""
    for _ in range(300):
        fresh = conn.compute.get_server(server.id)
        if fresh.task_state is None:
            return fresh
        time.sleep(0.1)
    raise AssertionError(f"{server.id} still has task {fresh.task_state}")


def test_power_actions_and_invalid_transitions(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    admin.compute.stop_server(server)
    server = _wait(admin, server, "SHUTOFF")
    assert server.power_state == 4
    again = raw(admin, "post", f"/servers/{server.id}/action", json={"os-stop": None})
    assert again.status_code == 409
    assert "vm_state stopped" in again.json()["conflictingRequest"]["message"]
    admin.compute.start_server(server)
    _wait(admin, server, "ACTIVE")
    admin.compute.pause_server(server)
    assert _wait(admin, server, "PAUSED").power_state == 3
    admin.compute.unpause_server(server)
    _wait(admin, server, "ACTIVE")
    admin.compute.suspend_server(server)
    assert _wait(admin, server, "SUSPENDED").power_state == 7
    admin.compute.resume_server(server)
    _wait(admin, server, "ACTIVE")
    admin.compute.reboot_server(server, "HARD")
    assert _settled(admin, server).status == "ACTIVE"
    assert next(iter(admin.compute.server_actions(server))).action == "reboot"
    unpause = raw(admin, "post", f"/servers/{server.id}/action", json={"unpause": None})
    assert unpause.status_code == 409


def test_bad_reboot_type_and_unknown_action(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    resp = raw(admin, "post", f"/servers/{server.id}/action", json={"reboot": {"type": "WARM"}})
    assert resp.status_code == 400
    resp = raw(admin, "post", f"/servers/{server.id}/action", json={"fly": None})
    assert resp.status_code == 400
    assert "no such action" in resp.json()["badRequest"]["message"]
    resp = raw(admin, "post", f"/servers/{server.id}/action", json={"shelve": None})
    assert resp.status_code == 501
    assert "not supported" in resp.json()["notImplemented"]["message"]


def test_lock_blocks_other_users(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    admin.compute.lock_server(server, locked_reason="maintenance")
    shown = raw(demo, "get", f"/servers/{server.id}", "2.73").json()["server"]
    assert shown["locked"] is True and shown["locked_reason"] == "maintenance"
    resp = raw(demo, "post", f"/servers/{server.id}/action", json={"os-stop": None})
    assert resp.status_code == 409
    assert "locked" in resp.json()["conflictingRequest"]["message"]
    admin.compute.unlock_server(server)
    demo.compute.stop_server(server)
    _wait(demo, server, "SHUTOFF")


def test_rebuild_resize_confirm_and_revert(admin: Any, make_server: Any, image_id: str) -> None:
    server = make_server(admin)
    new_name = unique("rebuilt")
    admin.compute.rebuild_server(server, image_id, name=new_name)
    server = _settled(admin, server)
    assert (server.status, server.name) == ("ACTIVE", new_name)
    admin.compute.resize_server(server, "84")
    server = _wait(admin, server, "VERIFY_RESIZE")
    assert server.flavor.original_name == "m1.micro"
    admin.compute.revert_server_resize(server)
    server = _settled(admin, server)
    assert server.flavor.original_name == "m1.nano"
    admin.compute.resize_server(server, "84")
    server = _wait(admin, server, "VERIFY_RESIZE")
    admin.compute.confirm_server_resize(server)
    server = _settled(admin, server)
    assert server.status == "ACTIVE"
    assert server.flavor.original_name == "m1.micro"
    same = raw(admin, "post", f"/servers/{server.id}/action", json={"resize": {"flavorRef": "84"}})
    assert same.status_code == 400


def test_instance_actions_record_events(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    admin.compute.stop_server(server)
    _wait(admin, server, "SHUTOFF")
    actions = list(admin.compute.server_actions(server))
    assert [a.action for a in actions][:2] == ["stop", "create"]
    detail = admin.compute.get_server_action(actions[0].request_id, server)
    events = [e["event"] if isinstance(e, dict) else e.event for e in detail.events]
    assert "compute_stop_instance" in events


def test_console_output(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    output = admin.compute.get_server_console_output(server, length=2)["output"]
    assert "booted" in output


def test_tenant_isolation(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(admin)
    assert server.id not in [s.id for s in demo.compute.servers()]
    for method, path, body in (
        ("get", f"/servers/{server.id}", None),
        ("delete", f"/servers/{server.id}", None),
        ("post", f"/servers/{server.id}/action", {"os-stop": None}),
        ("put", f"/servers/{server.id}", {"server": {"name": "stolen"}}),
    ):
        resp = raw(demo, method, path, json=body) if body else raw(demo, method, path)
        assert resp.status_code == 404, (method, path)
        assert "itemNotFound" in resp.json()
    denied = raw(demo, "get", "/servers?all_tenants=1")
    assert denied.status_code == 403
    assert admin.compute.get_server(server).status == "ACTIVE"


def test_quota_exceeded_is_403_and_nothing_is_left(
    admin: Any, demo: Any, image_id: str, make_server: Any
) -> None:
    project = demo.current_project_id
    admin.compute.update_quota_set(project, instances=1)
    try:
        make_server(demo)
        server = {
            "name": unique("over"),
            "imageRef": image_id,
            "flavorRef": "42",
            "networks": "none",
        }
        before = len(list(demo.compute.servers()))
        resp = raw(demo, "post", "/servers", "2.37", json={"server": server})
        assert resp.status_code == 403
        assert resp.json()["overLimit"]["code"] == 403
        assert "Quota exceeded for instances" in resp.json()["overLimit"]["message"]
        assert len(list(demo.compute.servers())) == before
    finally:
        raw(admin, "delete", f"/os-quota-sets/{project}")


def test_multi_create_min_max_count(admin: Any, image_id: str) -> None:
    name = unique("multi")
    body = {
        "server": {
            "name": name,
            "imageRef": image_id,
            "flavorRef": "42",
            "networks": "none",
            "min_count": 2,
            "max_count": 3,
            "return_reservation_id": True,
        }
    }
    resp = raw(admin, "post", "/servers", "2.37", json=body)
    assert resp.status_code == 202
    reservation = resp.json()["reservation_id"]
    found = raw(admin, "get", f"/servers/detail?reservation_id={reservation}").json()["servers"]
    assert sorted(s["name"] for s in found) == [f"{name}-{i}" for i in (1, 2, 3)]
    for item in found:
        admin.compute.delete_server(item["id"])


def test_anti_affinity_group_rejects_second_server_on_one_host(
    admin: Any, make_server: Any
) -> None:
    group = admin.compute.create_server_group(name=unique("grp"), policy="anti-affinity")
    try:
        first = make_server(admin, scheduler_hints={"group": group.id})
        assert first.status == "ACTIVE"
        second = make_server(admin, wait=False, scheduler_hints={"group": group.id})
        with pytest.raises(exceptions.ResourceFailure):
            admin.compute.wait_for_server(second, interval=0.1, wait=30)
        shown = raw(admin, "get", f"/servers/{second.id}").json()["server"]
        assert shown["status"] == "ERROR"
        assert "No valid host" in shown["fault"]["message"]
        members = admin.compute.get_server_group(group).member_ids
        assert first.id in members
    finally:
        for _ in range(50):
            try:
                admin.compute.delete_server_group(group)
                break
            except exceptions.SDKException:
                time.sleep(0.1)
