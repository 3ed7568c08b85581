"""Attaching: the attachments API (3.27+) and the legacy actions Nova uses.

With a connector, the volume is exported as a loop device on this host;
these tests need root for that (CI runs as root).
"""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from tests.functional.volume.conftest import VolumeAPI, unique

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="loop devices need root"
)
CONNECTOR = {"host": "compute-1", "platform": "x86_64", "os_type": "linux"}


def _device(attachment: dict[str, Any]) -> str:
    return str(attachment["connection_info"]["data"]["device_path"])


def test_attachment_lifecycle(demo_api: VolumeAPI, make_volume: Callable[..., Any]) -> None:
    volume = make_volume()
    server = str(uuid.uuid4())
    created = demo_api.request(
        "POST",
        "/attachments",
        json={"attachment": {"volume_uuid": volume.id, "instance_uuid": server}},
    )
    assert created.status_code == 200
    attachment = created.json()["attachment"]
    assert attachment["status"] == "reserved" and attachment["connection_info"] == {}
    assert demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]["status"] == (
        "reserved"
    )
    connector = {**CONNECTOR, "mountpoint": "/dev/vdb"}
    updated = demo_api.request(
        "PUT", f"/attachments/{attachment['id']}", json={"attachment": {"connector": connector}}
    )
    assert updated.status_code == 200
    info = updated.json()["attachment"]["connection_info"]
    assert info["driver_volume_type"] == "local"
    device = _device(updated.json()["attachment"])
    assert stat.S_ISBLK(os.stat(device).st_mode)
    done = demo_api.request(
        "POST", f"/attachments/{attachment['id']}/action", json={"os-complete": {}}
    )
    assert done.status_code == 204
    shown = demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]
    assert shown["status"] == "in-use"
    (listed,) = shown["attachments"]
    assert (listed["server_id"], listed["device"], listed["attachment_id"]) == (
        server,
        "/dev/vdb",
        attachment["id"],
    )
    deleted = demo_api.request("DELETE", f"/attachments/{attachment['id']}")
    assert deleted.status_code == 200 and deleted.json() == {"attachments": []}
    assert not os.path.exists(device) or device not in os.popen("losetup -a").read()
    assert demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]["status"] == (
        "available"
    )


def test_second_attachment_of_single_attach_volume_is_400(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    first = demo_api.request(
        "POST",
        "/attachments",
        json={
            "attachment": {
                "volume_uuid": volume.id,
                "instance_uuid": str(uuid.uuid4()),
                "connector": CONNECTOR,
            }
        },
    )
    assert first.status_code == 200
    att_id = first.json()["attachment"]["id"]
    demo_api.request("POST", f"/attachments/{att_id}/action", json={"os-complete": {}})
    second = demo_api.request(
        "POST",
        "/attachments",
        json={"attachment": {"volume_uuid": volume.id, "instance_uuid": str(uuid.uuid4())}},
    )
    assert second.status_code == 400
    assert "status must be available to reserve" in second.json()["badRequest"]["message"]
    in_use = demo_api.request("DELETE", f"/volumes/{volume.id}")
    assert in_use.status_code == 400 and "attached" in in_use.json()["badRequest"]["message"]
    demo_api.request("DELETE", f"/attachments/{att_id}")


def test_multiattach_type_allows_two(
    admin: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    vtype = admin.block_storage.create_type(
        name=unique("multi"), extra_specs={"multiattach": "<is> True"}
    )
    try:
        volume = make_volume(volume_type=vtype.name)
        assert volume.is_multiattach is True
        ids = []
        for _ in range(2):
            response = demo_api.request(
                "POST",
                "/attachments",
                json={
                    "attachment": {
                        "volume_uuid": volume.id,
                        "instance_uuid": str(uuid.uuid4()),
                        "connector": CONNECTOR,
                    }
                },
            )
            assert response.status_code == 200
            ids.append(response.json()["attachment"]["id"])
            demo_api.request("POST", f"/attachments/{ids[-1]}/action", json={"os-complete": {}})
        shown = demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]
        assert len(shown["attachments"]) == 2 and shown["status"] == "in-use"
        for att_id in ids:
            demo_api.request("DELETE", f"/attachments/{att_id}")
        assert demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]["status"] == (
            "available"
        )
    finally:
        admin.block_storage.delete(f"/volumes/{volume.id}")
        import time

        for _ in range(100):
            if admin.block_storage.find_volume(volume.id, ignore_missing=True) is None:
                break
            time.sleep(0.1)
        admin.block_storage.delete_type(vtype)


def test_legacy_attach_detach(demo: Any, make_volume: Callable[..., Any]) -> None:
    volume = make_volume()
    api = demo.block_storage
    api.reserve_volume(volume)
    assert api.get_volume(volume.id).status == "attaching"
    info = api.init_volume_attachment(volume, CONNECTOR)
    device = info["data"]["device_path"]
    assert stat.S_ISBLK(os.stat(device).st_mode)
    server = str(uuid.uuid4())
    api.attach_volume(volume, "/dev/vdc", instance=server)
    shown = api.get_volume(volume.id)
    assert shown.status == "in-use" and shown.attachments[0]["server_id"] == server
    api.begin_volume_detaching(volume)
    assert api.get_volume(volume.id).status == "detaching"
    api.terminate_volume_attachment(volume, CONNECTOR)
    assert device not in os.popen("losetup -a").read()
    api.detach_volume(volume, shown.attachments[0]["attachment_id"])
    assert api.get_volume(volume.id).status == "available"


def test_attachments_need_microversion_327(demo_api: VolumeAPI) -> None:
    response = demo_api.request("GET", "/attachments", version="3.26")
    assert response.status_code == 404


def test_attachment_of_a_readonly_volume_is_ro_and_its_device_refuses_writes(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    demo.block_storage.set_volume_readonly(volume, True)
    created = demo_api.request(
        "POST",
        "/attachments",
        json={"attachment": {"volume_uuid": volume.id, "instance_uuid": str(uuid.uuid4())}},
    )
    attachment = created.json()["attachment"]
    updated = demo_api.request(
        "PUT", f"/attachments/{attachment['id']}", json={"attachment": {"connector": CONNECTOR}}
    ).json()["attachment"]
    try:
        assert updated["attach_mode"] == "ro"
        assert updated["connection_info"]["data"]["access_mode"] == "ro"
        device = _device(updated)
        name = os.path.basename(device)
        with open(f"/sys/block/{name}/ro") as handle:
            assert handle.read().strip() == "1"
        fd = os.open(device, os.O_WRONLY)
        try:
            with pytest.raises(OSError):
                os.write(fd, b"x" * 512)
                os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        demo_api.request("DELETE", f"/attachments/{attachment['id']}")
