"""Requests made with the caller's own token (validating a template's custom constraints,
listing the resource types its catalog allows), while the request is being served."""

from __future__ import annotations

from typing import Any

import httpx

from onestack.orchestration.clients.session import CloudSession, failure


class UserTokens:
    """A fixed token and its catalog (``GET /v3/auth/catalog``), like TokenProvider."""

    def __init__(self, http: httpx.AsyncClient, identity_url: str, token: str) -> None:
        self.http = http
        self.identity_url = identity_url
        self._token = token
        self._catalog: list[dict[str, Any]] | None = None

    async def token(self) -> tuple[str, list[dict[str, Any]]]:
        if self._catalog is None:
            response = await self.http.get(
                f"{self.identity_url}/v3/auth/catalog", headers={"X-Auth-Token": self._token}
            )
            if response.status_code != 200:
                raise failure(response)
            self._catalog = response.json().get("catalog") or []
        return self._token, self._catalog

    def forget(self) -> None:
        return None


def user_session(
    http: httpx.AsyncClient, identity_url: str, token: str, region: str, project_id: str
) -> CloudSession:
    return CloudSession(http, UserTokens(http, identity_url, token), region, project_id)  # type: ignore[arg-type]
