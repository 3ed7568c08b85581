"""S3's error codes as a client sees them (``S3Error`` itself is in
``onestack.object.exceptions``: it names an S3 code, ``NoSuchKey``).

The pipeline renders every error of the S3 app as S3's XML document
(``onestack.common.errors.ErrorStyle.S3``): an ``S3Error`` with its code, the
object service's own errors with the code they name (``ContainerNotFound``
is ``NoSuchBucket``), anything else with the usual code of its status.
"""

from __future__ import annotations

from onestack.common.errors import s3_error
from onestack.common.exceptions import OneStackError


def s3_code(exc: OneStackError) -> str:
    """The S3 code a client sees for ``exc``."""
    return s3_error(exc.code, exc.s3_code)[0]
