"""Keystone APIs onestack does not implement: they answer 501, not 404.

Clients probe some of these (for example OS-FEDERATION) and handle 501 as
"this cloud has no such feature"; a 404 would look like a broken cloud.
"""

from __future__ import annotations

from fastapi import APIRouter

from onestack.common.exceptions import NotSupported

router = APIRouter(prefix="/v3")

UNSUPPORTED = {
    "OS-FEDERATION": "Federation",
    "auth/OS-FEDERATION": "Federated authentication",
    # consumers are implemented (api/oauth1.py, routed first); tokens are not
    "OS-OAUTH1": "OAuth1 request and access tokens",
    "OS-OAUTH2": "OAuth2",
    "OS-ENDPOINT-POLICY": "Endpoint policies",
    "OS-SIMPLE-CERT": "Simple certificates",
    "OS-REVOKE": "The revocation events API",
    "limits": "Unified limits",
    "registered_limits": "Registered limits",
}

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]


def _register(prefix: str, feature: str) -> None:
    def unsupported() -> None:
        raise NotSupported(f"{feature} ({prefix}) is not implemented by onestack.")

    unsupported.__name__ = "unsupported_" + prefix.replace("-", "_").replace("/", "_")
    router.add_api_route(f"/{prefix}", unsupported, methods=METHODS)
    router.add_api_route(f"/{prefix}/{{rest:path}}", unsupported, methods=METHODS)


for _prefix, _feature in UNSUPPORTED.items():
    _register(_prefix, _feature)
