"""Raw HTTP helpers for the identity tests (status codes and error bodies)."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.server import RunningCloud


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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


class Client:
    """requests against the identity API with one token."""

    def __init__(self, cloud: RunningCloud, token: str) -> None:
        self.base = cloud.auth_url
        self.session = requests.Session()
        self.session.headers["X-Auth-Token"] = token

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 30)
        return self.session.request(method, f"{self.base}{path}", **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("HEAD", path, **kwargs)


def assert_error(response: requests.Response, code: int, fragment: str = "") -> dict[str, Any]:
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
