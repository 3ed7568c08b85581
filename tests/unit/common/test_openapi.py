"""The OpenAPI completion every service's document goes through (issue 13)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI
from openapi_spec_validator import validate
from pydantic import BaseModel

from onestack.common.openapi import complete, request_body


class Inner(BaseModel):
    size: int


class Outer(BaseModel):
    name: str
    inner: Inner | None = None


def _app() -> FastAPI:
    app = FastAPI()
    router = APIRouter()

    def read(path: str) -> None: ...

    def create() -> None: ...

    router.add_api_route("/v1/{account}/{container}", read, methods=["GET", "HEAD", "COPY"])
    router.add_api_route(
        "/v1/things", create, methods=["POST"], openapi_extra=request_body(Outer, "thing")
    )
    app.include_router(router)
    return app


def test_the_completed_document_is_valid_and_describes_the_body() -> None:
    raw: dict[str, Any] = _app().openapi()
    doc = complete(raw)
    validate(doc)
    item = doc["paths"]["/v1/{account}/{container}"]
    assert set(item) == {"get", "head"}
    for operation in item.values():
        names = {p["name"] for p in operation["parameters"] if p["in"] == "path"}
        assert {"account", "container"} <= names
    assert item["get"]["operationId"] != item["head"]["operationId"]
    schema = doc["paths"]["/v1/things"]["post"]["requestBody"]["content"]["application/json"]
    assert schema["schema"]["required"] == ["thing"]
    assert "Inner" in doc["components"]["schemas"]


def test_completing_twice_keeps_the_shared_schemas() -> None:
    first, second = complete(_app().openapi()), complete(_app().openapi())
    validate(first)
    validate(second)
    assert second["components"]["schemas"]["Inner"] == first["components"]["schemas"]["Inner"]
