"""Tenant isolation, container ACLs, public read, temp URLs and CORS."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
import swiftclient
from swiftclient.utils import generate_temp_url

from tests.support.errors import swift_error
from tests.support.names import unique


def _demo_url(swift_demo: Any) -> str:
    return str(swift_demo.get_auth()[0])


def test_other_project_cannot_list_or_read(swift: Any, swift_demo: Any, container: str) -> None:
    swift.put_object(container, "secret", b"admin only")
    admin_url = swift.get_auth()[0]
    token = swift_demo.get_auth()[1]
    listing = requests.get(f"{admin_url}/{container}", headers={"X-Auth-Token": token})
    assert listing.text.startswith("403 Forbidden\n\n")
    swift_error(listing, 403, "Access was denied to this resource.")
    read = requests.get(f"{admin_url}/{container}/secret", headers={"X-Auth-Token": token})
    swift_error(read, 403, "Access was denied")
    account = requests.get(admin_url, headers={"X-Auth-Token": token})
    swift_error(account, 403, "Access was denied")
    write = requests.put(f"{admin_url}/{container}/x", data=b"x", headers={"X-Auth-Token": token})
    swift_error(write, 403, "Access was denied")


def test_no_token_is_401(swift: Any, container: str) -> None:
    admin_url = swift.get_auth()[0]
    response = requests.get(f"{admin_url}/{container}")
    assert response.text.startswith("401 Unauthorized\n\n")
    swift_error(response, 401, "could not verify that you are authorized")
    assert response.headers["WWW-Authenticate"].startswith("Keystone uri=")
    bad = requests.get(f"{admin_url}/{container}", headers={"X-Auth-Token": "garbage"})
    swift_error(bad, 401)


def test_own_account_listings_are_separate(swift: Any, swift_demo: Any, container: str) -> None:
    demo_container = unique("demo")
    swift_demo.put_container(demo_container)
    try:
        _, admin_list = swift.get_account(full_listing=True)
        _, demo_list = swift_demo.get_account(full_listing=True)
        assert container in [c["name"] for c in admin_list]
        assert container not in [c["name"] for c in demo_list]
        assert demo_container in [c["name"] for c in demo_list]
        assert demo_container not in [c["name"] for c in admin_list]
    finally:
        swift_demo.delete_container(demo_container)


def test_read_acl_shares_with_other_project(
    swift: Any, swift_demo: Any, demo: Any, container: str
) -> None:
    swift.put_object(container, "shared", b"for demo")
    swift.post_container(container, {"X-Container-Read": f"{demo.current_project_id}:*"})
    admin_url = swift.get_auth()[0]
    token = swift_demo.get_auth()[1]
    read = requests.get(f"{admin_url}/{container}/shared", headers={"X-Auth-Token": token})
    assert read.status_code == 200 and read.content == b"for demo"
    listing = requests.get(f"{admin_url}/{container}?format=json", headers={"X-Auth-Token": token})
    assert [e["name"] for e in listing.json()] == ["shared"]
    assert "X-Container-Read" not in listing.headers
    write = requests.put(f"{admin_url}/{container}/w", data=b"x", headers={"X-Auth-Token": token})
    assert write.status_code == 403


def test_write_acl_lets_other_project_upload(
    swift: Any, swift_demo: Any, demo: Any, container: str
) -> None:
    swift.post_container(container, {"X-Container-Write": f"{demo.current_project_id}:*"})
    admin_url = swift.get_auth()[0]
    token = swift_demo.get_auth()[1]
    write = requests.put(
        f"{admin_url}/{container}/from-demo", data=b"hi", headers={"X-Auth-Token": token}
    )
    assert write.status_code == 201
    assert swift.get_object(container, "from-demo")[1] == b"hi"
    read = requests.get(f"{admin_url}/{container}/from-demo", headers={"X-Auth-Token": token})
    assert read.status_code == 403


def test_public_read_acl(swift: Any, container: str) -> None:
    swift.put_object(container, "pub", b"public")
    admin_url = swift.get_auth()[0]
    assert requests.get(f"{admin_url}/{container}/pub").status_code == 401
    swift.post_container(container, {"X-Container-Read": ".r:*"})
    response = requests.get(f"{admin_url}/{container}/pub")
    assert response.status_code == 200 and response.content == b"public"
    assert requests.get(f"{admin_url}/{container}").status_code == 401
    swift.post_container(container, {"X-Container-Read": ".r:*,.rlistings"})
    assert requests.get(f"{admin_url}/{container}").text == "pub\n"


def test_invalid_acl_is_400(swift: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as info:
        swift.post_container(container, {"X-Container-Write": ".r:*"})
    swift_error(info.value, 400, "Invalid")


def test_temp_url_get_and_put(swift: Any, container: str) -> None:
    key = "tempkey-" + unique("k")
    swift.post_account({"X-Account-Meta-Temp-URL-Key": key})
    swift.put_object(container, "t.txt", b"temporary")
    admin_url = swift.get_auth()[0]
    base = admin_url.split("/v1/")[0]
    path = f"/v1/{admin_url.split('/v1/')[1]}/{container}/t.txt"
    url = base + generate_temp_url(path, 60, key, "GET")
    response = requests.get(url)
    assert response.status_code == 200 and response.content == b"temporary"
    assert 'filename="t.txt"' in response.headers["Content-Disposition"]
    put_path = f"/v1/{admin_url.split('/v1/')[1]}/{container}/up.txt"
    put_url = base + generate_temp_url(put_path, 60, key, "PUT")
    assert requests.put(put_url, data=b"uploaded").status_code == 201
    assert swift.get_object(container, "up.txt")[1] == b"uploaded"
    assert requests.delete(url).status_code == 401


def test_temp_url_expired_or_wrong_is_401(swift: Any, container: str) -> None:
    key = "tempkey-" + unique("k")
    swift.post_container(container, {"X-Container-Meta-Temp-URL-Key": key})
    swift.put_object(container, "t2", b"x")
    admin_url = swift.get_auth()[0]
    base = admin_url.split("/v1/")[0]
    path = f"/v1/{admin_url.split('/v1/')[1]}/{container}/t2"
    good = base + generate_temp_url(path, 60, key, "GET")
    assert requests.get(good).status_code == 200
    expired = base + generate_temp_url(path, int(time.time()) - 10, key, "GET", absolute=True)
    swift_error(requests.get(expired), 401, "Temp URL expired")
    wrong = base + generate_temp_url(path, 60, "not-the-key", "GET")
    swift_error(requests.get(wrong), 401, "Temp URL invalid")


def test_cors_preflight_and_headers(swift: Any, container: str) -> None:
    swift.put_object(container, "c", b"cors")
    swift.post_container(
        container,
        {
            "X-Container-Meta-Access-Control-Allow-Origin": "http://app.example",
            "X-Container-Meta-Access-Control-Max-Age": "600",
            "X-Container-Read": ".r:*",
        },
    )
    url = f"{swift.get_auth()[0]}/{container}/c"
    preflight = requests.options(
        url,
        headers={"Origin": "http://app.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert preflight.headers["Access-Control-Max-Age"] == "600"
    refused = requests.options(
        url, headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "GET"}
    )
    swift_error(refused, 401, "origin is not allowed")
    response = requests.get(url, headers={"Origin": "http://app.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "http://app.example"
    assert "etag" in response.headers["Access-Control-Expose-Headers"]
