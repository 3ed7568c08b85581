"""The server-rendered pages escape what they are given; CSRF tokens bind to sessions."""

from __future__ import annotations

import json
import re

from onestack.dashboard import pages, security


def test_the_session_block_cannot_close_its_script():
    evil = "</script><script>alert(1)</script>"
    html = pages.shell_page({"user": {"name": evil}}, "csrf")
    block = re.search(r'<script type="application/json" id="session">(.*?)</script>', html)
    assert block
    assert json.loads(block.group(1)) == {"user": {"name": evil}}
    assert "<script>alert(1)" not in html


def test_the_login_form_escapes_the_user_name_and_error():
    html = pages.login_page("c", error="<b>bad</b>", user='"><img src=x>')
    assert "<b>bad</b>" not in html
    assert "<img src=x>" not in html


def test_csrf_tokens_are_bound_to_the_session():
    secret = b"k" * 32
    token = security.csrf_token(secret, "session-1")
    assert security.csrf_valid(secret, "session-1", token)
    assert not security.csrf_valid(secret, "session-2", token)
    assert not security.csrf_valid(secret, "session-1", None)
    assert not security.csrf_valid(b"other" * 8, "session-1", token)


def test_same_origin():
    assert security.same_origin({"origin": "http://h:8000"}, "h:8000")
    assert not security.same_origin({"origin": "http://evil:8000"}, "h:8000")
    assert not security.same_origin({"origin": "null"}, "h:8000")
    assert security.same_origin({}, "h:8000")


def test_static_files_come_from_memory_with_etags():
    from pathlib import Path

    from starlette.testclient import TestClient

    from onestack.dashboard.app import DashboardConfig, build_app

    app = build_app(
        DashboardConfig(auth_url="http://127.0.0.1:9/v3", secret=b"s" * 32, npm_dir=Path("/x"))
    )
    with TestClient(app) as client:
        first = client.get("/static/js/main.js")
        assert first.status_code == 200
        assert first.headers["content-type"].startswith("text/javascript")
        assert "import" in first.text
        again = client.get("/static/js/main.js", headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        assert client.get("/static/js/nope.js").status_code == 404
        assert client.get("/static/../app.py").status_code == 404
        assert first.headers["x-frame-options"] == "DENY"
