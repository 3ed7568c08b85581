"""Types, snapshots, backups, quotas, limits, zones and services."""

from __future__ import annotations

import uuid
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
    assert response.json()["forbidden"] == {
        "code": 403,
        "message": "You are not authorized to perform the requested action: "
        "volume_extension:quotas:update.",
    }


def test_quota_set_updates_are_checked_shown_and_reset(
    admin_api: VolumeAPI, demo_api: VolumeAPI
) -> None:
    project = uuid.uuid4().hex  # a project of its own: no other test sees its limits
    path = f"/os-quota-sets/{project}"
    defaults = admin_api.request("GET", f"{path}/defaults").json()["quota_set"]
    try:
        bad_key = admin_api.request("PUT", path, json={"quota_set": {"bogus": 1}})
        assert bad_key.status_code == 400
        assert bad_key.json()["badRequest"]["message"] == "Bad key(s) in quota set: bogus"
        bad_value = admin_api.request("PUT", path, json={"quota_set": {"volumes": -2}})
        assert bad_value.status_code == 400
        assert bad_value.json()["badRequest"]["message"] == (
            "Quota limit -2 for volumes must be an integer >= -1."
        )
        body = {"quota_set": {"volumes": "7", "snapshots": 3, "id": project}}
        updated = admin_api.request("PUT", path, json=body).json()["quota_set"]
        assert (updated["volumes"], updated["snapshots"]) == (7, 3) and "id" not in updated
        shown = admin_api.request("GET", path).json()["quota_set"]
        assert (shown["id"], shown["volumes"], shown["gigabytes"]) == (
            project,
            7,
            defaults["gigabytes"],
        )
        absolute = admin_api.request("GET", f"/limits?project_id={project}").json()["limits"]
        assert absolute["absolute"]["maxTotalVolumes"] == 7
        assert absolute["absolute"]["totalVolumesUsed"] == 0
        # only an administrator may read another project's limits: demo gets its own
        own = demo_api.request("GET", f"/limits?project_id={project}").json()["limits"]
        assert own["absolute"]["maxTotalVolumes"] != 7
    finally:
        assert admin_api.request("DELETE", path).status_code == 200
    reset = admin_api.request("GET", path).json()["quota_set"]
    assert reset["volumes"] == defaults["volumes"]


def test_zones_and_services(admin: Any, demo_api: VolumeAPI) -> None:
    zones = list(admin.block_storage.availability_zones())
    assert [(z.name, z.state["available"]) for z in zones] == [("nova", True)]
    binaries = {s.binary: s.state for s in admin.block_storage.services()}
    assert binaries == {"cinder-scheduler": "up", "cinder-volume": "up", "cinder-backup": "up"}
    assert demo_api.request("GET", "/os-services").status_code == 403


def test_volume_from_image_and_upload(demo: Any, make_volume: Callable[..., Any]) -> None:
    images = [i for i in demo.image.images(name="onestack-busybox") if i.status == "active"]
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


def test_volume_type_answers_by_operation(admin_api: VolumeAPI, demo_api: VolumeAPI) -> None:
    created = admin_api.request(
        "POST", "/types", version=None, json={"volume_type": {"name": unique("t")}}
    )
    body = created.json()["volume_type"]
    try:
        assert "qos_specs_id" not in body
        assert body["os-volume-type-access:is_public"] is True
        updated = admin_api.request(
            "PUT", f"/types/{body['id']}", version=None, json={"volume_type": {"description": "d"}}
        ).json()["volume_type"]
        assert "qos_specs_id" not in updated
        assert "os-volume-type-access:is_public" not in updated
        shown = admin_api.request("GET", f"/types/{body['id']}").json()["volume_type"]
        assert shown["qos_specs_id"] is None
        seen = demo_api.request("GET", f"/types/{body['id']}").json()["volume_type"]
        assert "qos_specs_id" not in seen
    finally:
        admin_api.request("DELETE", f"/types/{body['id']}")


def test_services_show_cluster_from_3_7(admin_api: VolumeAPI) -> None:
    old = admin_api.request("GET", "/os-services", version="3.0").json()["services"]
    assert old and all("cluster" not in s for s in old)
    new = admin_api.request("GET", "/os-services", version="3.7").json()["services"]
    assert all(s["cluster"] is None for s in new)


def test_snapshot_of_null_volume_is_not_found(demo_api: VolumeAPI) -> None:
    response = demo_api.request(
        "POST", "/snapshots", json={"snapshot": {"volume_id": None, "name": unique("s")}}
    )
    assert response.status_code == 404
    assert response.json()["itemNotFound"]["code"] == 404
    missing = demo_api.request("POST", "/snapshots", json={"snapshot": {"name": unique("s")}})
    assert missing.status_code == 400


def test_service_updates_answer_service_and_need_a_reason(admin_api: VolumeAPI) -> None:
    service = next(
        s
        for s in admin_api.request("GET", "/os-services").json()["services"]
        if s["binary"] == "cinder-backup"
    )
    target = {"host": service["host"], "binary": "cinder-backup"}
    try:
        no_reason = admin_api.request(
            "PUT", "/os-services/disable-log-reason", json={**target, "disabled_reason": None}
        )
        assert no_reason.status_code == 400
        assert "badRequest" in no_reason.json()
        disabled = admin_api.request("PUT", "/os-services/disable", json=target).json()
        assert disabled["service"] == disabled["binary"] == "cinder-backup"
        assert disabled["status"] == "disabled"
    finally:
        admin_api.request("PUT", "/os-services/enable", json=target)


def test_snapshot_summary_list_leaves_out_extended_attributes(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    created = demo_api.request(
        "POST", "/snapshots", json={"snapshot": {"volume_id": volume.id, "name": unique("s")}}
    ).json()["snapshot"]
    try:
        assert "os-extended-snapshot-attributes:progress" not in created
        demo_api.wait(f"/snapshots/{created['id']}", "snapshot", "available")
        summary = demo_api.request("GET", "/snapshots").json()["snapshots"]
        mine = next(s for s in summary if s["id"] == created["id"])
        assert "os-extended-snapshot-attributes:project_id" not in mine
        detail = demo_api.request("GET", "/snapshots/detail").json()["snapshots"]
        mine = next(s for s in detail if s["id"] == created["id"])
        assert mine["os-extended-snapshot-attributes:project_id"] == demo_api.project_id
    finally:
        demo_api.request("DELETE", f"/snapshots/{created['id']}")


def test_services_filter_by_host_matches_its_backends(admin_api: VolumeAPI) -> None:
    volume_host = next(
        s["host"]
        for s in admin_api.request("GET", "/os-services").json()["services"]
        if s["binary"] == "cinder-volume"
    )
    bare = volume_host.split("@")[0]
    found = admin_api.request("GET", f"/os-services?host={bare}").json()["services"]
    assert "cinder-volume" in {s["binary"] for s in found}


def test_snapshots_sort_by_display_name(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    prefix = unique("sort")
    ids = []
    try:
        for suffix in ("b", "a"):
            body = {"snapshot": {"volume_id": volume.id, "name": f"{prefix}-{suffix}"}}
            snap = demo_api.request("POST", "/snapshots", json=body).json()["snapshot"]
            ids.append(snap["id"])
            demo_api.wait(f"/snapshots/{snap['id']}", "snapshot", "available")
        for query, expected in (
            ("sort_key=display_name&sort_dir=asc", ["a", "b"]),
            ("sort=display_name:desc", ["b", "a"]),
        ):
            response = demo_api.request("GET", f"/snapshots?{query}")
            assert response.status_code == 200
            names = [s["name"] for s in response.json()["snapshots"] if s["id"] in ids]
            assert names == [f"{prefix}-{x}" for x in expected]
        mine = demo_api.request("GET", f"/snapshots?volume_id={volume.id}&sort=name:asc")
        assert [s["id"] for s in mine.json()["snapshots"]] == ids[::-1]
        skipped = demo_api.request(
            "GET", f"/snapshots?volume_id={volume.id}&sort=name:asc&offset=1&limit=5"
        )
        assert [s["id"] for s in skipped.json()["snapshots"]] == [ids[0]]
        bad = demo_api.request("GET", "/snapshots?offset=-1")
        assert bad.status_code == 400
    finally:
        for snapshot_id in ids:
            demo_api.request("DELETE", f"/snapshots/{snapshot_id}")
