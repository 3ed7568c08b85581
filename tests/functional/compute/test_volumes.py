"""Volumes and servers through Nova's API (fake compute driver): os-volume_attachments,
os-extended-volumes in server views, boot from volume, delete detaches.

Attaching exports a loop device on the host, so the tests that attach need
root (on CI they never skip); the validation tests do not.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.functional.compute.conftest import raw, unique

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="loop devices need root"
)


def wait_volume(conn: Any, volume_id: str, status: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    volume = None
    while time.monotonic() < deadline:
        volume = conn.block_storage.get_volume(volume_id)
        if volume.status == status:
            return volume
        time.sleep(0.05)
    raise AssertionError(f"volume {volume_id} stayed {volume and volume.status}, wanted {status}")


def wait_gone(conn: Any, volume_id: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.block_storage.find_volume(volume_id, ignore_missing=True) is None:
            return
        time.sleep(0.05)
    raise AssertionError(f"volume {volume_id} still exists")


@pytest.fixture()
def make_volume(admin: Any, demo: Any) -> Iterator[Callable[..., Any]]:
    made: list[str] = []

    def make(conn: Any = None, size: int = 1, **attrs: Any) -> Any:
        conn = conn or demo
        volume = conn.block_storage.create_volume(size=size, name=unique("vol"), **attrs)
        made.append(volume.id)
        return wait_volume(conn, volume.id, "available")

    yield make
    for volume_id in made:
        volume = admin.block_storage.find_volume(volume_id, ignore_missing=True, all_projects=True)
        if volume is None:
            continue
        for attachment in admin.block_storage.attachments(volume_id=volume_id, all_projects=True):
            try:
                admin.block_storage.delete_attachment(attachment.id)
            except Exception:
                pass
        try:
            admin.block_storage.delete(f"/volumes/{volume_id}?cascade=true")
        except Exception:
            pass


def attach(conn: Any, server: Any, volume: Any, version: str = "2.79", **body: Any) -> Any:
    body = {"volumeId": volume.id, **body}
    return raw(
        conn,
        "post",
        f"/servers/{server.id}/os-volume_attachments",
        version,
        json={"volumeAttachment": body},
    )


def error(response: Any, key: str, code: int) -> str:
    assert response.status_code == code, response.text
    body = response.json()[key]
    assert body["code"] == code
    return str(body["message"])


# -- attach, list, show, detach ----------------------------------------------------


@needs_root
def test_attach_list_show_detach_with_the_sdk(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    server = make_server(demo)
    volume = make_volume()
    created = demo.compute.create_volume_attachment(server, volume_id=volume.id)
    assert created.device == "/dev/vdb"
    assert created.volume_id == volume.id
    in_use = wait_volume(demo, volume.id, "in-use")
    assert [(a["server_id"], a["device"]) for a in in_use.attachments] == [(server.id, "/dev/vdb")]
    listed = list(demo.compute.volume_attachments(server))
    assert [(a.volume_id, a.device) for a in listed] == [(volume.id, "/dev/vdb")]
    assert listed[0].attachment_id == in_use.attachments[0]["attachment_id"]
    assert listed[0].bdm_id
    shown = demo.compute.get_volume_attachment(server, volume.id)
    assert shown.device == "/dev/vdb" and shown.delete_on_termination is False
    again = demo.compute.get_server(server.id)
    assert [(v.id, v.delete_on_termination) for v in again.attached_volumes] == [(volume.id, False)]
    demo.compute.delete_volume_attachment(server, volume.id)
    wait_volume(demo, volume.id, "available")
    assert list(demo.compute.volume_attachments(server)) == []
    assert demo.compute.get_server(server.id).attached_volumes == []


@needs_root
def test_attachment_fields_follow_the_microversion(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    server = make_server(demo)
    volume = make_volume()
    response = attach(demo, server, volume, "2.79", tag="data", delete_on_termination=True)
    assert response.status_code == 200, response.text
    assert response.json()["volumeAttachment"] == {
        "id": volume.id,
        "serverId": server.id,
        "volumeId": volume.id,
        "device": "/dev/vdb",
        "tag": "data",
        "delete_on_termination": True,
    }
    wait_volume(demo, volume.id, "in-use")
    path = f"/servers/{server.id}/os-volume_attachments/{volume.id}"
    old = raw(demo, "get", path, "2.1").json()["volumeAttachment"]
    assert old == {"id": volume.id, "serverId": server.id, "volumeId": volume.id,
                   "device": "/dev/vdb"}  # fmt: skip
    assert raw(demo, "get", path, "2.70").json()["volumeAttachment"]["tag"] == "data"
    new = raw(demo, "get", path, "2.89").json()["volumeAttachment"]
    assert "id" not in new and new["attachment_id"] and new["bdm_uuid"]
    assert new["delete_on_termination"] is True
    body = raw(demo, "get", f"/servers/{server.id}", "2.1").json()["server"]
    assert body["os-extended-volumes:volumes_attached"] == [{"id": volume.id}]
    # 2.85: delete_on_termination may change, the rest must match
    update = {"volumeAttachment": {"volumeId": volume.id, "delete_on_termination": False}}
    assert raw(demo, "put", path, "2.85", json=update).status_code == 202
    assert (
        raw(demo, "get", path, "2.79").json()["volumeAttachment"]["delete_on_termination"] is False
    )
    bad = {"volumeAttachment": {"volumeId": volume.id, "device": "/dev/vdc"}}
    message = error(raw(demo, "put", path, "2.85", json=bad), "badRequest", 400)
    assert message == "The device property is not mutable"
    # swapping volumes is not supported
    other = {"volumeAttachment": {"volumeId": make_volume().id}}
    error(raw(demo, "put", path, "2.85", json=other), "notImplemented", 501)
    error(raw(demo, "put", path, "2.1", json=other), "notImplemented", 501)
    # fields a microversion does not know are refused
    error(attach(demo, server, volume, "2.48", tag="x"), "badRequest", 400)
    # limit and offset
    listing = raw(demo, "get", f"/servers/{server.id}/os-volume_attachments?limit=0", "2.79")
    assert listing.json() == {"volumeAttachments": []}
    error(
        raw(demo, "get", f"/servers/{server.id}/os-volume_attachments?limit=x", "2.79"),
        "badRequest",
        400,
    )


@needs_root
def test_a_volume_in_use_is_not_attached_twice_nor_deleted(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    first, second = make_server(demo), make_server(demo)
    volume = make_volume()
    assert attach(demo, first, volume).status_code == 200
    wait_volume(demo, volume.id, "in-use")
    message = error(attach(demo, second, volume), "badRequest", 400)
    assert message == (
        f"Invalid volume: volume {volume.id} is already attached to instances: {first.id}"
    )
    message = error(attach(demo, first, volume), "badRequest", 400)
    assert "already attached" in message
    # the volume service refuses to delete an in-use volume
    response = demo.block_storage.delete(f"/volumes/{volume.id}", raise_exc=False)
    assert response.status_code == 400, response.text
    assert "must not be migrating, attached" in response.json()["badRequest"]["message"]
    # the second server gets it once the first let it go
    demo.compute.delete_volume_attachment(first, volume.id)
    wait_volume(demo, volume.id, "available")
    assert attach(demo, second, volume).json()["volumeAttachment"]["device"] == "/dev/vdb"
    wait_volume(demo, volume.id, "in-use")


@needs_root
def test_multiattach_only_for_types_that_allow_it_and_from_2_60(
    admin: Any, demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    vtype = admin.block_storage.create_type(
        name=unique("multi"), extra_specs={"multiattach": "<is> True"}
    )
    try:
        volume = make_volume(volume_type=vtype.name)
        assert volume.is_multiattach
        first, second = make_server(demo), make_server(demo)
        message = error(attach(demo, first, volume, "2.59"), "badRequest", 400)
        assert message == (
            "Multiattach volumes are only supported starting with compute API version 2.60."
        )
        assert attach(demo, first, volume, "2.60").status_code == 200
        wait_volume(demo, volume.id, "in-use")
        assert attach(demo, second, volume, "2.60").status_code == 200
        deadline = time.monotonic() + 30
        while len(demo.block_storage.get_volume(volume.id).attachments) < 2:
            assert time.monotonic() < deadline, "second attachment did not complete"
            time.sleep(0.05)
        servers = {a["server_id"] for a in demo.block_storage.get_volume(volume.id).attachments}
        assert servers == {first.id, second.id}
        demo.compute.delete_volume_attachment(first, volume.id)
        demo.compute.delete_volume_attachment(second, volume.id)
        wait_volume(demo, volume.id, "available")
    finally:
        for volume in admin.block_storage.volumes(all_projects=True):
            if volume.volume_type == vtype.name:
                wait_volume(admin, volume.id, "available")
                admin.block_storage.delete_volume(volume.id)
                wait_gone(admin, volume.id)
        admin.block_storage.delete_type(vtype)


def test_attach_errors(
    admin: Any, demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    server = make_server(demo)
    missing = "9f1ac1a8-6a43-4ae2-8a21-5d3a7c0a0d11"
    path = f"/servers/{server.id}/os-volume_attachments"
    body = {"volumeAttachment": {"volumeId": missing}}
    assert error(raw(demo, "post", path, json=body), "itemNotFound", 404) == (
        f"Volume {missing} could not be found."
    )
    # another project's volume is not there for demo, nor demo's server for admin's project
    theirs = make_volume(admin)
    body = {"volumeAttachment": {"volumeId": theirs.id}}
    error(raw(demo, "post", path, json=body), "itemNotFound", 404)
    error(raw(demo, "get", f"{path}/{theirs.id}"), "itemNotFound", 404)
    mine = make_volume()
    message = error(raw(demo, "get", f"{path}/{mine.id}"), "itemNotFound", 404)
    assert message == f"Instance {server.id} is not attached to volume {mine.id}"
    error(raw(demo, "delete", f"{path}/{mine.id}"), "itemNotFound", 404)
    bad = {"volumeAttachment": {"volumeId": mine.id, "device": "vdb"}}
    assert error(raw(demo, "post", path, json=bad), "badRequest", 400) == (
        "The supplied device path (vdb) is invalid."
    )
    error(raw(demo, "post", path, json={"volumeAttachment": {"volumeId": "x"}}), "badRequest", 400)
    error(raw(demo, "post", path, json={"volume": {}}), "badRequest", 400)
    unknown = f"/servers/{missing}/os-volume_attachments"
    error(raw(demo, "get", unknown), "itemNotFound", 404)
    # a locked server (locked by its owner) refuses its owner's attach
    demo.compute.lock_server(server)
    try:
        body = {"volumeAttachment": {"volumeId": mine.id}}
        message = error(raw(demo, "post", path, json=body), "conflictingRequest", 409)
        assert message == f"Instance {server.id} is locked"
    finally:
        demo.compute.unlock_server(server)
    assert demo.block_storage.get_volume(mine.id).status == "available"


@needs_root
def test_a_stopped_server_takes_volumes(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    server = make_server(demo)
    demo.compute.stop_server(server)
    demo.compute.wait_for_server(server, status="SHUTOFF", interval=0.1, wait=30)
    volume = make_volume()
    assert attach(demo, server, volume).status_code == 200
    wait_volume(demo, volume.id, "in-use")
    demo.compute.start_server(server)
    demo.compute.wait_for_server(server, status="ACTIVE", interval=0.1, wait=30)
    assert [a.volume_id for a in demo.compute.volume_attachments(server)] == [volume.id]


# -- server delete ---------------------------------------------------------------


@needs_root
def test_deleting_a_server_detaches_its_volumes(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any]
) -> None:
    server = make_server(demo)
    keep, drop = make_volume(), make_volume()
    assert attach(demo, server, keep).status_code == 200
    response = attach(demo, server, drop, device="/dev/vdd", delete_on_termination=True)
    assert response.json()["volumeAttachment"]["device"] == "/dev/vdd"  # a free name is honoured
    wait_volume(demo, keep.id, "in-use")
    wait_volume(demo, drop.id, "in-use")
    devices = sorted(a.device for a in demo.compute.volume_attachments(server))
    assert devices == ["/dev/vdb", "/dev/vdd"]
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.1, wait=30)
    assert wait_volume(demo, keep.id, "available").attachments == []
    wait_gone(demo, drop.id)


# -- boot from volume --------------------------------------------------------------


def bfv(image_id: str, size: int = 1, **extra: Any) -> list[dict[str, Any]]:
    return [
        {
            "uuid": image_id,
            "boot_index": 0,
            "source_type": "image",
            "destination_type": "volume",
            "volume_size": size,
            **extra,
        }
    ]


@needs_root
def test_boot_from_a_volume_made_from_an_image(
    demo: Any, make_server: Callable[..., Any], image_id: str
) -> None:
    server = make_server(
        demo, image_id="", block_device_mapping=bfv(image_id, delete_on_termination=True)
    )
    assert server.status == "ACTIVE"
    body = raw(demo, "get", f"/servers/{server.id}", "2.79").json()["server"]
    assert body["image"] == ""
    [attached] = body["os-extended-volumes:volumes_attached"]
    assert attached["delete_on_termination"] is True
    volume = demo.block_storage.get_volume(attached["id"])
    assert volume.status == "in-use" and volume.is_bootable and volume.size == 1
    assert volume.volume_image_metadata["image_id"] == image_id
    [row] = demo.compute.volume_attachments(server)
    assert row.device == "/dev/vda"
    path = f"/servers/{server.id}/os-volume_attachments/{volume.id}"
    assert error(raw(demo, "delete", path), "badRequest", 400) == (
        "Cannot detach a root device volume"
    )
    rebuild = {"rebuild": {"imageRef": image_id}}
    error(raw(demo, "post", f"/servers/{server.id}/action", json=rebuild), "notImplemented", 501)
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.1, wait=30)
    wait_gone(demo, volume.id)


@needs_root
def test_boot_from_an_existing_volume_keeps_it(
    demo: Any, make_server: Callable[..., Any], make_volume: Callable[..., Any], image_id: str
) -> None:
    volume = make_volume(image_id=image_id)
    assert volume.is_bootable
    data = make_volume()
    mappings = [
        {"uuid": volume.id, "boot_index": 0, "source_type": "volume",
         "destination_type": "volume"},
        {"uuid": data.id, "boot_index": -1, "source_type": "volume",
         "destination_type": "volume"},
    ]  # fmt: skip
    server = make_server(demo, image_id="", block_device_mapping=mappings)
    assert server.status == "ACTIVE"
    devices = {a.volume_id: a.device for a in demo.compute.volume_attachments(server)}
    assert devices == {volume.id: "/dev/vda", data.id: "/dev/vdb"}
    demo.compute.delete_server(server)
    demo.compute.wait_for_delete(server, interval=0.1, wait=30)
    wait_volume(demo, volume.id, "available")
    wait_volume(demo, data.id, "available")


def test_bad_block_device_mappings(
    demo: Any, make_volume: Callable[..., Any], image_id: str
) -> None:
    def create(mappings: list[dict[str, Any]]) -> Any:
        server = {"name": unique("bdm"), "flavorRef": "42", "networks": "none",
                  "block_device_mapping_v2": mappings}  # fmt: skip
        return raw(demo, "post", "/servers", "2.67", json={"server": server})

    message = error(create(bfv(image_id, size=0)), "badRequest", 400)
    assert "need to have a non-zero size specified" in message
    error(create(bfv(image_id, source_type="blank")), "notImplemented", 501)
    error(create(bfv(image_id, source_type="floppy")), "badRequest", 400)
    error(create(bfv("a6b1c2d3-0000-4000-8000-000000000000")), "badRequest", 400)
    missing = [{"uuid": "a6b1c2d3-0000-4000-8000-000000000000", "boot_index": 0,
                "source_type": "volume", "destination_type": "volume"}]  # fmt: skip
    assert "failed to get volume" in error(create(missing), "badRequest", 400)
    blank = make_volume()
    not_bootable = [{"uuid": blank.id, "boot_index": 0, "source_type": "volume",
                     "destination_type": "volume"}]  # fmt: skip
    assert error(create(not_bootable), "badRequest", 400) == (
        f"Block Device {blank.id} is not bootable."
    )
    assert error(create([]), "badRequest", 400) == "Missing imageRef attribute"


def test_boot_volume_over_quota_fails_the_build(
    demo: Any, make_server: Callable[..., Any], image_id: str
) -> None:
    server = make_server(demo, wait=False, image_id="", block_device_mapping=bfv(image_id, 5000))
    server = demo.compute.wait_for_server(server, status="ERROR", interval=0.1, wait=60)
    assert "gigabytes" in server.fault["message"]
    assert demo.compute.get_server(server.id).attached_volumes == []
