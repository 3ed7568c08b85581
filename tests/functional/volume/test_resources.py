"""Types, snapshots, backups, quotas, limits, zones and services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from openstack import exceptions as sdk_exc

from tests.functional.volume.conftest import VolumeAPI, unique


def test_volume_type_with_specs_and_access(
    admin: Any, demo: Any, demo_api: VolumeAPI, admin_api: VolumeAPI
) -> None:
    name = unique("type")
    vtype = admin.block_storage.create_type(
        name=name, is_public=False, extra_specs={"volume_backend_name": "file"}
    )
    try:
        assert name not in {t.name for t in demo.block_storage.types()}
        body = {"volume": {"size": 1, "volume_type": name}}
        assert demo_api.request("POST", "/volumes", json=body).status_code == 404
        admin.block_storage.add_type_access(vtype, demo.current_project_id)
        assert name in {t.name for t in demo.block_storage.types()}
        shown = demo_api.request("GET", f"/types/{vtype.id}").json()["volume_type"]
        assert shown["extra_specs"] == {}  # users see only user-visible specs
        admin.block_storage.update_type_extra_specs(vtype, multiattach="<is> True")
        specs = admin_api.request("GET", f"/types/{vtype.id}/extra_specs").json()
        assert specs["extra_specs"] == {"volume_backend_name": "file", "multiattach": "<is> True"}
        dup = admin_api.request("POST", "/types", json={"volume_type": {"name": name}})
        assert dup.status_code == 409 and "conflictingRequest" in dup.json()
    finally:
        admin.block_storage.delete_type(vtype)


def test_demo_cannot_create_types(demo_api: VolumeAPI) -> None:
    response = demo_api.request("POST", "/types", json={"volume_type": {"name": unique("t")}})
    assert response.status_code == 403
    assert "forbidden" in response.json()


def test_snapshot_crud_and_metadata(demo: Any, make_volume: Callable[..., Any]) -> None:
    volume = make_volume()
    snap = demo.block_storage.create_snapshot(
        volume_id=volume.id, name=unique("snap"), metadata={"m": "1"}
    )
    snap = demo.block_storage.wait_for_status(snap, "available", wait=30, interval=0.1)
    assert snap.size == 1 and snap.volume_id == volume.id
    demo.block_storage.update_snapshot(snap, description="described")
    assert demo.block_storage.get_snapshot(snap.id).description == "described"
    assert snap.id in {s.id for s in demo.block_storage.snapshots(volume_id=volume.id)}
    clone = make_volume(snapshot_id=snap.id, size=2)
    assert clone.size == 2 and clone.snapshot_id == snap.id
    demo.block_storage.delete_snapshot(snap)
    demo.block_storage.wait_for_delete(snap, wait=30, interval=0.1)


def test_clone_from_volume(demo: Any, make_volume: Callable[..., Any]) -> None:
    source = make_volume()
    clone = make_volume(source_volume_id=source.id)
    assert clone.source_volume_id == source.id and clone.size == 1


def test_backup_incremental_restore_and_dependents(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    full = demo.block_storage.create_backup(volume_id=volume.id, name=unique("full"))
    full = demo.block_storage.wait_for_status(full, "available", wait=60, interval=0.1)
    assert demo.block_storage.get_volume(volume.id).status == "available"
    incr = demo.block_storage.create_backup(
        volume_id=volume.id, name=unique("incr"), is_incremental=True
    )
    incr = demo.block_storage.wait_for_status(incr, "available", wait=60, interval=0.1)
    assert incr.is_incremental is True
    assert demo.block_storage.get_backup(full.id).has_dependent_backups is True
    blocked = demo_api.request("DELETE", f"/backups/{full.id}")
    assert blocked.status_code == 400
    assert "Incremental backups exist" in blocked.json()["badRequest"]["message"]
    restored = demo_api.request(
        "POST", f"/backups/{incr.id}/restore", json={"restore": {"name": unique("restored")}}
    )
    assert restored.status_code == 202
    new_id = restored.json()["restore"]["volume_id"]
    demo_api.wait(f"/volumes/{new_id}", "volume", "available", timeout=60)
    demo_api.wait(f"/backups/{incr.id}", "backup", "available")
    demo.block_storage.delete_volume(new_id)
    demo.block_storage.delete_backup(incr)
    demo.block_storage.wait_for_delete(incr, wait=30, interval=0.1)
    demo.block_storage.delete_backup(full)
    demo.block_storage.wait_for_delete(full, wait=30, interval=0.1)


def test_incremental_without_full_is_400(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    body = {"backup": {"volume_id": volume.id, "incremental": True}}
    response = demo_api.request("POST", "/backups", json=body)
    assert response.status_code == 400
    assert "No backups available" in response.json()["badRequest"]["message"]


def test_quota_usage_and_limits(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    make_volume(size=2)
    usage = demo_api.request("GET", f"/os-quota-sets/{demo_api.project_id}?usage=true").json()
    assert usage["quota_set"]["gigabytes"]["in_use"] >= 2
    assert usage["quota_set"]["volumes"]["limit"] == 10
    absolute = demo.block_storage.get_limits().absolute
    assert absolute.max_total_volumes == 10 and absolute.total_volumes_used >= 1


def test_demo_cannot_update_quotas(demo_api: VolumeAPI) -> None:
    body = {"quota_set": {"volumes": 100}}
    response = demo_api.request("PUT", f"/os-quota-sets/{demo_api.project_id}", json=body)
    assert response.status_code == 403


def test_zones_and_services(admin: Any, demo_api: VolumeAPI) -> None:
    zones = list(admin.block_storage.availability_zones())
    assert [(z.name, z.state["available"]) for z in zones] == [("nova", True)]
    binaries = {s.binary: s.state for s in admin.block_storage.services()}
    assert binaries == {"cinder-scheduler": "up", "cinder-volume": "up", "cinder-backup": "up"}
    assert demo_api.request("GET", "/os-services").status_code == 403


def test_volume_from_image_and_upload(demo: Any, make_volume: Callable[..., Any]) -> None:
    images = [i for i in demo.image.images() if i.status == "active"]
    if not images:
        pytest.skip("no active image to copy")
    image = images[0]
    volume = make_volume(image_id=image.id, size=max(1, image.min_disk or 0))
    shown = demo.block_storage.get_volume(volume.id)
    assert shown.is_bootable is True
    assert shown.volume_image_metadata["image_id"] == image.id
    result = demo.block_storage.upload_volume_to_image(
        volume, unique("img"), disk_format="raw", container_format="bare"
    )
    uploaded = demo.image.get_image(result["image_id"])
    try:
        assert uploaded.status == "active" and uploaded.size == 1024**3 * shown.size
    finally:
        demo.image.delete_image(uploaded)
    with pytest.raises(sdk_exc.BadRequestException):
        demo.block_storage.create_volume(image_id=image.id, size=1, multiattach=True)
