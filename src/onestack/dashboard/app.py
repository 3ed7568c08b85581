"""The dashboard's ASGI app: login, logout, project switch, the API relay, consoles.

Routes:
  GET  /login, POST /login     the login form (password or application credential)
  POST /logout                 revokes the token, clears the cookie
  GET  /                       the application shell (static ES modules do the rest)
  GET  /session                the session's public facts (JSON)
  POST /session/project        re-scope to another project (new token, new cookie)
  *    /api/<type>/<path>      relayed to the catalog's <type> endpoint with the token
  POST /console/<server id>    a one-time ticket for a serial or VNC console
  WS   /console/ws/<ticket>    the console's websocket, relayed
  GET  /static/..., /vendor/...   the pages' modules; Debian's and npm's JS libraries
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import mimetypes
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import httpx
from starlette._utils import get_route_path
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket

from onestack.dashboard import pages, security
from onestack.dashboard.consoles import ConsoleTickets, websocket_url
from onestack.dashboard.keystone import KeystoneClient, LoginFailed, Session, SessionExpired

LOG = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"

#: request headers never relayed to a service (the token is added by the relay)
_DROP_REQUEST = frozenset(
    {
        "host",
        "cookie",
        "authorization",
        "x-auth-token",
        "x-subject-token",
        "x-service-token",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "te",
        "upgrade",
        "origin",
        "referer",
        "accept-encoding",
        security.CSRF_HEADER,
    }
)
#: response headers never relayed to the browser
_DROP_RESPONSE = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "set-cookie", "server", "date"}
)


@dataclass
class DashboardConfig:
    auth_url: str
    secret: bytes
    region: str | None = None
    secure_cookies: bool = False
    session_check_seconds: float = 30.0
    vendor_dir: Path = Path("/usr/share/javascript")
    novnc_dir: Path = Path("/usr/share/novnc")
    npm_dir: Path = Path("/nonexistent")
    console_ttl_seconds: float = 30.0


@dataclass
class Dashboard:
    config: DashboardConfig
    http: httpx.AsyncClient = field(init=False)
    keystone: KeystoneClient = field(init=False)
    tickets: ConsoleTickets = field(init=False)
    _sessions: dict[str, Session] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = httpx.AsyncClient(
            timeout=httpx.Timeout(600.0, connect=10.0),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            trust_env=False,
        )
        self.keystone = KeystoneClient(self.config.auth_url, self.config.region, self.http)
        self.tickets = ConsoleTickets(self.config.console_ttl_seconds)

    # Sessions --------------------------------------------------------------

    def remember(self, session: Session) -> None:
        if len(self._sessions) > 10000:
            self._sessions.clear()
        self._sessions[security.session_key(session.token)] = session

    def forget(self, token: str) -> None:
        self._sessions.pop(security.session_key(token), None)

    async def session(self, token: str | None) -> Session | None:
        """The valid session of a cookie's token, validating it when the cache is stale."""
        if not token or len(token) > 4096:
            return None
        key = security.session_key(token)
        cached = self._sessions.get(key)
        now = time.monotonic()
        if cached is not None and cached.expires_at <= time.time():
            self._sessions.pop(key, None)
            return None
        if cached is not None and now - cached.checked_at < self.config.session_check_seconds:
            return cached
        try:
            fresh = await self.keystone.validate(token)
        except SessionExpired:
            self._sessions.pop(key, None)
            return None
        except httpx.HTTPError as exc:
            LOG.warning("dashboard: Keystone did not validate a token: %s", exc)
            return None
        self.remember(fresh)
        return fresh

    async def request_session(self, request: Request) -> Session | None:
        return await self.session(request.cookies.get(security.SESSION_COOKIE))

    def csrf(self, session: Session) -> str:
        return security.csrf_token(self.config.secret, session.token)

    def csrf_ok(self, request: Request, session: Session, offered: str | None = None) -> bool:
        if not security.same_origin(request.headers, request.headers.get("host")):
            return False
        token = offered if offered is not None else request.headers.get(security.CSRF_HEADER)
        return security.csrf_valid(self.config.secret, session.token, token)

    def set_session_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            security.SESSION_COOKIE,
            session.token,
            max_age=max(1, int(session.expires_at - time.time())),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.config.secure_cookies,
        )


def _form(body: bytes) -> dict[str, str]:
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _dashboard(request: Request | WebSocket) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


def _expired() -> JSONResponse:
    return JSONResponse({"error": "Your session has expired; log in again."}, status_code=401)


# Login and logout -------------------------------------------------------------


def _login_form(
    request: Request, *, error: str | None = None, status: int = 200, **values: str
) -> Response:
    csrf = security.new_login_csrf()
    notice = None
    if request.query_params.get("expired"):
        notice = "Your session has expired; log in again."
    elif request.query_params.get("logged_out"):
        notice = "You have logged out."
    html = pages.login_page(csrf, error=error, notice=notice, **values)
    response = HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})
    dashboard = _dashboard(request)
    response.set_cookie(
        security.LOGIN_CSRF_COOKIE,
        csrf,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=dashboard.config.secure_cookies,
    )
    return response


async def login_page(request: Request) -> Response:
    if await _dashboard(request).request_session(request) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_form(request)


async def login(request: Request) -> Response:
    dashboard = _dashboard(request)
    form = _form(await request.body())
    expected = request.cookies.get(security.LOGIN_CSRF_COOKIE)
    offered = form.get("csrf_token", "")
    if (
        not expected
        or not security.same_origin(request.headers, request.headers.get("host"))
        or not security.hmac_equal(expected, offered)
    ):
        return _login_form(request, error="The form expired; try again.", status=403)
    try:
        if form.get("method") == "application_credential":
            session = await dashboard.keystone.app_credential_login(
                form.get("credential_id", "").strip(), form.get("secret", "")
            )
        else:
            session = await dashboard.keystone.password_login(
                form.get("domain", "Default").strip() or "Default",
                form.get("username", "").strip(),
                form.get("password", ""),
                form.get("project", "").strip() or None,
            )
    except LoginFailed as exc:
        LOG.info("dashboard login refused: %s", exc)
        return _login_form(
            request,
            error=f"Login failed: {exc}",
            status=401,
            domain=form.get("domain", "Default"),
            user=form.get("username", ""),
        )
    dashboard.remember(session)
    # a fresh token is the whole session: a cookie planted before login is replaced
    response = RedirectResponse("/", status_code=303)
    dashboard.set_session_cookie(response, session)
    response.delete_cookie(security.LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    response = RedirectResponse("/login?logged_out=1", status_code=303)
    if session is None:
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response
    form = _form(await request.body())
    if not dashboard.csrf_ok(request, session, form.get("csrf_token") or None):
        return JSONResponse({"error": "CSRF token missing or wrong."}, status_code=403)
    await dashboard.keystone.revoke(session.token)
    dashboard.forget(session.token)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


# The shell and the session ---------------------------------------------------


async def shell(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    if session is None:
        target = "/login?expired=1" if security.SESSION_COOKIE in request.cookies else "/login"
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response
    html = pages.shell_page(session.public(), dashboard.csrf(session))
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})


async def session_info(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    if session is None:
        return _expired()
    return JSONResponse(
        {**session.public(), "csrf_token": dashboard.csrf(session)},
        headers={"Cache-Control": "no-store"},
    )


async def switch_project(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    if session is None:
        return _expired()
    if not dashboard.csrf_ok(request, session):
        return JSONResponse({"error": "CSRF token missing or wrong."}, status_code=403)
    try:
        body = await request.json()
        project_id = str(body["project_id"])
    except (ValueError, KeyError, TypeError):
        return JSONResponse({"error": "Give project_id."}, status_code=400)
    try:
        fresh = await dashboard.keystone.rescope(session.token, project_id)
    except LoginFailed as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    dashboard.remember(fresh)
    response = JSONResponse({**fresh.public(), "csrf_token": dashboard.csrf(fresh)})
    dashboard.set_session_cookie(response, fresh)
    return response


# The API relay ----------------------------------------------------------------


async def relay(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    if session is None:
        return _expired()
    if request.method not in security.SAFE_METHODS and not dashboard.csrf_ok(request, session):
        return JSONResponse({"error": "CSRF token missing or wrong."}, status_code=403)
    service = request.path_params["service"]
    path = request.path_params["path"]
    base = session.endpoints.get(service)
    if base is None:
        return JSONResponse({"error": f"No {service} service in the catalog."}, status_code=404)
    if any(part in ("..", ".") for part in path.split("/")):
        return JSONResponse({"error": "Bad path."}, status_code=400)
    query: list[tuple[str, str | int | float | bool | None]] = [
        (k, v) for k, v in request.query_params.multi_items() if k != "_download"
    ]
    download = request.query_params.get("_download")
    headers = {
        name: value
        for name, value in request.headers.items()
        if name not in _DROP_REQUEST and not name.startswith("sec-")
    }
    headers["x-auth-token"] = session.token
    has_body = request.method in ("POST", "PUT", "PATCH") or "content-length" in headers
    upstream = dashboard.http.build_request(
        request.method,
        f"{base}/{quote(path, safe='/:@!$&()*+,;=-._~')}" if path else base,
        params=query,
        headers=headers,
        content=request.stream() if has_body else None,
    )
    try:
        answer = await dashboard.http.send(upstream, stream=True)
    except httpx.HTTPError as exc:
        LOG.warning("dashboard relay to %s failed: %s", service, exc)
        return JSONResponse({"error": f"The {service} service did not answer."}, status_code=502)
    if answer.status_code == 401:
        await answer.aclose()
        dashboard.forget(session.token)
        return _expired()
    out_headers = {k: v for k, v in answer.headers.items() if k.lower() not in _DROP_RESPONSE}
    if download:
        safe = quote(download.replace('"', ""), safe="")
        out_headers["content-disposition"] = f"attachment; filename*=UTF-8''{safe}"
    out_headers["cache-control"] = "no-store"
    return StreamingResponse(
        answer.aiter_raw(),
        status_code=answer.status_code,
        headers=out_headers,
        background=BackgroundTask(answer.aclose),
    )


# Consoles ---------------------------------------------------------------------


async def console_ticket(request: Request) -> Response:
    dashboard = _dashboard(request)
    session = await dashboard.request_session(request)
    if session is None:
        return _expired()
    if not dashboard.csrf_ok(request, session):
        return JSONResponse({"error": "CSRF token missing or wrong."}, status_code=403)
    compute = session.endpoints.get("compute")
    if compute is None:
        return JSONResponse({"error": "No compute service in the catalog."}, status_code=404)
    try:
        kind = (await request.json()).get("type", "serial")
    except ValueError:
        kind = "serial"
    protocol = "serial" if kind == "serial" else "vnc"
    answer = await dashboard.http.post(
        f"{compute}/servers/{quote(request.path_params['server_id'], safe='')}/remote-consoles",
        json={"remote_console": {"protocol": protocol, "type": kind}},
        headers={"X-Auth-Token": session.token, "OpenStack-API-Version": "compute 2.8"},
    )
    if answer.status_code != 200:
        return Response(
            answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
        )
    url = answer.json()["remote_console"]["url"]
    ticket = dashboard.tickets.issue(security.session_key(session.token), websocket_url(url), kind)
    return JSONResponse({"ticket": ticket, "type": kind})


async def console_socket(websocket: WebSocket) -> None:
    dashboard = _dashboard(websocket)
    token = websocket.cookies.get(security.SESSION_COOKIE)
    session = await dashboard.session(token)
    origin_ok = security.same_origin(websocket.headers, websocket.headers.get("host"))
    ticket = None
    if session is not None and origin_ok:
        ticket = dashboard.tickets.redeem(
            websocket.path_params["ticket"], security.session_key(session.token)
        )
    if ticket is None:
        await websocket.close(code=4403)
        return
    import websockets

    protocols = websocket.scope.get("subprotocols") or []
    try:
        upstream = await websockets.connect(
            ticket.url,
            subprotocols=[websockets.Subprotocol(p) for p in protocols] or None,
            max_size=None,
            open_timeout=10,
        )
    except (OSError, websockets.WebSocketException) as exc:
        LOG.warning("console proxy did not answer: %s", exc)
        await websocket.close(code=1011)
        return
    await websocket.accept(subprotocol=upstream.subprotocol)

    async def browser_to_console() -> None:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            await upstream.send(data if data is not None else message.get("text", ""))

    async def console_to_browser() -> None:
        async for data in upstream:
            if isinstance(data, bytes):
                await websocket.send_bytes(data)
            else:
                await websocket.send_text(data)

    tasks = [asyncio.create_task(browser_to_console()), asyncio.create_task(console_to_browser())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await upstream.close()
        with contextlib.suppress(RuntimeError):
            await websocket.close()


# The app ----------------------------------------------------------------------


class _MemoryStatic:
    """The dashboard's own modules and styles, read once and answered from memory.

    They are small (tens of KiB) and asked for on every page load; answering from
    the event loop keeps them fast while the worker threads are busy with the
    services' requests (the all-in-one serves every API from one process).
    """

    def __init__(self, directory: Path) -> None:
        self.files: dict[str, tuple[bytes, str, str]] = {}
        for path in sorted(directory.rglob("*")):
            if not path.is_file():
                continue
            data = path.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:20] + '"'
            media = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            if path.suffix == ".js":
                media = "text/javascript"
            self.files["/" + path.relative_to(directory).as_posix()] = (data, etag, media)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        found = self.files.get("/" + get_route_path(scope).lstrip("/"))
        if found is None:
            response: Response = JSONResponse({"error": "Not found."}, status_code=404)
        else:
            data, etag, media = found
            headers = {"etag": etag, "cache-control": "no-cache"}
            request_headers = dict(scope.get("headers") or [])
            if request_headers.get(b"if-none-match", b"").decode() == etag:
                response = Response(status_code=304, headers=headers)
            else:
                response = Response(data, media_type=media, headers=headers)
        await response(scope, receive, send)


class _Static(StaticFiles):
    """Static files that browsers revalidate (ETag) instead of guessing freshness."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["cache-control"] = "no-cache"
        return response


def _vendor(directory: Path) -> Any:
    if directory.is_dir():
        return _Static(directory=directory, follow_symlink=True)

    async def missing(scope: Any, receive: Any, send: Any) -> None:
        response = JSONResponse({"error": f"{directory} is not installed."}, status_code=404)
        await response(scope, receive, send)

    return missing


def build_app(config: DashboardConfig) -> Starlette:
    dashboard = Dashboard(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await dashboard.http.aclose()

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "COPY", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/", shell),
            Route("/login", login_page, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/session", session_info),
            Route("/session/project", switch_project, methods=["POST"]),
            Route("/api/{service}/{path:path}", relay, methods=methods),
            Route("/console/{server_id}", console_ticket, methods=["POST"]),
            WebSocketRoute("/console/ws/{ticket}", console_socket),
            Mount("/static", _MemoryStatic(STATIC_DIR)),
            Mount("/vendor/js", _vendor(config.vendor_dir)),
            Mount("/vendor/novnc", _vendor(config.novnc_dir)),
            Mount("/vendor/npm", _vendor(config.npm_dir)),
        ],
        middleware=[Middleware(security.SecurityHeaders)],
        lifespan=lifespan,
    )
    app.state.dashboard = dashboard
    return app
