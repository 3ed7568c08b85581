"""Glance's error bodies (ErrorStyle.WEBOB): negotiated like webob does."""

from __future__ import annotations

import json

from onestack.common.errors import ErrorStyle, render


def test_json_when_asked() -> None:
    body, content_type = render(ErrorStyle.WEBOB, 404, "No image", accept="application/json")
    assert content_type == "application/json"
    assert json.loads(body) == {
        "message": "No image",
        "code": "404 Not Found",
        "title": "Not Found",
    }


def test_html_without_accept_or_with_anything() -> None:
    for accept in (None, "*/*", "text/html,application/json;q=0.9"):
        body, content_type = render(ErrorStyle.WEBOB, 403, "a <b>", accept=accept)
        assert content_type.startswith("text/html")
        assert b"<h1>403 Forbidden</h1>" in body and b"a &lt;b&gt;" in body


def test_plain_when_neither() -> None:
    body, content_type = render(ErrorStyle.WEBOB, 409, "busy", accept="")
    assert content_type.startswith("text/plain")
    assert body == b"409 Conflict\n\nbusy\n"
