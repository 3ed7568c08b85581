"""How a compute agent authenticates to the other services' HTTP APIs.

Like Nova's ``nova`` user: onestack's bootstrap makes a service user for the
compute service (``nova``, with the ``admin`` and ``service`` roles on the
``service`` project) whose password sits in the state directory's secrets
(``secrets/nova-password``, 0600).  An agent on another host is given the
same password in its settings (``compute.service_password``).

:class:`ServiceSession` gets a project-scoped token for that user with
Keystone's password method, keeps it until a minute before it expires (or
until an API answers 401), and finds endpoints in the token's catalog, so an
agent needs only the identity URL.  It is thread-safe: agents work in worker
threads.  Requests are plain HTTP/1.1 (``urllib``), streamed in both
directions; an error answer becomes onestack's exception of that status.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from http.client import HTTPResponse
from pathlib import Path
from typing import IO, Any

from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OneStackError,
    OverQuota,
    ServiceUnavailable,
    Unauthorized,
)

LOG = logging.getLogger(__name__)

#: the compute service's user, as Nova's
SERVICE_USER = "nova"
#: the project every service user belongs to (made at bootstrap)
SERVICE_PROJECT = "service"
_ERRORS: Mapping[int, type[OneStackError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: OverQuota,
}


def password_file(state_dir: Path, user: str = SERVICE_USER) -> Path:
    """Where the bootstrap keeps a service user's password."""
    return state_dir / "secrets" / f"{user}-password"


@dataclass(frozen=True)
class ServiceCredentials:
    auth_url: str  # .../v3
    username: str
    password: str
    project_name: str = SERVICE_PROJECT
    user_domain_id: str = "default"
    project_domain_id: str = "default"
    region: str = "RegionOne"
    #: which catalog URL to use: internal, public or admin
    interface: str = "internal"


def error_for(status: int, body: bytes, what: str) -> OneStackError:
    """The onestack exception for an HTTP error answer."""
    detail = body.decode(errors="replace").strip()[:400]
    cls = _ERRORS.get(status)
    if cls is not None:
        return cls(f"{what}: {detail or status}")
    if status >= 500:
        return ServiceUnavailable(f"{what}: HTTP {status} {detail}")
    return BadRequest(f"{what}: HTTP {status} {detail}")


class ServiceSession:
    """A service user's token and the catalog's endpoints; see the module docstring."""

    def __init__(self, credentials: ServiceCredentials, timeout: float = 60.0) -> None:
        self.credentials = credentials
        self.timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires = 0.0
        self._catalog: list[dict[str, Any]] = []

    def _authenticate(self) -> None:
        creds = self.credentials
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": creds.username,
                            "domain": {"id": creds.user_domain_id},
                            "password": creds.password,
                        }
                    },
                },
                "scope": {
                    "project": {
                        "name": creds.project_name,
                        "domain": {"id": creds.project_domain_id},
                    }
                },
            }
        }
        request = urllib.request.Request(
            creds.auth_url.rstrip("/") + "/auth/tokens",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                token = answer.headers["X-Subject-Token"]
                data = json.load(answer)
        except urllib.error.HTTPError as exc:
            raise error_for(exc.code, exc.read(), f"authenticating as {creds.username}") from None
        except OSError as exc:
            raise ServiceUnavailable(f"the identity service is unreachable: {exc}") from exc
        expires = datetime.fromisoformat(data["token"]["expires_at"].replace("Z", "+00:00"))
        self._token = str(token)
        # renew a minute early, measured on our own clock
        self._expires = time.monotonic() + max(expires.timestamp() - time.time() - 60, 0)
        self._catalog = list(data["token"].get("catalog") or [])

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._authenticate()
            assert self._token is not None
            return self._token

    def _forget(self, token: str) -> None:
        with self._lock:
            if self._token == token:
                self._token = None

    def endpoint(self, service_type: str) -> str:
        """The URL of ``service_type`` in the token's catalog (region and interface)."""
        self.token()
        creds = self.credentials
        for service in self._catalog:
            if service.get("type") != service_type:
                continue
            for endpoint in service.get("endpoints") or []:
                if endpoint.get("interface") == creds.interface and endpoint.get("region") in (
                    creds.region,
                    None,
                ):
                    return str(endpoint["url"]).rstrip("/")
        raise ServiceUnavailable(f"No {service_type} endpoint in the catalog.")

    def request(
        self,
        method: str,
        service_type: str,
        path: str,
        *,
        body: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
        what: str = "",
    ) -> HTTPResponse:
        """Send a request with the service token; the open response (2xx) to read or
        stream, closed by the caller.  Retries once with a new token after a 401."""
        url = self.endpoint(service_type) + path
        for attempt in (1, 2):
            token = self.token()
            request = urllib.request.Request(
                url, data=body, method=method, headers={**(headers or {}), "X-Auth-Token": token}
            )
            try:
                answer: HTTPResponse = urllib.request.urlopen(request, timeout=self.timeout)
                return answer
            except urllib.error.HTTPError as exc:
                payload = exc.read()
                if exc.code == 401 and attempt == 1 and not hasattr(body, "read"):
                    self._forget(token)
                    continue
                raise error_for(exc.code, payload, what or f"{method} {path}") from None
            except OSError as exc:
                raise ServiceUnavailable(f"{what or method + ' ' + path}: {exc}") from exc
        raise Unauthorized(f"{what or method + ' ' + path}: the service token was refused")
