"""Accounts and containers through python-swiftclient and openstacksdk."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import pytest
import requests
import swiftclient

from tests.support.errors import swift_error
from tests.support.names import unique
from tests.support.server import RunningCloud


def test_catalog_has_project_url_and_s3(cloud: RunningCloud, admin: Any) -> None:
    endpoint = admin.object_store.get_endpoint()
    assert endpoint == f"{cloud.url('object')}/v1/AUTH_{admin.current_project_id}"
    s3 = admin.endpoint_for("s3")
    assert s3.rstrip("/") == cloud.url("s3")


def test_info_lists_capabilities(swift: Any) -> None:
    info = swift.get_capabilities()
    assert info["swift"]["max_file_size"] >= 5 * 1024**3
    assert info["slo"]["max_manifest_segments"] == 1000
    assert "GET" in info["tempurl"]["methods"]
    assert info["bulk_delete"]["max_deletes_per_request"] == 10000


def test_container_lifecycle_with_metadata(swift: Any) -> None:
    name = unique("life")
    swift.put_container(name, headers={"X-Container-Meta-Color": "blue"})
    headers = swift.head_container(name)
    assert headers["x-container-meta-color"] == "blue"
    assert headers["x-container-object-count"] == "0"
    assert headers["x-storage-policy"] == "Policy-0"
    swift.post_container(
        name, {"X-Container-Meta-Size": "big", "X-Remove-Container-Meta-Color": "x"}
    )
    headers = swift.head_container(name)
    assert headers["x-container-meta-size"] == "big"
    assert "x-container-meta-color" not in headers
    swift.delete_container(name)
    with pytest.raises(swiftclient.ClientException) as info:
        swift.head_container(name)
    swift_error(info.value, 404, head=True)


def test_put_existing_container_is_202(swift: Any, container: str) -> None:
    response: dict[str, Any] = {}
    swift.put_container(container, response_dict=response)
    assert response["status"] == 202


def test_delete_non_empty_container_conflicts(swift: Any, container: str) -> None:
    swift.put_object(container, "keep", b"x")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.delete_container(container)
    # Swift's wording, which clients match on
    swift_error(info.value, 409, "There was a conflict when trying to complete your request.")


def test_missing_container_is_404_plain_text(swift: Any) -> None:
    name = unique("missing")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_container(name)
    assert info.value.http_response_content.startswith(b"404 Not Found\n\n")
    swift_error(info.value, 404, f"The container {name} could not be found.")


def test_account_counts_and_metadata(swift: Any, container: str) -> None:
    swift.put_object(container, "a", b"12345")
    swift.post_account({"X-Account-Meta-Team": "storage"})
    headers = swift.head_account()
    assert headers["x-account-meta-team"] == "storage"
    assert int(headers["x-account-container-count"]) >= 1
    assert int(headers["x-account-bytes-used"]) >= 5
    _, containers = swift.get_account(prefix=container)
    assert containers == [
        {
            "name": container,
            "count": 1,
            "bytes": 5,
            "last_modified": containers[0]["last_modified"],
        }
    ]


@pytest.fixture()
def filled(swift: Any, container: str) -> str:
    for name in ("a/1", "a/2", "a/b/3", "b", "c/4", "d"):
        swift.put_object(container, name, name.encode())
    return container


def names(listing: list[dict[str, Any]]) -> list[str]:
    return [e.get("name") or e["subdir"] for e in listing]


def test_listing_prefix_delimiter(swift: Any, filled: str) -> None:
    _, listing = swift.get_container(filled, delimiter="/")
    assert names(listing) == ["a/", "b", "c/", "d"]
    _, listing = swift.get_container(filled, prefix="a/", delimiter="/")
    assert names(listing) == ["a/1", "a/2", "a/b/"]
    _, listing = swift.get_container(filled, prefix="a/")
    assert names(listing) == ["a/1", "a/2", "a/b/3"]


def test_listing_markers_limit_reverse(swift: Any, filled: str) -> None:
    _, listing = swift.get_container(filled, marker="a/2", limit=2)
    assert names(listing) == ["a/b/3", "b"]
    _, listing = swift.get_container(filled, end_marker="b")
    assert names(listing) == ["a/1", "a/2", "a/b/3"]
    _, listing = swift.get_container(filled, query_string="reverse=true&limit=3")
    assert names(listing) == ["d", "c/4", "b"]
    _, listing = swift.get_container(filled, full_listing=True, limit=2)
    assert len(listing) == 6


def test_listing_entry_fields(swift: Any, filled: str) -> None:
    _, listing = swift.get_container(filled, prefix="d")
    entry = listing[0]
    assert entry["bytes"] == 1
    assert entry["hash"] == "8277e0910d750195b448797616e091ad"
    assert entry["content_type"] == "application/octet-stream"
    assert entry["last_modified"].count("T") == 1


def test_listing_formats(cloud: RunningCloud, swift: Any, filled: str) -> None:
    url, token = swift.get_auth()
    plain = requests.get(f"{url}/{filled}?delimiter=/", headers={"X-Auth-Token": token})
    assert plain.status_code == 200
    assert plain.text == "a/\nb\nc/\nd\n"
    xml = requests.get(
        f"{url}/{filled}?format=xml&prefix=a/&delimiter=/", headers={"X-Auth-Token": token}
    )
    root = ElementTree.fromstring(xml.content)
    assert root.tag == "container" and root.attrib["name"] == filled
    assert [e.findtext("name") for e in root.findall("object")] == ["a/1", "a/2"]
    assert root.find("subdir").attrib["name"] == "a/b/"  # type: ignore[union-attr]
    as_json = requests.get(
        url + f"/{filled}", headers={"X-Auth-Token": token, "Accept": "application/json"}
    )
    assert len(json.loads(as_json.text)) == 6
    empty = requests.get(f"{url}/{filled}?prefix=zzz", headers={"X-Auth-Token": token})
    assert empty.status_code == 204


def test_listing_limit_over_maximum_is_412(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_container(container, limit=10001)
    swift_error(info.value, 412, "Maximum limit is 10000")


def test_invalid_metadata_is_400(swift: Any) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_container(unique("meta"), headers={"X-Container-Meta-" + "k" * 200: "v"})
    swift_error(info.value, 400, "Metadata name too long")


def test_account_put_is_405(swift: Any) -> None:
    url, token = swift.get_auth()
    response = requests.put(url, headers={"X-Auth-Token": token})
    swift_error(response, 405, "not allowed for accounts")


def test_sdk_container_and_object_roundtrip(admin: Any) -> None:
    name = unique("sdk")
    admin.object_store.create_container(name=name)
    try:
        admin.object_store.upload_object(container=name, name="o.txt", data=b"sdk data")
        assert [o.name for o in admin.object_store.objects(name)] == ["o.txt"]
        assert admin.object_store.download_object("o.txt", container=name) == b"sdk data"
        admin.object_store.set_container_metadata(name, owner="ops")
        assert admin.object_store.get_container_metadata(name).metadata["owner"] == "ops"
        admin.object_store.delete_object("o.txt", container=name)
    finally:
        admin.object_store.delete_container(name)
