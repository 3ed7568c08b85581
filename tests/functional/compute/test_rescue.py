"""Rescue and unrescue through openstacksdk against the fake driver: the state
machine, what the driver is asked to boot, and Nova's refusals."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.functional.compute.conftest import raw
from tests.support.server import RunningCloud


def _wait(conn: Any, server: Any, status: str) -> Any:
    return conn.compute.wait_for_server(server, status=status, interval=0.1, wait=30)


def _driver_record(cloud: RunningCloud, admin: Any, server: Any) -> dict[str, Any]:
    """What the fake driver recorded of the server on its host."""
    host = admin.compute.get_server(server.id).compute_host
    path = cloud.state_dir / "compute" / "fake" / f"{host}.json"
    return dict(json.loads(path.read_text())[server.id])


def _action(conn: Any, server: Any, body: dict[str, Any], version: str = "2.1") -> Any:
    return raw(conn, "post", f"/servers/{server.id}/action", version, json=body)


def test_rescue_boots_the_rescue_image_and_unrescue_restores_active(
    cloud: RunningCloud, admin: Any, demo: Any, make_server: Any, image_id: str
) -> None:
    server = make_server(demo)
    answer = _action(demo, server, {"rescue": {"adminPass": "s3cret-Pass"}})
    assert answer.status_code == 200
    assert answer.json() == {"adminPass": "s3cret-Pass"}
    rescued = _wait(demo, server, "RESCUE")
    assert rescued.vm_state == "rescued"
    assert rescued.task_state is None
    assert rescued.power_state == 1
    assert _driver_record(cloud, admin, server)["rescue_image"] == image_id  # its own image
    assert next(a.action for a in demo.compute.server_actions(server)) == "rescue"

    demo.compute.unrescue_server(server)
    active = _wait(demo, server, "ACTIVE")
    assert active.vm_state == "active"
    assert _driver_record(cloud, admin, server)["rescue_image"] is None
    assert next(a.action for a in demo.compute.server_actions(server)) == "unrescue"


def test_rescue_without_a_password_generates_one(demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    answer = _action(demo, server, {"rescue": None})
    assert answer.status_code == 200
    password = answer.json()["adminPass"]
    assert isinstance(password, str) and len(password) >= 8
    _wait(demo, server, "RESCUE")


def test_rescue_with_another_image_and_from_shutoff(
    cloud: RunningCloud, admin: Any, make_server: Any, image_id: str
) -> None:
    other = admin.image.create_image(
        name=f"rescue-{uuid.uuid4().hex[:8]}",
        disk_format="raw",
        container_format="bare",
        data=b"rescue bytes",
    )
    try:
        server = make_server(admin)
        admin.compute.stop_server(server)
        _wait(admin, server, "SHUTOFF")
        admin.compute.rescue_server(server, image=other.id)
        _wait(admin, server, "RESCUE")
        assert _driver_record(cloud, admin, server)["rescue_image"] == other.id
        admin.compute.unrescue_server(server)
        _wait(admin, server, "ACTIVE")
    finally:
        admin.image.delete_image(other)


def test_rescue_refusals_follow_nova(demo: Any, make_server: Any) -> None:
    missing = raw(
        demo, "post", f"/servers/{uuid.uuid4()}/action", json={"rescue": {"adminPass": "x"}}
    )
    assert missing.status_code == 404
    assert "itemNotFound" in missing.json()

    server = make_server(demo)
    not_rescued = _action(demo, server, {"unrescue": None})
    assert not_rescued.status_code == 409
    assert "vm_state active" in not_rescued.json()["conflictingRequest"]["message"]

    bad_image = _action(demo, server, {"rescue": {"rescue_image_ref": "not-a-uuid"}})
    assert bad_image.status_code == 400
    unknown_image = _action(demo, server, {"rescue": {"rescue_image_ref": str(uuid.uuid4())}})
    assert unknown_image.status_code == 400
    assert "could not be found" in unknown_image.json()["badRequest"]["message"]
    extra = _action(demo, server, {"rescue": {"colour": "red"}})
    assert extra.status_code == 400

    demo.compute.pause_server(server)
    _wait(demo, server, "PAUSED")
    paused = _action(demo, server, {"rescue": {}})
    assert paused.status_code == 409
    assert "vm_state paused" in paused.json()["conflictingRequest"]["message"]
    demo.compute.unpause_server(server)
    _wait(demo, server, "ACTIVE")


def test_a_rescued_server_refuses_other_actions(demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    assert _action(demo, server, {"rescue": {}}).status_code == 200
    _wait(demo, server, "RESCUE")
    again = _action(demo, server, {"rescue": {}})
    assert again.status_code == 409
    assert "vm_state rescued" in again.json()["conflictingRequest"]["message"]
    for body in (
        {"reboot": {"type": "HARD"}},
        {"rebuild": {"imageRef": server.image.id}},
        {"pause": None},
        {"resize": {"flavorRef": "84"}},
        {"createImage": {"name": "never"}},
    ):
        answer = _action(demo, server, body)
        assert answer.status_code == 409, (body, answer.text)
        assert "vm_state rescued" in answer.json()["conflictingRequest"]["message"]
    volume = demo.block_storage.create_volume(size=1, name=f"vol-{uuid.uuid4().hex[:8]}")
    try:
        demo.block_storage.wait_for_status(volume, "available", interval=0.1, wait=30)
        attach = raw(
            demo,
            "post",
            f"/servers/{server.id}/os-volume_attachments",
            json={"volumeAttachment": {"volumeId": volume.id}},
        )
        assert attach.status_code == 409
        assert "vm_state rescued" in attach.json()["conflictingRequest"]["message"]
        assert demo.block_storage.get_volume(volume.id).status == "available"
    finally:
        demo.block_storage.delete_volume(volume)
    demo.compute.unrescue_server(server)
    _wait(demo, server, "ACTIVE")


def test_a_locked_server_is_not_rescued(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(demo)
    admin.compute.lock_server(server)
    try:
        answer = _action(demo, server, {"rescue": {}})
        assert answer.status_code == 409
        assert "locked" in answer.json()["conflictingRequest"]["message"]
        assert demo.compute.get_server(server.id).status == "ACTIVE"
    finally:
        admin.compute.unlock_server(server)


def test_another_project_cannot_rescue(admin: Any, demo: Any, make_server: Any) -> None:
    server = make_server(admin)
    answer = _action(demo, server, {"rescue": {}})
    assert answer.status_code == 404
    assert admin.compute.get_server(server.id).status == "ACTIVE"
