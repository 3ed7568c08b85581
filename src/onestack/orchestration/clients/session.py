"""How the engine talks to the other services: their public HTTP APIs, found through
the catalog, with trust-scoped tokens (as Heat does through its clients).

The tokens and requests are the cloud's one Keystone client
(:mod:`onestack.common.keystone_client`): the engine's service user (the trustee of
every stack's trust) holds an unscoped password token, and a stack's
:class:`CloudSession` asks for tokens scoped to the stack's trust (impersonating the
stack's owner).  While a request is served, :func:`user_session` uses the caller's
own token instead.  Errors come back as :class:`ServiceCallFailed` carrying the other
service's status and message, so a resource's status reason names what really went
wrong.

This also works when the services run on other hosts: nothing here uses another
service's Python objects.
"""

from __future__ import annotations

from typing import Any

import httpx

from onestack.common.keystone_client import (
    AsyncFixedToken,
    AsyncKeystoneSession,
    AsyncTokens,
    ServiceError,
)
from onestack.orchestration.exceptions import ServiceCallFailed


def call_failed(exc: ServiceError) -> ServiceCallFailed:
    return ServiceCallFailed(exc.kind, exc.status, exc.message)


class CloudSession(AsyncKeystoneSession):
    """One stack's requests to the other services (see the module docstring)."""

    def __init__(
        self, http: httpx.AsyncClient, tokens: AsyncTokens, region: str, project_id: str
    ) -> None:
        super().__init__(http, tokens, region)
        self.project_id = project_id

    async def endpoint(self, service_type: str) -> str:
        try:
            return await super().endpoint(service_type)
        except ServiceError as exc:
            raise call_failed(exc) from None

    async def has_service(self, service: str) -> bool:
        try:
            await self.endpoint(service)
        except ServiceCallFailed:
            return False
        return True

    async def request(self, service_type: str, method: str, path: str, **kw: Any) -> Any:
        """``AsyncKeystoneSession.request``, failing with ServiceCallFailed."""
        try:
            return await super().request(service_type, method, path, **kw)
        except ServiceError as exc:
            raise call_failed(exc) from None


def user_session(
    http: httpx.AsyncClient, identity_url: str, token: str, region: str, project_id: str
) -> CloudSession:
    """The caller's own token (validating a template's custom constraints, listing the
    resource types its catalog allows), while its request is being served."""
    return CloudSession(
        http, AsyncFixedToken(http, identity_url + "/v3", token), region, project_id
    )
