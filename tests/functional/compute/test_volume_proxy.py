"""Nova's volume proxy APIs up to microversion 2.35 (``os-volumes``, ``os-snapshots``),
answered from the volume service, and their 404 from 2.36.  Shapes as Tempest's
compute response schemas check them."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.compute.conftest import raw, unique
from tests.functional.compute.test_proxies import nova_error
from tests.functional.compute.test_volumes import attach, needs_root, wait_volume

VOLUME_KEYS = {
    "id", "status", "size", "availabilityZone", "createdAt", "attachments", "displayName",
    "displayDescription", "volumeType", "snapshotId", "metadata",
}  # fmt: skip
SNAPSHOT_KEYS = {
    "id", "volumeId", "status", "size", "createdAt", "displayName", "displayDescription",
}  # fmt: skip


def wait_nova(conn: Any, kind: str, item_id: str, status: str, timeout: float = 60) -> Any:
    """The ``os-volumes``/``os-snapshots`` item once it has ``status``."""
    deadline = time.monotonic() + timeout
    body: Any = None
    while time.monotonic() < deadline:
        response = raw(conn, "get", f"/os-{kind}s/{item_id}")
        assert response.status_code == 200, response.text
        body = response.json()[kind]
        if body["status"] == status:
            return body
        time.sleep(0.05)
    raise AssertionError(f"{kind} {item_id} stayed {body and body['status']}, wanted {status}")


def wait_absent(conn: Any, kind: str, item_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if raw(conn, "get", f"/os-{kind}s/{item_id}").status_code == 404:
            return
        time.sleep(0.05)
    raise AssertionError(f"{kind} {item_id} still exists")


@pytest.fixture()
def nova_volume(demo: Any, admin: Any) -> Iterator[Callable[..., dict[str, Any]]]:
    made: list[str] = []

    def make(**fields: Any) -> dict[str, Any]:
        body = {"size": 1, "display_name": unique("novavol"), **fields}
        response = raw(demo, "post", "/os-volumes", json={"volume": body})
        assert response.status_code == 200, response.text
        volume = response.json()["volume"]
        made.append(volume["id"])
        return wait_nova(demo, "volume", volume["id"], "available")

    yield make
    for volume_id in made:
        try:
            admin.block_storage.delete(f"/volumes/{volume_id}?cascade=true")
        except Exception:
            pass


def test_volume_create_show_list_delete(demo: Any, admin: Any, nova_volume: Any) -> None:
    name = unique("novavol")
    created = raw(
        demo,
        "post",
        "/os-volumes",
        json={
            "volume": {
                "size": "1",
                "display_name": name,
                "display_description": "from nova",
                "metadata": {"Type": "work"},
            }
        },
    )
    assert created.status_code == 200, created.text
    volume = created.json()["volume"]
    assert set(volume) == VOLUME_KEYS
    assert volume["displayName"] == name and volume["size"] == 1
    assert volume["attachments"] == [{}]
    # the volume service has it, with what Nova was given
    cinder = wait_volume(demo, volume["id"], "available")
    assert cinder.name == name and cinder.description == "from nova"
    assert cinder.metadata == {"Type": "work"}
    shown = raw(demo, "get", f"/os-volumes/{volume['id']}").json()["volume"]
    assert shown["status"] == "available"
    assert shown["volumeType"] == cinder.volume_type
    assert shown["metadata"] == {"Type": "work"}
    assert shown["displayDescription"] == "from nova"
    assert shown["availabilityZone"] == cinder.availability_zone

    other = nova_volume()
    for path in ("/os-volumes", "/os-volumes/detail"):
        listed = raw(demo, "get", path).json()["volumes"]
        ids = [v["id"] for v in listed]
        assert volume["id"] in ids and other["id"] in ids
        assert all(set(v) == VOLUME_KEYS for v in listed)
        assert len(raw(demo, "get", path + "?limit=1").json()["volumes"]) == 1
        paged = raw(demo, "get", path + "?offset=1&limit=1").json()["volumes"]
        assert [v["id"] for v in paged] == ids[1:2]
    # the admin project's volume: an admin's list shows its own project's only, and
    # the demo project sees nothing of it
    theirs = admin.block_storage.create_volume(size=1, name=unique("adminvol"))
    try:
        assert volume["id"] not in [
            v["id"] for v in raw(admin, "get", "/os-volumes").json()["volumes"]
        ]
        assert theirs.id not in [v["id"] for v in raw(demo, "get", "/os-volumes").json()["volumes"]]
        nova_error(raw(demo, "get", f"/os-volumes/{theirs.id}"), 404, "itemNotFound")
        nova_error(raw(demo, "delete", f"/os-volumes/{theirs.id}"), 404, "itemNotFound")
    finally:
        wait_volume(admin, theirs.id, "available")
        admin.block_storage.delete_volume(theirs.id)

    deleted = raw(demo, "delete", f"/os-volumes/{volume['id']}")
    assert deleted.status_code == 202, deleted.text
    wait_absent(demo, "volume", volume["id"])
    assert demo.block_storage.find_volume(volume["id"], ignore_missing=True) is None


def test_volume_refusals_and_removal_in_2_36(demo: Any, nova_volume: Any) -> None:
    missing = "5f1c0a5e-0000-4000-8000-000000000000"
    nova_error(raw(demo, "get", f"/os-volumes/{missing}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", f"/os-volumes/{missing}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", "/os-volumes/not-a-volume"), 404, "itemNotFound")
    nova_error(raw(demo, "get", "/os-volumes/"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", "/os-volumes/"), 404, "itemNotFound")
    for size in ("#$%", "", "0", 0, -1, True):
        response = raw(demo, "post", "/os-volumes", json={"volume": {"size": size}})
        nova_error(response, 400, "badRequest")
    nova_error(raw(demo, "post", "/os-volumes", json={"volume": {}}), 400, "badRequest")
    bad_bodies: list[Any] = [
        {"volume": {"size": 1, "display_name": 5}},
        {"volume": {"size": 1, "bogus": "x"}},
        {"volume": {"size": 1, "metadata": "x"}},
        {"volume": {"size": 1, "volume_type": "no-such-type"}},
        {"volume": {"size": 1, "availability_zone": "no-such-zone"}},
        {"volume": "x"},
        {"size": 1},
    ]
    for body in bad_bodies:
        response = raw(demo, "post", "/os-volumes", json=body)
        nova_error(response, 404 if "volume_type" in str(body) else 400, _key(response))
    before = {v.id for v in demo.block_storage.volumes()}
    assert before == {v["id"] for v in raw(demo, "get", "/os-volumes").json()["volumes"]}

    volume = nova_volume()
    for method, path in (
        ("get", "/os-volumes"),
        ("get", "/os-volumes/detail"),
        ("get", f"/os-volumes/{volume['id']}"),
        ("delete", f"/os-volumes/{volume['id']}"),
        ("post", "/os-volumes"),
        ("get", "/os-snapshots"),
        ("get", "/os-snapshots/detail"),
        ("post", "/os-snapshots"),
    ):
        nova_error(raw(demo, method, path, "2.36", json={}), 404, "itemNotFound")
    # still there: the 2.36 delete did nothing
    assert demo.block_storage.get_volume(volume["id"]).status == "available"


def _key(response: Any) -> str:
    return "itemNotFound" if response.status_code == 404 else "badRequest"


def test_volume_quota_is_nova_403(demo: Any, admin: Any) -> None:
    project = demo.current_project_id
    admin.block_storage.update_quota_set(project, volumes=0)
    try:
        response = raw(demo, "post", "/os-volumes", json={"volume": {"size": 1}})
        nova_error(response, 403, "forbidden")
    finally:
        admin.block_storage.revert_quota_set(project)


def test_snapshot_create_show_list_delete(demo: Any, admin: Any, nova_volume: Any) -> None:
    volume = nova_volume()
    name = unique("novasnap")
    created = raw(
        demo,
        "post",
        "/os-snapshots",
        json={"snapshot": {"volume_id": volume["id"], "display_name": name}},
    )
    assert created.status_code == 200, created.text
    snapshot = created.json()["snapshot"]
    assert set(snapshot) == SNAPSHOT_KEYS
    assert snapshot["volumeId"] == volume["id"] and snapshot["size"] == 1
    shown = wait_nova(demo, "snapshot", snapshot["id"], "available")
    assert shown["displayName"] == name
    assert demo.block_storage.get_snapshot(snapshot["id"]).name == name
    for path in ("/os-snapshots", "/os-snapshots/detail"):
        listed = raw(demo, "get", path).json()["snapshots"]
        assert snapshot["id"] in [s["id"] for s in listed]
        assert all(set(s) == SNAPSHOT_KEYS for s in listed)
    assert snapshot["id"] not in [
        s["id"] for s in raw(admin, "get", "/os-snapshots").json()["snapshots"]
    ]
    # Cinder keeps a volume with snapshots: Nova's 400
    nova_error(raw(demo, "delete", f"/os-volumes/{volume['id']}"), 400, "badRequest")
    deleted = raw(demo, "delete", f"/os-snapshots/{snapshot['id']}")
    assert deleted.status_code == 202, deleted.text
    wait_absent(demo, "snapshot", snapshot["id"])
    nova_error(raw(demo, "get", f"/os-snapshots/{snapshot['id']}"), 404, "itemNotFound")


def test_snapshot_refusals(demo: Any, nova_volume: Any) -> None:
    missing = "5f1c0a5e-0000-4000-8000-000000000000"
    nova_error(raw(demo, "get", f"/os-snapshots/{missing}"), 404, "itemNotFound")
    nova_error(raw(demo, "delete", f"/os-snapshots/{missing}"), 404, "itemNotFound")
    nova_error(raw(demo, "get", "/os-snapshots/"), 404, "itemNotFound")
    body: Any
    for body in (
        {"snapshot": {}},
        {"snapshot": {"volume_id": 5}},
        {"snapshot": {"volume_id": missing, "force": "maybe"}},
        {"snapshot": {"volume_id": missing, "bogus": 1}},
        {"volume_id": missing},
    ):
        nova_error(raw(demo, "post", "/os-snapshots", json=body), 400, "badRequest")
    response = raw(demo, "post", "/os-snapshots", json={"snapshot": {"volume_id": missing}})
    nova_error(response, 404, "itemNotFound")


@needs_root
def test_an_attached_volume_names_its_server(
    demo: Any, make_server: Callable[..., Any], nova_volume: Any
) -> None:
    server = make_server(demo)
    volume = nova_volume()
    response = attach(demo, server, demo.block_storage.get_volume(volume["id"]))
    assert response.status_code == 200, response.text
    shown = wait_nova(demo, "volume", volume["id"], "in-use")
    assert shown["attachments"] == [
        {"id": volume["id"], "volumeId": volume["id"], "serverId": server.id, "device": "/dev/vdb"}
    ]
    # an in-use volume: Cinder's 400 without force, a snapshot with it
    body = {"snapshot": {"volume_id": volume["id"]}}
    nova_error(raw(demo, "post", "/os-snapshots", json=body), 400, "badRequest")
    nova_error(raw(demo, "delete", f"/os-volumes/{volume['id']}"), 400, "badRequest")
    body["snapshot"]["force"] = "true"
    forced = raw(demo, "post", "/os-snapshots", json=body)
    assert forced.status_code == 200, forced.text
    snapshot = wait_nova(demo, "snapshot", forced.json()["snapshot"]["id"], "available")
    assert snapshot["volumeId"] == volume["id"]
    demo.compute.delete_volume_attachment(server, volume["id"])
    wait_volume(demo, volume["id"], "available")
    assert raw(demo, "delete", f"/os-snapshots/{snapshot['id']}").status_code == 202
    wait_absent(demo, "snapshot", snapshot["id"])
