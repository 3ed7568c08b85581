"""Symlinks: X-Symlink-Target (and -Account, -Etag), following, ?symlink=get, loops."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest
import swiftclient

from tests.support.names import unique
from tests.support.server import RunningCloud

LINK = {"X-Symlink-Target": "", "Content-Type": "application/symlink"}


def _link(swift: Any, container: str, name: str, target: str, **headers: str) -> None:
    swift.put_object(container, name, b"", headers={**LINK, "X-Symlink-Target": target, **headers})


def _status(call: Any, *args: Any, **kwargs: Any) -> tuple[int, str]:
    with pytest.raises(swiftclient.ClientException) as raised:
        call(*args, **kwargs)
    body = raised.value.http_response_content or b""
    return raised.value.http_status, body.decode() if isinstance(body, bytes) else str(body)


def test_info_lists_symlinks(cloud: RunningCloud) -> None:
    info = httpx.get(cloud.url("object") + "/info", timeout=30).json()
    assert info["symlink"] == {"symloop_max": 2, "static_links": True}


def test_get_follows_the_link_and_the_listing_names_the_target(swift: Any, container: str) -> None:
    swift.put_object(container, "file.txt", b"the target", content_type="text/plain")
    _link(swift, container, "link.txt", f"{container}/file.txt")
    headers, body = swift.get_object(container, "link.txt")
    assert body == b"the target"
    assert headers["content-type"] == "text/plain"
    assert headers["content-location"].endswith(f"/{container}/file.txt")
    listed = {o["name"]: o for o in swift.get_container(container)[1]}
    link = listed["link.txt"]
    assert link["content_type"] == "application/symlink"
    assert link["bytes"] == 0
    assert link["symlink_path"].endswith(
        f"/v1/{swift.get_auth()[0].rsplit('/', 1)[-1]}/{container}/file.txt"
    )
    assert "symlink_path" not in listed["file.txt"]


def test_symlink_get_answers_the_link_itself(swift: Any, container: str) -> None:
    swift.put_object(container, "t", b"data")
    _link(swift, container, "l", f"{container}/t")
    headers, body = swift.get_object(container, "l", query_string="symlink=get")
    assert body == b""
    assert headers["x-symlink-target"] == f"{container}/t"
    assert headers["content-type"] == "application/symlink"


def test_cross_account_link_follows_with_the_callers_access(
    swift: Any, swift_demo: Any, container: str
) -> None:
    swift.put_object(container, "secret", b"mine")
    other = unique("links")
    swift_demo.put_container(other)
    try:
        account = swift.get_auth()[0].rsplit("/", 1)[-1]
        swift_demo.put_object(
            other,
            "l",
            b"",
            headers={
                **LINK,
                "X-Symlink-Target": f"{container}/secret",
                "X-Symlink-Target-Account": account,
            },
        )
        # demo may not read admin's container: following the link is refused
        assert _status(swift_demo.get_object, other, "l")[0] == 403
        swift.post_container(container, {"X-Container-Read": "demo:*"})
        assert swift_demo.get_object(other, "l")[1] == b"mine"
        assert (
            swift_demo.head_object(other, "l", query_string="symlink=get")[
                "x-symlink-target-account"
            ]
            == account
        )
    finally:
        swift_demo.delete_object(other, "l")
        swift_demo.delete_container(other)


def test_broken_link_is_404_and_deleting_the_link_keeps_the_target(
    swift: Any, container: str
) -> None:
    _link(swift, container, "broken", f"{container}/missing")
    assert _status(swift.get_object, container, "broken")[0] == 404
    swift.put_object(container, "missing", b"now here")
    assert swift.get_object(container, "broken")[1] == b"now here"
    swift.delete_object(container, "broken")
    assert swift.get_object(container, "missing")[1] == b"now here"


def test_loops_and_too_many_hops_are_409(swift: Any, container: str) -> None:
    _link(swift, container, "self", f"{container}/self")
    status, body = _status(swift.get_object, container, "self")
    assert status == 409
    assert "Too many levels of symbolic links, maximum allowed is 2" in body
    swift.put_object(container, "end", b"end")
    _link(swift, container, "hop1", f"{container}/end")
    _link(swift, container, "hop2", f"{container}/hop1")
    _link(swift, container, "hop3", f"{container}/hop2")
    assert swift.get_object(container, "hop2")[1] == b"end"
    assert _status(swift.head_object, container, "hop3")[0] == 409


def test_static_link_checks_the_target_etag(swift: Any, container: str) -> None:
    etag = hashlib.md5(b"v1").hexdigest()
    swift.put_object(container, "t", b"v1")
    _link(swift, container, "static", f"{container}/t", **{"X-Symlink-Target-Etag": etag})
    listed = {o["name"]: o for o in swift.get_container(container)[1]}
    assert listed["static"]["symlink_etag"] == etag
    assert listed["static"]["symlink_bytes"] == 2
    assert swift.get_object(container, "static")[1] == b"v1"
    swift.put_object(container, "t", b"v2")
    status, body = _status(swift.get_object, container, "static")
    assert status == 409
    assert "does not match X-Symlink-Target-Etag" in body
    status, body = _status(
        _link, swift, container, "bad", f"{container}/t", **{"X-Symlink-Target-Etag": etag}
    )
    assert status == 409
    status, body = _status(
        _link, swift, container, "none", f"{container}/absent", **{"X-Symlink-Target-Etag": etag}
    )
    assert status == 409
    assert "X-Symlink-Target does not exist" in body


def test_bad_symlink_requests(swift: Any, container: str) -> None:
    assert _status(_link, swift, container, "l", "no-slash")[0] == 412
    status, body = _status(
        swift.put_object,
        container,
        "l",
        b"not empty",
        headers={"X-Symlink-Target": f"{container}/t"},
    )
    assert status == 400
    assert "Symlink requests require a zero byte body" in body
    swift.put_object(container, "t", b"data")
    status, body = _status(
        swift.post_object, container, "t", headers={"X-Symlink-Target": f"{container}/x"}
    )
    assert status == 400
    assert "A PUT request is required to set a symlink target" in body


def test_post_to_a_link_is_307_to_the_target(
    cloud: RunningCloud, swift: Any, container: str
) -> None:
    swift.put_object(container, "t", b"data")
    _link(swift, container, "l", f"{container}/t")
    url, token = swift.get_auth()
    response = httpx.post(
        f"{url}/{container}/l",
        headers={"X-Auth-Token": token, "X-Object-Meta-Color": "blue"},
        timeout=30,
    )
    assert response.status_code == 307
    assert response.headers["Location"].endswith(f"/{container}/t")
    link = swift.head_object(container, "l", query_string="symlink=get")
    assert link["x-object-meta-color"] == "blue"
    assert "x-object-meta-color" not in swift.head_object(container, "t")


def test_copy_follows_the_link_unless_symlink_get(swift: Any, container: str) -> None:
    swift.put_object(container, "t", b"payload")
    _link(swift, container, "l", f"{container}/t")
    swift.copy_object(container, "l", f"/{container}/plain")
    plain = swift.head_object(container, "plain", query_string="symlink=get")
    assert "x-symlink-target" not in plain
    assert swift.get_object(container, "plain")[1] == b"payload"
    url, token = swift.get_auth()
    response = httpx.request(
        "COPY",
        f"{url}/{container}/l?symlink=get",
        headers={"X-Auth-Token": token, "Destination": f"{container}/l2"},
        timeout=30,
    )
    assert response.status_code == 201
    copied = swift.head_object(container, "l2", query_string="symlink=get")
    assert copied["x-symlink-target"] == f"{container}/t"
    swift.put_object(container, "t", b"changed")
    assert swift.get_object(container, "l2")[1] == b"changed"
