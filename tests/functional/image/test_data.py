"""Image data: streamed upload and download, Range, import, and bad data.

Every rejected upload must leave the image ``queued`` (so the client can
retry), no record half-made and no temporary file in the store.
"""

from __future__ import annotations

import hashlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from onestack.common.db import Database
from onestack.image.conf import ImageSettings
from onestack.image.core import quota_engine
from tests.functional.image.conftest import ImageAPI, stray_files
from tests.support.errors import glance_error
from tests.support.names import unique
from tests.support.server import RunningCloud

OCTET = {"Content-Type": "application/octet-stream"}


def _new(api: ImageAPI, made: list[str], **fields: Any) -> str:
    body = {"name": unique("data"), "disk_format": "raw", "container_format": "bare", **fields}
    response = api.request("POST", "/v2/images", json=body)
    assert response.status_code == 201, response.text
    assert response.headers["OpenStack-image-import-methods"] == "glance-direct,copy-image"
    made.append(response.json()["id"])
    return str(response.json()["id"])


def _status(api: ImageAPI, image_id: str) -> str:
    return str(api.request("GET", f"/v2/images/{image_id}").json()["status"])


def test_chunked_upload_and_range_download(admin_api: ImageAPI, made: list[str]) -> None:
    image_id = _new(admin_api, made)
    pieces = [bytes([i]) * 100_000 for i in range(30)]
    data = b"".join(pieces)
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=iter(pieces), headers=OCTET
    )
    assert response.status_code == 204, response.text
    body = admin_api.request("GET", f"/v2/images/{image_id}").json()
    assert body["status"] == "active" and body["size"] == len(data)
    assert body["os_hash_value"] == hashlib.sha512(data).hexdigest()
    full = admin_api.request("GET", f"/v2/images/{image_id}/file")
    assert full.content == data
    assert full.headers["Content-MD5"] == hashlib.md5(data).hexdigest()
    part = admin_api.request(
        "GET", f"/v2/images/{image_id}/file", headers={"Range": "bytes=99990-100009"}
    )
    assert part.status_code == 206
    assert part.content == data[99990:100010]
    assert part.headers["Content-Range"] == f"bytes 99990-100009/{len(data)}"


def test_download_without_data_is_204(admin_api: ImageAPI, made: list[str]) -> None:
    image_id = _new(admin_api, made)
    assert admin_api.request("GET", f"/v2/images/{image_id}/file").status_code == 204


def test_corrupted_upload_is_rejected_and_can_be_retried(
    admin_api: ImageAPI, made: list[str], store_dir: Path
) -> None:
    good = b"the real image" * 1000
    image_id = _new(
        admin_api,
        made,
        **{"owner_specified.openstack.sha256": hashlib.sha256(good).hexdigest()},
    )
    corrupted = bytearray(good)
    corrupted[500] ^= 0xFF
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=bytes(corrupted), headers=OCTET
    )
    assert response.status_code == 400
    assert "SHA-256" in response.json()["message"]
    assert _status(admin_api, image_id) == "queued"
    assert not stray_files(store_dir) and not (store_dir / image_id).exists()
    retry = admin_api.request("PUT", f"/v2/images/{image_id}/file", content=good, headers=OCTET)
    assert retry.status_code == 204
    assert _status(admin_api, image_id) == "active"


def test_declared_size_mismatch(admin_api: ImageAPI, made: list[str], store_dir: Path) -> None:
    image_id = _new(admin_api, made)
    headers = {**OCTET, "X-OpenStack-Image-Size": "5000"}
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=b"z" * 4000, headers=headers
    )
    assert response.status_code == 400 and "declared size" in response.json()["message"]
    assert _status(admin_api, image_id) == "queued"
    assert not stray_files(store_dir)


def test_wrong_disk_format_is_rejected(admin_api: ImageAPI, made: list[str]) -> None:
    image_id = _new(admin_api, made, disk_format="qcow2")
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=b"\0" * 70000, headers=OCTET
    )
    assert response.status_code == 400
    assert "does not match" in response.json()["message"]
    assert _status(admin_api, image_id) == "queued"


def _qcow2(tmp_path: Path, *extra: str) -> bytes:
    path = tmp_path / f"{unique('q')}.qcow2"
    subprocess.run(
        ["qemu-img", "create", "-f", "qcow2", *extra, str(path), "16M"],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return path.read_bytes()


def test_qcow2_with_backing_file_is_rejected(
    admin_api: ImageAPI, made: list[str], tmp_path: Path, store_dir: Path
) -> None:
    backing = tmp_path / "base.raw"
    backing.write_bytes(b"\0" * 4096)
    data = _qcow2(tmp_path, "-b", str(backing), "-F", "raw")
    image_id = _new(admin_api, made, disk_format="qcow2")
    response = admin_api.request("PUT", f"/v2/images/{image_id}/file", content=data, headers=OCTET)
    assert response.status_code == 400
    assert "backing file" in response.json()["message"]
    assert _status(admin_api, image_id) == "queued"
    assert not stray_files(store_dir) and not (store_dir / image_id).exists()


def test_qcow2_disguised_as_raw_is_rejected(
    admin_api: ImageAPI, made: list[str], tmp_path: Path
) -> None:
    image_id = _new(admin_api, made, disk_format="raw")
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=_qcow2(tmp_path), headers=OCTET
    )
    assert response.status_code == 400 and "qcow2" in response.json()["message"]


def test_valid_qcow2_gets_its_virtual_size(
    admin_api: ImageAPI, made: list[str], tmp_path: Path
) -> None:
    image_id = _new(admin_api, made, disk_format="qcow2")
    response = admin_api.request(
        "PUT", f"/v2/images/{image_id}/file", content=_qcow2(tmp_path), headers=OCTET
    )
    assert response.status_code == 204, response.text
    assert admin_api.request("GET", f"/v2/images/{image_id}").json()["virtual_size"] == 16 << 20


def test_interrupted_upload_leaves_nothing(
    admin_api: ImageAPI, made: list[str], store_dir: Path
) -> None:
    image_id = _new(admin_api, made)
    url = urlparse(admin_api.base)
    head = (
        f"PUT /v2/images/{image_id}/file HTTP/1.1\r\nHost: {url.netloc}\r\n"
        f"X-Auth-Token: {admin_api.auth_headers()['X-Auth-Token']}\r\n"
        "Content-Type: application/octet-stream\r\n"
        f"Content-Length: {8 << 20}\r\n\r\n"
    ).encode()
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + b"x" * (3 << 20))
        deadline = time.monotonic() + 10
        while _status(admin_api, image_id) != "saving" and time.monotonic() < deadline:
            time.sleep(0.05)
    deadline = time.monotonic() + 15
    while _status(admin_api, image_id) != "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _status(admin_api, image_id) == "queued"
    assert not stray_files(store_dir) and not (store_dir / image_id).exists()


def test_upload_needs_queued_image_and_formats(admin_api: ImageAPI, made: list[str]) -> None:
    image_id = _new(admin_api, made)
    path = f"/v2/images/{image_id}/file"
    assert admin_api.request("PUT", path, content=b"a", headers=OCTET).status_code == 204
    again = admin_api.request("PUT", path, content=b"b", headers=OCTET)
    assert again.status_code == 409 and "active to saving" in again.json()["message"]
    bare = admin_api.request("POST", "/v2/images", json={"name": unique("noformat")})
    made.append(bare.json()["id"])
    no_format = admin_api.request(
        "PUT", f"/v2/images/{bare.json()['id']}/file", content=b"a", headers=OCTET
    )
    assert no_format.status_code == 400 and "disk_format" in no_format.json()["message"]
    wrong_type = admin_api.request("PUT", path, content=b"a", headers={"Content-Type": "text/x"})
    glance_error(wrong_type, 415, "text/x is not supported")


def test_glance_direct_import(admin: Any, admin_api: ImageAPI, made: list[str]) -> None:
    info = admin_api.request("GET", "/v2/info/import").json()
    assert info["import-methods"]["value"] == ["glance-direct", "copy-image"]
    data = b"staged bytes" * 2048
    image = admin.image.create_image(
        name=unique("import"),
        data=data,
        disk_format="raw",
        container_format="bare",
        use_import=True,
        allow_duplicates=True,
        validate_checksum=False,
    )
    made.append(image.id)
    shown = admin.image.get_image(image.id)
    assert shown.status == "active" and shown.size == len(data)
    assert admin.image.download_image(image.id).content == data
    web = admin_api.request(
        "POST", f"/v2/images/{image.id}/import", json={"method": {"name": "web-download"}}
    )
    assert web.status_code == 400 and "not enabled" in web.json()["message"]


def test_import_is_recorded_as_an_image_task(admin_api: ImageAPI, made: list[str]) -> None:
    image_id = _new(admin_api, made)
    assert admin_api.request("GET", f"/v2/images/{image_id}/tasks").json() == {"tasks": []}
    staged = admin_api.request(
        "PUT", f"/v2/images/{image_id}/stage", content=b"task bytes", headers=OCTET
    )
    assert staged.status_code == 204
    imported = admin_api.request(
        "POST", f"/v2/images/{image_id}/import", json={"method": {"name": "glance-direct"}}
    )
    assert imported.status_code == 202
    tasks = admin_api.request("GET", f"/v2/images/{image_id}/tasks").json()["tasks"]
    assert len(tasks) == 1
    task = tasks[0]
    assert task["type"] == "api_image_import" and task["status"] == "success"
    assert task["image_id"] == image_id and task["result"] == {"image_id": image_id}
    assert task["request_id"] == imported.headers["X-Openstack-Request-Id"]
    assert task["input"]["import_req"]["method"]["name"] == "glance-direct"
    missing = admin_api.request("GET", "/v2/images/00000000-0000-0000-0000-000000000000/tasks")
    glance_error(missing, 404, "No image found with ID 00000000-0000-0000-0000-000000000000")


def test_delete_removes_the_data(admin_api: ImageAPI, made: list[str], store_dir: Path) -> None:
    image_id = _new(admin_api, made)
    to_file = {**OCTET, "X-Image-Meta-Store": "file"}
    admin_api.request("PUT", f"/v2/images/{image_id}/file", content=b"bye", headers=to_file)
    assert (store_dir / image_id).is_file()
    assert admin_api.request("DELETE", f"/v2/images/{image_id}").status_code == 204
    assert not (store_dir / image_id).exists()
    assert admin_api.request("GET", f"/v2/images/{image_id}").status_code == 404


@pytest.fixture()
def demo_limits(cloud: RunningCloud, demo: Any) -> Iterator[Any]:
    """Set the demo project's image quotas for one test, then forget them."""
    db = Database(f"sqlite:///{cloud.state_dir / 'onestack.db'}")
    engine = quota_engine(ImageSettings())
    project = demo.current_project_id

    def set_limits(**limits: int) -> None:
        with db.writer() as session:
            engine.set_limits(session, project, limits)

    try:
        yield set_limits
    finally:
        with db.writer() as session:
            engine.reset(session, project)
        db.dispose()


def test_image_count_quota(demo_api: ImageAPI, demo_limits: Any, made: list[str]) -> None:
    usage = demo_api.request("GET", "/v2/info/usage").json()["usage"]
    demo_limits(image_count_total=usage["image_count_total"]["usage"] + 1)
    _new(demo_api, made)
    refused = demo_api.request("POST", "/v2/images", json={"name": unique("over")})
    assert refused.status_code == 413
    assert "image_count_total" in refused.json()["message"]


def test_image_size_quota(
    demo_api: ImageAPI, demo_limits: Any, made: list[str], store_dir: Path
) -> None:
    image_id = _new(demo_api, made)
    used = demo_api.request("GET", "/v2/info/usage").json()["usage"]["image_size_total"]["usage"]
    demo_limits(image_size_total=used + 1)
    path = f"/v2/images/{image_id}/file"
    big = demo_api.request("PUT", path, content=iter([b"q" * (1 << 20)] * 2), headers=OCTET)
    assert big.status_code == 413 and "image_size_total" in big.json()["message"]
    assert _status(demo_api, image_id) == "queued"
    assert not stray_files(store_dir)
    assert demo_api.request("PUT", path, content=b"q" * 1000, headers=OCTET).status_code == 204
