"""Object storage and volumes: images in the cinder store (a volume per image),
volumes cloned from them, and backups to object storage (Cinder's swift driver).

Root only (loop devices, the loop-mounted reflink pool); never skipped on CI.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.volume.test_volume_data import _delete_volume, _sha256, attached
from tests.functional.image.conftest import ImageAPI
from tests.functional.volume.conftest import VolumeAPI, unique
from tests.support.cli import Cli
from tests.support.errors import glance_error
from tests.support.server import RunningCloud, new_cloud

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 and not os.environ.get("CI"), reason="needs root (loop devices, mount)"
)
DATA = os.urandom(48 << 20)


@pytest.fixture(scope="module")
def cinder_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("image-volumes"),
        ONESTACK_VOLUME__POOL_FILESYSTEM="auto",
        ONESTACK_IMAGE__ENABLED_BACKENDS='["file", "swift", "cinder"]',
        ONESTACK_IMAGE__DEFAULT_VM_IMAGE="false",
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
def conn(cinder_cloud: RunningCloud) -> Any:
    return cinder_cloud.connect("admin", "admin")


@pytest.fixture(scope="module")
def images(cinder_cloud: RunningCloud, conn: Any) -> ImageAPI:
    return ImageAPI(cinder_cloud, conn)


@pytest.fixture(scope="module")
def volumes(cinder_cloud: RunningCloud, conn: Any) -> VolumeAPI:
    return VolumeAPI(cinder_cloud, conn)


@pytest.fixture(scope="module")
def cinder_image(conn: Any, images: ImageAPI) -> Iterator[str]:
    """A raw image whose data is in the cinder store only."""
    image = conn.image.create_image(
        name=unique("in-cinder"), disk_format="raw", container_format="bare", allow_duplicates=True
    )
    headers = {"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "cinder"}
    answer = images.request("PUT", f"/v2/images/{image.id}/file", content=DATA, headers=headers)
    assert answer.status_code == 204, answer.text
    yield str(image.id)
    conn.image.delete_image(image.id, ignore_missing=True)


def test_an_image_in_the_cinder_store_is_a_volume(
    conn: Any, images: ImageAPI, volumes: VolumeAPI, cinder_image: str
) -> None:
    body = images.request("GET", f"/v2/images/{cinder_image}").json()
    assert body["stores"] == "cinder" and body["size"] == len(DATA)
    location = images.request("GET", f"/v2/images/{cinder_image}/locations").json()[0]
    assert location["metadata"] == {"store": "cinder"}
    volume_id = location["url"].removeprefix("cinder://")
    # the volume is the image service's, in the service project: the admin sees it
    listed = volumes.request("GET", "/volumes/detail?all_tenants=1").json()["volumes"]
    volume = next(v for v in listed if v["id"] == volume_id)
    assert volume["name"] == f"image-{cinder_image}" and volume["size"] == 1
    assert volume["metadata"]["image_size"] == str(len(DATA))
    assert conn.image.download_image(cinder_image).content == DATA


def test_a_volume_from_a_cinder_store_image_is_a_clone(
    volumes: VolumeAPI, cinder_image: str, cinder_cloud: RunningCloud
) -> None:
    pool = cinder_cloud.state_dir / "volume" / "pool"
    free_before = os.statvfs(pool).f_bavail * os.statvfs(pool).f_frsize
    started = time.monotonic()
    response = volumes.request(
        "POST", "/volumes", json={"volume": {"size": 1, "imageRef": cinder_image}}
    )
    assert response.status_code == 202, response.text
    volume_id = response.json()["volume"]["id"]
    volumes.wait(f"/volumes/{volume_id}", "volume", "available", timeout=60)
    elapsed = time.monotonic() - started
    free_after = os.statvfs(pool).f_bavail * os.statvfs(pool).f_frsize
    try:
        # a reflink clone shares the image volume's blocks: 48 MiB did not get copied
        assert free_before - free_after < (8 << 20), (free_before, free_after)
        with attached(volumes, volume_id) as device, open(device, "rb") as handle:
            assert handle.read(len(DATA)) == DATA
        print(f"volume from a cinder-store image available in {elapsed * 1000:.0f} ms")
    finally:
        volumes.request("DELETE", f"/volumes/{volume_id}")


def test_a_volume_from_an_image_in_object_storage_has_its_bytes(
    conn: Any, images: ImageAPI, volumes: VolumeAPI
) -> None:
    data = DATA[: 5 << 20]
    image = conn.image.create_image(
        name=unique("in-swift"),
        data=data,
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
    )
    try:
        assert images.request("GET", f"/v2/images/{image.id}").json()["stores"] == "swift"
        volume_id = _volume(volumes, imageRef=image.id)
        try:
            with attached(volumes, volume_id) as device, open(device, "rb") as handle:
                assert handle.read(len(data)) == data
        finally:
            _delete_volume(volumes, volume_id)
    finally:
        conn.image.delete_image(image.id, ignore_missing=True)


def test_copy_into_the_cinder_store_and_delete_from_it(
    conn: Any, images: ImageAPI, volumes: VolumeAPI
) -> None:
    image = conn.image.create_image(
        name=unique("to-cinder"),
        data=DATA[: 3 << 20],
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
    )
    try:
        conn.image.import_image(image, method="copy-image", stores=["cinder"])
        stores = images.request("GET", f"/v2/images/{image.id}").json()["stores"]
        assert stores == "swift,cinder"
        url = images.request("GET", f"/v2/images/{image.id}/locations").json()[1]["url"]
        conn.image.delete_image(image, store="swift")
        assert conn.image.download_image(image.id).content == DATA[: 3 << 20]
        again = images.request(
            "POST",
            f"/v2/images/{image.id}/import",
            json={"method": {"name": "copy-image"}, "stores": ["cinder"]},
        )
        glance_error(again, 400, "already present at store 'cinder'")
    finally:
        conn.image.delete_image(image.id, ignore_missing=True)
    # the image's volume goes with the image
    gone = volumes.request("GET", f"/volumes/{url.removeprefix('cinder://')}")
    assert gone.status_code == 404 or gone.json()["volume"]["status"] == "deleting"


def _volume(volumes: VolumeAPI, **fields: Any) -> str:
    response = volumes.request(
        "POST", "/volumes", json={"volume": {"name": unique("bk"), "size": 1, **fields}}
    )
    assert response.status_code == 202, response.text
    volume_id = str(response.json()["volume"]["id"])
    volumes.wait(f"/volumes/{volume_id}", "volume", "available", timeout=120)
    return volume_id


def _write(volumes: VolumeAPI, volume_id: str, writes: list[tuple[int, bytes]]) -> str:
    """Write at offsets; the sha256 of the whole volume afterwards."""
    with attached(volumes, volume_id) as device:
        with open(device, "r+b") as handle:
            for offset, data in writes:
                handle.seek(offset)
                handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return _sha256(device)


def _backup(volumes: VolumeAPI, backup_id: str) -> dict[str, Any]:
    return volumes.wait(f"/backups/{backup_id}", "backup", "available", timeout=180)


def _restored(volumes: VolumeAPI, backup_id: str, volume_id: str | None = None) -> str:
    """Restore the backup (into a new volume, or ``volume_id``); that volume's id."""
    body: dict[str, Any] = {"restore": {"volume_id": volume_id} if volume_id else {}}
    response = volumes.request("POST", f"/backups/{backup_id}/restore", json=body)
    assert response.status_code == 202, response.text
    target = str(response.json()["restore"]["volume_id"])
    volumes.wait(f"/volumes/{target}", "volume", "available", timeout=180)
    _backup(volumes, backup_id)
    return target


def test_backups_to_object_storage_full_and_incremental(
    conn: Any, volumes: VolumeAPI, cinder_cloud: RunningCloud
) -> None:
    container = unique("bk")
    chunk = 4 << 20
    source = _volume(volumes)
    made = [source]
    try:
        full_sha = _write(volumes, source, [(0, DATA[: 3 * chunk]), (600 << 20, DATA[-chunk:])])
        # the CLI's user story: a full backup into a container of the user's choosing
        cli = Cli(cinder_cloud)
        created = cli.json("volume", "backup", "create", "--container", container, source)
        full = _backup(volumes, created["id"])
        assert full["container"] == container and full["is_incremental"] is False
        incremental_sha = _write(volumes, source, [(chunk + 100, b"changed" * 100)])
        answer = volumes.request(
            "POST",
            "/backups",
            json={"backup": {"volume_id": source, "incremental": True, "container": container}},
        )
        assert answer.status_code == 202, answer.text
        incremental = _backup(volumes, answer.json()["backup"]["id"])
        assert incremental["is_incremental"] is True and incremental["container"] == container

        # the objects are in the owner's account, in its container
        names = [o.name for o in conn.object_store.objects(container)]
        full_objects = [n for n in names if n.startswith(f"backup_{full['id']}/")]
        incremental_objects = [n for n in names if n.startswith(f"backup_{incremental['id']}/")]
        assert len(full_objects) == 5 and f"backup_{full['id']}/manifest.json" in full_objects
        assert len(incremental_objects) == 2, incremental_objects  # one chunk and its manifest
        assert full["object_count"] == 4 and incremental["object_count"] == 1

        # restored byte-exact into new volumes, and into an existing one
        new_full = _restored(volumes, full["id"])
        made.append(new_full)
        with attached(volumes, new_full) as device:
            assert _sha256(device) == full_sha
        new_incremental = _restored(volumes, incremental["id"])
        made.append(new_incremental)
        with attached(volumes, new_incremental) as device:
            assert _sha256(device) == incremental_sha
        _restored(volumes, incremental["id"], new_full)
        with attached(volumes, new_full) as device:
            assert _sha256(device) == incremental_sha

        # deleting the backups removes their objects
        for backup_id in (incremental["id"], full["id"]):
            assert volumes.request("DELETE", f"/backups/{backup_id}").status_code == 202
            for _ in range(300):
                if volumes.request("GET", f"/backups/{backup_id}").status_code == 404:
                    break
                time.sleep(0.1)
        assert [o.name for o in conn.object_store.objects(container)] == []
    finally:
        for volume_id in made:
            _delete_volume(volumes, volume_id)
        conn.object_store.delete_container(container, ignore_missing=True)
