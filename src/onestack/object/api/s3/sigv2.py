"""AWS Signature Version 2: ``Authorization: AWS key:sig`` and presigned query strings.

boto3 still presigns S3 URLs with SigV2 unless told ``signature_version="s3v4"``,
so both are accepted: HMAC-SHA1 over method, Content-MD5, Content-Type,
Date (or Expires), the ``x-amz-*`` headers and the resource with its
sub-resources.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from starlette.requests import Request

from onestack.object.exceptions import S3Error

SUBRESOURCES = frozenset(
    {
        "acl", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
        "policy", "requestPayment", "torrent", "uploadId", "uploads", "versionId",
        "versioning", "versions", "website", "cors", "tagging", "restore",
        "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
    }
)  # fmt: skip
MAX_SKEW = 15 * 60


@dataclass(frozen=True)
class SignedV2:
    access_key: str
    signature: str
    expires: str | None  # query form: the Expires parameter


def parse(request: Request) -> SignedV2 | None:
    header = request.headers.get("authorization", "")
    if header.startswith("AWS ") and ":" in header:
        access, _, signature = header[4:].strip().rpartition(":")
        return SignedV2(access, signature, None)
    query = request.query_params
    if "AWSAccessKeyId" in query and "Signature" in query:
        return SignedV2(query["AWSAccessKeyId"], query["Signature"], query.get("Expires", ""))
    return None


def string_to_sign(request: Request, signed: SignedV2) -> str:
    headers = request.headers
    if signed.expires is not None:
        date = signed.expires
    else:
        date = "" if "x-amz-date" in headers else headers.get("date", "")
    amz = sorted(
        (k.lower(), ",".join(v.strip() for v in headers.getlist(k)))
        for k in {k.lower() for k in headers if k.lower().startswith("x-amz-")}
    )
    path = (request.scope.get("raw_path") or request.scope["path"].encode()).decode("latin-1")
    subs = sorted((k, v) for k, v in request.query_params.multi_items() if k in SUBRESOURCES)
    resource = path.split("?", 1)[0]
    if subs:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)
    return "\n".join(
        [
            request.method,
            headers.get("content-md5", ""),
            headers.get("content-type", ""),
            date,
            *[f"{k}:{v}" for k, v in amz],
            resource,
        ]
    )


def verify(request: Request, signed: SignedV2, secret: str) -> None:
    now = time.time()
    if signed.expires is not None:
        if not signed.expires.isdigit():
            raise S3Error("AccessDenied", "Expires must be a number of seconds since the epoch.")
        if int(signed.expires) < now:
            raise S3Error("AccessDenied", "Request has expired")
    else:
        raw = request.headers.get("x-amz-date") or request.headers.get("date")
        try:
            when = parsedate_to_datetime(raw or "").timestamp()
        except (TypeError, ValueError):
            raise S3Error("AccessDenied", "The request has no valid Date.") from None
        if abs(now - when) > MAX_SKEW:
            raise S3Error(
                "RequestTimeTooSkewed",
                "The difference between the request time and the current time is too large.",
            )
    digest = hmac.new(
        secret.encode(), string_to_sign(request, signed).encode(), hashlib.sha1
    ).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), signed.signature):
        raise S3Error(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
