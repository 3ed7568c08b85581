"""Admin and owner actions on snapshots, backups and volumes: status resets,
force deletes, backup records (export and import), the read-only flag, the
migration status, and uploading a volume to an image in another format."""

from __future__ import annotations

import base64
import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.functional.volume.conftest import VolumeAPI, unique


def _snapshot(demo: Any, volume_id: str) -> Any:
    snap = demo.block_storage.create_snapshot(volume_id=volume_id, name=unique("snap"))
    return demo.block_storage.wait_for_status(snap, "available", wait=30, interval=0.1)


def _gone(api: VolumeAPI, path: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if api.request("GET", path).status_code == 404:
            return
        time.sleep(0.1)
    raise AssertionError(f"{path} was not deleted")


def _import(api: VolumeAPI, service: str, url: str) -> Any:
    body = {"backup-record": {"backup_service": service, "backup_url": url}}
    return api.request("POST", "/backups/import_record", json=body)


def test_snapshot_reset_status_update_status_and_force_delete(
    admin: Any,
    demo: Any,
    admin_api: VolumeAPI,
    demo_api: VolumeAPI,
    make_volume: Callable[..., Any],
) -> None:
    volume = make_volume()
    snap = _snapshot(demo, volume.id)
    path = f"/snapshots/{snap.id}"
    # the owner may not reset a status; the admin may, to any snapshot status
    denied = demo_api.request(
        "POST", path + "/action", json={"os-reset_status": {"status": "error"}}
    )
    assert denied.status_code == 403 and "forbidden" in denied.json()
    bad = admin_api.request("POST", path + "/action", json={"os-reset_status": {"status": "nope"}})
    assert bad.status_code == 400 and "badRequest" in bad.json()
    admin.block_storage.reset_snapshot_status(snap, "creating")
    assert demo.block_storage.get_snapshot(snap.id).status == "creating"
    # the owner finishes a snapshot in creating (what Nova does for assisted snapshots)
    demo.block_storage.set_snapshot_status(snap, "error", progress="80%")
    shown = demo_api.request("GET", path).json()["snapshot"]
    assert shown["status"] == "error"
    assert shown["os-extended-snapshot-attributes:progress"] == "80%"
    # error is not a status os-update_snapshot_status moves from
    again = demo_api.request(
        "POST", path + "/action", json={"os-update_snapshot_status": {"status": "available"}}
    )
    assert again.status_code == 400 and "badRequest" in again.json()
    # the admin deletes a snapshot in any status, its copy with it
    for status in ("creating", "deleting", "error_deleting"):
        temp = _snapshot(demo, volume.id)
        admin.block_storage.reset_snapshot_status(temp, status)
        denied = demo_api.request(
            "POST", f"/snapshots/{temp.id}/action", json={"os-force_delete": {}}
        )
        assert denied.status_code == 403
        forced = admin_api.request(
            "POST", f"/snapshots/{temp.id}/action", json={"os-force_delete": {}}
        )
        assert forced.status_code == 202
        _gone(demo_api, f"/snapshots/{temp.id}")
    admin.block_storage.reset_snapshot_status(snap, "available")
    demo.block_storage.delete_snapshot(snap)
    demo.block_storage.wait_for_delete(snap, wait=30, interval=0.1)


def test_backup_restore_brings_back_the_volume_metadata(
    demo: Any, make_volume: Callable[..., Any]
) -> None:
    metadata = {"vol-meta1": "value1", "vol-meta2": "value2"}
    volume = make_volume(metadata=metadata)
    backup = demo.block_storage.create_backup(volume_id=volume.id, name=unique("bk"))
    backup = demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
    # later changes to the source do not reach the backup
    demo.block_storage.set_volume_metadata(volume, **{"vol-meta1": "changed"})
    target = make_volume(metadata={"own": "kept"})
    demo.block_storage.restore_backup(backup, volume_id=target.id)
    restored = demo.block_storage.wait_for_status(
        demo.block_storage.get_volume(target.id), "available", wait=60, interval=0.1
    )
    assert restored.metadata == {**metadata, "own": "kept"}
    demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
    created = demo.block_storage.restore_backup(backup, name=unique("restored"))
    fresh = demo.block_storage.wait_for_status(
        demo.block_storage.get_volume(created["volume_id"]), "available", wait=60, interval=0.1
    )
    try:
        assert fresh.metadata == metadata
    finally:
        demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
        demo.block_storage.delete_volume(fresh)
        demo.block_storage.delete_backup(backup)


def test_backup_export_import_and_restore_from_the_imported_record(
    admin: Any,
    demo: Any,
    admin_api: VolumeAPI,
    demo_api: VolumeAPI,
    make_volume: Callable[..., Any],
) -> None:
    volume = make_volume(metadata={"from": "source"})
    backup = demo.block_storage.create_backup(volume_id=volume.id, name=unique("bk"))
    backup = demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
    assert demo_api.request("GET", f"/backups/{backup.id}/export_record").status_code == 403
    exported = admin_api.request("GET", f"/backups/{backup.id}/export_record")
    assert exported.status_code == 200
    record = exported.json()["backup-record"]
    assert record["backup_service"].startswith("cinder.backup.drivers.")
    fields = json.loads(base64.b64decode(record["backup_url"]))
    assert fields["id"] == backup.id and fields["size"] == 1
    # the same record again is refused: that backup exists
    body = {"backup-record": record}
    dup = admin_api.request("POST", "/backups/import_record", json=body)
    assert dup.status_code == 400 and "already exists" in dup.json()["badRequest"]["message"]
    assert demo_api.request("POST", "/backups/import_record", json=body).status_code == 403
    garbage = {"backup-record": {**record, "backup_url": "not base64 json"}}
    assert admin_api.request("POST", "/backups/import_record", json=garbage).status_code == 400
    new_id = str(uuid.uuid4())
    url = base64.b64encode(json.dumps({**fields, "id": new_id}).encode()).decode()
    # (openstacksdk's import_backup posts to the wrong path: raw HTTP here)
    answer = _import(admin_api, record["backup_service"], url)
    assert answer.status_code == 201
    assert answer.json()["backup"]["id"] == new_id
    assert answer.json()["backup"]["name"] == backup.name
    imported = admin.block_storage.wait_for_status(
        admin.block_storage.get_backup(new_id), "available", wait=60, interval=0.1
    )
    assert new_id in {b.id for b in admin.block_storage.backups()}
    # the imported record restores the original's bytes and metadata
    created = admin.block_storage.restore_backup(imported, name=unique("restored"))
    restored = admin.block_storage.wait_for_status(
        admin.block_storage.get_volume(created["volume_id"]), "available", wait=60, interval=0.1
    )
    try:
        assert restored.metadata == {"from": "source"}
    finally:
        admin.block_storage.wait_for_status(imported, "available", wait=60, interval=0.1)
        admin.block_storage.delete_volume(restored)
        # both records name the same data: deleting one deletes it, the other still goes
        admin.block_storage.delete_backup(imported)
        admin.block_storage.wait_for_delete(imported, wait=60, interval=0.1)
        demo.block_storage.delete_backup(backup)
        demo.block_storage.wait_for_delete(backup, wait=60, interval=0.1)


def test_import_of_a_record_whose_data_is_missing_ends_in_error(
    admin: Any, admin_api: VolumeAPI, demo: Any, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    backup = demo.block_storage.create_backup(volume_id=volume.id, name=unique("bk"))
    backup = demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
    record = admin_api.request("GET", f"/backups/{backup.id}/export_record").json()["backup-record"]
    fields = json.loads(base64.b64decode(record["backup_url"]))
    demo.block_storage.delete_backup(backup)
    demo.block_storage.wait_for_delete(backup, wait=60, interval=0.1)
    url = base64.b64encode(json.dumps(fields).encode()).decode()
    imported = admin.block_storage.get_backup(
        _import(admin_api, record["backup_service"], url).json()["backup"]["id"]
    )
    deadline = time.monotonic() + 30
    while admin.block_storage.get_backup(imported.id).status == "creating":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert admin.block_storage.get_backup(imported.id).status == "error"
    admin.block_storage.delete_backup(imported)


def test_backup_reset_status(
    admin: Any,
    demo: Any,
    admin_api: VolumeAPI,
    demo_api: VolumeAPI,
    make_volume: Callable[..., Any],
) -> None:
    volume = make_volume()
    backup = demo.block_storage.create_backup(volume_id=volume.id, name=unique("bk"))
    backup = demo.block_storage.wait_for_status(backup, "available", wait=60, interval=0.1)
    body = {"os-reset_status": {"status": "error"}}
    assert demo_api.request("POST", f"/backups/{backup.id}/action", json=body).status_code == 403
    bad = admin_api.request(
        "POST", f"/backups/{backup.id}/action", json={"os-reset_status": {"status": "creating"}}
    )
    assert bad.status_code == 400 and "badRequest" in bad.json()
    admin.block_storage.reset_backup_status(backup, "error")
    assert demo.block_storage.get_backup(backup.id).status == "error"
    demo.block_storage.delete_backup(backup)
    demo.block_storage.wait_for_delete(backup, wait=60, interval=0.1)


def test_readonly_flag_shows_in_metadata(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume(metadata={"user": "key"})
    assert "readonly" not in demo.block_storage.get_volume(volume.id).metadata
    for readonly in (True, False):
        demo.block_storage.set_volume_readonly(volume, readonly)
        shown = demo.block_storage.get_volume(volume.id).metadata
        assert shown == {"user": "key", "readonly": str(readonly)}
    # it is not user metadata: the user's own keys are unchanged by it
    own = demo_api.request("GET", f"/volumes/{volume.id}/metadata").json()["metadata"]
    assert own == {"user": "key"}


def test_admin_sees_migration_status_and_retype_keeps_it_none(
    admin: Any, admin_api: VolumeAPI, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    target = admin.block_storage.create_type(name=unique("type"))
    try:
        volume = make_volume()
        shown = admin_api.request("GET", f"/volumes/{volume.id}").json()["volume"]
        assert shown["migration_status"] is None
        assert shown["os-vol-mig-status-attr:migstat"] is None
        assert (
            "migration_status"
            not in demo_api.request("GET", f"/volumes/{volume.id}").json()["volume"]
        )
        admin.block_storage.retype_volume(volume, target.name, migration_policy="never")
        after = admin_api.request("GET", f"/volumes/{volume.id}").json()["volume"]
        assert after["volume_type"] == target.name
        assert (
            after["migration_status"] is None
            and after["os-vol-host-attr:host"] == (shown["os-vol-host-attr:host"])
        )
        listed = admin_api.request("GET", "/volumes/detail?all_tenants=1").json()["volumes"]
        assert all("migration_status" in v for v in listed)
    finally:
        for v in admin.block_storage.volumes(all_projects=True):
            if v.volume_type == target.name:
                admin.block_storage.delete_volume(v, force=True)
                admin.block_storage.wait_for_delete(v, wait=30, interval=0.1)
        admin.block_storage.delete_type(target)


def test_upload_as_qcow2_converts_the_volume(
    demo: Any, make_volume: Callable[..., Any], tmp_path: Path
) -> None:
    payload = bytes(range(256)) * 4096  # 1 MiB that is not zeros
    image = demo.image.create_image(
        name=unique("src"), data=payload, disk_format="raw", container_format="bare"
    )
    try:
        volume = make_volume(image_id=image.id)
        result = demo.block_storage.upload_volume_to_image(
            volume, unique("img"), disk_format="qcow2", container_format="bare"
        )
        assert result["disk_format"] == "qcow2"
        uploaded = demo.image.get_image(result["image_id"])
        try:
            assert uploaded.status == "active" and uploaded.disk_format == "qcow2"
            qcow2 = tmp_path / "up.qcow2"
            qcow2.write_bytes(demo.image.download_image(uploaded).content)
            assert qcow2.read_bytes()[:4] == b"QFI\xfb"
            raw = tmp_path / "up.raw"
            subprocess.run(
                ["qemu-img", "convert", "-f", "qcow2", "-O", "raw", str(qcow2), str(raw)],
                check=True,
            )
            assert raw.stat().st_size == 1024**3
            with open(raw, "rb") as handle:
                assert handle.read(len(payload)) == payload
                assert handle.read(1024 * 1024) == bytes(1024 * 1024)
        finally:
            demo.image.delete_image(uploaded)
        assert demo.block_storage.get_volume(volume.id).status == "available"
    finally:
        demo.image.delete_image(image)


def test_upload_with_an_unknown_disk_format_is_400(
    demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    body = {"os-volume_upload_image": {"image_name": unique("img"), "disk_format": "floppy"}}
    response = demo_api.request("POST", f"/volumes/{volume.id}/action", json=body)
    assert response.status_code == 400 and "badRequest" in response.json()


def test_snapshot_update_status_needs_a_status(
    demo: Any, demo_api: VolumeAPI, make_volume: Callable[..., Any]
) -> None:
    volume = make_volume()
    snap = _snapshot(demo, volume.id)
    body: dict[str, Any] = {"os-update_snapshot_status": {}}
    response = demo_api.request("POST", f"/snapshots/{snap.id}/action", json=body)
    assert response.status_code == 400 and "badRequest" in response.json()
    assert demo.block_storage.get_snapshot(snap.id).status == "available"
    demo.block_storage.delete_snapshot(snap)
    demo.block_storage.wait_for_delete(snap, wait=30, interval=0.1)
