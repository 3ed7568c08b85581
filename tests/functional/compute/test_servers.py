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
    assert [v["id"] for v in root.json()["versions"]] == ["v2.0", "v2.1"]  # as Nova lists them
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
    resp = raw(admin, "post", f"/servers/{server.id}/action", json={"trigger_crash_dump": None})
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
    # as in Nova, the final newline counts as a line: 3 shows the last two lines
    output = admin.compute.get_server_console_output(server, length=3)["output"]
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


def test_unknown_status_filter_matches_nothing_before_2_38(admin: Any, make_server: Any) -> None:
    make_server(admin)
    listed = raw(admin, "get", "/servers/detail?status=invalid_status", "2.1")
    assert listed.status_code == 200
    assert listed.json()["servers"] == []
    assert raw(admin, "get", "/servers?status=invalid_status", "2.38").status_code == 400


def test_update_and_rebuild_answers_show_basic_attributes_before_2_75(
    admin: Any, make_server: Any, image_id: str
) -> None:
    server = make_server(admin)
    basic_only = ("OS-EXT-STS:vm_state", "key_name", "security_groups", "OS-EXT-SRV-ATTR:host")
    updated = raw(admin, "put", f"/servers/{server.id}", "2.1", json={"server": {"name": "n1"}})
    body = updated.json()["server"]
    assert body["name"] == "n1" and body["status"] == "ACTIVE"
    assert not set(basic_only) & set(body)
    later = raw(admin, "put", f"/servers/{server.id}", "2.75", json={"server": {"name": "n2"}})
    assert set(basic_only) <= set(later.json()["server"])
    rebuilt = raw(
        admin,
        "post",
        f"/servers/{server.id}/action",
        "2.1",
        json={"rebuild": {"imageRef": image_id}},
    )
    assert rebuilt.status_code == 202
    assert "adminPass" in rebuilt.json()["server"]
    assert not set(basic_only) & set(rebuilt.json()["server"])


def test_access_ips_are_validated_and_canonical(admin: Any, make_server: Any) -> None:
    server = make_server(
        admin, access_ipv4="1.1.1.1", access_ipv6="0000:0000:0000:0000:0000:babe:220.12.22.2"
    )
    body = raw(admin, "get", f"/servers/{server.id}").json()["server"]
    assert body["accessIPv6"] == "::babe:dc0c:1602"
    for field, value in (("accessIPv4", "1.1.1.1.1.1"), ("accessIPv6", "notvalid")):
        bad = raw(admin, "put", f"/servers/{server.id}", json={"server": {field: value}})
        assert bad.status_code == 400
        assert "badRequest" in bad.json()


@pytest.mark.parametrize("action", ["forceDelete", "restore"])
def test_soft_delete_actions_on_unknown_server_are_not_found(admin: Any, action: str) -> None:
    missing = "1a2b3c4d-0000-4000-8000-000000000000"
    response = raw(admin, "post", f"/servers/{missing}/action", json={action: None})
    assert response.status_code == 404
    assert "itemNotFound" in response.json()


def test_server_password_is_empty_and_clearable(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    shown = raw(admin, "get", f"/servers/{server.id}/os-server-password")
    assert shown.status_code == 200 and shown.json() == {"password": ""}
    assert raw(admin, "delete", f"/servers/{server.id}/os-server-password").status_code == 204
    missing = raw(admin, "get", "/servers/1a2b3c4d-0000-4000-8000-000000000000/os-server-password")
    assert missing.status_code == 404


def test_console_output_length_counts_lines_as_nova_does(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    response = raw(
        admin, "post", f"/servers/{server.id}/action", json={"os-getConsoleOutput": {"length": 3}}
    )
    output = response.json()["output"]
    assert output and len(output.split("\n")) == 3


def test_list_filter_by_fixed_ip(admin: Any, make_server: Any) -> None:
    net = admin.network.create_network(name=unique("ipnet"))
    try:
        admin.network.create_subnet(network_id=net.id, cidr="10.77.0.0/24", ip_version=4)
        servers = [make_server(admin, networks=[{"uuid": net.id}]) for _ in range(2)]
        addrs = {
            s.id: raw(admin, "get", f"/servers/{s.id}").json()["server"]["addresses"][net.name][0][
                "addr"
            ]
            for s in servers
        }
        for server_id, addr in addrs.items():
            pattern = addr.replace(".", "\\.") + "$"
            found = raw(admin, "get", f"/servers?ip={pattern}").json()["servers"]
            assert [s["id"] for s in found] == [server_id]
        every = raw(admin, "get", "/servers?ip=10.77.").json()["servers"]
        assert set(addrs) <= {s["id"] for s in every}
        assert raw(admin, "get", "/servers?ip=192.0.2.").json()["servers"] == []
    finally:
        for server in list(admin.compute.servers(all_projects=True)):
            if any(net.name == key for key in (server.addresses or {})):
                admin.compute.delete_server(server)
                admin.compute.wait_for_delete(server, interval=0.1)
        admin.network.delete_network(net)


def test_disk_config_is_kept_through_update_rebuild_and_resize(
    admin: Any, make_server: Any, image_id: str
) -> None:
    server = make_server(admin)
    path = f"/servers/{server.id}"
    assert raw(admin, "get", path).json()["server"]["OS-DCF:diskConfig"] == "MANUAL"
    raw(admin, "put", path, json={"server": {"OS-DCF:diskConfig": "AUTO"}})
    assert raw(admin, "get", path).json()["server"]["OS-DCF:diskConfig"] == "AUTO"
    rebuild = {"rebuild": {"imageRef": image_id, "OS-DCF:diskConfig": "MANUAL"}}
    assert raw(admin, "post", f"{path}/action", json=rebuild).status_code == 202
    assert raw(admin, "get", path).json()["server"]["OS-DCF:diskConfig"] == "MANUAL"
    _settled(admin, server)
    resize = {"resize": {"flavorRef": "84", "OS-DCF:diskConfig": "AUTO"}}
    assert raw(admin, "post", f"{path}/action", json=resize).status_code == 202
    assert raw(admin, "get", path).json()["server"]["OS-DCF:diskConfig"] == "AUTO"
    _settled(admin, server)
    bad = raw(admin, "put", path, json={"server": {"OS-DCF:diskConfig": "SIDEWAYS"}})
    assert bad.status_code == 400


def test_create_with_unknown_security_group_is_400(admin: Any, image_id: str) -> None:
    body = {
        "server": {
            "name": unique("sg"), "imageRef": image_id, "flavorRef": "42",
            "networks": "none", "security_groups": [{"name": "does_not_exist"}],
        }
    }  # fmt: skip
    response = raw(admin, "post", "/servers", "2.37", json=body)
    assert response.status_code == 400
    assert "does_not_exist" in response.json()["badRequest"]["message"]


def test_progress_only_in_progress_statuses(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    path = f"/servers/{server.id}"
    assert raw(admin, "get", path).json()["server"]["progress"] == 0
    admin.compute.stop_server(server)
    _wait(admin, server, "SHUTOFF")
    assert "progress" not in raw(admin, "get", path).json()["server"]


def test_server_without_security_groups_has_no_security_groups_key(
    admin: Any, make_server: Any
) -> None:
    net = admin.network.create_network(name=unique("sgnet"))
    try:
        admin.network.create_subnet(network_id=net.id, cidr="10.78.0.0/24", ip_version=4)
        server = make_server(admin, networks=[{"uuid": net.id}])
        path = f"/servers/{server.id}"
        assert raw(admin, "get", path).json()["server"]["security_groups"] == [{"name": "default"}]
        action = {"removeSecurityGroup": {"name": "default"}}
        assert raw(admin, "post", f"{path}/action", json=action).status_code == 202
        assert "security_groups" not in raw(admin, "get", path).json()["server"]
        admin.compute.delete_server(server)
        admin.compute.wait_for_delete(server, interval=0.1)
    finally:
        admin.network.delete_network(net)


def test_rebuild_answer_fields_by_microversion(admin: Any, make_server: Any, image_id: str) -> None:
    server = make_server(admin)
    path = f"/servers/{server.id}"
    assert raw(admin, "get", path, "2.63").json()["server"]["trusted_image_certificates"] is None
    assert "trusted_image_certificates" not in raw(admin, "get", path, "2.62").json()["server"]
    rebuild = {"rebuild": {"imageRef": image_id}}
    at_254 = raw(admin, "post", f"{path}/action", "2.54", json=rebuild).json()["server"]
    assert "key_name" in at_254 and "user_data" not in at_254
    _settled(admin, server)
    at_257 = raw(admin, "post", f"{path}/action", "2.57", json=rebuild).json()["server"]
    assert "key_name" in at_257 and "user_data" in at_257
    _settled(admin, server)
    at_263 = raw(admin, "put", path, "2.63", json={"server": {"name": "n"}}).json()["server"]
    assert at_263["trusted_image_certificates"] is None


def test_server_groups_in_show_but_not_in_list_detail(admin: Any, make_server: Any) -> None:
    server = make_server(admin)
    assert (
        raw(admin, "get", f"/servers/{server.id}", "2.71").json()["server"]["server_groups"] == []
    )
    listed = raw(admin, "get", "/servers/detail", "2.71").json()["servers"]
    assert listed and all("server_groups" not in s for s in listed)


def test_rebuild_answer_has_user_data_from_2_75_too(
    admin: Any, make_server: Any, image_id: str
) -> None:
    server = make_server(admin)
    rebuild = {"rebuild": {"imageRef": image_id}}
    body = raw(admin, "post", f"/servers/{server.id}/action", "2.75", json=rebuild).json()
    assert "user_data" in body["server"] and "OS-EXT-STS:vm_state" in body["server"]
    _settled(admin, server)


def test_create_image_keeps_the_callers_metadata(demo: Any, make_server: Any) -> None:
    # Nova sets image_type=snapshot and the caller's metadata overrides it (Tempest's
    # test_create_delete_image sends image_type=test)
    server = make_server(demo)
    done = raw(demo, "post", f"/servers/{server.id}/action", "2.45",
               json={"createImage": {"name": unique("img"),
                                     "metadata": {"image_type": "test", "k": "v"}}})  # fmt: skip
    assert done.status_code == 202, done.text
    image = demo.image.get_image(done.json()["image_id"])
    try:
        assert image.properties["image_type"] == "test" and image.properties["k"] == "v"
        assert image.instance_uuid == server.id
        base = demo.image.get_image(server.image.id)
        assert base.min_ram > 0 and image.min_ram == base.min_ram  # inherited, as in Nova
    finally:
        demo.image.delete_image(image)
