"""Objects through python-swiftclient: CRUD, ETags, ranges, conditions, copies, expiry."""

from __future__ import annotations

import hashlib
import http.client
import os
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import swiftclient

from tests.support.errors import swift_error
from tests.support.names import unique


def test_put_get_head_delete(swift: Any, container: str) -> None:
    data = os.urandom(100_000)
    etag = swift.put_object(
        container,
        "dir/blob.bin",
        data,
        content_type="application/x-test",
        headers={
            "X-Object-Meta-Owner": "me",
            "Content-Encoding": "identity",
            "Content-Disposition": "attachment; filename=blob.bin",
        },
    )
    assert etag == hashlib.md5(data).hexdigest()
    headers, body = swift.get_object(container, "dir/blob.bin")
    assert body == data
    assert headers["etag"] == etag
    assert headers["content-type"] == "application/x-test"
    assert headers["content-encoding"] == "identity"
    assert headers["content-disposition"] == "attachment; filename=blob.bin"
    assert headers["x-object-meta-owner"] == "me"
    assert headers["accept-ranges"] == "bytes"
    head = swift.head_object(container, "dir/blob.bin")
    assert head["content-length"] == str(len(data))
    swift.delete_object(container, "dir/blob.bin")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_object(container, "dir/blob.bin")
    swift_error(info.value, 404, "dir/blob.bin could not be found")


def test_overwrite_keeps_newest(swift: Any, container: str) -> None:
    swift.put_object(container, "o", b"first")
    swift.put_object(container, "o", b"second!")
    assert swift.get_object(container, "o")[1] == b"second!"
    _, listing = swift.get_container(container)
    assert [(e["name"], e["bytes"]) for e in listing] == [("o", 7)]


def test_content_type_is_guessed(swift: Any, container: str) -> None:
    swift.put_object(container, "page.html", b"<p>")
    assert swift.head_object(container, "page.html")["content-type"] == "text/html"


def test_etag_mismatch_is_422_and_nothing_written(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(container, "bad", b"data", etag="0" * 32)
    swift_error(info.value, 422, "the ETag does not match the data")
    with pytest.raises(swiftclient.ClientException) as missing:
        swift.head_object(container, "bad")
    swift_error(missing.value, 404, head=True)


def test_chunked_upload(swift: Any, container: str) -> None:
    parts = [os.urandom(70_000) for _ in range(5)]

    def body() -> Iterator[bytes]:
        yield from parts

    swift.put_object(container, "chunked", body())
    assert swift.get_object(container, "chunked")[1] == b"".join(parts)


def test_put_without_length_is_411(swift: Any, container: str) -> None:
    url, token = swift.get_auth()
    parsed = urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    conn.putrequest("PUT", f"{parsed.path}/{container}/nolen")
    conn.putheader("X-Auth-Token", token)
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 411
    assert b"Length Required" in response.read()
    conn.close()


def test_single_and_multi_range(swift: Any, container: str) -> None:
    data = bytes(range(256)) * 40
    swift.put_object(container, "ranged", data)
    headers, body = swift.get_object(container, "ranged", headers={"Range": "bytes=10-19"})
    assert body == data[10:20]
    assert headers["content-range"] == f"bytes 10-19/{len(data)}"
    _, tail = swift.get_object(container, "ranged", headers={"Range": "bytes=-5"})
    assert tail == data[-5:]
    headers, body = swift.get_object(container, "ranged", headers={"Range": "bytes=0-1,100-102"})
    assert headers["content-type"].startswith("multipart/byteranges;boundary=")
    assert data[0:2] in body and data[100:103] in body
    assert b"Content-Range: bytes 100-102/" in body
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_object(container, "ranged", headers={"Range": "bytes=999999-"})
    assert info.value.http_status == 416


def test_conditional_requests(swift: Any, container: str) -> None:
    etag = swift.put_object(container, "cond", b"conditional")
    url, token = swift.get_auth()
    target = f"{url}/{container}/cond"
    auth = {"X-Auth-Token": token}
    assert requests.get(target, headers={**auth, "If-None-Match": etag}).status_code == 304
    assert requests.get(target, headers={**auth, "If-Match": etag}).status_code == 200
    failed = requests.get(target, headers={**auth, "If-Match": '"nope"'})
    swift_error(failed, 412, "precondition")
    last = requests.head(target, headers=auth).headers["Last-Modified"]
    time.sleep(1.0)  # Last-Modified rounds up; a date in the future is ignored, as in Swift
    assert requests.get(target, headers={**auth, "If-Modified-Since": last}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert requests.get(target, headers={**auth, "If-Unmodified-Since": old}).status_code == 412
    assert requests.get(target, headers={**auth, "If-Modified-Since": old}).status_code == 200
    exists = requests.put(target, data=b"x", headers={**auth, "If-None-Match": "*"})
    swift_error(exists, 412, "already exists")


def test_post_replaces_metadata(swift: Any, container: str) -> None:
    swift.put_object(container, "m", b"x", headers={"X-Object-Meta-A": "1"})
    swift.post_object(container, "m", {"X-Object-Meta-B": "2", "Content-Type": "text/x-new"})
    headers = swift.head_object(container, "m")
    assert headers["x-object-meta-b"] == "2"
    assert "x-object-meta-a" not in headers
    assert headers["content-type"] == "text/x-new"
    _, listing = swift.get_container(container)
    assert listing[0]["content_type"] == "text/x-new"


def test_post_missing_object_is_404(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.post_object(container, "ghost", {"X-Object-Meta-A": "1"})
    assert info.value.http_status == 404


def test_copy_method_and_x_copy_from(swift: Any, container: str) -> None:
    swift.put_object(container, "src", b"copy me", headers={"X-Object-Meta-Kind": "orig"})
    response: dict[str, Any] = {}
    swift.copy_object(
        container,
        "src",
        destination=f"/{container}/dst",
        headers={"X-Object-Meta-Extra": "yes"},
        response_dict=response,
    )
    assert response["status"] == 201
    assert response["headers"]["x-copied-from"] == f"{container}/src"
    headers, body = swift.get_object(container, "dst")
    assert body == b"copy me"
    assert headers["x-object-meta-kind"] == "orig"
    assert headers["x-object-meta-extra"] == "yes"
    swift.put_object(
        container,
        "dst2",
        b"",
        headers={"X-Copy-From": f"{container}/src", "X-Fresh-Metadata": "true"},
    )
    headers, body = swift.get_object(container, "dst2")
    assert body == b"copy me"
    assert "x-object-meta-kind" not in headers


def test_copy_of_missing_source_is_404(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(container, "d", b"", headers={"X-Copy-From": f"{container}/nothing"})
    assert info.value.http_status == 404


def test_delete_after_expires_object(swift: Any, container: str) -> None:
    swift.put_object(container, "short", b"bye", headers={"X-Delete-After": "3"})
    swift.put_object(container, "stays", b"hi")
    assert swift.head_object(container, "short")["x-delete-at"].isdigit()
    time.sleep(4.1)
    with pytest.raises(swiftclient.ClientException) as info:
        swift.get_object(container, "short")
    assert info.value.http_status == 404
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, listing = swift.get_container(container)
        if [e["name"] for e in listing] == ["stays"]:
            break
        time.sleep(0.3)
    assert [e["name"] for e in listing] == ["stays"]


def test_delete_at_in_past_is_400(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(container, "p", b"x", headers={"X-Delete-At": "1000"})
    assert info.value.http_status == 400
    assert b"X-Delete-At in past" in info.value.http_response_content


def test_post_sets_delete_at(swift: Any, container: str) -> None:
    swift.put_object(container, "later", b"x")
    when = int(time.time()) + 3600
    swift.post_object(container, "later", {"X-Delete-At": str(when)})
    assert swift.head_object(container, "later")["x-delete-at"] == str(when)


def test_container_quota_bytes(swift: Any, cleanup: Any) -> None:
    name = unique("quota")
    cleanup(name)
    swift.put_container(name, headers={"X-Container-Meta-Quota-Bytes": "10"})
    swift.put_object(name, "fits", b"12345")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(name, "too-big", b"1234567890")
    assert info.value.http_status == 413
    assert b"Upload exceeds quota" in info.value.http_response_content


def test_container_quota_count(swift: Any, cleanup: Any) -> None:
    name = unique("quota")
    cleanup(name)
    swift.put_container(name, headers={"X-Container-Meta-Quota-Count": "1"})
    swift.put_object(name, "one", b"1")
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(name, "two", b"2")
    assert info.value.http_status == 413


def test_object_name_too_long_is_400(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(container, "n" * 1100, b"x")
    assert info.value.http_status == 400


def test_object_in_missing_container_is_404(swift: Any) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.put_object(unique("nocontainer"), "o", b"x")
    assert info.value.http_status == 404
