"""The identity API app: every ``/v3`` route, behind the common pipeline."""

from __future__ import annotations

from fastapi import FastAPI

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.pipeline import PipelineSpec
from onestack.config import Settings
from onestack.identity.api import (
    auth,
    catalog,
    credentials,
    domain_config,
    endpoint_filter,
    oauth1,
    policies,
    resources,
    roles,
    trusts,
    unsupported,
    versions,
)
from onestack.identity.manager import IdentityManager

SPEC = PipelineSpec(service="identity", error_style=ErrorStyle.KEYSTONE)


def build_app(identity: IdentityManager, settings: Settings) -> FastAPI:
    spec = PipelineSpec(
        service=SPEC.service, error_style=SPEC.error_style, max_body=settings.max_request_body
    )
    app = create_app(
        spec,
        identity.tokens,
        settings.url("identity") + "/v3",
        title="onestack identity (Keystone v3)",
        version="3.14",
    )
    app.state.identity = identity
    for module in (
        versions,
        auth,
        domain_config,
        resources,
        roles,
        catalog,
        endpoint_filter,
        policies,
        credentials,
        trusts,
        oauth1,
        unsupported,
    ):
        app.include_router(module.router)
    return app
