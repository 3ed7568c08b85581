"""The object service's errors.

Swift answers them with a short text body; the S3 API with S3's XML error,
under the S3 code each names (``s3_code``) or its status's usual one.
"""

from __future__ import annotations

from onestack.common.errors import S3_STATUS
from onestack.common.exceptions import (
    BadRequest,
    Conflict,
    NotFound,
    OneStackError,
    PayloadTooLarge,
    PreconditionFailed,
    Unauthorized,
)


class AccountNotFound(NotFound):
    msg_fmt = "The account {account} could not be found."


class ContainerNotFound(NotFound):
    msg_fmt = "The container {container} could not be found."
    s3_code = "NoSuchBucket"


class ObjectNotFound(NotFound):
    msg_fmt = "The object {name} could not be found."
    s3_code = "NoSuchKey"


class ContainerNotEmpty(Conflict):
    msg_fmt = "There was a conflict when trying to complete your request."
    s3_code = "BucketNotEmpty"


class LengthRequired(OneStackError):
    code = 411
    title = "Length Required"
    msg_fmt = "Missing Content-Length header (or Transfer-Encoding: chunked)."


class UnprocessableEntity(OneStackError):
    code = 422
    title = "Unprocessable Entity"
    msg_fmt = "Unable to process the contained instructions: the ETag does not match the data."


class RangeNotSatisfiable(OneStackError):
    code = 416
    title = "Requested Range Not Satisfiable"
    msg_fmt = "The Range requested is not available."


class ObjectTooLarge(PayloadTooLarge):
    msg_fmt = "Your request is too large (over {limit} bytes)."


class QuotaExceeded(PayloadTooLarge):
    msg_fmt = "Upload exceeds quota."


class InvalidMetadata(BadRequest):
    msg_fmt = "{detail}"


class ConditionFailed(PreconditionFailed):
    msg_fmt = "A precondition of the request failed."


class TempUrlInvalid(Unauthorized):
    msg_fmt = "Temp URL invalid"


class TempUrlExpired(Unauthorized):
    msg_fmt = "Temp URL expired"


class S3Error(OneStackError):
    """An error of the S3 API that names its S3 code (``NoSuchKey``,
    ``SignatureDoesNotMatch``); the code decides the status."""

    def __init__(self, s3_code: str, message: str) -> None:
        super().__init__(message)
        self.s3_code = s3_code

    @property
    def status(self) -> int:
        return S3_STATUS.get(self.s3_code or "", 400)
