"""Keystone trusts of ``trust+http(s)://`` actions (Aodh's ``keystone_client``).

When an alarm gets a ``trust+`` action, the alarm API creates a trust with the
caller's own token: the caller (trustor) delegates its roles on its project to
the ``aodh`` service user (trustee), with impersonation.  The trust's id goes
into the action URL as its user part (``trust+http://<id>:delete@host/path``;
``:delete`` marks the trust the alarm owns), and is scrubbed from every answer.
The notifier later acts with a token scoped to that trust.
"""

from __future__ import annotations

import logging
from urllib.parse import SplitResult, urlsplit

import httpx

from onestack.alarming.exceptions import ClientSideError
from onestack.common.context import RequestContext
from onestack.common.keystone_client import error_message

LOG = logging.getLogger(__name__)


def is_trust(url: SplitResult) -> bool:
    return url.scheme.startswith("trust+")


def scrub(action: str) -> str:
    """The action without the trust id (what answers show)."""
    url = urlsplit(action)
    if not is_trust(url):
        return action
    netloc = url.netloc.rsplit("@", 1)[-1]
    return SplitResult(url.scheme, netloc, url.path, url.query, url.fragment).geturl()


def owned_trusts(actions: list[str]) -> set[str]:
    """The ids of the trusts these actions own (``<id>:delete@``)."""
    found = set()
    for action in actions:
        url = urlsplit(action)
        if is_trust(url) and url.username and url.password == "delete":
            found.add(url.username)
    return found


class TrustClient:
    """Creates and deletes trusts through the identity API with the caller's token."""

    def __init__(self, identity_url: str, timeout: float = 30.0) -> None:
        self.identity_url = identity_url.rstrip("/")
        self.timeout = timeout

    def create(self, ctx: RequestContext, trustee_user_id: str) -> str:
        if not ctx.auth_token:
            raise ClientSideError(error="A trust action needs the caller's token.")
        body = {
            "trust": {
                "trustor_user_id": ctx.user_id,
                "trustee_user_id": trustee_user_id,
                "project_id": ctx.project_id,
                "impersonation": True,
                "roles": [{"name": role} for role in ctx.roles],
            }
        }
        with httpx.Client(timeout=self.timeout) as http:
            response = http.post(
                f"{self.identity_url}/OS-TRUST/trusts",
                json=body,
                headers={"X-Auth-Token": ctx.auth_token},
            )
        if response.status_code != 201:
            try:
                detail = response.json()
            except ValueError:
                detail = None
            raise ClientSideError(
                error=f"Unable to create a trust: {error_message(detail, response.text)}"
            )
        return str(response.json()["trust"]["id"])

    def delete(self, ctx: RequestContext, trust_id: str) -> None:
        """Delete a trust the alarm owned; a trust already gone is fine."""
        if not ctx.auth_token:
            return
        with httpx.Client(timeout=self.timeout) as http:
            response = http.delete(
                f"{self.identity_url}/OS-TRUST/trusts/{trust_id}",
                headers={"X-Auth-Token": ctx.auth_token},
            )
        if response.status_code not in (204, 404):
            LOG.warning(
                "alarming: could not delete trust %s (%s) [%s]",
                trust_id,
                response.status_code,
                ctx.request_id,
            )
