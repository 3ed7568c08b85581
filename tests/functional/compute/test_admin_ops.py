"""Server diagnostics, external events, migration records (resizes), the
injectNetworkInfo / resetNetwork actions and assisted volume snapshots, as Nova
answers them (on the fake driver, whose instances measure zero use)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.compute.conftest import raw, unique
from tests.functional.compute.test_proxies import nova_error
from tests.support.server import RunningCloud


def _settled(conn: Any, server_id: str) -> Any:
    for _ in range(300):
        fresh = conn.compute.get_server(server_id)
        if fresh.task_state is None:
            return fresh
        time.sleep(0.1)
    raise AssertionError(f"{server_id} still has task {fresh.task_state}")


@pytest.fixture(scope="module")
def service_user(cloud: RunningCloud, admin: Any) -> Iterator[Any]:
    """A user with only the ``service`` role (as Neutron and Cinder call Nova)."""
    role = admin.identity.find_role("service") or admin.identity.create_role(name="service")
    project = admin.identity.find_project("demo")
    password = unique("pw")
    user = admin.identity.create_user(name=unique("svc"), password=password, domain_id="default")
    admin.identity.assign_project_role_to_user(project, user, role)
    try:
        yield cloud.connect(user.name, "demo", password=password)
    finally:
        admin.identity.delete_user(user)


def test_diagnostics_follow_the_microversion(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    path = f"/servers/{server.id}/diagnostics"
    old = raw(admin, "get", path, "2.47")
    assert old.status_code == 200, old.text
    legacy = old.json()
    assert legacy["memory"] == 128 * 1024  # flavor 42: 128 MiB, in KiB as libvirt says
    assert {"cpu_time", "memory-rss", "vda_read", "vda_write_req"} <= set(legacy)
    new = raw(admin, "get", path, "2.48")
    assert new.status_code == 200, new.text
    body = new.json()
    assert body["state"] == "running" and body["driver"] == "libvirt"
    assert body["hypervisor"] == "fake" and body["hypervisor_os"] == "linux"
    assert body["memory_details"] == {"maximum": 128, "used": 0}
    assert body["num_cpus"] == 1 and body["num_nics"] == 0 and body["nic_details"] == []
    assert body["num_disks"] == 1
    assert body["disk_details"][0]["errors_count"] is None
    assert body["cpu_details"] == [{"id": None, "time": 0, "utilisation": None}]
    assert isinstance(body["uptime"], int) and body["uptime"] >= 0
    assert body["config_drive"] is False


def test_diagnostics_admin_only_and_409_when_not_running(
    admin: Any, demo: Any, make_server: Any
) -> None:
    server = make_server(demo)
    path = f"/servers/{server.id}/diagnostics"
    nova_error(raw(demo, "get", path, "2.48"), 403, "forbidden")
    nova_error(raw(admin, "get", f"/servers/{uuid.uuid4()}/diagnostics"), 404, "itemNotFound")
    demo.compute.stop_server(server)
    demo.compute.wait_for_server(server, status="SHUTOFF", interval=0.1, wait=30)
    message = nova_error(raw(admin, "get", path, "2.48"), 409, "conflictingRequest")
    assert (
        message
        == f"Cannot 'get_diagnostics' instance {server.id} while it is in power state shutdown"
    )


def test_external_events_per_event_codes(
    admin: Any, demo: Any, service_user: Any, make_server: Any
) -> None:
    server = make_server(demo)
    unknown = str(uuid.uuid4())
    one = {"events": [{"name": "network-changed", "server_uuid": server.id, "tag": "t"}]}
    ok = raw(service_user, "post", "/os-server-external-events", json=one)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {
        "events": [
            {"name": "network-changed", "server_uuid": server.id, "tag": "t",
             "status": "completed", "code": 200}
        ]
    }  # fmt: skip
    mixed = {
        "events": [
            {"name": "network-vif-plugged", "server_uuid": server.id, "status": "failed"},
            {"name": "network-changed", "server_uuid": unknown},
        ]
    }
    answer = raw(admin, "post", "/os-server-external-events", json=mixed)
    assert answer.status_code == 207, answer.text
    codes = [(e["code"], e["status"]) for e in answer.json()["events"]]
    assert codes == [(200, "completed"), (404, "failed")]
    # only unknown servers: 207 with 404s (Nova's answer since bug 1855752)
    lost = {"events": [{"name": "network-changed", "server_uuid": unknown}]}
    assert raw(admin, "post", "/os-server-external-events", json=lost).status_code == 207
    # volume-extended from 2.51, and only with a tag
    late = {"events": [{"name": "volume-extended", "server_uuid": server.id}]}
    nova_error(raw(admin, "post", "/os-server-external-events", json=late), 400, "badRequest")
    tagless = raw(admin, "post", "/os-server-external-events", "2.51", json=late)
    assert tagless.status_code == 207
    assert tagless.json()["events"][0]["code"] == 400
    nova_error(raw(demo, "post", "/os-server-external-events", json=one), 403, "forbidden")
    bad = {"events": [{"name": "network-changed", "server_uuid": "nope"}]}
    nova_error(raw(admin, "post", "/os-server-external-events", json=bad), 400, "badRequest")


def test_inject_network_info_admin_only_and_reset_network_gone(
    admin: Any, demo: Any, make_server: Any
) -> None:
    server = make_server(demo)
    action = f"/servers/{server.id}/action"
    assert raw(admin, "post", action, json={"injectNetworkInfo": None}).status_code == 202
    nova_error(raw(demo, "post", action, json={"injectNetworkInfo": None}), 403, "forbidden")
    nova_error(raw(admin, "post", action, json={"resetNetwork": None}), 410, "computeFault")
    missing = f"/servers/{uuid.uuid4()}/action"
    nova_error(raw(admin, "post", missing, json={"injectNetworkInfo": None}), 404, "itemNotFound")
    assert _settled(admin, server.id).status == "ACTIVE"


def test_resizes_are_recorded_as_migrations(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    demo.compute.resize_server(server, "84")
    assert _settled(demo, server.id).status == "VERIFY_RESIZE"
    listed = raw(admin, "get", f"/os-migrations?instance_uuid={server.id}", "2.80").json()
    (record,) = listed["migrations"]
    assert record["status"] == "finished" and record["migration_type"] == "resize"
    assert record["source_compute"] == record["dest_compute"] is not None
    assert record["project_id"] == demo.current_project_id
    assert record["user_id"] and uuid.UUID(record["uuid"])
    demo.compute.confirm_server_resize(server)
    _settled(demo, server.id)
    first = raw(admin, "get", f"/os-migrations?instance_uuid={server.id}").json()["migrations"]
    assert [m["status"] for m in first] == ["confirmed"]
    assert "migration_type" not in first[0] and "uuid" not in first[0]  # before 2.23 / 2.59
    demo.compute.resize_server(server, "42")
    assert _settled(demo, server.id).status == "VERIFY_RESIZE"
    demo.compute.revert_server_resize(server)
    _settled(demo, server.id)
    query = f"/os-migrations?instance_uuid={server.id}"
    newest_first = raw(admin, "get", query, "2.59").json()["migrations"]
    assert [m["status"] for m in newest_first] == ["reverted", "confirmed"]
    page = raw(admin, "get", query + "&limit=1", "2.59").json()
    assert [m["status"] for m in page["migrations"]] == ["reverted"]
    assert page["migrations_links"][0]["rel"] == "next"
    marker = page["migrations"][0]["uuid"]
    rest = raw(admin, "get", query + f"&limit=1&marker={marker}", "2.59").json()
    assert [m["status"] for m in rest["migrations"]] == ["confirmed"]
    by_status = raw(admin, "get", query + "&status=reverted", "2.23").json()["migrations"]
    assert [m["status"] for m in by_status] == ["reverted"]
    nova_error(raw(admin, "get", query + "&marker=nope", "2.59"), 400, "badRequest")
    nova_error(raw(admin, "get", query + "&bogus=1", "2.59"), 400, "badRequest")
    nova_error(raw(demo, "get", "/os-migrations"), 403, "forbidden")
    mine, other = demo.current_project_id, uuid.uuid4().hex
    for version in ("2.1", "2.80"):  # before 2.59 Nova passes any parameter to its query
        found = raw(admin, "get", query + f"&project_id={mine}", version).json()["migrations"]
        assert len(found) == 2
        none = raw(admin, "get", query + f"&project_id={other}", version).json()["migrations"]
        assert none == []
    nova_error(raw(admin, "get", query + f"&project_id={mine}", "2.79"), 400, "badRequest")
    live = raw(admin, "get", f"/servers/{server.id}/migrations", "2.23")
    assert live.status_code == 200 and live.json() == {"migrations": []}


def test_assisted_volume_snapshots_are_not_supported(
    admin: Any, service_user: Any, make_server: Any
) -> None:
    body = {
        "snapshot": {
            "volume_id": str(uuid.uuid4()),
            "create_info": {"snapshot_id": str(uuid.uuid4()), "type": "qcow2", "new_file": "f"},
        }
    }
    # a volume attached to no server: Nova's 400
    nova_error(raw(service_user, "post", "/os-assisted-volume-snapshots", json=body), 400,
               "badRequest")  # fmt: skip
    server = make_server(admin)
    volume = admin.block_storage.create_volume(size=1, name=unique("avs"))
    try:
        admin.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
        admin.compute.create_volume_attachment(server, volume_id=volume.id)
        admin.block_storage.wait_for_status(volume, "in-use", interval=0.2, wait=60)
        body["snapshot"]["volume_id"] = volume.id
        message = nova_error(
            raw(service_user, "post", "/os-assisted-volume-snapshots", json=body), 501,
            "notImplemented",
        )  # fmt: skip
        assert "Assisted volume snapshots" in message
    finally:
        admin.compute.delete_volume_attachment(volume.id, server, ignore_missing=True)
        admin.block_storage.wait_for_status(volume, "available", interval=0.2, wait=60)
        admin.block_storage.delete_volume(volume)
