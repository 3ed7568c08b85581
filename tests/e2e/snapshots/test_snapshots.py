"""Whole-cloud snapshots on a real cloud: containers, the XFS reflink pool, objects, images.

A volume's bytes (written through its loop device), an attached volume's (written
by the server), an object's, an image's and a file written inside a running
container server are saved (on the running cloud),
changed, and read back identical after ``onestack snapshot restore`` and a new
``onestack up``; the server runs again, what was made after the save is gone.

Root only (containers, loop devices, mounts); never skipped on CI.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.compute.conftest import cleanup_containers
from tests.e2e.compute.helpers import runc_state, wait_for
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.root
CONNECTOR = {"host": "e2e-host", "platform": "x86_64", "os_type": "linux"}
GiB = 1024**3


def _skip_reason() -> str | None:
    if os.environ.get("CI"):
        return None
    if os.geteuid() != 0:
        return "needs root (containers, loop devices, mounts)"
    if shutil.which("runc") is None or shutil.which("mkfs.xfs") is None:
        return "needs runc and xfsprogs (scripts/install installs them)"
    return None


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    running = new_cloud(
        tmp_path_factory.mktemp("snapshots-e2e"),
        ONESTACK_COMPUTE__DRIVER="container",
        ONESTACK_VOLUME__POOL_FILESYSTEM="xfs",
        ONESTACK_VOLUME__POOL_SIZE_GB="8",
    ).start()
    pool = running.state_dir / "volume" / "pool"
    try:
        yield running
    finally:
        running.stop()
        cleanup_containers(running.state_dir)
        for line in subprocess.run(
            ["losetup", "-a"], capture_output=True, text=True
        ).stdout.splitlines():
            if str(running.state_dir) in line:
                subprocess.run(["losetup", "-d", line.split(":", 1)[0]], check=False)
        if str(pool) in Path("/proc/self/mounts").read_text():
            subprocess.run(["umount", str(pool)], check=False)


def onestack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "onestack", *args], capture_output=True, text=True, timeout=300
    )


@contextmanager
def attached(admin: Any, volume_id: str) -> Iterator[str]:
    """The volume as a block device on this host (a Cinder attachment); detached after."""
    volume = admin.block_storage
    response = volume.post(
        "/attachments",
        json={"attachment": {"volume_uuid": volume_id, "instance_uuid": str(uuid.uuid4()),
                             "connector": CONNECTOR}},
        microversion="3.27",
    )  # fmt: skip
    assert response.status_code == 200, response.text
    attachment = response.json()["attachment"]
    try:
        yield attachment["connection_info"]["data"]["device_path"]
    finally:
        deleted = volume.delete(f"/attachments/{attachment['id']}", microversion="3.27")
        assert deleted.status_code == 200, deleted.text


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _write_volume(admin: Any, volume_id: str, payload: bytes) -> str:
    """``payload`` at the start and in the middle of the volume; its whole digest."""
    with attached(admin, volume_id) as device:
        with open(device, "r+b") as handle:
            handle.write(payload)
            handle.seek(GiB // 2)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        return _sha256(device)


def _read_volume(admin: Any, volume_id: str) -> str:
    with attached(admin, volume_id) as device:
        return _sha256(device)


def run_in(cloud: RunningCloud, server_id: str, script: str) -> str:
    root = cloud.state_dir / "compute" / "runc"
    proc = subprocess.run(
        ["runc", "--root", str(root), "exec", server_id, "sh", "-c", script],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, f"{script}: {proc.stderr}{proc.stdout}"
    return proc.stdout.strip()


WRITE_VDB = (
    "head -c 1048576 /dev/urandom > /tmp/data && "
    "dd if=/tmp/data of=/dev/vdb bs=1048576 count=1 conv=fsync 2>/dev/null && "
    "sha256sum < /tmp/data"
)
READ_VDB = "dd if=/dev/vdb bs=1048576 count=1 2>/dev/null | sha256sum"


def _container_pid(cloud: RunningCloud, server_id: str) -> int:
    state = wait_for(lambda: runc_state(cloud.state_dir, server_id), 30)
    assert state is not None and state["status"] == "running", state
    return int(state["pid"])


def test_volume_object_image_and_server_file_come_back_after_restore(
    cloud: RunningCloud,
) -> None:
    admin = cloud.connect("admin", "admin")
    flavor = next(iter(admin.compute.flavors()))
    busybox = admin.image.find_image("onestack-busybox")
    server = admin.compute.create_server(
        name=f"snap-{uuid.uuid4().hex[:6]}", image_id=busybox.id, flavor_id=flavor.id,
        networks="none",
    )  # fmt: skip
    server = admin.compute.wait_for_server(server, interval=0.2, wait=120)
    in_server = Path(f"/proc/{_container_pid(cloud, server.id)}/root/root/saved.txt")
    in_server.write_text("written before the save\n")

    volume = admin.block_storage.create_volume(size=1, name="snap-volume")
    admin.block_storage.wait_for_status(volume, "available", interval=0.2, wait=120)
    volume_digest = _write_volume(admin, volume.id, os.urandom(3 * 1024 * 1024 + 7))

    # a volume attached to the server, written from inside it
    disk = admin.block_storage.create_volume(size=1, name="snap-attached")
    admin.block_storage.wait_for_status(disk, "available", interval=0.2, wait=120)
    admin.compute.create_volume_attachment(server, volume_id=disk.id)
    admin.block_storage.wait_for_status(disk, "in-use", interval=0.2, wait=120)
    disk_digest = run_in(cloud, server.id, WRITE_VDB)
    assert run_in(cloud, server.id, READ_VDB) == disk_digest

    object_bytes = os.urandom(1024 * 1024 + 3)
    admin.object_store.create_container("snap-container")
    admin.object_store.upload_object(container="snap-container", name="o", data=object_bytes)
    image_bytes = os.urandom(256 * 1024 + 5)
    image = admin.image.create_image(
        name="snap-image", data=image_bytes, disk_format="raw", container_format="bare"
    )

    network = admin.network.create_network(name="snap-network")

    # save on the running cloud (its writes wait for the copy)
    saved = onestack("snapshot", "save", "before", "--state-dir", str(cloud.state_dir))
    assert saved.returncode == 0, saved.stderr
    assert "writes of the running cloud paused" in saved.stdout
    again = onestack("snapshot", "save", "before", "--state-dir", str(cloud.state_dir))
    assert again.returncode != 0 and "exists" in again.stderr
    refused = onestack("snapshot", "restore", "before", "--state-dir", str(cloud.state_dir))
    assert refused.returncode != 0 and "onestack down" in refused.stderr

    # change everything after the save
    in_server.write_text("changed after the save\n")
    assert run_in(cloud, server.id, WRITE_VDB) != disk_digest
    assert _write_volume(admin, volume.id, os.urandom(4096)) != volume_digest
    admin.object_store.upload_object(container="snap-container", name="o", data=b"changed")
    admin.image.delete_image(image)
    later = admin.compute.create_server(
        name="snap-later", image_id=busybox.id, flavor_id=flavor.id, networks="none"
    )
    later = admin.compute.wait_for_server(later, interval=0.2, wait=120)
    admin.network.create_network(name="snap-later-network")
    later_volume = admin.block_storage.create_volume(size=1, name="snap-later")
    admin.block_storage.wait_for_status(later_volume, "available", interval=0.2, wait=120)

    cloud.stop()
    restored = onestack("snapshot", "restore", "before", "--state-dir", str(cloud.state_dir))
    assert restored.returncode == 0, restored.stderr
    assert runc_state(cloud.state_dir, later.id) is None  # what the restore replaced is gone
    cloud.start()
    admin = cloud.connect("admin", "admin")

    # the server runs again with its disk as saved; the later one is gone
    assert [s.id for s in admin.compute.servers()] == [server.id]
    server = admin.compute.wait_for_server(admin.compute.get_server(server.id), wait=60)
    assert server.power_state == 1
    pid = _container_pid(cloud, server.id)
    assert Path(f"/proc/{pid}/root/root/saved.txt").read_text() == "written before the save\n"
    assert runc_state(cloud.state_dir, later.id) is None
    # the volume's bytes, the object's and the image's are the saved ones
    assert {v.id for v in admin.block_storage.volumes()} == {volume.id, disk.id}
    assert _read_volume(admin, volume.id) == volume_digest
    # the attached volume is attached again, with its saved bytes
    assert admin.block_storage.get_volume(disk.id).status == "in-use"
    assert run_in(cloud, server.id, READ_VDB) == disk_digest
    assert admin.object_store.download_object("o", container="snap-container") == object_bytes
    image = admin.image.get_image(image.id)
    assert image.status == "active"
    assert admin.image.download_image(image).content == image_bytes

    names = {n.name for n in admin.network.networks()}
    assert "snap-network" in names and "snap-later-network" not in names
    assert admin.network.get_network(network.id).name == "snap-network"

    listed = onestack("snapshot", "list", "--state-dir", str(cloud.state_dir))
    assert listed.returncode == 0 and "before" in listed.stdout
    deleted = onestack("snapshot", "delete", "before", "--state-dir", str(cloud.state_dir))
    assert deleted.returncode == 0, deleted.stderr
    assert not (cloud.state_dir / "snapshots" / "before").exists()
    assert not (cloud.state_dir / "volume" / "pool" / ".snapshots" / "before").exists()
    admin.compute.delete_server(server)
    admin.compute.wait_for_delete(server, interval=0.1, wait=60)
