"""The orchestration API app: Heat v1 routes behind the common pipeline (Heat's error
bodies), the version document keystoneauth discovers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec
from onestack.orchestration.api import misc, resources, stacks

if TYPE_CHECKING:
    from onestack.orchestration.manager import OrchestrationManager
    from onestack.server import Cloud


def build_app(manager: OrchestrationManager, cloud: Cloud) -> FastAPI:
    spec = PipelineSpec(
        service="orchestration",
        error_style=ErrorStyle.HEAT,
        max_body=max(
            cloud.settings.max_request_body, 4 * cloud.settings.orchestration.max_template_size
        ),
    )
    app = create_app(
        spec,
        cloud.identity.tokens,
        cloud.settings.url("identity") + "/v3",
        title="onestack orchestration (Heat v1)",
        version="1.0",
    )
    app.state.orchestration = manager
    app.include_router(misc.versions)
    app.include_router(misc.router)
    app.include_router(stacks.router)
    app.include_router(resources.router)
    app.include_router(resources.lookups)
    return app
