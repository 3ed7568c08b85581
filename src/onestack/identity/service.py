"""The identity service's plug-in to the all-in-one server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from onestack.identity import policies
from onestack.identity.bootstrap import CatalogEntry
from onestack.plugin import ServicePlugin

if TYPE_CHECKING:
    from onestack.config import Settings
    from onestack.server import Cloud


def _catalog(settings: Settings) -> list[CatalogEntry]:
    return [
        CatalogEntry(
            "identity",
            "keystone",
            settings.url("identity") + "/v3",
            "Identity service (Keystone v3)",
        )
    ]


def _build_app(cloud: Cloud) -> Any:
    from onestack.identity.api.routes import build_app

    return build_app(cloud.identity, cloud.settings)


PLUGIN = ServicePlugin(
    name="identity",
    package="onestack.identity",
    policies=policies.RULES,
    catalog=_catalog,
    build_app=_build_app,
)
