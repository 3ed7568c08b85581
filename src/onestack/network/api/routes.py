"""The networking API app: every ``/v2.0`` route, behind the common pipeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec, TokenValidator
from onestack.config import Settings
from onestack.network.api import actions, resources, service_types, unsupported, versions

if TYPE_CHECKING:
    from onestack.network.manager import NetworkManager


def build_app(manager: NetworkManager, tokens: TokenValidator, settings: Settings) -> FastAPI:
    spec = PipelineSpec(
        service="network", error_style=ErrorStyle.NEUTRON, max_body=settings.max_request_body
    )
    app = create_app(
        spec,
        tokens,
        settings.url("identity") + "/v3",
        title="onestack networking (Neutron v2.0)",
        version="2.0",
    )
    app.state.network = manager
    # order matters: port forwardings and unsupported collections before the generic routes
    for module in (versions, unsupported, service_types, resources, actions):
        app.include_router(module.router)
    return app
