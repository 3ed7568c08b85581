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
