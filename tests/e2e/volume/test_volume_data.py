"""Bytes on real block devices: attach (a loop device), filesystem, detach,
re-attach, snapshot, backup/restore, extend; and nothing left behind.

Root only (loop devices, mount); never skipped on CI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.functional.volume.conftest import VolumeAPI, unique
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="needs root (loop devices, mount)"
)
CONNECTOR = {"host": "e2e-host", "platform": "x86_64", "os_type": "linux"}
GiB = 1024**3


@pytest.fixture(scope="module")
def pool_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    """An onestack of its own with the loop-mounted reflink pool (XFS or btrfs when
    their tools are installed; a directory otherwise).  The pool mount is gone after."""
    running = new_cloud(
        tmp_path_factory.mktemp("volume-e2e"),
        ONESTACK_VOLUME__POOL_FILESYSTEM="auto",
        # the directory backup store (tests/e2e/volume/test_object_storage.py: object storage)
        ONESTACK_VOLUME__BACKUP_DRIVER="directory",
    ).start()
    pool = running.state_dir / "volume" / "pool"
    try:
        yield running
    finally:
        running.stop()
        if str(pool.resolve()) in Path("/proc/self/mounts").read_text():
            subprocess.run(["umount", str(pool)], check=False)
        assert str(pool.resolve()) not in Path("/proc/self/mounts").read_text()


@pytest.fixture(scope="module")
def api(pool_cloud: RunningCloud) -> VolumeAPI:
    return VolumeAPI(pool_cloud, pool_cloud.connect("demo", "demo"))


def _create(api: VolumeAPI, **volume: Any) -> str:
    response = api.request("POST", "/volumes", json={"volume": {"name": unique("e2e"), **volume}})
    assert response.status_code == 202, response.text
    volume_id = str(response.json()["volume"]["id"])
    api.wait(f"/volumes/{volume_id}", "volume", "available", timeout=60)
    return volume_id


@contextmanager
def attached(api: VolumeAPI, volume_id: str) -> Iterator[str]:
    """The volume as a block device for the duration; detached (and checked) after."""
    response = api.request(
        "POST",
        "/attachments",
        json={
            "attachment": {
                "volume_uuid": volume_id,
                "instance_uuid": str(uuid.uuid4()),
                "connector": CONNECTOR,
            }
        },
    )
    assert response.status_code == 200, response.text
    attachment = response.json()["attachment"]
    device = attachment["connection_info"]["data"]["device_path"]
    try:
        api.request("POST", f"/attachments/{attachment['id']}/action", json={"os-complete": {}})
        yield device
    finally:
        assert api.request("DELETE", f"/attachments/{attachment['id']}").status_code == 200
    assert device not in subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout


@contextmanager
def mounted(device: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="onestack-e2e-") as where:
        subprocess.run(["mount", device, where], check=True)
        try:
            yield Path(where)
        finally:
            subprocess.run(["umount", where], check=True)


def _sha256(device: str) -> str:
    digest = hashlib.sha256()
    with open(device, "rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _delete_volume(api: VolumeAPI, volume_id: str) -> None:
    assert api.request("DELETE", f"/volumes/{volume_id}?cascade=true").status_code == 202
    for _ in range(300):
        if api.request("GET", f"/volumes/{volume_id}").status_code == 404:
            return
        time.sleep(0.1)
    raise AssertionError(f"volume {volume_id} was not deleted")


def test_bytes_survive_detach_snapshot_backup_and_extend(
    api: VolumeAPI, pool_cloud: RunningCloud
) -> None:
    cloud = pool_cloud
    pool = cloud.state_dir / "volume" / "pool"
    payload = os.urandom(3 * 1024 * 1024 + 17)
    volume_id = _create(api, size=1)
    made = [volume_id]
    if shutil.which("mkfs.xfs") or shutil.which("mkfs.btrfs"):
        host = cloud.connect("admin", "admin").block_storage.get_volume(volume_id).host
        assert host.rsplit("#", 1)[1] in ("xfs", "btrfs"), host
    try:
        # write through a filesystem, detach, attach again, read back
        with attached(api, volume_id) as device:
            assert int(subprocess.check_output(["blockdev", "--getsize64", device])) == GiB
            subprocess.run(["mkfs.ext4", "-q", "-F", device], check=True)
            with mounted(device) as root:
                (root / "data.bin").write_bytes(payload)
        with attached(api, volume_id) as device, mounted(device) as root:
            assert (root / "data.bin").read_bytes() == payload

        # a volume from a snapshot has the same bytes
        snap = api.request("POST", "/snapshots", json={"snapshot": {"volume_id": volume_id}})
        snap_id = snap.json()["snapshot"]["id"]
        api.wait(f"/snapshots/{snap_id}", "snapshot", "available")
        clone_id = _create(api, snapshot_id=snap_id)
        made.append(clone_id)
        with attached(api, clone_id) as device, mounted(device) as root:
            assert (root / "data.bin").read_bytes() == payload

        # back up, delete the volume, restore: the same checksum
        with attached(api, volume_id) as device:
            before = _sha256(device)
        backup = api.request("POST", "/backups", json={"backup": {"volume_id": volume_id}})
        backup_id = backup.json()["backup"]["id"]
        api.wait(f"/backups/{backup_id}", "backup", "available", timeout=120)
        _delete_volume(api, clone_id)
        _delete_volume(api, volume_id)
        made = []
        assert not (pool / f"volume-{volume_id}").exists()
        assert not (pool / f"snapshot-{snap_id}").exists()
        restored = api.request("POST", f"/backups/{backup_id}/restore", json={"restore": {}})
        assert restored.status_code == 202
        restored_id = restored.json()["restore"]["volume_id"]
        made.append(restored_id)
        api.wait(f"/volumes/{restored_id}", "volume", "available", timeout=120)
        with attached(api, restored_id) as device:
            assert _sha256(device) == before

        # extend the detached volume: the device shows the new size
        extend = api.request(
            "POST", f"/volumes/{restored_id}/action", json={"os-extend": {"new_size": 2}}
        )
        assert extend.status_code == 202
        for _ in range(100):
            body = api.request("GET", f"/volumes/{restored_id}").json()["volume"]
            if body["status"] == "available" and body["size"] == 2:
                break
            time.sleep(0.1)
        with attached(api, restored_id) as device:
            assert int(subprocess.check_output(["blockdev", "--getsize64", device])) == 2 * GiB

        # deleting the backup frees its store
        backups = cloud.state_dir / "volume" / "backups" / backup_id
        assert backups.exists()
        assert api.request("DELETE", f"/backups/{backup_id}").status_code == 202
        for _ in range(100):
            if api.request("GET", f"/backups/{backup_id}").status_code == 404:
                break
            time.sleep(0.1)
        assert not backups.exists()
    finally:
        for leftover in made:
            _delete_volume(api, leftover)
    for leftover in made or [volume_id]:
        assert not (pool / f"volume-{leftover}").exists()
    looped = subprocess.run(["losetup", "-a"], capture_output=True, text=True).stdout
    assert f"{pool}/" not in looped  # the pool's own pool.img stays looped while it is mounted
