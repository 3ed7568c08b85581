"""The one way a service reaches another service's public API: Keystone tokens.

What agents, pollers, evaluators and engines on any host use to call the cloud's
APIs over HTTP (as Nova's agent reaches Glance, Ceilometer's pollers Nova and
Gnocchi, Aodh's evaluator Gnocchi, Heat's engine everything):

- **Service users.**  A service that calls others declares its user on its plugin
  (:class:`ServiceUser`: a name and its roles on the ``service`` project); the
  identity bootstrap makes every declared user, with a password kept in
  ``<state_dir>/secrets/<name>-password`` (:func:`password_file`).  A host of its
  own is given that password in its settings (:func:`service_password`).
- **Tokens.**  A password token (project-scoped, unscoped, or scoped to a Keystone
  trust: deferred work acts for a user through a trust, never a stored password),
  renewed before it ends and once after a 401; the endpoint of a service type comes
  from the token's catalog (:func:`find_endpoint`), so a caller needs only the
  identity URL.
- **Two sessions, the same rules.**  :class:`KeystoneSession` is synchronous and
  thread-safe (agents' worker threads; it streams bodies both ways);
  :class:`AsyncKeystoneSession` serves asyncio code (the orchestration engine) over
  any :class:`AsyncTokens` source: a password (:class:`AsyncPasswordToken`), a trust
  (:class:`AsyncTrustTokens`) or a caller's own token (:class:`AsyncFixedToken`).

Errors come back as :class:`ServiceError` with the status code and the message
found in any OpenStack error body; :meth:`ServiceError.as_error` turns it into
onestack's exception of that status.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Protocol

import httpx

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

Params = Mapping[str, Any] | list[tuple[str, Any]] | None

#: the project every service user belongs to (made at bootstrap)
SERVICE_PROJECT = "service"
#: catalog types tried for a service name
SERVICE_TYPES: dict[str, tuple[str, ...]] = {
    "volume": ("block-storage", "volumev3"),
    "object": ("object-store",),
}
#: a token is renewed at the latest this long after it was issued
RENEW_AFTER = 600.0
TIMEOUT = httpx.Timeout(60.0, connect=10.0)

_ERRORS: Mapping[int, type[OneStackError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: OverQuota,
}
_KINDS = {
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


# -- service users ---------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceUser:
    """A service's own user, declared on its plugin and made by the bootstrap."""

    name: str
    #: roles on the service project (a role that does not exist yet is created)
    roles: tuple[str, ...] = ("admin", "service")


def password_file(state_dir: Path, user: str) -> Path:
    """Where the bootstrap keeps a service user's password."""
    return state_dir / "secrets" / f"{user}-password"


def service_password(state_dir: Path, user: str, given: str | None = None) -> str:
    """A service user's password: ``given`` (from the service's settings), else the one
    the bootstrap keeps in the state directory."""
    if given:
        return given
    return password_file(state_dir, user).read_text().strip()


@dataclass(frozen=True)
class Credentials:
    """A user's password credentials, scoped to a project (by name), or unscoped."""

    auth_url: str  # http://host:5000/v3
    password: str
    username: str | None = None
    user_id: str | None = None
    user_domain_id: str = "default"
    project_name: str | None = None
    project_domain_id: str = "default"
    region: str = "RegionOne"
    #: which catalog URL to use: public, internal or admin
    interface: str = "public"


def service_credentials(
    auth_url: str,
    user: str,
    password: str,
    region: str,
    *,
    project: str | None = SERVICE_PROJECT,
    interface: str = "public",
) -> Credentials:
    """A service user's credentials (scoped to the service project unless ``project``
    is None)."""
    return Credentials(
        auth_url=auth_url,
        username=user,
        password=password,
        project_name=project,
        region=region,
        interface=interface,
    )


# -- errors ------------------------------------------------------------------------------


class ServiceError(Exception):
    """A call to another service failed; ``status`` is its HTTP status (0: unreachable)."""

    def __init__(self, status: int, message: str, body: Any = None) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message
        self.body = body

    @property
    def kind(self) -> str:
        """The name of the status (``NotFound``), as Heat's resources report it."""
        return _KINDS.get(self.status, f"HTTP{self.status}")

    def as_error(self, what: str) -> OneStackError:
        """onestack's exception for this failure of ``what``: the same status for the
        usual client errors, 503 for an unreachable or failing service."""
        cls = _ERRORS.get(self.status)
        if cls is not None:
            return cls(f"{what}: {self.message}")
        if self.status == 0 or self.status >= 500:
            return ServiceUnavailable(f"{what}: HTTP {self.status} {self.message}")
        return BadRequest(f"{what}: HTTP {self.status} {self.message}")


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
        error = body.get("error")
        if isinstance(error, dict):
            return str(error)
    return text.strip()[:500] or "no message"


def failure(response: httpx.Response) -> ServiceError:
    """The ServiceError of an error answer (its body must have been read)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return ServiceError(response.status_code, error_message(body, response.text), body)


def decoded(response: httpx.Response, ok: tuple[int, ...]) -> Any:
    """The JSON of an answer whose status is in ``ok`` (its text when it is not JSON,
    None when empty); ServiceError otherwise."""
    if response.status_code not in ok:
        raise failure(response)
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


# -- tokens and the catalog -------------------------------------------------------------


def auth_body(
    credentials: Credentials | None = None,
    *,
    trust_id: str | None = None,
    token: str | None = None,
    unscoped: bool = False,
) -> dict[str, Any]:
    """The body of ``POST /v3/auth/tokens``: by password (``credentials``) or by
    ``token``; scoped to ``trust_id``, to the credentials' project, or unscoped."""
    identity: dict[str, Any]
    if token is not None:
        identity = {"methods": ["token"], "token": {"id": token}}
    else:
        assert credentials is not None
        user: dict[str, Any] = {"password": credentials.password}
        if credentials.user_id:
            user["id"] = credentials.user_id
        else:
            user["name"] = credentials.username
            user["domain"] = {"id": credentials.user_domain_id}
        identity = {"methods": ["password"], "password": {"user": user}}
    body: dict[str, Any] = {"auth": {"identity": identity}}
    if trust_id:
        body["auth"]["scope"] = {"OS-TRUST:trust": {"id": trust_id}}
    elif unscoped:
        body["auth"]["scope"] = "unscoped"
    elif credentials is not None and credentials.project_name:
        body["auth"]["scope"] = {
            "project": {
                "name": credentials.project_name,
                "domain": {"id": credentials.project_domain_id},
            }
        }
    return body


def renew_at(token: Mapping[str, Any]) -> float:
    """When (``time.monotonic``) to renew a token: a minute before it expires, and
    at the latest :data:`RENEW_AFTER` seconds from now."""
    latest = time.monotonic() + RENEW_AFTER
    expires = token.get("expires_at")
    if not expires:
        return latest
    left = datetime.fromisoformat(str(expires).replace("Z", "+00:00")).timestamp() - time.time()
    return min(latest, time.monotonic() + max(left - 60, 0))


def find_endpoint(
    catalog: list[dict[str, Any]], service_type: str, region: str, interface: str = "public"
) -> str | None:
    """The URL of ``service_type`` (or its other catalog names) in ``region``."""
    for name in SERVICE_TYPES.get(service_type, (service_type,)):
        for entry in catalog:
            if entry.get("type") != name:
                continue
            for endpoint in entry.get("endpoints") or []:
                where = endpoint.get("region_id", endpoint.get("region", region))
                if endpoint.get("interface") == interface and where in (region, None):
                    return str(endpoint["url"]).rstrip("/")
    return None


def _not_in_catalog(service_type: str) -> ServiceError:
    return ServiceError(503, f"The {service_type} service is not in the catalog.")


# -- the synchronous session ----------------------------------------------------------------


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

    def _renew(self) -> None:
        creds = self.credentials
        url = creds.auth_url.rstrip("/") + "/auth/tokens"
        try:
            response = self.http.post(url, json=auth_body(creds, trust_id=self.trust_id))
        except httpx.HTTPError as exc:
            raise ServiceError(0, f"identity is unreachable: {exc}") from None
        if response.status_code != 201:
            raise failure(response)
        data = response.json()["token"]
        self._token = response.headers["X-Subject-Token"]
        self._catalog = data.get("catalog") or []
        self._body = data
        self._expires = renew_at(data)

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                self._renew()
            assert self._token is not None
            return self._token

    def forget(self, token: str | None = None) -> None:
        """Drop the token (only if it is still ``token``, when given)."""
        with self._lock:
            if token is None or self._token == token:
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
        creds = self.credentials
        url = find_endpoint(self._catalog, service_type, creds.region, creds.interface)
        if url is None:
            raise _not_in_catalog(service_type)
        return url

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
        return decoded(response, ok)

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
            token = self.token()
            all_headers = {"X-Auth-Token": token, **(headers or {})}
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
                self.forget(token)
                continue
            break
        assert response is not None
        return response

    @contextmanager
    def stream(
        self,
        service_type: str,
        method: str,
        path: str,
        *,
        content: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[httpx.Response]:
        """A 2xx answer whose body is read as it arrives (``iter_bytes``), sending
        ``content`` (bytes, or a file read as it is sent); ServiceError otherwise.
        A 401 is tried again with a new token unless ``content`` is a file."""
        response = self.open_stream(service_type, method, path, content=content, headers=headers)
        try:
            yield response
        finally:
            response.close()

    def open_stream(
        self,
        service_type: str,
        method: str,
        path: str,
        *,
        content: bytes | IO[bytes] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """What :meth:`stream` yields, left open for a reader that outlives this call
        (the caller closes it)."""
        url = self.endpoint(service_type) + path
        for attempt in (1, 2):
            token = self.token()
            request = self.http.build_request(
                method, url, content=content, headers={**(headers or {}), "X-Auth-Token": token}
            )
            try:
                response = self.http.send(request, stream=True)
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"{service_type} is unreachable: {exc}") from None
            if response.status_code < 300:
                return response
            try:
                response.read()
            finally:
                response.close()
            if response.status_code == 401 and attempt == 1 and not hasattr(content, "read"):
                self.forget(token)
                continue
            raise failure(response)
        raise AssertionError("unreachable")


# -- the asynchronous session -----------------------------------------------------------------


class AsyncTokens(Protocol):
    """Where an :class:`AsyncKeystoneSession` gets its token and catalog."""

    async def token(self) -> tuple[str, list[dict[str, Any]]]: ...

    def forget(self) -> None: ...


async def _post_token(http: httpx.AsyncClient, auth_url: str, body: Any) -> httpx.Response:
    try:
        return await http.post(auth_url.rstrip("/") + "/auth/tokens", json=body)
    except httpx.HTTPError as exc:
        raise ServiceError(0, f"identity is unreachable: {exc}") from None


class AsyncPasswordToken:
    """A user's password token (by default unscoped: one password authentication, a slow
    hash by design, then serves every trust-scoped token asked for with it)."""

    def __init__(
        self, http: httpx.AsyncClient, credentials: Credentials, unscoped: bool = True
    ) -> None:
        self.http = http
        self.credentials = credentials
        self.unscoped = unscoped
        self._token: str | None = None
        self._body: dict[str, Any] = {}
        self._renew_at = 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> tuple[str, list[dict[str, Any]]]:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                body = auth_body(self.credentials, unscoped=self.unscoped)
                response = await _post_token(self.http, self.credentials.auth_url, body)
                if response.status_code != 201:
                    raise failure(response)
                self._token = response.headers["X-Subject-Token"]
                self._body = response.json()["token"]
                self._renew_at = renew_at(self._body)
            return self._token, list(self._body.get("catalog") or [])

    async def user_id(self) -> str:
        await self.token()
        return str(self._body["user"]["id"])

    def forget(self) -> None:
        self._token = None


class AsyncTrustTokens:
    """Tokens scoped to one trust, asked for by the trustee with its own token."""

    def __init__(self, trustee: AsyncPasswordToken, trust_id: str) -> None:
        self.trustee = trustee
        self.trust_id = trust_id
        self._token: str | None = None
        self._expires = 0.0
        self._catalog: list[dict[str, Any]] = []
        self._lock = asyncio.Lock()

    async def token(self) -> tuple[str, list[dict[str, Any]]]:
        async with self._lock:
            if self._token is None or time.monotonic() >= self._expires:
                await self._renew()
            assert self._token is not None
            return self._token, self._catalog

    def forget(self) -> None:
        self._token = None

    async def _renew(self) -> None:
        auth_url = self.trustee.credentials.auth_url
        for attempt in (1, 2):
            trustee_token, _ = await self.trustee.token()
            body = auth_body(token=trustee_token, trust_id=self.trust_id)
            response = await _post_token(self.trustee.http, auth_url, body)
            if response.status_code in (401, 404) and attempt == 1:
                self.trustee.forget()  # the trustee's own token ended: authenticate again
                continue
            break
        if response.status_code != 201:
            raise failure(response)
        data = response.json()["token"]
        self._token = response.headers["X-Subject-Token"]
        self._catalog = data.get("catalog") or []
        self._expires = renew_at(data)


class AsyncFixedToken:
    """A caller's own token (while its request is served) and its catalog
    (``GET /v3/auth/catalog``)."""

    def __init__(self, http: httpx.AsyncClient, auth_url: str, token: str) -> None:
        self.http = http
        self.auth_url = auth_url.rstrip("/")
        self._token = token
        self._catalog: list[dict[str, Any]] | None = None

    async def token(self) -> tuple[str, list[dict[str, Any]]]:
        if self._catalog is None:
            try:
                response = await self.http.get(
                    f"{self.auth_url}/auth/catalog", headers={"X-Auth-Token": self._token}
                )
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"identity is unreachable: {exc}") from None
            if response.status_code != 200:
                raise failure(response)
            self._catalog = response.json().get("catalog") or []
        return self._token, self._catalog

    def forget(self) -> None:
        return None


class AsyncKeystoneSession:
    """Requests to the cloud's services with the tokens of one source (asyncio)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: AsyncTokens,
        region: str,
        interface: str = "public",
    ) -> None:
        self.http = http
        self.tokens = tokens
        self.region = region
        self.interface = interface

    async def endpoint(self, service_type: str) -> str:
        _, catalog = await self.tokens.token()
        url = find_endpoint(catalog, service_type, self.region, self.interface)
        if url is None:
            raise _not_in_catalog(service_type)
        return url

    async def request(
        self,
        service_type: str,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Params = None,
        headers: Mapping[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
        missing_ok: bool = False,
        content: bytes | None = None,
    ) -> Any:
        """The decoded JSON answer (None when empty; a 404 is None with ``missing_ok``);
        ServiceError otherwise.  A second try with a new token after a 401."""
        base = await self.endpoint(service_type)
        url = path if path.startswith("http") else base + path
        for attempt in (1, 2):
            token, _ = await self.tokens.token()
            try:
                response = await self.http.request(
                    method,
                    url,
                    json=json_body,
                    params=params,
                    headers={"X-Auth-Token": token, **(headers or {})},
                    content=content,
                )
            except httpx.HTTPError as exc:
                raise ServiceError(0, f"{service_type} is unreachable: {exc}") from None
            if response.status_code == 401 and attempt == 1:
                self.tokens.forget()
                continue
            break
        if missing_ok and response.status_code == 404:
            return None
        return decoded(response, ok)


def post_json(
    url: str, body: Any, headers: Mapping[str, str] | None = None, timeout: float = 30.0
) -> int:
    """POST a JSON document to any URL (alarm actions); the status code."""
    with httpx.Client(timeout=timeout) as client:
        return client.post(url, json=body, headers=dict(headers or {})).status_code
