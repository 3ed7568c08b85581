"""Plain HTTP to one API endpoint, for what the SDKs hide: exact status codes,
headers, error bodies, odd URLs and raw request bodies."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import httpx

Token = str | Callable[[], str] | None


class RawClient:
    """Requests to ``base`` + path with ``X-Auth-Token`` (a string, or a callable
    asked before every request so that a refreshed token is used)."""

    def __init__(
        self,
        base: str,
        token: Token = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.base = base.rstrip("/")
        self.token = token
        self.headers = dict(headers or {})
        self.timeout = timeout

    def auth_headers(self) -> dict[str, str]:
        token = self.token() if callable(self.token) else self.token
        return {"X-Auth-Token": token} if token else {}

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        data: bytes | str | Iterable[bytes] | Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request; ``data`` as bytes, text or an iterable of bytes is the raw body
        (an iterable is sent chunked), a mapping is a form.  ``params`` are added to
        the query the path may already have (``?effective`` stays as written)."""
        merged = {**self.headers, **self.auth_headers(), **(headers or {})}
        if params:
            path += ("&" if "?" in path else "?") + urlencode(params, doseq=True)
        if data is not None and not isinstance(data, Mapping):
            kwargs["content"] = data
        elif data is not None:
            kwargs["data"] = data
        kwargs.setdefault("timeout", self.timeout)
        with httpx.Client() as client:
            return client.request(method, self.base + path, headers=merged, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def head(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("HEAD", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", path, **kwargs)
