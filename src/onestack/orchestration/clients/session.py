"""How the engine talks to the other services: their public HTTP APIs, found through
the catalog, with trust-scoped tokens (as Heat does through its clients).

``Credentials`` are the engine's own service user (the trustee of every stack's
trust).  A :class:`CloudSession` is one stack's view of the cloud: it asks
identity for a token scoped to the stack's trust (impersonating the stack's
owner), keeps it until shortly before it expires, and sends requests to the
endpoint the token's catalog names for a service type.  Errors come back as
:class:`ServiceCallFailed` carrying the other service's status and message, so a
resource's status reason names what really went wrong.

This also works when the services run on other hosts: nothing here uses
another service's Python objects.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx

from onestack.orchestration.exceptions import ServiceCallFailed

#: service types and the names the catalog may use for them
SERVICE_TYPES = {
    "compute": ("compute",),
    "network": ("network",),
    "volume": ("block-storage", "volumev3"),
    "image": ("image",),
    "object": ("object-store",),
    "identity": ("identity",),
    "orchestration": ("orchestration",),
}
TIMEOUT = httpx.Timeout(60.0, connect=10.0)


@dataclass(frozen=True)
class Credentials:
    """The engine's service user."""

    auth_url: str  # http://host:5000/v3
    user_id: str
    password: str


def _error_message(body: Any, text: str) -> str:
    """The message of any OpenStack error body."""
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        if "NeutronError" in body and isinstance(body["NeutronError"], dict):
            return str(body["NeutronError"].get("message"))
        if "message" in body:
            return str(body["message"])
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("message") or error)
    return text.strip()[:500] or "no message"


_TYPE_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    413: "OverLimit",
    500: "InternalServerError",
    501: "NotImplemented",
    503: "ServiceUnavailable",
}


def failure(response: httpx.Response) -> ServiceCallFailed:
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        body = None
    kind = _TYPE_NAMES.get(response.status_code, f"HTTP{response.status_code}")
    return ServiceCallFailed(kind, response.status_code, _error_message(body, response.text))


class ServiceToken:
    """The engine's own (unscoped) token: one password authentication (a slow password
    hash by design) serves every trust-scoped token the engine asks for afterwards."""

    def __init__(self, http: httpx.AsyncClient, creds: Credentials) -> None:
        self.http = http
        self.creds = creds
        self._token: str | None = None
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token is None or time.monotonic() > self._renew_at:
                body = {
                    "auth": {
                        "identity": {
                            "methods": ["password"],
                            "password": {
                                "user": {"id": self.creds.user_id, "password": self.creds.password}
                            },
                        },
                        "scope": "unscoped",
                    }
                }
                response = await self.http.post(f"{self.creds.auth_url}/auth/tokens", json=body)
                if response.status_code != 201:
                    raise failure(response)
                self._token = response.headers["X-Subject-Token"]
                self._renew_at = time.monotonic() + 600
            return self._token

    def forget(self) -> None:
        self._token = None


class TokenProvider:
    """Trust-scoped tokens for one trust, renewed before they expire."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        creds: Credentials,
        trust_id: str,
        service: ServiceToken | None = None,
    ) -> None:
        self.http = http
        self.creds = creds
        self.trust_id = trust_id
        self.service = service or ServiceToken(http, creds)
        self._token: str | None = None
        self._expires = 0.0
        self._catalog: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    async def token(self) -> tuple[str, list[dict[str, Any]]]:
        async with self._lock:
            if self._token is None or time.monotonic() > self._expires:
                await self._renew()
            assert self._token is not None
            return self._token, self._catalog

    def forget(self) -> None:
        self._token = None

    async def _renew(self) -> None:
        """The trustee (the engine's user, by its own token) asks for the trust's scope."""
        for attempt in (1, 2):
            body = {
                "auth": {
                    "identity": {
                        "methods": ["token"],
                        "token": {"id": await self.service.token()},
                    },
                    "scope": {"OS-TRUST:trust": {"id": self.trust_id}},
                }
            }
            response = await self.http.post(f"{self.creds.auth_url}/auth/tokens", json=body)
            if response.status_code in (401, 404) and attempt == 1:
                self.service.forget()  # the engine's own token ended: authenticate again
                continue
            break
        if response.status_code != 201:
            raise failure(response)
        data = response.json()["token"]
        self._token = response.headers["X-Subject-Token"]
        self._catalog = data.get("catalog") or []
        # renew well before the token's end (at most every 10 minutes)
        self._expires = time.monotonic() + 600


class CloudSession:
    """One stack's requests to the other services (see the module docstring)."""

    def __init__(
        self, http: httpx.AsyncClient, tokens: TokenProvider, region: str, project_id: str
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.region = region
        self.project_id = project_id

    async def endpoint(self, service: str) -> str:
        _, catalog = await self.tokens.token()
        names = SERVICE_TYPES.get(service, (service,))
        for name in names:
            for entry in catalog:
                if entry.get("type") != name:
                    continue
                for endpoint in entry.get("endpoints", []):
                    if endpoint.get("interface") == "public" and endpoint.get(
                        "region_id", self.region
                    ) in (self.region, None):
                        return str(endpoint["url"]).rstrip("/")
        raise ServiceCallFailed(
            "ServiceUnavailable", 503, f"The {service} service is not in the catalog."
        )

    async def has_service(self, service: str) -> bool:
        try:
            await self.endpoint(service)
        except ServiceCallFailed:
            return False
        return True

    async def request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: dict[str, Any] | list[tuple[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        missing_ok: bool = False,
        content: bytes | None = None,
    ) -> Any:
        """Send a request; the decoded JSON body (or None).  ``missing_ok``: a 404 is
        None instead of an error."""
        base = await self.endpoint(service)
        for attempt in (1, 2):
            token, _ = await self.tokens.token()
            all_headers = {"X-Auth-Token": token, **(headers or {})}
            response = await self.http.request(
                method,
                base + path,
                json=json_body,
                params=params,
                headers=all_headers,
                content=content,
            )
            if response.status_code == 401 and attempt == 1:
                self.tokens.forget()
                continue
            break
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code not in ok:
            raise failure(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text
