"""The app factory every service uses, and the helpers its routes share.

``create_app`` builds a FastAPI app with the common pipeline
(``onestack.common.pipeline``) and the service's error style.  Routes get the
request context with ``Depends(require_context)`` and their JSON body with
``Depends(json_body)``, then validate it against a pydantic model with
``parse_body`` so that a bad body is a 400 in the service's own format.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, TypeVar

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from onestack.common import jsonbody, openapi
from onestack.common.context import RequestContext
from onestack.common.exceptions import (
    BadRequest,
    MethodNotAllowed,
    NotFound,
    OneStackError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
)
from onestack.common.microversion import APIVersion
from onestack.common.pipeline import PipelineSpec, TokenValidator, install_pipeline

M = TypeVar("M", bound=pydantic.BaseModel)


def create_app(
    spec: PipelineSpec, validator: TokenValidator, identity_url: str, *, title: str, version: str
) -> FastAPI:
    app = FastAPI(
        title=title, version=version, docs_url=None, redoc_url=None, openapi_url="/openapi.json"
    )
    install_pipeline(app, spec, validator, identity_url)
    generate = app.openapi

    def document() -> dict[str, Any]:
        if app.openapi_schema is None:
            with warnings.catch_warnings():
                # FastAPI warns of the operation ids several methods share; complete()
                # gives each its own
                warnings.filterwarnings("ignore", "Duplicate Operation ID", UserWarning)
                app.openapi_schema = openapi.complete(generate())
        return app.openapi_schema

    app.openapi = document  # type: ignore[method-assign]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404:
            raise NotFound("The resource could not be found.")
        if exc.status_code == 405:
            raise MethodNotAllowed(f"The method {request.method} is not allowed for this resource.")
        error = OneStackError(str(exc.detail))
        error.code = exc.status_code  # type: ignore[misc]
        raise error

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        raise ValidationError(detail=describe_errors(exc.errors()))

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    return app


def context_of(request: Request) -> RequestContext:
    ctx = request.scope.get("state", {}).get("context")
    return ctx if isinstance(ctx, RequestContext) else RequestContext()


async def require_context(request: Request) -> RequestContext:
    """The caller's context; 401 when there is no valid token."""
    state = request.scope.get("state", {})
    ctx = state.get("context")
    if not isinstance(ctx, RequestContext) or not ctx.authenticated:
        error = state.get("auth_error")
        if isinstance(error, Unauthorized):
            raise error
        raise Unauthorized()
    return ctx


def api_version(request: Request) -> APIVersion:
    version = request.scope.get("state", {}).get("api_version")
    assert isinstance(version, APIVersion), "service has no microversions"
    return version


async def json_body(request: Request) -> Any:
    """The request's JSON document; 400 when it is missing, malformed or breaks a limit
    of ``onestack.common.jsonbody`` (nesting, integer range, lone surrogates)."""
    content_type = request.headers.get("content-type", "application/json")
    media = content_type.split(";")[0].strip().lower()
    body = await request.body()
    if media and media != "application/json" and not media.endswith("+json"):
        if not body:
            raise BadRequest("The request body must be JSON.")
        raise UnsupportedMediaType(content_type=media)
    if not body:
        raise BadRequest("The request body is empty; a JSON document is required.")
    return jsonbody.loads(body)


def describe_errors(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body",))
        msg = error.get("msg", "invalid")
        parts.append(f"'{loc}': {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


def parse_body(model: type[M], data: Any, *, wrapper: str | None = None) -> M:
    """Validate ``data`` (optionally ``data[wrapper]``) against ``model``."""
    if wrapper is not None:
        if not isinstance(data, dict) or wrapper not in data:
            raise ValidationError(detail=f"'{wrapper}' is a required property")
        data = data[wrapper]
    if not isinstance(data, dict):
        raise ValidationError(detail=f"{wrapper or 'body'} must be an object")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(detail=describe_errors(exc.errors())) from None


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def base_url(request: Request) -> str:
    """``scheme://host:port`` as the client addressed us."""
    host = request.headers.get("host")
    if host:
        return f"{request.url.scheme}://{host}"
    return str(request.base_url).rstrip("/")
