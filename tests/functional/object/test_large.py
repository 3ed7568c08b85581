"""Large objects (SLO, DLO), versioning, bulk delete and extract-archive."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from typing import Any

import pytest
import requests
import swiftclient

from tests.support.errors import swift_error
from tests.support.names import unique


def _slo(swift: Any, container: str, name: str, segments: list[bytes]) -> str:
    manifest = []
    for index, data in enumerate(segments):
        seg = f"{name}-seg/{index:04d}"
        etag = swift.put_object(container, seg, data)
        manifest.append({"path": f"/{container}/{seg}", "etag": etag, "size_bytes": len(data)})
    response: dict[str, Any] = {}
    swift.put_object(
        container,
        name,
        json.dumps(manifest),
        query_string="multipart-manifest=put",
        response_dict=response,
    )
    return str(response["headers"]["etag"])


def test_slo_get_head_range_and_listing(swift: Any, container: str) -> None:
    segments = [os.urandom(1000), os.urandom(1500), os.urandom(10)]
    etag = _slo(swift, container, "big", segments)
    whole = b"".join(segments)
    expected = hashlib.md5("".join(hashlib.md5(s).hexdigest() for s in segments).encode())
    assert etag == f'"{expected.hexdigest()}"'
    headers, body = swift.get_object(container, "big")
    assert body == whole
    assert headers["x-static-large-object"] == "True"
    assert headers["etag"] == etag
    assert swift.head_object(container, "big")["content-length"] == str(len(whole))
    _, part = swift.get_object(container, "big", headers={"Range": "bytes=990-1010"})
    assert part == whole[990:1011]
    _, listing = swift.get_container(container, prefix="big")
    assert listing[0]["name"] == "big" and listing[0]["bytes"] == len(whole)


def test_slo_manifest_get_and_delete(swift: Any, container: str) -> None:
    _slo(swift, container, "m", [b"a" * 10, b"b" * 10])
    _, raw = swift.get_object(container, "m", query_string="multipart-manifest=get")
    entries = json.loads(raw)
    assert [e["name"] for e in entries] == [f"/{container}/m-seg/0000", f"/{container}/m-seg/0001"]
    assert entries[0]["bytes"] == 10
    swift.delete_object(container, "m", query_string="multipart-manifest=delete")
    _, listing = swift.get_container(container)
    assert listing == []


def test_slo_with_bad_segment_is_400(swift: Any, container: str) -> None:
    swift.put_object(container, "seg", b"data")
    manifest = [{"path": f"/{container}/seg", "etag": "0" * 32, "size_bytes": 4}]
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(
            container, "bad", json.dumps(manifest), query_string="multipart-manifest=put"
        )
    swift_error(info.value, 400, f"/{container}/seg, Etag Mismatch")
    missing = [{"path": f"/{container}/nothing"}]
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(
            container, "bad", json.dumps(missing), query_string="multipart-manifest=put"
        )
    swift_error(info.value, 400, "Errors:")
    assert f"/{container}/nothing, 404 Not Found".encode() in info.value.http_response_content


def test_dlo(swift: Any, container: str) -> None:
    for index in range(3):
        swift.put_object(container, f"parts/{index}", f"part{index};".encode())
    swift.put_object(container, "dlo", b"", headers={"X-Object-Manifest": f"{container}/parts/"})
    headers, body = swift.get_object(container, "dlo")
    assert body == b"part0;part1;part2;"
    assert headers["x-object-manifest"] == f"{container}/parts/"
    assert headers["etag"].startswith('"')
    _, tail = swift.get_object(container, "dlo", headers={"Range": "bytes=6-11"})
    assert tail == b"part1;"


def test_one_gib_slo_upload_with_swift_cli(swift: Any, cleanup: Any, tmp_path: Any) -> None:
    """The `swift upload --use-slo` story with a 1 GiB file, read back byte for byte."""
    from swiftclient.service import SwiftService, SwiftUploadObject

    name = unique("gib")
    cleanup(name)
    cleanup(name + "_segments")
    source = tmp_path / "one-gib.bin"
    digest = hashlib.md5()
    chunk = os.urandom(1 << 20)
    with open(source, "wb") as handle:
        for index in range(1024):
            block = index.to_bytes(4, "big") + chunk[4:]
            handle.write(block)
            digest.update(block)
    options = {
        "os_auth_url": swift.authurl,
        "os_username": swift.user,
        "os_password": swift.key,
        "os_project_name": "admin",
        "os_user_domain_id": "default",
        "os_project_domain_id": "default",
        "auth_version": "3",
        "segment_size": 128 * 1024 * 1024,
        "use_slo": True,
        "object_uu_threads": 4,
        "segment_threads": 4,
    }
    with SwiftService(options=options) as service:
        results = list(service.upload(name, [SwiftUploadObject(str(source), object_name="big")]))
    failures = [r for r in results if not r["success"]]
    assert failures == []
    source.unlink()
    headers = swift.head_object(name, "big")
    assert headers["x-static-large-object"] == "True"
    assert int(headers["content-length"]) == 1024 * 1024 * 1024
    got = hashlib.md5()
    _, body = swift.get_object(name, "big", resp_chunk_size=4 << 20)
    size = 0
    for piece in body:
        got.update(piece)
        size += len(piece)
    assert size == 1024 * 1024 * 1024
    assert got.hexdigest() == digest.hexdigest()
    swift.delete_object(name, "big", query_string="multipart-manifest=delete")
    assert swift.get_container(name + "_segments")[1] == []


def test_versions_location_stack(swift: Any, cleanup: Any) -> None:
    name, archive = unique("ver"), unique("arch")
    cleanup(name)
    cleanup(archive)
    swift.put_container(archive)
    swift.put_container(name, headers={"X-Versions-Location": archive})
    assert swift.head_container(name)["x-versions-location"] == archive
    for text in (b"v1", b"v2", b"v3"):
        swift.put_object(name, "doc", text)
    _, versions = swift.get_container(archive)
    assert len(versions) == 2
    assert versions[0]["name"].startswith("003doc/")
    swift.delete_object(name, "doc")
    assert swift.get_object(name, "doc")[1] == b"v2"
    swift.delete_object(name, "doc")
    assert swift.get_object(name, "doc")[1] == b"v1"
    swift.delete_object(name, "doc")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_object(name, "doc")
    swift_error(info.value, 404, "doc could not be found")


def test_history_location(swift: Any, cleanup: Any) -> None:
    name, archive = unique("hist"), unique("harch")
    cleanup(name)
    cleanup(archive)
    swift.put_container(archive)
    swift.put_container(name, headers={"X-History-Location": archive})
    swift.put_object(name, "doc", b"one")
    swift.put_object(name, "doc", b"two")
    swift.delete_object(name, "doc")
    with pytest.raises(swiftclient.ClientException):
        swift.get_object(name, "doc")
    _, versions = swift.get_container(archive)
    types = [v["content_type"] for v in versions]
    assert len(versions) == 3
    assert types.count("application/x-deleted;swift_versions_deleted=1") == 1
    bodies = {swift.get_object(archive, v["name"])[1] for v in versions}
    assert {b"one", b"two"} <= bodies


def test_bulk_delete(swift: Any, container: str) -> None:
    for index in range(5):
        swift.put_object(container, f"bulk/{index}", b"x")
    url, token = swift.get_auth()
    body = "\n".join(f"/{container}/bulk/{i}" for i in range(6))
    response = requests.post(
        f"{url}?bulk-delete",
        data=body,
        headers={"X-Auth-Token": token, "Accept": "application/json", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200
    result = response.json()
    assert result["Number Deleted"] == 5
    assert result["Number Not Found"] == 1
    assert result["Errors"] == []
    assert swift.get_container(container)[1] == []


def test_extract_archive(swift: Any, container: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in (("a.txt", b"alpha"), ("sub/b.txt", b"beta")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    url, token = swift.get_auth()
    response = requests.put(
        f"{url}/{container}?extract-archive=tar.gz",
        data=buffer.getvalue(),
        headers={"X-Auth-Token": token, "Accept": "application/json"},
    )
    # Swift's bulk middleware answers 200 and puts the outcome in the body.
    assert response.status_code == 200
    assert response.json()["Response Status"] == "201 Created"
    assert response.json()["Number Files Created"] == 2
    assert swift.get_object(container, "sub/b.txt")[1] == b"beta"
    bad = requests.put(
        f"{url}/{container}?extract-archive=zip",
        data=b"x",
        headers={"X-Auth-Token": token},
    )
    swift_error(bad, 400, "Unsupported archive format")
