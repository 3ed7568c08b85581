"""The one request pipeline: its listed steps, Swift's transaction ids, S3's errors."""

from __future__ import annotations

import inspect
import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import onestack
from onestack.common import pipeline
from onestack.common.app import create_app
from onestack.common.context import RequestContext
from onestack.common.errors import ErrorStyle, render_exception, s3_error
from onestack.common.exceptions import (
    Conflict,
    NotFound,
    NotSupported,
    OneStackError,
    PayloadTooLarge,
    Unauthorized,
)
from onestack.common.pipeline import PipelineSpec, access_rule_path_matches, check_access_rules

SOURCE = Path(onestack.__file__).parent


class NoTokens:
    async def validate(self, token: str, request_id: str) -> RequestContext:
        raise Unauthorized("The token is not valid.")


class NoSuchThing(NotFound):
    msg_fmt = "No {thing} here."
    s3_code = "NoSuchKey"


def _app(spec: PipelineSpec) -> FastAPI:
    app = create_app(spec, NoTokens(), "http://identity.test/v3", title="t", version="1")

    @app.api_route("/fail/{kind}", methods=["GET", "HEAD", "PUT"])
    def fail(kind: str) -> None:
        errors: dict[str, OneStackError] = {
            "thing": NoSuchThing(thing="thing"),
            "conflict": Conflict("Busy."),
            "auth": Unauthorized("Who are you?"),
            "large": PayloadTooLarge("Too big."),
            "unsupported": NotSupported(operation="Tagging"),
        }
        if kind == "crash":
            raise RuntimeError("boom")
        raise errors[kind]

    @app.get("/ok")
    def ok() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def _steps() -> list[str]:
    """The middleware the pipeline module defines (ASGI classes wrapping an app)."""
    return [
        name
        for name, cls in inspect.getmembers(pipeline, inspect.isclass)
        if cls.__module__ == pipeline.__name__
        and "app" in inspect.signature(cls.__init__).parameters
        and "__call__" in vars(cls)
    ]


def test_every_step_is_listed_in_the_module_docstring_in_install_order() -> None:
    doc = pipeline.__doc__ or ""
    listed = re.findall(r"^    (\w+)\s", doc, re.MULTILINE)
    assert sorted(listed) == sorted(_steps())
    spec = PipelineSpec("s", ErrorStyle.PLAIN, max_body=10, trans_id=True)
    app = _app(spec)
    installed = [m.cls.__name__ for m in app.user_middleware]  # outermost first
    assert installed == [name for name in listed if name in installed]


def test_no_service_adds_middleware_of_its_own() -> None:
    offenders = {
        str(path.relative_to(SOURCE))
        for path in SOURCE.rglob("*.py")
        if "add_middleware(" in path.read_text() and path.name != "pipeline.py"
    }
    assert offenders == set()


def test_swift_labels_every_response_with_its_transaction_id() -> None:
    client = TestClient(_app(PipelineSpec("object", ErrorStyle.PLAIN, trans_id=True)))
    for method, path, status in (
        ("GET", "/ok", 200),
        ("GET", "/fail/thing", 404),
        ("PUT", "/fail/conflict", 409),
        ("HEAD", "/fail/thing", 404),
    ):
        response = client.request(method, path)
        assert response.status_code == status
        request_id = response.headers["x-openstack-request-id"]
        digits = request_id.removeprefix("req-").replace("-", "")[:21]
        assert re.fullmatch(rf"tx{digits}-[0-9a-f]{{10}}", response.headers["x-trans-id"])
        assert response.headers["content-type"]
    assert client.put("/fail/conflict").headers["content-type"] == "text/plain; charset=UTF-8"
    assert client.get("/fail/thing").text == "404 Not Found\n\nNo thing here.\n"


def test_without_trans_ids_other_services_have_none() -> None:
    response = TestClient(_app(PipelineSpec("image", ErrorStyle.PLAIN))).get("/ok")
    assert "x-trans-id" not in response.headers


@pytest.mark.parametrize(
    ("kind", "code", "status", "message"),
    [
        ("thing", "NoSuchKey", 404, "No thing here."),
        ("conflict", "InvalidRequest", 409, "Busy."),
        ("auth", "AccessDenied", 403, "Who are you?"),
        ("large", "EntityTooLarge", 400, "Too big."),
        ("unsupported", "NotImplemented", 501, "Tagging is not supported by onestack."),
    ],
)
def test_s3_errors_are_xml_documents(kind: str, code: str, status: int, message: str) -> None:
    spec = PipelineSpec("s3", ErrorStyle.S3, request_id_headers=("x-amz-request-id",))
    response = TestClient(_app(spec)).get(f"/fail/{kind}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/xml"
    root = ET.fromstring(response.content)
    fields = {child.tag: child.text for child in root}
    assert root.tag == "Error"
    assert fields == {
        "Code": code,
        "Message": message,
        "Resource": f"/fail/{kind}",
        "RequestId": response.headers["x-amz-request-id"],
    }
    assert fields["RequestId"] == response.headers["x-openstack-request-id"]


def test_an_unexpected_s3_error_is_logged_with_the_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spec = PipelineSpec("s3", ErrorStyle.S3, request_id_headers=("x-amz-request-id",))
    client = TestClient(_app(spec), raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger=pipeline.__name__):
        response = client.get("/fail/crash")
    request_id = response.headers["x-amz-request-id"]
    assert response.status_code == 500
    root = ET.fromstring(response.content)
    assert root.findtext("Code") == "InternalError"
    assert request_id in (root.findtext("Message") or "")
    (record,) = [r for r in caplog.records if request_id in r.getMessage()]
    assert record.exc_info is not None and "boom" in str(record.exc_info[1])


def test_an_s3_head_error_has_no_body() -> None:
    spec = PipelineSpec("s3", ErrorStyle.S3, request_id_headers=("x-amz-request-id",))
    response = TestClient(_app(spec)).head("/fail/thing")
    assert response.status_code == 404 and response.content == b""
    assert response.headers["x-amz-request-id"].startswith("req-")


def test_s3_codes_decide_the_status() -> None:
    assert s3_error(404, "NoSuchBucket") == ("NoSuchBucket", 404)
    assert s3_error(400, "SignatureDoesNotMatch") == ("SignatureDoesNotMatch", 403)
    assert s3_error(422) == ("BadDigest", 400)
    assert s3_error(418) == ("InvalidRequest", 418)
    assert s3_error(507) == ("InternalError", 500)
    status, body, _ = render_exception(ErrorStyle.S3, NoSuchThing(thing="x"), resource="/b/k")
    assert status == 404 and b"<Resource>/b/k</Resource>" in body


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/v2.1/servers/*/ips", "/v2.1/servers/abc/ips", True),
        ("/v2.1/servers/*/ips", "/v2.1/servers/a/b/ips", False),
        ("/v2.1/servers/*", "/v2.1/servers/", False),
        ("/v2.1/servers/**", "/v2.1/servers/a/b/ips", True),
        ("/v2.1/servers/{server_id}", "/v2.1/servers/x", True),
        ("/v2.1/servers", "/v2.1/serversX", False),
        ("/v2.1/servers.json", "/v2.1/serversXjson", False),
    ],
)
def test_access_rule_paths_match_segments(pattern: str, path: str, matches: bool) -> None:
    assert access_rule_path_matches(pattern, path) is matches


def test_access_rules_limit_a_context_to_the_rules_it_names() -> None:
    rule = {"service": "compute", "method": "GET", "path": "/v2.1/flavors"}
    limited = RequestContext(user_id="u", extra={"access_rules": [rule]})
    check_access_rules(limited, ("compute",), "GET", "/v2.1/flavors")
    for service, method, path in [
        ("network", "GET", "/v2.1/flavors"),
        ("compute", "POST", "/v2.1/flavors"),
        ("compute", "GET", "/v2.1/servers"),
    ]:
        with pytest.raises(Unauthorized):
            check_access_rules(limited, (service,), method, path)
    check_access_rules(RequestContext(user_id="u"), ("compute",), "DELETE", "/anything")
