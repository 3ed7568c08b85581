"""createBackup (with its rotation) and shelve / shelveOffload / unshelve on the
fake driver: states, images, errors."""

from __future__ import annotations

import time
from typing import Any

from tests.functional.compute.conftest import raw
from tests.functional.compute.test_volumes import bfv, needs_root
from tests.support.names import unique


def _action(conn: Any, server_id: str, body: dict[str, Any], version: str = "2.1") -> Any:
    return raw(conn, "post", f"/servers/{server_id}/action", version, json=body)


def _backups(conn: Any, server_id: str, kind: str) -> list[str]:
    """The ids of the server's backups of ``kind``, oldest first (Glance's filters)."""
    query = {"image_type": "backup", "backup_type": kind, "instance_uuid": server_id,
             "sort_key": "created_at", "sort_dir": "asc"}  # fmt: skip
    answer = conn.image.get("/images", params=query)
    assert answer.status_code == 200, answer.text
    return [i["id"] for i in answer.json()["images"]]


def _backup(conn: Any, server_id: str, kind: str, rotation: int) -> str:
    body = {"createBackup": {"name": unique("bak"), "backup_type": kind, "rotation": rotation}}
    done = _action(conn, server_id, body, "2.45")
    assert done.status_code == 202, done.text
    return str(done.json()["image_id"])


def test_create_backup_rotates_the_oldest_of_its_type(demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    first = _backup(demo, server.id, "daily", 2)
    image = demo.image.get_image(first)
    assert image.properties["image_type"] == "backup"
    assert image.properties["backup_type"] == "daily"
    assert image.instance_uuid == server.id
    weekly = _backup(demo, server.id, "weekly", 1)
    second = _backup(demo, server.id, "daily", 2)
    assert _backups(demo, server.id, "daily") == [first, second]
    third = _backup(demo, server.id, "daily", 2)
    assert _backups(demo, server.id, "daily") == [second, third]
    assert _backups(demo, server.id, "weekly") == [weekly]
    _backup(demo, server.id, "daily", 0)  # rotation 0 keeps none
    assert _backups(demo, server.id, "daily") == []
    demo.image.delete_image(weekly)


def test_create_backup_location_before_2_45_and_bad_input(demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    body = {"createBackup": {"name": unique("bak"), "backup_type": "daily", "rotation": 1}}
    done = _action(demo, server.id, body)
    assert done.status_code == 202 and done.content == b""
    image_id = done.headers["Location"].rsplit("/", 1)[-1]
    assert demo.image.get_image(image_id).properties["backup_type"] == "daily"
    for bad in (
        {"name": "b", "backup_type": "daily"},
        {"name": "b", "backup_type": "daily", "rotation": -1},
        {"name": "b", "rotation": 1},
        {"name": "b", "backup_type": "daily", "rotation": 1, "extra": 1},
    ):
        answer = _action(demo, server.id, {"createBackup": bad})
        assert answer.status_code == 400, (bad, answer.text)
    demo.image.delete_image(image_id)


def _status(conn: Any, server_id: str, wanted: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = raw(conn, "get", f"/servers/{server_id}", "2.1").json()["server"]
        if body["status"] == wanted and body["OS-EXT-STS:task_state"] is None:
            return dict(body)
        assert body["status"] != "ERROR", body
        assert time.monotonic() < deadline, f"{server_id} is {body['status']}, not {wanted}"
        time.sleep(0.1)


def _show(conn: Any, server_id: str) -> dict[str, Any]:
    return dict(raw(conn, "get", f"/servers/{server_id}", "2.1").json()["server"])


def _shelved_images(conn: Any, server_id: str) -> list[dict[str, Any]]:
    answer = conn.image.get("/images", params={"instance_uuid": server_id})
    return list(answer.json()["images"])


def test_shelve_offloads_and_unshelve_spawns_from_the_image(
    demo: Any, admin: Any, make_server: Any
) -> None:
    server = make_server(demo)
    assert _action(demo, server.id, {"shelve": None}).status_code == 202
    body = _status(admin, server.id, "SHELVED_OFFLOADED")
    assert body["OS-EXT-SRV-ATTR:host"] is None
    assert body["OS-EXT-STS:vm_state"] == "shelved_offloaded"
    assert body["OS-EXT-STS:power_state"] == 0
    images = _shelved_images(demo, server.id)
    assert [i["name"] for i in images] == [f"{server.name}-shelved"]
    assert images[0]["image_type"] == "snapshot" and images[0]["status"] == "active"
    # shelving again, or offloading an offloaded server: 409
    assert _action(demo, server.id, {"shelve": None}).status_code == 409
    assert _action(admin, server.id, {"shelveOffload": None}).status_code == 409
    assert _action(demo, server.id, {"unshelve": None}).status_code == 202
    body = _status(admin, server.id, "ACTIVE")
    assert body["OS-EXT-SRV-ATTR:host"] and body["OS-EXT-STS:power_state"] == 1
    assert body["image"]["id"] == server.image.id  # the server keeps its image
    assert _shelved_images(demo, server.id) == []  # the shelved image is gone
    listed = raw(demo, "get", f"/servers/{server.id}/os-instance-actions").json()
    actions = [a["action"] for a in listed["instanceActions"]]
    assert actions[:2] == ["unshelve", "shelve"]


def test_shelve_from_paused_and_states_refused(demo: Any, admin: Any, make_server: Any) -> None:
    server = make_server(demo)
    # unshelve of an active server: 409; shelveOffload is for admins (Nova's default)
    assert _action(demo, server.id, {"unshelve": None}).status_code == 409
    assert _action(demo, server.id, {"shelveOffload": None}).status_code == 403
    assert _action(demo, server.id, {"pause": None}).status_code == 202
    _status(demo, server.id, "PAUSED")
    assert _action(demo, server.id, {"shelve": None}).status_code == 202
    _status(demo, server.id, "SHELVED_OFFLOADED")
    # before 2.77 unshelve takes null only; an availability zone from 2.77
    assert _action(demo, server.id, {"unshelve": {"availability_zone": "nova"}}).status_code == 400
    done = _action(demo, server.id, {"unshelve": {"availability_zone": "nova"}}, "2.77")
    assert done.status_code == 202, done.text
    _status(demo, server.id, "ACTIVE")


def test_delete_shelved_server_removes_its_image(demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    assert _action(demo, server.id, {"shelve": None}).status_code == 202
    _status(demo, server.id, "SHELVED_OFFLOADED")
    assert len(_shelved_images(demo, server.id)) == 1
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.1, wait=30)
    assert _shelved_images(demo, server.id) == []


@needs_root
def test_shelve_a_volume_backed_server_makes_no_image(
    demo: Any, admin: Any, make_server: Any, image_id: str
) -> None:
    server = make_server(demo, image_id="", block_device_mapping=bfv(image_id))
    [volume] = [a["id"] for a in _show(demo, server.id)["os-extended-volumes:volumes_attached"]]
    assert _action(demo, server.id, {"shelve": None}).status_code == 202
    _status(admin, server.id, "SHELVED_OFFLOADED")
    assert _shelved_images(demo, server.id) == []
    assert demo.block_storage.get_volume(volume).status == "in-use"  # still the server's
    backup = {"createBackup": {"name": "b", "backup_type": "daily", "rotation": 1}}
    assert _action(demo, server.id, backup).status_code == 400  # as Nova: no backup of a BFV
    assert _action(demo, server.id, {"unshelve": None}).status_code == 202
    body = _status(admin, server.id, "ACTIVE")
    assert [a["id"] for a in body["os-extended-volumes:volumes_attached"]] == [volume]
    assert demo.block_storage.get_volume(volume).status == "in-use"
