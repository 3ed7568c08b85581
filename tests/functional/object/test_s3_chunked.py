"""Streaming S3 uploads (aws-chunked) whose chunks are signed one by one.

The request is signed with botocore's SigV4 (declaring the streaming payload);
the chunk signatures are chained here from the request's signature, as SDKs
that stream uploads do.  A forged chunk must leave no object behind.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

import botocore.exceptions
import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.functional.object.conftest import ec2_credentials
from tests.support.errors import s3_error_body
from tests.support.names import unique
from tests.support.server import RunningCloud

STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
EMPTY = hashlib.sha256(b"").hexdigest()


def _key(secret: str, date: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (date, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _chunked_put(
    cloud: RunningCloud, access: str, secret: str, path: str, chunks: list[bytes], forge: int = -1
) -> requests.Response:
    url = cloud.url("s3") + path
    decoded = sum(len(c) for c in chunks)
    request = AWSRequest(
        method="PUT",
        url=url,
        headers={
            "x-amz-content-sha256": STREAMING,
            "x-amz-decoded-content-length": str(decoded),
            "content-encoding": "aws-chunked",
        },
    )
    SigV4Auth(Credentials(access, secret), "s3", "us-east-1").add_auth(request)
    seed = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key = _key(secret, amz_date[:8])
    body, previous = b"", seed
    for index, data in enumerate([*chunks, b""]):
        to_sign = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                EMPTY,
                hashlib.sha256(data).hexdigest(),
            ]
        )
        previous = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        sent = data if index != forge else bytes(len(data))  # forged: zeros instead
        body += f"{len(data):x};chunk-signature={previous}\r\n".encode() + sent + b"\r\n"
    headers = dict(request.headers.items())
    return requests.put(url, data=body, headers=headers, timeout=30)


@pytest.fixture()
def bucket(s3: Any) -> Any:
    name = unique("chunked")
    s3.create_bucket(Bucket=name)
    yield name
    for item in s3.list_objects_v2(Bucket=name).get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_signed_chunks_store_the_decoded_bytes(
    cloud: RunningCloud, admin: Any, s3: Any, bucket: str
) -> None:
    access, secret = ec2_credentials(admin)
    chunks = [os.urandom(65536), os.urandom(65536), os.urandom(1000)]
    response = _chunked_put(cloud, access, secret, f"/{bucket}/streamed", chunks)
    assert response.status_code == 200, response.text
    body = s3.get_object(Bucket=bucket, Key="streamed")["Body"].read()
    assert body == b"".join(chunks)


def test_a_forged_chunk_is_refused_and_stores_nothing(
    cloud: RunningCloud, admin: Any, s3: Any, bucket: str
) -> None:
    access, secret = ec2_credentials(admin)
    chunks = [os.urandom(65536), os.urandom(65536), os.urandom(1000)]
    response = _chunked_put(cloud, access, secret, f"/{bucket}/forged", chunks, forge=1)
    s3_error_body(response, "SignatureDoesNotMatch", 403, resource=f"/{bucket}/forged")
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        s3.head_object(Bucket=bucket, Key="forged")
    assert missing.value.response["Error"]["Code"] in ("404", "NoSuchKey")
