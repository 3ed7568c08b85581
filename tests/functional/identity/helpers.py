"""Raw HTTP helpers for the identity tests (status codes and error bodies)."""

from __future__ import annotations

from typing import Any

import httpx
import requests

from tests.support.http import RawClient
from tests.support.names import unique as unique
from tests.support.server import RunningCloud


def password_auth(
    user: str, password: str, scope: Any = None, domain: str = "default"
) -> dict[str, Any]:
    auth: dict[str, Any] = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": user, "domain": {"id": domain}, "password": password}},
        }
    }
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def issue(
    cloud: RunningCloud, user: str, password: str, scope: Any = None, **params: str
) -> requests.Response:
    return requests.post(
        f"{cloud.auth_url}/auth/tokens",
        json=password_auth(user, password, scope),
        params=params,
        timeout=30,
    )


def token(
    cloud: RunningCloud,
    user: str = "admin",
    project: str | None = "admin",
    password: str | None = None,
) -> str:
    if password is None:
        password = cloud.admin_password if user == "admin" else cloud.demo_password
    scope = {"project": {"name": project, "domain": {"id": "default"}}} if project else None
    response = issue(cloud, user, password, scope)
    assert response.status_code == 201, response.text
    return response.headers["X-Subject-Token"]


class Client(RawClient):
    """The identity API with one token."""

    def __init__(self, cloud: RunningCloud, token: str) -> None:
        super().__init__(cloud.auth_url, token, timeout=30)


def assert_error(
    response: requests.Response | httpx.Response, code: int, fragment: str = ""
) -> dict[str, Any]:
    """The response is Keystone's error body with ``code`` (and mentions ``fragment``)."""
    assert response.status_code == code, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["title"], str) and error["title"]
    assert isinstance(error["message"], str) and error["message"]
    if fragment:
        assert fragment.lower() in error["message"].lower(), error["message"]
    return error
