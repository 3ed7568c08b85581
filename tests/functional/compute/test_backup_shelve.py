"""createBackup (with its rotation) and shelve / shelveOffload / unshelve on the
fake driver: states, images, errors."""

from __future__ import annotations

from typing import Any

from tests.functional.compute.conftest import raw
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
