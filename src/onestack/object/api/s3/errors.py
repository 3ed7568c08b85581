"""S3's errors: ``S3Error`` names an S3 error code (``NoSuchKey``, ``SignatureDoesNotMatch``).

The pipeline renders every error of the S3 app as S3's XML document
(``onestack.common.errors.ErrorStyle.S3``): an ``S3Error`` with its code, the
object service's own errors with the code they name (``ContainerNotFound``
is ``NoSuchBucket``), anything else with the usual code of its status.
"""

from __future__ import annotations

from onestack.common.errors import S3_STATUS, s3_error
from onestack.common.exceptions import OneStackError


class S3Error(OneStackError):
    def __init__(self, s3_code: str, message: str) -> None:
        super().__init__(message)
        self.s3_code = s3_code

    @property
    def status(self) -> int:
        return S3_STATUS.get(self.s3_code or "", 400)


def s3_code(exc: OneStackError) -> str:
    """The S3 code a client sees for ``exc``."""
    return s3_error(exc.code, exc.s3_code)[0]
