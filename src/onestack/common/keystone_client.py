"""A small synchronous client for the OpenStack APIs, authenticated by Keystone.

What agents and background loops on any host use to reach a service's public
API (as Ceilometer's pollers reach Nova and Gnocchi, or Aodh's evaluator
Gnocchi): a password (optionally trust-scoped) token, renewed before it ends
and after a 401, and the endpoint of a service type from the token's catalog.
Errors come back as :class:`ServiceError` with the status code and the error
message found in any OpenStack error body.  Blocking: call it from worker
threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

Params = Mapping[str, Any] | list[tuple[str, Any]] | None

#: catalog types tried for a service name
SERVICE_TYPES: dict[str, tuple[str, ...]] = {
    "volume": ("block-storage", "volumev3"),
    "object": ("object-store",),
}


@dataclass(frozen=True)
class Credentials:
    """A user's password credentials, scoped to a project (by name) or a trust."""

    auth_url: str  # http://host:5000/v3
    password: str
    username: str | None = None
    user_id: str | None = None
    user_domain_id: str = "default"
    project_name: str | None = None
    project_domain_id: str = "default"
    region: str = "RegionOne"


class ServiceError(Exception):
    """A call to another service failed; ``status`` is its HTTP status (0: unreachable)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message
        self.body = body


def error_message(body: Any, text: str) -> str:
    """The message of any OpenStack error body (Keystone, Nova, Neutron, Gnocchi, Aodh...)."""
    if isinstance(body, dict):
        if "description" in body:
            return str(body["description"])
        fault = body.get("error_message")
        if isinstance(fault, dict) and "faultstring" in fault:
            return str(fault["faultstring"])
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "message" in body:
            return str(body["message"])
    return text.strip()[:500] or "no message"


class KeystoneSession:
    """Requests to the cloud's services as one user (thread-safe)."""

    def __init__(
        self,
        credentials: Credentials,
        trust_id: str | None = None,
        timeout: float = 60.0,
        http: httpx.Client | None = None,
    ) -> None:
        self.credentials = credentials
        self.trust_id = trust_id
        self.http = http or httpx.Client(timeout=httpx.Timeout(timeout, connect=10.0))
        self._token: str | None = None
        self._expires = 0.0
        self._catalog: list[dict[str, Any]] = []
        self._body: dict[str, Any] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self.http.close()

    # -- tokens --------------------------------------------------------------------

    def _auth_body(self) -> dict[str, Any]:
        creds = self.credentials
        user: dict[str, Any] = {"password": creds.password}
        if creds.user_id:
            user["id"] = creds.user_id
        else:
            user["name"] = creds.username
            user["domain"] = {"id": creds.user_domain_id}
        body: dict[str, Any] = {
            "auth": {"identity": {"methods": ["password"], "password": {"user": user}}}
        }
        if self.trust_id:
            body["auth"]["scope"] = {"OS-TRUST:trust": {"id": self.trust_id}}
        elif creds.project_name:
            body["auth"]["scope"] = {
                "project": {"name": creds.project_name, "domain": {"id": creds.project_domain_id}}
            }
        return body

    def _renew(self) -> None:
        url = self.credentials.auth_url.rstrip("/") + "/auth/tokens"
        try:
            response = self.http.post(url, json=self._auth_body())
        except httpx.HTTPError as exc:
            raise ServiceError(0, f"identity is unreachable: {exc}") from None
        if response.status_code != 201:
            raise _failure(response)
        data = response.json()["token"]
        self._token = response.headers["X-Subject-Token"]
        self._catalog = data.get("catalog") or []
        self._body = data
        # renew well before the token ends (Keystone's default lifetime is an hour)
        self._expires = time.monotonic() + 600

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() > self._expires:
                self._renew()
            assert self._token is not None
            return self._token

    def forget(self) -> None:
        with self._lock:
            self._token = None

    @property
    def user_id(self) -> str:
        self.token()
        return str(self._body["user"]["id"])

    @property
    def project_id(self) -> str | None:
        self.token()
        project = self._body.get("project")
        return str(project["id"]) if project else None

    def endpoint(self, service_type: str) -> str:
        self.token()
        for name in SERVICE_TYPES.get(service_type, (service_type,)):
            for entry in self._catalog:
                if entry.get("type") != name:
                    continue
                for endpoint in entry.get("endpoints", []):
                    if endpoint.get("interface") == "public" and endpoint.get(
                        "region_id", self.credentials.region
                    ) in (self.credentials.region, None):
                        return str(endpoint["url"]).rstrip("/")
        raise ServiceError(503, f"The {service_type} service is not in the catalog.")

    # -- requests ----------------------------------------------------------------------

    def request(
        self,
        service_type: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> Any:
        """The decoded JSON answer (None when empty); ServiceError otherwise."""
        response = self.raw(service_type, method, path, json=json, params=params, headers=headers)
        if response.status_code not in ok:
            raise _failure(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def raw(
        self,
        service_type: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        content: Any = None,
    ) -> httpx.Response:
        """The answer, whatever its status.  ``content`` (bytes, or an iterator of bytes
        sent chunked) is the body; a body that is an iterator is not sent twice, so a
        401 then comes back as it is."""
        base = self.endpoint(service_type)
        url = path if path.startswith("http") else base + path
        response: httpx.Response | None = None
        replayable = content is None or isinstance(content, bytes)
        for attempt in (1, 2):
            all_headers = {"X-Auth-Token": self.token(), **(headers or {})}
            try:
                response = self.http.request(
                    method,
                    url,
                    json=json,
                    params=params,
                    headers=all_headers,
                    content=content,
                )
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"{service_type} is unreachable: {exc}") from None
            if response.status_code == 401 and attempt == 1 and replayable:
                self.forget()
                continue
            break
        assert response is not None
        return response

    def stream(
        self, service_type: str, path: str, headers: Mapping[str, str] | None = None
    ) -> httpx.Response:
        """A GET whose body is read as it arrives (``iter_bytes``); close the response."""
        base = self.endpoint(service_type)
        url = path if path.startswith("http") else base + path
        for attempt in (1, 2):
            request = self.http.build_request(
                "GET", url, headers={"X-Auth-Token": self.token(), **(headers or {})}
            )
            try:
                response = self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"{service_type} is unreachable: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                response.close()
                self.forget()
                continue
            if response.status_code != 200:
                response.read()
                response.close()
                raise _failure(response)
            return response
        raise AssertionError("unreachable")


def _failure(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
    except ValueError:
        body = None
    return ServiceError(response.status_code, error_message(body, response.text), body)


def post_json(
    url: str, body: Any, headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> int:
    """POST a JSON document to any URL (alarm actions); the status code."""
    with httpx.Client(timeout=timeout) as client:
        return client.post(url, json=body, headers=dict(headers or {})).status_code
