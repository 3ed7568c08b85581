"""The dashboard's defences: CSRF, clickjacking, XSS, session fixation."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.browser import login, open_page
from tests.support.server import RunningCloud


def _login_form(client: httpx.Client) -> str:
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match.group(1)


def _login(client: httpx.Client, user: str, password: str) -> str:
    csrf = _login_form(client)
    answer = client.post(
        "/login",
        data={
            "csrf_token": csrf,
            "method": "password",
            "domain": "Default",
            "username": user,
            "password": password,
        },
    )
    assert answer.status_code == 303, answer.text
    shell = client.get("/")
    match = re.search(r'<meta name="csrf-token" content="([^"]+)">', shell.text)
    assert match
    return match.group(1)


@pytest.fixture()
def demo_client(base_url: str, dash_cloud: RunningCloud) -> Iterator[tuple[httpx.Client, str]]:
    with httpx.Client(base_url=base_url) as client:
        yield client, _login(client, "demo", dash_cloud.demo_password)


def test_login_without_the_form_token_is_refused(base_url: str, dash_cloud: RunningCloud):
    with httpx.Client(base_url=base_url) as client:
        answer = client.post(
            "/login",
            data={
                "method": "password",
                "domain": "Default",
                "username": "demo",
                "password": dash_cloud.demo_password,
                "csrf_token": "forged",
            },
        )
        assert answer.status_code == 403
        assert "onestack_session" not in answer.cookies


def test_state_changing_calls_need_the_csrf_token(
    demo_client: tuple[httpx.Client, str], demo_sdk: Any
):
    client, csrf = demo_client
    name = f"csrf-{uuid.uuid4().hex[:6]}"
    body = {"network": {"name": name}}
    assert client.post("/api/network/v2.0/networks", json=body).status_code == 403
    wrong = {"X-CSRF-Token": "0" * 64}
    assert client.post("/api/network/v2.0/networks", json=body, headers=wrong).status_code == 403
    cross_site = {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert (
        client.post("/api/network/v2.0/networks", json=body, headers=cross_site).status_code == 403
    )
    assert demo_sdk.network.find_network(name) is None
    assert client.post("/session/project", json={"project_id": "x"}).status_code == 403
    assert client.post("/console/some-server", json={"type": "serial"}).status_code == 403
    # a read needs no token; the same write with it works
    assert client.get("/api/network/v2.0/networks").status_code == 200
    made = client.post("/api/network/v2.0/networks", json=body, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201
    demo_sdk.network.delete_network(made.json()["network"]["id"])


def test_logout_needs_the_csrf_token_and_revokes(
    demo_client: tuple[httpx.Client, str], admin_sdk: Any
):
    client, csrf = demo_client
    token = client.cookies["onestack_session"]
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/session").status_code == 200
    answer = client.post("/logout", data={"csrf_token": csrf})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?logged_out=1"
    check = admin_sdk.identity.get("/auth/tokens", headers={"X-Subject-Token": token})
    assert check.status_code == 404


def test_no_page_may_be_framed(base_url: str, page: Any):
    with httpx.Client(base_url=base_url) as client:
        for path in ("/login", "/", "/static/app.css", "/session"):
            headers = client.get(path).headers
            assert headers["x-frame-options"] == "DENY", path
            assert "frame-ancestors 'none'" in headers["content-security-policy"], path
    page.set_content(f'<iframe id="f" src="{base_url}/login"></iframe>')
    page.wait_for_timeout(500)
    frame = page.frame_locator("#f")
    assert frame.locator("#username").count() == 0


def test_a_script_in_a_server_name_renders_as_text(
    page: Any, base_url: str, dash_cloud: RunningCloud, demo_sdk: Any
):
    evil = "<script>alert(1)</script>"
    image = demo_sdk.image.find_image("onestack-busybox")
    flavor = sorted(demo_sdk.compute.flavors(), key=lambda f: f.ram)[0]
    server = demo_sdk.compute.create_server(
        name=evil, image_id=image.id, flavor_id=flavor.id, networks="none"
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        login(page, base_url, "demo", dash_cloud.demo_password)
        open_page(page, base_url, "compute/instances")
        link = page.get_by_role("link", name=evil)
        assert link.inner_text() == evil
        link.click()
        page.locator("h1", has_text=evil).wait_for()
        assert page.locator("h1").inner_text() == evil
        assert page.evaluate("() => document.querySelectorAll('main script').length") == 0
        assert dialogs == []
    finally:
        demo_sdk.compute.delete_server(server)


def test_a_planted_session_cookie_is_replaced_at_login(
    base_url: str, dash_cloud: RunningCloud, admin_sdk: Any
):
    with httpx.Client(base_url=base_url) as client:
        client.cookies.set("onestack_session", "attacker-chosen-value", domain="127.0.0.1")
        assert client.get("/").headers["location"].startswith("/login")
        _login(client, "demo", dash_cloud.demo_password)
        values = [c.value for c in client.cookies.jar if c.name == "onestack_session"]
        assert len(values) == 1
        assert values[0] != "attacker-chosen-value"
        assert client.get("/session").json()["user"]["name"] == "demo"
    with httpx.Client(base_url=base_url) as attacker:
        attacker.cookies.set("onestack_session", "attacker-chosen-value")
        assert attacker.get("/session").status_code == 401
        assert attacker.get("/api/compute/servers").status_code == 401
