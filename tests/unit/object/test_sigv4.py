"""SigV4 verification against requests signed by botocore itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from starlette.requests import Request

from onestack.object.s3 import sigv4
from onestack.object.s3.errors import S3Error

CREDS = Credentials("AKID", "SECRET")


def to_starlette(prepared: AWSRequest) -> Request:
    url = urlsplit(prepared.url)
    headers = [(k.lower().encode(), str(v).encode()) for k, v in prepared.headers.items()]
    if not any(k == b"host" for k, _ in headers):
        headers.append((b"host", url.netloc.encode()))
    scope = {
        "type": "http",
        "method": prepared.method,
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "headers": headers,
    }
    return Request(scope)


def signed(method: str, url: str, *, query_auth: bool = False) -> Request:
    request = AWSRequest(method=method, url=url, data=b"")
    if query_auth:
        S3SigV4QueryAuth(CREDS, "s3", "us-east-1", expires=60).add_auth(request)
    else:
        request.headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        S3SigV4Auth(CREDS, "s3", "us-east-1").add_auth(request)
    return to_starlette(request)


@pytest.mark.parametrize("query_auth", [False, True])
def test_botocore_signatures_verify(query_auth: bool) -> None:
    request = signed(
        "GET", "http://127.0.0.1:8081/bucket/a%20key?list-type=2&prefix=x", query_auth=query_auth
    )
    parsed = sigv4.parse(request)
    assert parsed is not None and parsed.access_key == "AKID"
    sigv4.verify(request, parsed, "SECRET")


def test_wrong_secret_fails() -> None:
    request = signed("PUT", "http://127.0.0.1:8081/bucket/key")
    parsed = sigv4.parse(request)
    assert parsed is not None
    with pytest.raises(S3Error) as info:
        sigv4.verify(request, parsed, "OTHER")
    assert info.value.s3_code == "SignatureDoesNotMatch"


def test_expired_presigned_url() -> None:
    request = signed("GET", "http://127.0.0.1:8081/bucket/key", query_auth=True)
    parsed = sigv4.parse(request)
    assert parsed is not None
    later = datetime.now(UTC) + timedelta(seconds=120)
    with pytest.raises(S3Error) as info:
        sigv4.verify(request, parsed, "SECRET", now=later)
    assert info.value.s3_code == "AccessDenied"


def test_skewed_clock() -> None:
    request = signed("GET", "http://127.0.0.1:8081/bucket/key")
    parsed = sigv4.parse(request)
    assert parsed is not None
    with pytest.raises(S3Error) as info:
        sigv4.verify(request, parsed, "SECRET", now=datetime.now(UTC) + timedelta(hours=1))
    assert info.value.s3_code == "RequestTimeTooSkewed"
