"""S3's XML errors: ``<Error><Code>NoSuchKey</Code><Message>...</Message>...</Error>``.

``S3Error`` carries an S3 error code; ``render`` also turns the object
service's own errors (container or object not found, access denied, ...)
into the S3 code a client expects.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.responses import Response

from onestack.common.exceptions import OneStackError
from onestack.object.exceptions import ContainerNotEmpty, ContainerNotFound, ObjectNotFound

STATUS = {
    "AccessDenied": 403,
    "AuthorizationHeaderMalformed": 400,
    "AuthorizationQueryParametersError": 400,
    "BadDigest": 400,
    "BucketAlreadyOwnedByYou": 409,
    "BucketNotEmpty": 409,
    "EntityTooLarge": 400,
    "EntityTooSmall": 400,
    "IncompleteBody": 400,
    "InternalError": 500,
    "InvalidAccessKeyId": 403,
    "InvalidArgument": 400,
    "InvalidBucketName": 400,
    "InvalidDigest": 400,
    "InvalidPart": 400,
    "InvalidPartOrder": 400,
    "InvalidRange": 416,
    "InvalidRequest": 400,
    "MalformedXML": 400,
    "MethodNotAllowed": 405,
    "MissingContentLength": 411,
    "NoSuchBucket": 404,
    "NoSuchKey": 404,
    "NoSuchUpload": 404,
    "NotImplemented": 501,
    "PreconditionFailed": 412,
    "RequestTimeTooSkewed": 403,
    "ServiceUnavailable": 503,
    "SignatureDoesNotMatch": 403,
    "XAmzContentSHA256Mismatch": 400,
}

_BY_STATUS = {
    400: "InvalidRequest",
    401: "AccessDenied",
    403: "AccessDenied",
    404: "NoSuchKey",
    405: "MethodNotAllowed",
    409: "InvalidRequest",
    411: "MissingContentLength",
    412: "PreconditionFailed",
    413: "EntityTooLarge",
    416: "InvalidRange",
    422: "BadDigest",
    501: "NotImplemented",
    503: "ServiceUnavailable",
}


class S3Error(OneStackError):
    def __init__(self, s3_code: str, message: str, *, resource: str = "") -> None:
        super().__init__(message)
        self.s3_code = s3_code
        self.resource = resource

    @property
    def status(self) -> int:
        return STATUS.get(self.s3_code, 400)


def s3_code(exc: OneStackError) -> tuple[str, int]:
    if isinstance(exc, S3Error):
        return exc.s3_code, exc.status
    if isinstance(exc, ContainerNotFound):
        return "NoSuchBucket", 404
    if isinstance(exc, ObjectNotFound):
        return "NoSuchKey", 404
    if isinstance(exc, ContainerNotEmpty):
        return "BucketNotEmpty", 409
    code = _BY_STATUS.get(exc.code, "InternalError" if exc.code >= 500 else "InvalidRequest")
    return code, STATUS.get(code, exc.code) if code != "InvalidRequest" else exc.code


def render(exc: OneStackError, request_id: str, resource: str, *, head: bool) -> Response:
    code, status = s3_code(exc)
    headers = {"x-amz-request-id": request_id}
    if head:
        return Response(status_code=status, headers=headers)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{escape(exc.message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return Response(body, status_code=status, media_type="application/xml", headers=headers)
