"""One exception hierarchy for every service.

Managers and drivers raise these; they never build HTTP responses.  Each
exception carries its HTTP status, a message template filled from keyword
arguments, and (for Neutron-style bodies) a ``type`` name.  The one
translation point per service is ``onestack.common.errors``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OneStackError(Exception):
    code: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    msg_fmt: ClassVar[str] = "An unexpected error occurred."
    #: The error type Neutron names in its body; defaults to the class name.
    error_type: ClassVar[str | None] = None
    #: The body key of Nova-style errors when it is not the status code's usual one.
    fault_name: ClassVar[str | None] = None
    #: A structured description for error bodies that carry one (Gnocchi's
    #: ``{"cause", "reason", "detail"}``); None: the message is the description.
    description: Any = None
    #: The S3 error code (``NoSuchKey``, ...) when it is not the status code's usual one.
    s3_code: str | None = None

    def __init__(self, message: str | None = None, **kwargs: Any) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt.format(**kwargs)
            except (KeyError, IndexError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)

    @property
    def type_name(self) -> str:
        return self.error_type or type(self).__name__


class BadRequest(OneStackError):
    code = 400
    title = "Bad Request"
    msg_fmt = "The request you have made is not valid."


class ValidationError(BadRequest):
    msg_fmt = "Invalid input: {detail}"


class Unauthorized(OneStackError):
    code = 401
    title = "Unauthorized"
    msg_fmt = "The request you have made requires authentication."


class Forbidden(OneStackError):
    code = 403
    title = "Forbidden"
    msg_fmt = "You are not authorized to perform the requested action."


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "You are not authorized to perform the requested action: {action}."


class NotFound(OneStackError):
    code = 404
    title = "Not Found"
    msg_fmt = "Could not find the requested resource."


class MethodNotAllowed(OneStackError):
    code = 405
    title = "Method Not Allowed"
    msg_fmt = "The method is not allowed for this resource."


class NotAcceptable(OneStackError):
    code = 406
    title = "Not Acceptable"
    msg_fmt = "The requested version or media type is not available."


class Conflict(OneStackError):
    code = 409
    title = "Conflict"
    msg_fmt = "The request conflicts with the current state of the resource."


class PreconditionFailed(OneStackError):
    code = 412
    title = "Precondition Failed"
    msg_fmt = "A precondition of the request failed."


class PayloadTooLarge(OneStackError):
    code = 413
    title = "Request Entity Too Large"
    msg_fmt = "Request is too large."


class OverQuota(OneStackError):
    """A quota would be exceeded; services choose 403 or 413 as their API does."""

    code = 413
    title = "Over Limit"
    msg_fmt = "Quota exceeded for {resource}: requested {requested}, in use {used}, limit {limit}."


class UnsupportedMediaType(OneStackError):
    code = 415
    title = "Unsupported Media Type"
    msg_fmt = "The media type {content_type} is not supported."


class NotSupported(OneStackError):
    """An operation this deployment or driver does not implement."""

    code = 501
    title = "Not Implemented"
    msg_fmt = "{operation} is not supported by onestack."


class ServiceUnavailable(OneStackError):
    code = 503
    title = "Service Unavailable"
    msg_fmt = "The service is unavailable."
