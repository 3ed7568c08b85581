"""Glance's multi-store: the file store and the cloud's object storage (swift).

One cloud for the module, with small object-storage segments (1 MiB, so a
2.5 MiB image is a large object of three segments) and web-download allowed
from 127.0.0.1, where a local HTTP server serves the test's bytes.
"""

from __future__ import annotations

import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from onestack.object.backends.disk import DiskDevices
from onestack.object.replicator import replicate_once
from onestack.object.store import ObjectStore
from tests.functional.image.conftest import ImageAPI
from tests.support.cli import Cli
from tests.support.errors import glance_error
from tests.support.names import unique
from tests.support.server import RunningCloud, new_cloud

OCTET = {"Content-Type": "application/octet-stream"}
DATA = os.urandom(5 << 19)  # 2.5 MiB: three segments of 1 MiB in object storage


@pytest.fixture(scope="module")
def stores_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCloud]:
    running = new_cloud(
        tmp_path_factory.mktemp("stores"),
        ONESTACK_IMAGE__SWIFT_CHUNK_SIZE=str(1 << 20),
        ONESTACK_IMAGE__WEB_DOWNLOAD_ALLOWED='["127.0.0.1"]',
        ONESTACK_IMAGE__DEFAULT_VM_IMAGE="false",
    ).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def conn(stores_cloud: RunningCloud) -> Any:
    return stores_cloud.connect("admin", "admin")


@pytest.fixture(scope="module")
def api(stores_cloud: RunningCloud, conn: Any) -> ImageAPI:
    return ImageAPI(stores_cloud, conn)


@pytest.fixture(scope="module")
def glance_swift(stores_cloud: RunningCloud) -> Any:
    """The image service's own account, as its service user sees it."""
    password = (stores_cloud.state_dir / "secrets" / "glance-password").read_text().strip()
    return stores_cloud.connect("glance", "service", password=password).object_store


@pytest.fixture()
def images(conn: Any) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for image_id in made:
        conn.image.delete_image(image_id, ignore_missing=True)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain HTTP server on loopback serving DATA at /image.raw."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/image.raw":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(DATA)))
            self.end_headers()
            self.wfile.write(DATA)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _queued(conn: Any, images: list[str]) -> str:
    image = conn.image.create_image(
        name=unique("stores"), disk_format="raw", container_format="bare", allow_duplicates=True
    )
    images.append(image.id)
    return str(image.id)


def _upload(api: ImageAPI, image_id: str, store: str | None, data: bytes = DATA) -> Any:
    headers = {**OCTET, **({"X-Image-Meta-Store": store} if store else {})}
    return api.request("PUT", f"/v2/images/{image_id}/file", content=data, headers=headers)


def _stores(api: ImageAPI, image_id: str) -> list[str]:
    return str(api.request("GET", f"/v2/images/{image_id}").json()["stores"]).split(",")


def _objects(glance_swift: Any, image_id: str) -> list[str]:
    return sorted(o.name for o in glance_swift.objects("glance") if o.name.startswith(image_id))


def test_stores_are_listed_with_the_default(
    conn: Any, api: ImageAPI, stores_cloud: RunningCloud
) -> None:
    stores = api.request("GET", "/v2/info/stores").json()["stores"]
    assert {s["id"]: s.get("default", False) for s in stores} == {"file": False, "swift": True}
    detail = api.request("GET", "/v2/info/stores/detail").json()["stores"]
    swift = next(s for s in detail if s["id"] == "swift")
    assert swift["type"] == "swift" and swift["properties"]["container"] == "glance"
    demo = ImageAPI(stores_cloud, stores_cloud.connect("demo", "demo"))
    glance_error(demo.request("GET", "/v2/info/stores/detail"), 403)
    # the default image is public, in the file store; its locations are the admin's
    busybox = conn.image.find_image("onestack-busybox", ignore_missing=False)
    glance_error(demo.request("GET", f"/v2/images/{busybox.id}/locations"), 403)
    shown = api.request("GET", f"/v2/images/{busybox.id}/locations").json()
    assert [loc["metadata"]["store"] for loc in shown] == ["file"]


def test_upload_to_each_store_downloads_byte_exact(
    conn: Any, api: ImageAPI, glance_swift: Any, images: list[str], stores_cloud: RunningCloud
) -> None:
    for store in ("file", "swift"):
        image_id = _queued(conn, images)
        assert _upload(api, image_id, store).status_code == 204
        assert _stores(api, image_id) == [store]
        assert conn.image.download_image(image_id).content == DATA
        locations = api.request("GET", f"/v2/images/{image_id}/locations").json()
        assert [loc["metadata"]["store"] for loc in locations] == [store]
        if store == "file":
            assert (stores_cloud.state_dir / "images" / image_id).read_bytes() == DATA
        else:
            # a manifest and three 1 MiB segments in the image service's account
            names = _objects(glance_swift, image_id)
            assert len(names) == 4 and image_id in names, names
            assert locations[0]["url"] == f"swift+config://onestack/glance/{image_id}"
    # no store named: the default one (object storage)
    default = _queued(conn, images)
    assert _upload(api, default, None, b"default bytes").status_code == 204
    assert _stores(api, default) == ["swift"]
    conn.image.delete_image(default)
    assert _objects(glance_swift, default) == []


def test_copy_image_then_delete_from_one_store(
    conn: Any, api: ImageAPI, glance_swift: Any, images: list[str], stores_cloud: RunningCloud
) -> None:
    image_id = _queued(conn, images)
    assert _upload(api, image_id, "swift").status_code == 204
    conn.image.import_image(conn.image.get_image(image_id), method="copy-image", stores=["file"])
    assert _stores(api, image_id) == ["swift", "file"]
    shown = api.request("GET", f"/v2/images/{image_id}").json()
    # what a client waiting for the copy polls (Tempest's and Glance's own waiters)
    assert shown["os_glance_importing_to_stores"] == ""
    assert shown["os_glance_failed_import"] == ""
    tasks = api.request("GET", f"/v2/images/{image_id}/tasks").json()["tasks"]
    assert tasks[-1]["status"] == "success" and tasks[-1]["input"]["backend"] == ["file"]
    local = stores_cloud.state_dir / "images" / image_id
    assert local.read_bytes() == DATA
    again = api.request(
        "POST",
        f"/v2/images/{image_id}/import",
        json={"method": {"name": "copy-image"}, "stores": ["file"]},
    )
    glance_error(again, 400, "Image is already present at store 'file'")

    conn.image.delete_image(image_id, store="swift")
    assert _stores(api, image_id) == ["file"]
    assert _objects(glance_swift, image_id) == []
    assert conn.image.download_image(image_id).content == DATA
    last = api.request("DELETE", f"/v2/stores/file/{image_id}")
    glance_error(last, 403, "only store containing it")
    absent = api.request("DELETE", f"/v2/stores/swift/{image_id}")
    glance_error(absent, 404, "not present in store swift")
    assert local.is_file()


def test_a_removed_object_device_does_not_lose_the_image(
    conn: Any, api: ImageAPI, images: list[str], stores_cloud: RunningCloud
) -> None:
    image_id = _queued(conn, images)
    assert _upload(api, image_id, "swift").status_code == 204
    root = stores_cloud.state_dir / "object"
    project = conn.identity.find_project("service", ignore_missing=False)
    store = ObjectStore(root, DiskDevices(root))
    device = store.locate(f"AUTH_{project.id}", "glance", image_id).primaries[0]
    shutil.rmtree(root / "devices" / device.name)
    try:
        assert conn.image.download_image(image_id).content == DATA
    finally:
        (root / "devices" / device.name).mkdir(exist_ok=True)
        replicate_once(ObjectStore(root, DiskDevices(root)))


def test_a_corrupt_copy_is_never_served(
    conn: Any, api: ImageAPI, images: list[str], stores_cloud: RunningCloud
) -> None:
    image_id = _queued(conn, images)
    assert _upload(api, image_id, "file").status_code == 204
    conn.image.import_image(conn.image.get_image(image_id), method="copy-image", stores=["swift"])
    local = stores_cloud.state_dir / "images" / image_id
    with open(local, "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    # the file copy's hash is wrong: the object storage copy is served
    assert conn.image.download_image(image_id).content == DATA
    conn.image.delete_image(image_id, store="swift")
    corrupt = api.request("GET", f"/v2/images/{image_id}/file")
    glance_error(corrupt, 503, "Corrupt image download")


def test_bad_store_requests_get_glance_errors(
    conn: Any, api: ImageAPI, images: list[str], web: str
) -> None:
    image_id = _queued(conn, images)
    glance_error(_upload(api, image_id, "nope", b"x"), 400, "Store for identifier nope not found")
    assert conn.image.get_image(image_id).status == "queued"

    def import_(body: dict[str, Any]) -> Any:
        return api.request("POST", f"/v2/images/{image_id}/import", json=body)

    disabled = import_(
        {"method": {"name": "web-download", "uri": f"{web}/image.raw"}, "stores": ["cinder"]}
    )
    glance_error(disabled, 409, "The selected store cinder is not available")
    outside = import_({"method": {"name": "web-download", "uri": "http://127.0.0.2:1/image.raw"}})
    glance_error(outside, 400, "does not pass filtering")
    both = import_({"method": {"name": "copy-image"}, "all_stores": True, "stores": ["file"]})
    glance_error(both, 400, "All_stores")
    unknown = api.request("DELETE", f"/v2/stores/nope/{image_id}")
    glance_error(unknown, 409, "The selected store nope is not available")
    assert conn.image.get_image(image_id).status == "queued"


def test_web_download_from_an_allowed_host(
    conn: Any, api: ImageAPI, images: list[str], web: str
) -> None:
    image_id = _queued(conn, images)
    conn.image.import_image(
        conn.image.get_image(image_id),
        method="web-download",
        uri=f"{web}/image.raw",
        all_stores=True,
    )
    image = conn.image.get_image(image_id)
    assert image.status == "active" and image.size == len(DATA)
    assert sorted(_stores(api, image_id)) == ["file", "swift"]
    assert conn.image.download_image(image_id).content == DATA

    missing = _queued(conn, images)
    conn.image.import_image(
        conn.image.get_image(missing), method="web-download", uri=f"{web}/nothing"
    )
    assert conn.image.get_image(missing).status == "queued"
    task = api.request("GET", f"/v2/images/{missing}/tasks").json()["tasks"][-1]
    assert task["status"] == "failure" and "404" in task["message"], task


def test_import_task_fills_an_image_from_an_allowed_host(
    conn: Any, api: ImageAPI, images: list[str], web: str
) -> None:
    name = unique("task")
    task = conn.image.create_task(
        type="import",
        input={
            "import_from": f"{web}/image.raw",
            "import_from_format": "raw",
            "image_properties": {"name": name, "disk_format": "raw", "container_format": "bare"},
        },
    )
    done = conn.image.wait_for_task(task, status="success", interval=0.2, wait=120)
    image_id = done.result["image_id"]
    images.append(image_id)
    image = conn.image.get_image(image_id)
    assert image.name == name and image.status == "active" and image.disk_format == "raw"
    assert conn.image.download_image(image_id).content == DATA

    missing = conn.image.create_task(
        type="import",
        input={
            "import_from": f"{web}/nothing",
            "import_from_format": "raw",
            "image_properties": {
                "name": name + "-missing",
                "disk_format": "raw",
                "container_format": "bare",
            },
        },
    )
    failed = conn.image.wait_for_task(missing, status="failure", interval=0.2, wait=120)
    assert "404" in failed.message, failed.message
    assert conn.image.find_image(name + "-missing") is None


def test_cli_lists_stores_copies_and_deletes_from_a_store(
    conn: Any, api: ImageAPI, images: list[str], stores_cloud: RunningCloud
) -> None:
    cli = Cli(stores_cloud)
    listed = cli.json("image", "stores", "list")
    assert sorted(s["ID"] for s in listed) == ["file", "swift"]
    image_id = _queued(conn, images)
    assert _upload(api, image_id, "file").status_code == 204
    cli("image", "import", image_id, "--method", "copy-image", "--store", "swift")
    assert _stores(api, image_id) == ["file", "swift"]
    cli("image", "delete", "--store", "file", image_id)
    assert _stores(api, image_id) == ["swift"]
    assert conn.image.download_image(image_id).content == DATA
