"""The dashboard's defences: CSRF tokens, same-origin checks, security headers.

A logged-in page's CSRF token is an HMAC of the session token under the
dashboard's secret, so it changes with every login and every project switch
and needs no server-side state; the login form uses a random value held in a
separate cookie and echoed in the form (double submit).  Every response
forbids framing (``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``) and
inline scripts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

SESSION_COOKIE = "onestack_session"
LOGIN_CSRF_COOKIE = "onestack_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def csrf_token(secret: bytes, session_token: str) -> str:
    return hmac.new(secret, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret: bytes, session_token: str, offered: str | None) -> bool:
    if not offered:
        return False
    return hmac.compare_digest(csrf_token(secret, session_token), offered)


def session_key(session_token: str) -> str:
    """A name for a session that does not reveal its token (for caches and tickets)."""
    return hashlib.sha256(session_token.encode()).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def same_origin(headers: MutableMapping[str, str] | Any, host: str | None) -> bool:
    """True when the request's Origin (or Referer) is this dashboard, or absent.

    Browsers send Origin on every cross-site POST and every websocket; a missing
    Origin is a non-browser client, which has no ambient cookie to abuse.
    """
    origin = headers.get("origin") or headers.get("referer")
    if not origin:
        return True
    if origin == "null":
        return False
    return urlsplit(origin).netloc == host


ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
    Awaitable[None],
]


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                names = {name for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def hmac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
