"""Container sync: X-Container-Sync-To (realm form) and -Key, and the sync pass."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import swiftclient

from tests.support.names import unique
from tests.support.server import RunningCloud


def _account(conn: Any) -> str:
    url, _ = conn.get_auth()
    return str(url).rstrip("/").rsplit("/", 1)[-1]


def _sync_headers(account: str, container: str, key: str = "sync-key") -> dict[str, str]:
    return {
        "X-Container-Sync-To": f"//realm1/name1/{account}/{container}",
        "X-Container-Sync-Key": key,
    }


def _wait_for(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "container sync did not happen in time"
        time.sleep(0.5)


def _listing(conn: Any, container: str) -> dict[str, dict[str, Any]]:
    _, objects = conn.get_container(container, full_listing=True)
    return {o["name"]: o for o in objects}


def test_info_lists_the_realm_and_this_cluster(cloud: RunningCloud) -> None:
    info = httpx.get(cloud.url("object") + "/info", timeout=30).json()
    assert info["container_sync"] == {
        "realms": {"REALM1": {"clusters": {"NAME1": {"current": True}}}}
    }


def test_objects_and_deletes_sync_both_ways_across_accounts(
    swift: Any, swift_demo: Any, cleanup: Callable[[str], None]
) -> None:
    mine, theirs = unique("sync-a"), unique("sync-b")
    swift.put_container(mine)
    cleanup(mine)
    swift_demo.put_container(theirs)
    try:
        swift.post_container(mine, _sync_headers(_account(swift_demo), theirs))
        swift_demo.post_container(theirs, _sync_headers(_account(swift), mine))
        assert swift.head_container(mine)["x-container-sync-to"].endswith(f"/{theirs}")
        swift.put_object(mine, "from-a", b"alpha", headers={"X-Object-Meta-Color": "red"})
        swift_demo.put_object(theirs, "from-b", b"beta")

        def same() -> bool:
            a, b = _listing(swift, mine), _listing(swift_demo, theirs)
            return set(a) == set(b) == {"from-a", "from-b"}

        _wait_for(same)
        # the copies keep the version's timestamp, so the listings are equal
        assert _listing(swift, mine) == _listing(swift_demo, theirs)
        headers, body = swift_demo.get_object(theirs, "from-a")
        assert body == b"alpha"
        assert headers["x-object-meta-color"] == "red"
        assert swift.get_object(mine, "from-b")[1] == b"beta"

        swift.delete_object(mine, "from-a")
        _wait_for(lambda: "from-a" not in _listing(swift_demo, theirs))
        # the deletion does not come back, and nothing is sent back and forth
        time.sleep(2)
        assert set(_listing(swift, mine)) == set(_listing(swift_demo, theirs)) == {"from-b"}
    finally:
        for name in ("from-a", "from-b"):
            try:
                swift_demo.delete_object(theirs, name)
            except swiftclient.ClientException:
                pass
        swift.post_container(mine, {"X-Container-Sync-To": "", "X-Container-Sync-Key": ""})
        swift_demo.delete_container(theirs)


def test_sync_key_is_shown_only_to_the_owner(swift: Any, swift_demo: Any, container: str) -> None:
    swift.post_container(
        container,
        {**_sync_headers(_account(swift), unique("nowhere")), "X-Container-Read": "*:*"},
    )
    headers = swift.head_container(container)
    assert headers["x-container-sync-key"] == "sync-key"
    url, _ = swift.get_auth()
    _, token = swift_demo.get_auth()
    other = swiftclient.head_container(url, token, container)
    assert "x-container-sync-key" not in other
    assert "x-container-sync-to" not in other
    swift.post_container(container, {"X-Container-Sync-To": ""})
    assert "x-container-sync-to" not in swift.head_container(container)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://127.0.0.1:8080/v1/AUTH_x/c", "Full URLs are not allowed"),
        ("//realm1/name1/AUTH_x", "Invalid X-Container-Sync-To format"),
        ("//nope/name1/AUTH_x/c", "No realm key for 'nope'"),
        ("//realm1/other/AUTH_x/c", "No cluster endpoint for 'realm1' 'other'"),
    ],
)
def test_bad_sync_to_is_refused(swift: Any, container: str, value: str, message: str) -> None:
    with pytest.raises(swiftclient.ClientException) as raised:
        swift.post_container(container, {"X-Container-Sync-To": value})
    assert raised.value.http_status == 400
    assert message in raised.value.http_response_content.decode()


def test_a_badly_signed_sync_request_is_refused(
    cloud: RunningCloud, swift: Any, container: str
) -> None:
    swift.post_container(container, _sync_headers(_account(swift), container))
    url = f"{cloud.url('object')}/v1/{_account(swift)}/{container}/forged"
    response = httpx.put(
        url,
        content=b"x",
        headers={"X-Container-Sync-Auth": "realm1 nonce 0123abcd", "X-Timestamp": "1.0"},
        timeout=30,
    )
    assert response.status_code == 401
    assert "X-Container-Sync-Auth header not valid" in response.text
    with pytest.raises(swiftclient.ClientException) as raised:
        swift.head_object(container, "forged")
    assert raised.value.http_status == 404


def test_links_sync_as_links_and_overwrites_sync_again(
    swift: Any, cleanup: Callable[[str], None]
) -> None:
    source, target = unique("sync-src"), unique("sync-dst")
    account = _account(swift)
    for name in (target, source):
        swift.put_container(name)
        cleanup(name)
    swift.post_container(target, {"X-Container-Sync-Key": "k2"})
    swift.post_container(source, _sync_headers(account, target, key="k2"))
    swift.put_object(source, "data", b"one")
    swift.put_object(
        source,
        "link",
        b"",
        headers={"X-Symlink-Target": f"{source}/data", "Content-Type": "application/symlink"},
    )
    _wait_for(lambda: set(_listing(swift, target)) == {"data", "link"})
    link = swift.head_object(target, "link", query_string="symlink=get")
    assert link["x-symlink-target"] == f"{source}/data"
    assert swift.get_object(target, "link")[1] == b"one"
    swift.put_object(source, "data", b"two")
    _wait_for(lambda: swift.get_object(target, "data")[1] == b"two")
    # one way only: a change at the target is not sent back
    swift.put_object(target, "only-here", b"x")
    time.sleep(2)
    assert "only-here" not in _listing(swift, source)
