"""Headers, status codes and bodies that Swift clients check on every response."""

from __future__ import annotations

import hashlib
import hmac
import io
import re
import tarfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import requests
import swiftclient
from swiftclient.utils import generate_temp_url

from tests.support.errors import swift_error
from tests.support.http import RawClient
from tests.support.names import unique
from tests.support.server import RunningCloud

TRANS_ID = re.compile(r"^tx[0-9a-f]{21}-[0-9a-f]{10}")


def _raw(swift: Any, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
    url, token = swift.get_auth()
    return RawClient(url, token, timeout=30).request(method, path, **kwargs)


def test_every_response_has_a_swift_trans_id_and_content_type(swift: Any, container: str) -> None:
    swift.put_object(container, "o", b"data")
    for method, path in (
        ("HEAD", ""),
        ("GET", f"/{container}?prefix=nothing-here"),
        ("HEAD", f"/{container}"),
        ("POST", f"/{container}"),
        ("PUT", f"/{container}"),
        ("GET", f"/{container}/o"),
        ("DELETE", f"/{container}/o"),
    ):
        response = _raw(swift, method, path)
        assert response.status_code < 300, (method, path, response.status_code)
        assert TRANS_ID.match(response.headers["X-Trans-Id"]), response.headers["X-Trans-Id"]
        assert response.headers.get("Content-Type"), (method, path)


def test_new_account_head_has_a_timestamp(cloud: RunningCloud, admin: Any) -> None:
    project = admin.identity.create_project(name=unique("fresh"), domain_id="default")
    try:
        admin.identity.assign_project_role_to_user(
            project, admin.identity.find_user("admin"), admin.identity.find_role("member")
        )
        conn = swiftclient.Connection(
            authurl=cloud.auth_url,
            user="admin",
            key=cloud.admin_password,
            auth_version="3",
            os_options={
                "project_id": project.id,
                "user_domain_id": "default",
                "region_name": "RegionOne",
            },
            retries=0,
        )
        headers = conn.head_account()
        assert re.match(r"^\d+\.\d+$", headers["x-timestamp"])
        assert headers["x-account-container-count"] == "0"
    finally:
        admin.identity.delete_project(project)


def test_empty_object_metadata_is_kept(swift: Any, container: str) -> None:
    swift.put_object(container, "m", b"x", headers={"X-Object-Meta-Blank": ""})
    assert swift.head_object(container, "m")["x-object-meta-blank"] == ""
    swift.post_object(container, "m", headers={"X-Object-Meta-Other": ""})
    headers = swift.head_object(container, "m")
    assert headers["x-object-meta-other"] == ""
    assert "x-object-meta-blank" not in headers  # POST replaces object metadata


def test_copy_response_lists_the_copy_metadata(swift: Any, container: str) -> None:
    swift.put_object(container, "src", b"copy me", headers={"X-Object-Meta-Src": "s"})
    response = _raw(
        swift,
        "COPY",
        f"/{container}/src",
        headers={"Destination": f"{container}/dst", "X-Object-Meta-Added": "a"},
    )
    assert response.status_code == 201
    assert response.headers["X-Object-Meta-Src"] == "s"
    assert response.headers["X-Object-Meta-Added"] == "a"
    assert response.headers["X-Copied-From"] == f"{container}/src"


def test_extract_archive_answers_200_with_the_outcome(swift: Any, container: str) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("one.txt")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"one"))
    response = _raw(
        swift,
        "PUT",
        f"/{container}?extract-archive=tar",
        data=buffer.getvalue(),
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 200
    assert response.json()["Response Status"] == "201 Created"


def test_bulk_delete_with_delete_method(swift: Any, container: str) -> None:
    swift.put_object(container, "gone", b"x")
    response = _raw(
        swift,
        "DELETE",
        "?bulk-delete",
        data=f"/{container}/gone\n",
        headers={"Accept": "application/json", "Content-Type": "text/plain"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["Number Deleted"] == 1
    assert swift.get_container(container)[1] == []


def test_temp_url_inline_disposition(swift: Any, container: str) -> None:
    key = unique("inline-key")
    swift.post_account({"X-Account-Meta-Temp-URL-Key": key})
    swift.put_object(container, "page.html", b"<p>hi</p>")
    url = swift.get_auth()[0]
    base, account = url.split("/v1/")
    path = f"/v1/{account}/{container}/page.html"
    signed = base + generate_temp_url(path, 60, key, "GET")
    assert requests.get(signed + "&inline", timeout=30).headers["Content-Disposition"] == "inline"
    named = requests.get(signed + "&inline&filename=x.html", timeout=30)
    assert named.headers["Content-Disposition"] == 'inline; filename="x.html"'
    plain = requests.get(signed, timeout=30)
    assert plain.headers["Content-Disposition"] == 'attachment; filename="page.html"'


@pytest.fixture()
def reseller(cloud: RunningCloud, admin: Any) -> Iterator[Any]:
    """swiftclient for a ResellerAdmin user in the admin project."""
    role = admin.identity.find_role("ResellerAdmin") or admin.identity.create_role(
        name="ResellerAdmin"
    )
    user = admin.identity.create_user(name=unique("reseller"), password="pw-reseller-1")
    project = admin.identity.find_project("admin")
    admin.identity.assign_project_role_to_user(project, user, role)
    admin.identity.assign_project_role_to_user(project, user, admin.identity.find_role("member"))
    try:
        yield swiftclient.Connection(
            authurl=cloud.auth_url,
            user=user.name,
            key="pw-reseller-1",
            auth_version="3",
            os_options={
                "project_name": "admin",
                "user_domain_id": "default",
                "project_domain_id": "default",
                "region_name": "RegionOne",
            },
            retries=0,
        )
    finally:
        admin.identity.delete_user(user)


def test_account_object_count_quota(swift: Any, reseller: Any, container: str) -> None:
    with pytest.raises(swiftclient.ClientException) as denied:
        swift.post_account({"X-Account-Quota-Count": "0"})
    swift_error(denied.value, 403, "Access was denied")
    used = int(swift.head_account()["x-account-object-count"])
    reseller.post_account({"X-Account-Quota-Count": str(used)})
    try:
        assert swift.head_account()["x-account-quota-count"] == str(used)
        with pytest.raises(swiftclient.ClientException) as over:
            swift.put_object(container, "one-too-many", b"")
        swift_error(over.value, 413, "Upload exceeds quota.")
        with pytest.raises(swiftclient.ClientException) as bad:
            reseller.post_account({"X-Account-Quota-Count": "lots"})
        swift_error(bad.value, 400, "Invalid X-Account-Quota-Count: an integer is required.")
    finally:
        reseller.post_account({"X-Remove-Account-Quota-Count": "x"})
    assert "x-account-quota-count" not in swift.head_account()
    swift.put_object(container, "fits-again", b"")


def _form(fields: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = "form-boundary-1234"
    lines: list[bytes] = []
    for key, value in fields.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            value.encode(),
        ]
    for index, (filename, data) in enumerate(files):
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="file{index}"; filename="{filename}"'.encode(),
            b"Content-Type: text/plain",
            b"",
            data,
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines), f"multipart/form-data; boundary={boundary}"


def _signed_form(path: str, key: str, expires: int, **extra: str) -> dict[str, str]:
    max_size, max_count = "1024", "2"
    redirect = extra.pop("redirect", "")
    signed = f"{path}\n{redirect}\n{max_size}\n{max_count}\n{expires}"
    signature = hmac.new(key.encode(), signed.encode(), hashlib.sha1).hexdigest()
    return {
        "redirect": redirect,
        "max_file_size": max_size,
        "max_file_count": max_count,
        "expires": str(expires),
        "signature": signature,
        **extra,
    }


def test_form_post_uploads_without_a_token(swift: Any, container: str) -> None:
    key = unique("form-key")
    swift.post_account({"X-Account-Meta-Temp-URL-Key": key})
    url = swift.get_auth()[0]
    path = f"/v1/{url.split('/v1/')[1]}/{container}/up/"
    endpoint = url.split("/v1/")[0] + path
    fields = _signed_form(path, key, int(time.time()) + 60)
    body, kind = _form(fields, [("a.txt", b"first"), ("b.txt", b"second")])
    response = requests.post(endpoint, data=body, headers={"Content-Type": kind}, timeout=30)
    assert response.status_code == 201, response.text
    assert swift.get_object(container, "up/a.txt")[1] == b"first"
    assert swift.get_object(container, "up/b.txt")[1] == b"second"
    # too many files, expired form, wrong signature
    body, kind = _form(fields, [("x", b"1"), ("y", b"2"), ("z", b"3")])
    many = requests.post(endpoint, data=body, headers={"Content-Type": kind}, timeout=30)
    assert many.status_code == 400 and "max file count exceeded" in many.text
    expired = _signed_form(path, key, int(time.time()) - 1)
    body, kind = _form(expired, [("late.txt", b"late")])
    late = requests.post(endpoint, data=body, headers={"Content-Type": kind}, timeout=30)
    assert late.status_code == 401 and "FormPost: Form Expired" in late.text
    forged = {**fields, "signature": "0" * 40}
    body, kind = _form(forged, [("forged.txt", b"no")])
    bad = requests.post(endpoint, data=body, headers={"Content-Type": kind}, timeout=30)
    assert bad.status_code == 401 and "FormPost: Invalid Signature" in bad.text
    names = {o["name"] for o in swift.get_container(container)[1]}
    assert names == {"up/a.txt", "up/b.txt"}


def test_form_post_redirects_with_the_outcome(swift: Any, container: str) -> None:
    key = unique("form-key")
    swift.post_account({"X-Account-Meta-Temp-URL-Key": key})
    url = swift.get_auth()[0]
    path = f"/v1/{url.split('/v1/')[1]}/{container}"
    fields = _signed_form(path, key, int(time.time()) + 60, redirect="https://example.test/done")
    body, kind = _form(fields, [("r.txt", b"redirected")])
    response = requests.post(
        url.split("/v1/")[0] + path,
        data=body,
        headers={"Content-Type": kind},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["Location"].startswith("https://example.test/done?status=201")
    assert swift.get_object(container, "r.txt")[1] == b"redirected"


def test_static_web_index_listing_and_error_page(swift: Any, container: str) -> None:
    swift.post_container(container, {"X-Container-Read": ".r:*,.rlistings"})
    swift.put_object(container, "index.html", b"<h1>home</h1>")
    swift.put_object(container, "docs/a.txt", b"a")
    swift.put_object(container, "404error.html", b"not here")
    public = swift.get_auth()[0] + f"/{container}"
    # nothing configured: an ordinary anonymous container listing
    assert "index.html" in requests.get(public, timeout=30).text
    swift.post_container(
        container,
        {
            "X-Container-Meta-Web-Index": "index.html",
            "X-Container-Meta-Web-Listings": "true",
            "X-Container-Meta-Web-Listings-CSS": "style.css",
            "X-Container-Meta-Web-Error": "error.html",
        },
    )
    moved = requests.get(public, timeout=30, allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/{container}/")
    home = requests.get(public, timeout=30)
    assert home.status_code == 200 and home.content == b"<h1>home</h1>"
    listing = requests.get(public + "/docs/", timeout=30)
    assert listing.status_code == 200
    assert listing.headers["Content-Type"].startswith("text/html")
    assert "a.txt" in listing.text
    assert '<link rel="stylesheet" type="text/css" href="style.css" />' in listing.text
    assert requests.get(public + "/docs", timeout=30, allow_redirects=False).status_code == 301
    missing = requests.get(public + "/nothing.html", timeout=30)
    assert missing.status_code == 404 and missing.content == b"not here"
    # with a token the container answers as the API does
    url, token = swift.get_auth()
    api = requests.get(f"{url}/{container}", headers={"X-Auth-Token": token}, timeout=30)
    assert api.status_code == 200 and "docs/a.txt" in api.text.splitlines()
