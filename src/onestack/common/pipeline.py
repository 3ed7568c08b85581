"""The request path of every service, top to bottom, in one place.

    RequestId      give every request an ``X-Openstack-Request-Id``
    TransId        Swift only: ``X-Trans-Id`` and a ``Content-Type`` on every response
    ErrorRenderer  turn any exception into the service's own error body
    BodyLimit      refuse bodies above the service's limit with 413
    Auth           validate ``X-Auth-Token``; attach the RequestContext (a token from an
                   application credential with access rules only where a rule allows)
    Faults         answer an injected fault's error, or wait its delay
                   (``onestack.common.faults``; only when the app has a fault source)
    Microversion   negotiate ``OpenStack-API-Version`` (services that have it)
    UrlProject     ``/v3/<project_id>/rest`` -> ``/v3/rest``, the id kept in the
                   request state (services whose URLs carry it: Cinder)
    CollapseSlashes  ``/v1/a//b`` -> ``/v1/a/b`` (Gnocchi's router ignores doubled
                   slashes, and gnocchiclient sends some)
    -> the service's routes

``install_pipeline`` wraps a service's app in exactly this order.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from onestack.common.context import RequestContext
from onestack.common.errors import ErrorStyle, render, render_exception
from onestack.common.exceptions import OneStackError, PayloadTooLarge, Unauthorized
from onestack.common.faults import injected_error
from onestack.common.microversion import MicroversionSpec

LOG = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class TokenValidator(Protocol):
    """What the auth step needs from the identity service."""

    async def validate(self, token: str, request_id: str) -> RequestContext:
        """The context of a valid token; raises Unauthorized otherwise."""
        ...


@dataclass(frozen=True)
class ProjectPath:
    """URLs that may carry the project id after the version (``/v3/<project_id>/...``,
    Cinder; optional since its microversion 3.67)."""

    #: the first path segment (``v3``)
    version: str
    #: segments right after the version that are collections, never project ids
    collections: frozenset[str]


@dataclass(frozen=True)
class PipelineSpec:
    service: str
    error_style: ErrorStyle
    max_body: int | None = None
    microversion: MicroversionSpec | None = None
    #: Set when a project id may follow the version segment of the URL.
    project_path: ProjectPath | None = None
    #: Extra response headers naming the request id (Nova adds X-Compute-Request-Id).
    request_id_headers: tuple[str, ...] = ()
    #: Paths (regular expressions, matched in full) whose bodies are streamed by
    #: the route itself and so are exempt from ``max_body`` (image data, objects).
    streamed_paths: tuple[str, ...] = ()
    #: Swift's ``X-Trans-Id`` (and default ``Content-Type``) on every response.
    trans_id: bool = False
    #: Route ``/a//b`` as ``/a/b`` (Gnocchi).
    collapse_slashes: bool = False


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


def _accept(scope: Scope) -> str | None:
    """The Accept header, or None when the request has none."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"accept":
            return str(value.decode("latin-1"))
    return None


class RequestId:
    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        names = ("x-openstack-request-id", *(h.lower() for h in spec.request_id_headers))
        self.names = [n.encode() for n in names]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        _state(scope)["request_id"] = request_id
        value = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend((name, value) for name in self.names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


def trans_id(request_id: str) -> str:
    """Swift's transaction id (``tx`` + 21 hex digits + ``-`` + hex seconds).

    The digits come from the request id (``req-<uuid>``), so the two can be
    matched up in the logs.
    """
    digits = request_id.removeprefix("req-").replace("-", "")
    if len(digits) < 21 or any(c not in "0123456789abcdef" for c in digits[:21]):
        digits = uuid.uuid4().hex
    return f"tx{digits[:21]}-{int(time.time()):010x}"


class TransId:
    """Swift labels every response, bodiless ones and errors too: ``X-Trans-Id``, and a
    ``Content-Type`` when the response has none (text/plain for GET and HEAD, as
    Swift's proxy answers, text/html otherwise)."""

    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"content-type" for name, _ in headers):
                    plain = scope["method"] in ("GET", "HEAD")
                    default = b"text/plain; charset=utf-8" if plain else b"text/html; charset=UTF-8"
                    headers.append((b"content-type", default))
                request_id = _state(scope).get("request_id", "")
                headers.append((b"x-trans-id", trans_id(request_id).encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)


class ErrorRenderer:
    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        self.style = spec.error_style

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except OneStackError as exc:
            if started:
                raise
            status, body, content_type = render_exception(
                self.style,
                exc,
                _accept(scope),
                resource=scope.get("path", ""),
                request_id=_state(scope).get("request_id", ""),
            )
            await send_error(send, status, body, content_type, scope)
        except Exception:
            request_id = _state(scope).get("request_id", "-")
            LOG.exception(
                "unexpected error in %s %s [%s]", scope.get("method"), scope.get("path"), request_id
            )
            if started:
                raise
            body, content_type = render(
                self.style,
                500,
                f"An unexpected error prevented the server from fulfilling your request. "
                f"(request id {request_id})",
                accept=_accept(scope),
                resource=scope.get("path", ""),
                request_id=request_id,
            )
            await send_error(send, 500, body, content_type, scope)


async def send_error(send: Send, status: int, body: bytes, content_type: str, scope: Scope) -> None:
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        identity = _state(scope).get("www_authenticate")
        if identity:
            headers.append((b"www-authenticate", identity.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send(
        {"type": "http.response.body", "body": body if scope.get("method") != "HEAD" else b""}
    )


class BodyLimit:
    """Refuse request bodies over ``max_body`` bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        self.limit = spec.max_body
        self.streamed = [re.compile(p) for p in spec.streamed_paths]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or limit is None
            or any(p.fullmatch(path) for p in self.streamed)
        ):
            await self.app(scope, receive, send)
            return
        length = _headers(scope).get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise PayloadTooLarge(f"Request is too large (over {limit} bytes).")
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise PayloadTooLarge(f"Request is too large (over {limit} bytes).")
            return message

        await self.app(scope, counting_receive, send)


#: the catalog types a service answers as (what an access rule's ``service`` names)
CATALOG_TYPES: dict[str, tuple[str, ...]] = {
    "volume": ("block-storage", "volumev3", "volume"),
    "object": ("object-store",),
    "telemetry": ("metric",),
}


def access_rule_path_matches(pattern: str, path: str) -> bool:
    """Keystone's access rule paths: ``*`` (or ``{name}``) is one path segment, ``**``
    any number of them; everything else is literal."""
    regex = ""
    for match in re.finditer(r"(\{[^}]*\}|\*(?=$|[^*]))|(\*\*)|([^{}*])", pattern):
        one, many, literal = match.groups()
        if one:
            regex += r"[^/]+"
        elif many:
            regex += ".*"
        else:
            regex += re.escape(literal)
    return re.fullmatch(regex, path) is not None


def check_access_rules(
    context: RequestContext, service_types: tuple[str, ...], method: str, path: str
) -> None:
    """A token from an application credential with access rules reaches only what one
    of its rules names (service type, method, path); raises Unauthorized otherwise."""
    rules = context.extra.get("access_rules")
    if not rules:
        return
    for rule in rules:
        if (
            rule.get("service") in service_types
            and rule.get("method") == method
            and access_rule_path_matches(str(rule.get("path", "")), path)
        ):
            return
    raise Unauthorized("The token is not authorized for this request.")


class Auth:
    """Validate the token, if any; routes decide whether one is required."""

    def __init__(
        self, app: ASGIApp, spec: PipelineSpec, validator: TokenValidator, identity_url: str
    ) -> None:
        self.app = app
        self.validator = validator
        self.service_types = CATALOG_TYPES.get(spec.service, (spec.service,))
        self.www_authenticate = f'Keystone uri="{identity_url}"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _state(scope)
        state["www_authenticate"] = self.www_authenticate
        request_id = state.get("request_id", "")
        token = None
        for name, value in scope["headers"]:
            if name in (b"x-auth-token", b"x-storage-token"):
                token = value.decode("latin-1").strip()
                break
        context = RequestContext(request_id=request_id)
        if token:
            try:
                context = await self.validator.validate(token, request_id)
                check_access_rules(context, self.service_types, scope["method"], scope["path"])
            except Unauthorized as exc:
                state["auth_error"] = exc
                context = RequestContext(request_id=request_id)
        state["context"] = context
        await self.app(scope, receive, send)


class FaultSource(Protocol):
    """What the fault step needs: ``onestack.common.faults.FaultStore``."""

    def maybe_active(self, service: str) -> bool: ...

    def match_request(
        self, service: str, method: str, path: str, project_id: str | None
    ) -> Any: ...


class Faults:
    """Injected API faults (``onestack fault add``): the first matching one answers its
    error in this service's format, or delays the request.  The source is the app's
    ``state.fault_source`` (the server sets it on every app of a cloud); onestack's own
    ``/onestack/`` paths are never faulted."""

    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        self.service = spec.service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = getattr(getattr(scope.get("app"), "state", None), "fault_source", None)
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or source is None
            or path.startswith("/onestack/")
            or not source.maybe_active(self.service)
        ):
            await self.app(scope, receive, send)
            return
        context = _state(scope).get("context")
        project = context.project_id if isinstance(context, RequestContext) else None
        fault = await asyncio.to_thread(
            source.match_request, self.service, scope["method"], path, project
        )
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.status:
                raise injected_error(fault.status, fault.message)
        await self.app(scope, receive, send)


class Microversion:
    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        assert spec.microversion is not None
        self.spec = spec.microversion

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        version = self.spec.negotiate(_headers(scope))
        _state(scope)["api_version"] = version
        extra = self.spec.response_headers(version)

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_version)


class CollapseSlashes:
    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "//" in scope.get("path", ""):
            path = re.sub("/{2,}", "/", scope["path"])
            scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


class UrlProject:
    """Move a project id found after the version segment into the request state
    (``url_project_id``) and route the rest: one set of routes serves both
    ``/v3/<project_id>/volumes`` and ``/v3/volumes``.  Whether that id matches the
    token is the service's check (Cinder answers 400)."""

    def __init__(self, app: ASGIApp, spec: PipelineSpec) -> None:
        self.app = app
        assert spec.project_path is not None
        self.version = spec.project_path.version
        self.collections = spec.project_path.collections

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            parts = scope.get("path", "").split("/", 3)  # ["", version, first, rest]
            if (
                len(parts) >= 3
                and parts[1] == self.version
                and parts[2]
                and parts[2] not in self.collections
            ):
                _state(scope)["url_project_id"] = parts[2]
                path = f"/{self.version}/" + (parts[3] if len(parts) == 4 else "")
                scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


def install_pipeline(
    app: Any, spec: PipelineSpec, validator: TokenValidator, identity_url: str
) -> None:
    """Add the chain above to a Starlette/FastAPI app (``add_middleware`` wraps
    outward, so the innermost step is added first)."""
    if spec.collapse_slashes:
        app.add_middleware(CollapseSlashes, spec=spec)
    if spec.project_path is not None:
        app.add_middleware(UrlProject, spec=spec)
    if spec.microversion is not None:
        app.add_middleware(Microversion, spec=spec)
    app.add_middleware(Faults, spec=spec)
    app.add_middleware(Auth, spec=spec, validator=validator, identity_url=identity_url)
    app.add_middleware(BodyLimit, spec=spec)
    app.add_middleware(ErrorRenderer, spec=spec)
    if spec.trans_id:
        app.add_middleware(TransId, spec=spec)
    app.add_middleware(RequestId, spec=spec)
