"""Keystone as the dashboard sees it: a client of the public Identity v3 API.

Log in (password or application credential), scope to a project, validate a
token (the user's own token validates itself), list the user's projects and
revoke a token.  ``Session`` is what a validated token tells: the user, the
project, the roles and the catalog's public endpoints of one region.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx


class LoginFailed(Exception):
    """Keystone refused the credentials (the message is safe to show)."""


class SessionExpired(Exception):
    """The token is no longer valid."""


@dataclass(frozen=True)
class Session:
    token: str
    user_id: str
    user_name: str
    domain_name: str
    project_id: str | None
    project_name: str | None
    roles: tuple[str, ...]
    #: catalog type -> public URL in the chosen region
    endpoints: dict[str, str]
    expires_at: float
    #: the projects this user may switch to: (id, name)
    projects: tuple[tuple[str, str], ...] = ()
    methods: tuple[str, ...] = ()
    checked_at: float = field(default_factory=time.monotonic)

    def public(self) -> dict[str, Any]:
        """What the pages may know (no token)."""
        return {
            "user": {"id": self.user_id, "name": self.user_name, "domain": self.domain_name},
            "project": {"id": self.project_id, "name": self.project_name},
            "roles": list(self.roles),
            "services": sorted(self.endpoints),
            "endpoints": dict(sorted(self.endpoints.items())),
            "projects": [{"id": pid, "name": name} for pid, name in self.projects],
            "expires_at": self.expires_at,
            "methods": list(self.methods),
        }


def _expiry(value: str | None) -> float:
    if not value:
        return time.time() + 3600
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _error(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"Keystone answered {response.status_code}"


class KeystoneClient:
    """Async calls to one Keystone v3 endpoint."""

    def __init__(self, auth_url: str, region: str | None, http: httpx.AsyncClient) -> None:
        self.auth_url = auth_url.rstrip("/")
        if not self.auth_url.endswith("/v3"):
            self.auth_url += "/v3"
        self.region = region
        self.http = http

    async def _issue(self, auth: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        response = await self.http.post(f"{self.auth_url}/auth/tokens", json={"auth": auth})
        if response.status_code in (400, 401, 403, 404):
            raise LoginFailed(_error(response))
        response.raise_for_status()
        return response.headers["X-Subject-Token"], response.json()["token"]

    async def password_login(
        self, domain: str, user: str, password: str, project: str | None
    ) -> Session:
        identity = {
            "methods": ["password"],
            "password": {"user": {"name": user, "domain": {"name": domain}, "password": password}},
        }
        auth: dict[str, Any] = {"identity": identity}
        if project:
            auth["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
        token, body = await self._issue(auth)
        if body.get("project") is None:
            token, body = await self._scope_first_project(token)
        return await self._session(token, body)

    async def app_credential_login(self, credential_id: str, secret: str) -> Session:
        auth = {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": credential_id, "secret": secret},
            }
        }
        token, body = await self._issue(auth)
        return await self._session(token, body)

    async def rescope(self, token: str, project_id: str) -> Session:
        auth = {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": project_id}},
        }
        new_token, body = await self._issue(auth)
        return await self._session(new_token, body)

    async def _scope_first_project(self, token: str) -> tuple[str, dict[str, Any]]:
        projects = await self._projects(token)
        if not projects:
            raise LoginFailed("This user has a role on no project.")
        auth = {
            "identity": {"methods": ["token"], "token": {"id": token}},
            "scope": {"project": {"id": projects[0][0]}},
        }
        scoped = await self._issue(auth)
        await self.revoke(token)
        return scoped

    async def _projects(self, token: str) -> list[tuple[str, str]]:
        response = await self.http.get(
            f"{self.auth_url}/auth/projects", headers={"X-Auth-Token": token}
        )
        if response.status_code == 401:
            raise SessionExpired()
        response.raise_for_status()
        projects = [(p["id"], p["name"]) for p in response.json()["projects"]]
        return sorted(projects, key=lambda p: p[1])

    async def validate(self, token: str) -> Session:
        response = await self.http.get(
            f"{self.auth_url}/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
        )
        if response.status_code in (401, 403, 404):
            raise SessionExpired()
        response.raise_for_status()
        return await self._session(token, response.json()["token"])

    async def revoke(self, token: str) -> None:
        await self.http.delete(
            f"{self.auth_url}/auth/tokens",
            headers={"X-Auth-Token": token, "X-Subject-Token": token},
        )

    async def _session(self, token: str, body: dict[str, Any]) -> Session:
        user = body.get("user") or {}
        project = body.get("project") or {}
        endpoints: dict[str, str] = {}
        for service in body.get("catalog") or []:
            for endpoint in service.get("endpoints", []):
                if endpoint.get("interface") != "public":
                    continue
                if self.region and endpoint.get("region_id", endpoint.get("region")) not in (
                    self.region,
                    None,
                ):
                    continue
                endpoints.setdefault(service["type"], endpoint["url"].rstrip("/"))
        methods = tuple(body.get("methods") or ())
        projects: list[tuple[str, str]] = []
        if "application_credential" not in methods:
            projects = await self._projects(token)
        elif project:
            projects = [(project["id"], project.get("name", project["id"]))]
        return Session(
            token=token,
            user_id=user.get("id", ""),
            user_name=user.get("name", ""),
            domain_name=(user.get("domain") or {}).get("name", ""),
            project_id=project.get("id"),
            project_name=project.get("name"),
            roles=tuple(sorted(r["name"] for r in body.get("roles") or [])),
            endpoints=endpoints,
            expires_at=_expiry(body.get("expires_at")),
            projects=tuple(projects),
            methods=methods,
        )
