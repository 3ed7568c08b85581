"""Checks of error responses: the status, the body in the service's own format,
and the headers that tie the error to its request."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

TRANS_ID = re.compile(r"^tx([0-9a-f]{21})-[0-9a-f]{10}$")


def _lower(headers: Mapping[str, str] | None) -> dict[str, str]:
    return {k.lower(): v for k, v in (headers or {}).items()}


def swift_error(source: Any, code: int, fragment: str = "", *, head: bool = False) -> str:
    """``source`` (a swiftclient ClientException, or an httpx/requests response) is a
    Swift error: status ``code``, the plain-text body ``"<code> <title>\\n\\n<message>\\n"``
    (none for HEAD) that mentions ``fragment``, and an ``X-Trans-Id`` made from the
    ``X-Openstack-Request-Id``.  Returns the message."""
    if hasattr(source, "http_status"):
        status, headers = source.http_status, _lower(source.http_response_headers)
        body = source.http_response_content or b""
    else:
        status, headers, body = source.status_code, _lower(source.headers), source.content
    assert status == code, (status, body)
    request_id = headers.get("x-openstack-request-id", "")
    assert request_id.startswith("req-"), headers
    trans = TRANS_ID.match(headers.get("x-trans-id", ""))
    assert trans is not None, headers
    assert trans.group(1) == request_id.removeprefix("req-").replace("-", "")[:21]
    if head:
        assert body in (b"", ""), body
        return ""
    assert headers.get("content-type", "").startswith("text/plain"), headers
    text = body.decode() if isinstance(body, bytes) else str(body)
    match = re.fullmatch(rf"{code} [A-Z][A-Za-z -]+\n\n(.+)\n", text, re.DOTALL)
    assert match is not None, text
    message = match.group(1)
    assert fragment.lower() in message.lower(), message
    return message


def s3_error_body(
    response: Any, code: str, status: int, fragment: str = "", resource: str | None = None
) -> dict[str, str]:
    """A raw S3 response (httpx/requests) is S3's XML error ``code`` with ``status``,
    a message mentioning ``fragment``, the request's path as ``Resource`` and the
    ``x-amz-request-id`` header as ``RequestId``.  Returns the fields."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/xml"), response.headers
    root = ET.fromstring(response.content)
    assert root.tag == "Error", response.text
    fields = {child.tag: child.text or "" for child in root}
    assert fields["Code"] == code, fields
    assert fields["Message"] and fragment.lower() in fields["Message"].lower(), fields
    assert fields["RequestId"] == response.headers["x-amz-request-id"], fields
    assert fields["RequestId"].startswith("req-"), fields
    if resource is not None:
        assert fields["Resource"] == resource, fields
    return fields


def s3_client_error(info: Any, code: str, status: int, fragment: str = "") -> dict[str, Any]:
    """A boto3 ClientError (``pytest.raises(...)`` info or the exception) is S3 error
    ``code`` with ``status``, a message mentioning ``fragment`` (bodies of HEAD
    requests have none) and the request id the response names."""
    exc = getattr(info, "value", info)
    error = exc.response["Error"]
    meta = exc.response["ResponseMetadata"]
    assert (error["Code"], meta["HTTPStatusCode"]) == (code, status), exc.response
    assert meta["RequestId"].startswith("req-"), meta
    assert meta["RequestId"] == meta["HTTPHeaders"]["x-amz-request-id"], meta
    assert error["Message"] and fragment.lower() in error["Message"].lower(), error
    return dict(error)


def glance_error(response: Any, code: int, fragment: str = "") -> str:
    """A raw image API response (asked for JSON) is Glance's webob error: status
    ``code`` and ``{"message", "code": "<code> <title>", "title"}`` whose message
    mentions ``fragment``.  Returns the message."""
    assert response.status_code == code, (response.status_code, response.text)
    assert response.headers["x-openstack-request-id"].startswith("req-"), response.headers
    body = response.json()
    assert set(body) == {"message", "code", "title"}, body
    assert body["code"] == f"{code} {body['title']}" and body["title"], body
    assert body["message"] and fragment.lower() in body["message"].lower(), body
    return str(body["message"])
