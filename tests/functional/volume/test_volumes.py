"""Volumes through openstacksdk and raw HTTP: lifecycle, listing, errors, isolation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.volume.conftest import VolumeAPI, unique, wait_gone, wait_volume


def test_version_discovery(admin_api: VolumeAPI) -> None:
    import httpx

    root = httpx.get(admin_api.root + "/")
    assert root.status_code == 300
    (version,) = root.json()["versions"]
    assert version["id"] == "v3.0" and version["min_version"] == "3.0"
    assert version["version"] == "3.71"
    assert admin_api.request("GET", "/volumes").headers["OpenStack-API-Version"] == "volume 3.71"


def test_microversion_out_of_range_is_406(admin_api: VolumeAPI) -> None:
    response = admin_api.request("GET", "/volumes", version="3.99")
    assert response.status_code == 406
    assert "notAcceptable" in response.json()


def test_volume_lifecycle(demo: Any, make_volume: Callable[..., Any]) -> None:
    name = unique("life")
    volume = make_volume(name=name, description="first", metadata={"k": "v"})
    shown = demo.block_storage.get_volume(volume.id)
    assert (shown.name, shown.size, shown.status) == (name, 1, "available")
    assert shown.is_bootable is False and shown.volume_type == "__DEFAULT__"
    assert shown.metadata == {"k": "v"} and shown.project_id == demo.current_project_id
    assert shown.host is None  # os-vol-host-attr:host is for administrators
    demo.block_storage.update_volume(volume, name=name + "-x", description="second")
    assert demo.block_storage.get_volume(volume.id).name == name + "-x"
    demo.block_storage.delete_volume(volume)
    wait_gone(demo, volume.id)


def test_admin_sees_host_attribute(admin: Any, make_volume: Callable[..., Any]) -> None:
    volume = make_volume(conn=admin)
    assert "@file#" in admin.block_storage.get_volume(volume.id).host


def test_routes_without_project_id(demo_api: VolumeAPI, make_volume: Callable[..., Any]) -> None:
    volume = make_volume()
    response = demo_api.request("GET", f"/volumes/{volume.id}", project=False)
    assert response.status_code == 200
    assert response.json()["volume"]["id"] == volume.id


def test_url_with_another_project_is_400(demo_api: VolumeAPI, admin_api: VolumeAPI) -> None:
    response = demo_api.request(
        "GET", f"/../{admin_api.project_id}/volumes".replace("/..", ""), project=False
    )
    assert response.status_code == 400
    assert "Malformed request url" in response.json()["badRequest"]["message"]


def test_metadata_api(demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]) -> None:
    volume = make_volume(metadata={"a": "1"})
    demo.block_storage.set_volume_metadata(volume.id, b="2")
    assert demo.block_storage.get_volume(volume.id).metadata == {"a": "1", "b": "2"}
    demo.block_storage.delete_volume_metadata(volume.id, keys=["a"])
    assert demo_api.request("GET", f"/volumes/{volume.id}/metadata").json() == {
        "metadata": {"b": "2"}
    }
    missing = demo_api.request("GET", f"/volumes/{volume.id}/metadata/nope")
    assert missing.status_code == 404 and "itemNotFound" in missing.json()


def test_list_filters_sort_and_pages(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    prefix = unique("page")
    ids = {make_volume(name=f"{prefix}-{i}", wait=False).id for i in range(3)}
    listed = demo_api.request("GET", f"/volumes/detail?name~={prefix}&sort=name:desc").json()
    assert [v["name"] for v in listed["volumes"]] == [f"{prefix}-2", f"{prefix}-1", f"{prefix}-0"]
    first = demo_api.request("GET", f"/volumes?name~={prefix}&limit=2&sort=name:asc").json()
    assert len(first["volumes"]) == 2 and first["volumes_links"][0]["rel"] == "next"
    marker = first["volumes"][-1]["id"]
    rest = demo_api.request("GET", f"/volumes?name~={prefix}&limit=2&sort=name:asc&marker={marker}")
    assert [v["name"] for v in rest.json()["volumes"]] == [f"{prefix}-2"]
    counted = demo_api.request("GET", f"/volumes?name~={prefix}&with_count=true&limit=1").json()
    assert counted["count"] == 3
    sdk_ids = {v.id for v in demo.block_storage.volumes(name=f"{prefix}-1")}
    assert sdk_ids < ids and len(sdk_ids) == 1


def test_extend_to_smaller_size_is_400(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume(size=2)
    response = demo_api.request(
        "POST", f"/volumes/{volume.id}/action", json={"os-extend": {"new_size": 1}}
    )
    assert response.status_code == 400
    message = response.json()["badRequest"]["message"]
    assert "New size for extend must be greater than current size" in message


def test_extend_grows_size(demo: Any, make_volume: Callable[..., Any]) -> None:
    volume = make_volume(size=1)
    demo.block_storage.extend_volume(volume, 3)
    assert wait_volume(demo, volume.id, "available").size == 3


def test_bad_size_is_400(demo_api: VolumeAPI) -> None:
    for size in (0, -1, "big", True):
        response = demo_api.request("POST", "/volumes", json={"volume": {"size": size}})
        assert response.status_code == 400, size
        assert "badRequest" in response.json()


def test_missing_body_key_is_400(demo_api: VolumeAPI) -> None:
    response = demo_api.request("POST", "/volumes", json={"size": 1})
    assert response.status_code == 400
    assert response.json()["badRequest"]["message"] == (
        "Missing required element 'volume' in request body."
    )


def test_over_quota_is_413_overlimit(
    admin: Any, demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    project = demo.current_project_id
    admin.block_storage.update_quota_set(project, gigabytes=5)
    try:
        response = demo_api.request("POST", "/volumes", json={"volume": {"size": 50}})
        assert response.status_code == 413
        message = response.json()["overLimit"]["message"]
        assert "exceeds allowed gigabytes quota" in message and "Requested 50G" in message
    finally:
        admin.block_storage.update_quota_set(project, gigabytes=1000)


def test_delete_with_snapshots_is_400_and_cascade_works(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    snap = demo.block_storage.create_snapshot(volume_id=volume.id, name=unique("snap"))
    demo.block_storage.wait_for_status(snap, "available", wait=30, interval=0.1)
    response = demo_api.request("DELETE", f"/volumes/{volume.id}")
    assert response.status_code == 400
    assert "have snapshots" in response.json()["badRequest"]["message"]
    assert demo_api.request("DELETE", f"/volumes/{volume.id}?cascade=true").status_code == 202
    wait_gone(demo, volume.id)
    assert demo.block_storage.find_snapshot(snap.id, ignore_missing=True) is None


def test_tenant_isolation(
    admin: Any, demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    theirs = make_volume(conn=admin)
    assert theirs.id not in {v.id for v in demo.block_storage.volumes()}
    response = demo_api.request("GET", f"/volumes/{theirs.id}")
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["message"] == f"Volume {theirs.id} could not be found."
    attach = demo_api.request(
        "POST", "/attachments", json={"attachment": {"volume_uuid": theirs.id}}
    )
    assert attach.status_code == 404
    with pytest.raises(sdk_exc.NotFoundException):
        demo.block_storage.delete_volume(theirs.id, ignore_missing=False)


def test_transfer_between_projects(admin: Any, demo: Any, make_volume: Callable[..., Any]) -> None:
    volume = make_volume(conn=admin)
    transfer = admin.block_storage.create_transfer(volume_id=volume.id, name=unique("xfer"))
    assert transfer.auth_key
    assert admin.block_storage.get_volume(volume.id).status == "awaiting-transfer"
    with pytest.raises(sdk_exc.BadRequestException):
        demo.block_storage.accept_transfer(transfer.id, "wrong-key")
    demo.block_storage.accept_transfer(transfer.id, transfer.auth_key)
    moved = demo.block_storage.get_volume(volume.id)
    assert moved.project_id == demo.current_project_id and moved.status == "available"


def test_volume_in_error_zone_is_400(demo_api: VolumeAPI) -> None:
    body = {"volume": {"size": 1, "availability_zone": "nowhere"}}
    response = demo_api.request("POST", "/volumes", json=body)
    assert response.status_code == 400
    assert "Availability zone 'nowhere' is invalid" in response.json()["badRequest"]["message"]


def test_unsupported_api_is_501(demo_api: VolumeAPI) -> None:
    response = demo_api.request("GET", "/groups")
    assert response.status_code == 501
    assert "notImplemented" in response.json()


def test_create_and_update_answers_leave_out_extension_attributes(
    admin_api: VolumeAPI,
) -> None:
    extension_keys = {
        "os-vol-tenant-attr:tenant_id",
        "os-vol-host-attr:host",
        "os-vol-mig-status-attr:migstat",
        "os-vol-mig-status-attr:name_id",
        "volume_image_metadata",
    }
    created = admin_api.request(
        "POST", "/volumes", version=None, json={"volume": {"size": 1, "name": unique("ext")}}
    )
    assert created.status_code == 202
    body = created.json()["volume"]
    try:
        assert not extension_keys & set(body)
        admin_api.wait(f"/volumes/{body['id']}", "volume", "available")
        updated = admin_api.request(
            "PUT", f"/volumes/{body['id']}", version=None, json={"volume": {"name": "renamed"}}
        )
        assert updated.status_code == 200
        assert not extension_keys & set(updated.json()["volume"])
        shown = admin_api.request("GET", f"/volumes/{body['id']}", version=None).json()["volume"]
        assert shown["os-vol-tenant-attr:tenant_id"] == admin_api.project_id
        assert "os-vol-host-attr:host" in shown
    finally:
        admin_api.request("DELETE", f"/volumes/{body['id']}")


def test_transfer_fields_follow_the_microversion(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    body = {"transfer": {"volume_id": volume.id, "name": unique("x")}}
    created = demo_api.request("POST", "/volume-transfers", version="3.55", json=body)
    transfer = created.json()["transfer"]
    try:
        assert transfer["no_snapshots"] is False
        assert not {"accepted", "source_project_id", "destination_project_id"} & set(transfer)
        shown = demo_api.request("GET", f"/volume-transfers/{transfer['id']}", version="3.57")
        assert shown.json()["transfer"]["accepted"] is False
        assert shown.json()["transfer"]["source_project_id"] == demo_api.project_id
        old = demo_api.request("GET", f"/os-volume-transfer/{transfer['id']}", version="3.0")
        assert "no_snapshots" not in old.json()["transfer"]
    finally:
        demo_api.request("DELETE", f"/volume-transfers/{transfer['id']}")
