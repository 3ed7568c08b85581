"""The one place where exceptions become HTTP error responses.

Every service names an :class:`ErrorStyle`; the pipeline turns any
:class:`OneStackError` into that style's body, and anything else into a logged
500 that carries the request id.
"""

from __future__ import annotations

import enum
import html
import json
from http import HTTPStatus
from typing import Any
from xml.sax.saxutils import escape

from onestack.common.exceptions import OneStackError


class ErrorStyle(enum.Enum):
    KEYSTONE = "keystone"  # {"error": {"code", "title", "message"}}
    NOVA = "nova"  # {"itemNotFound": {"code", "message"}} (also Cinder)
    NEUTRON = "neutron"  # {"NeutronError": {"type", "message", "detail"}}
    PLAIN = "plain"  # Glance and Swift: a short text body
    #: Glance: webob's error page, HTML, JSON or text as the Accept header prefers
    WEBOB = "webob"
    #: S3: ``<Error><Code>NoSuchKey</Code><Message>..</Message><Resource>..</Resource>
    #: <RequestId>..</RequestId></Error>``; the S3 code decides the status
    S3 = "s3"
    #: {"code", "title", "explanation", "error": {"type", "message", "traceback"}}
    HEAT = "heat"
    #: Gnocchi: {"code": 404, "title": "Not Found", "description": "..." or {...}}
    GNOCCHI = "gnocchi"
    #: Aodh (WSME): {"error_message": {"faultcode": "Client", "faultstring", "debuginfo"}}
    AODH = "aodh"


# Nova's and Cinder's body key per status (webob fault names).
_NOVA_KEYS = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    406: "notAcceptable",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}


#: The HTTP status of each S3 error code onestack answers.
S3_STATUS = {
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

# The S3 code of an error that names none, by its status.
_S3_BY_STATUS = {
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


def s3_error(status: int, s3_code: str | None = None) -> tuple[str, int]:
    """The S3 code and HTTP status of an error (``s3_code`` when it names one)."""
    if s3_code is not None:
        return s3_code, S3_STATUS.get(s3_code, status)
    code = _S3_BY_STATUS.get(status, "InternalError" if status >= 500 else "InvalidRequest")
    # InvalidRequest stands for several statuses (a 409 Conflict stays a 409).
    return code, status if code == "InvalidRequest" else S3_STATUS.get(code, status)


def _s3(code: int, message: str, s3_code: str | None, resource: str, request_id: str) -> bytes:
    name, _ = s3_error(code, s3_code)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{name}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource><RequestId>{escape(request_id)}</RequestId>"
        "</Error>"
    ).encode()


# webob's explanation of each status, which Heat's fault middleware puts in its body.
_EXPLANATIONS = {
    400: "The server could not comply with the request since it is either malformed or "
    "otherwise incorrect.",
    401: "This server could not verify that you are authorized to access the document you "
    "requested. Either you supplied the wrong credentials (e.g., bad password), or your "
    "browser does not understand how to supply the credentials required.",
    403: "Access was denied to this resource.",
    404: "The resource could not be found.",
    405: "The method is not allowed for this resource.",
    409: "There was a conflict when trying to complete your request.",
    413: "The body of your request was too large for this server.",
    415: "The request media type is not supported by this server.",
    500: "The server has either erred or is incapable of performing the requested operation.",
    501: "The server has not implemented the requested operation.",
    503: "The server is currently unavailable. Please try again at a later time.",
}


def status_title(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _quality(accept: str, media: str) -> float:
    """How much an Accept header value wants ``media`` (0 when not at all)."""
    kind = media.split("/")[0]
    best = 0.0
    for item in accept.split(","):
        parts = [p.strip() for p in item.split(";")]
        name, q = parts[0].lower(), 1.0
        for param in parts[1:]:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if name in (media, f"{kind}/*", "*/*"):
            best = max(best, q)
    return best


def _webob(code: int, title: str, message: str, accept: str | None) -> tuple[bytes, str]:
    status = f"{code} {title}"
    # No Accept header means anything goes: webob then picks HTML first.
    html_q = 1.0 if accept is None else _quality(accept, "text/html")
    json_q = 1.0 if accept is None else _quality(accept, "application/json")
    if html_q > 0 and html_q >= json_q:
        page = (
            f"<html>\n <head>\n  <title>{status}</title>\n </head>\n <body>\n"
            f"  <h1>{status}</h1>\n  {html.escape(message)}<br /><br />\n\n\n\n </body>\n</html>"
        )
        return page.encode(), "text/html; charset=UTF-8"
    if json_q > 0:
        body = {"message": message, "code": status, "title": title}
        return json.dumps(body).encode(), "application/json"
    return f"{status}\n\n{message}\n".encode(), "text/plain; charset=UTF-8"


def render(
    style: ErrorStyle,
    code: int,
    message: str,
    *,
    title: str | None = None,
    type_name: str = "",
    fault_name: str | None = None,
    accept: str | None = None,
    description: Any = None,
    s3_code: str | None = None,
    resource: str = "",
    request_id: str = "",
) -> tuple[bytes, str]:
    """The body and content type of an error in ``style``.

    ``accept`` is the request's Accept header (None when absent); only
    ``ErrorStyle.WEBOB`` looks at it.  ``description`` is a structured error
    description (Gnocchi's ``{"cause", "reason", "detail"}``) that replaces the
    message where the style has room for one.  ``s3_code``, ``resource`` (the
    request path) and ``request_id`` are for ``ErrorStyle.S3``.
    """
    title = title or status_title(code)
    if style is ErrorStyle.WEBOB:
        return _webob(code, title, message, accept)
    if style is ErrorStyle.GNOCCHI:
        gnocchi: dict[str, Any] = {
            "code": code,
            "title": title,
            "description": message if description is None else description,
        }
        return json.dumps(gnocchi).encode(), "application/json"
    if style is ErrorStyle.AODH:
        fault = {
            "faultcode": "Server" if code >= 500 else "Client",
            "faultstring": message,
            "debuginfo": None,
        }
        return json.dumps({"error_message": fault}).encode(), "application/json"
    if style is ErrorStyle.S3:
        return _s3(code, message, s3_code, resource, request_id), "application/xml"
    body: dict[str, object]
    if style is ErrorStyle.KEYSTONE:
        body = {"error": {"code": code, "title": title, "message": message}}
    elif style is ErrorStyle.NOVA:
        key = fault_name or _NOVA_KEYS.get(code, "computeFault" if code >= 500 else "badRequest")
        body = {key: {"code": code, "message": message}}
    elif style is ErrorStyle.HEAT:
        body = {
            "code": code,
            "title": title,
            "explanation": _EXPLANATIONS.get(code, _EXPLANATIONS[500 if code >= 500 else 400]),
            "error": {"type": type_name or title.replace(" ", ""), "message": message,
                      "traceback": None},
        }  # fmt: skip
    elif style is ErrorStyle.NEUTRON:
        body = {
            "NeutronError": {
                "type": type_name or title.replace(" ", ""),
                "message": message,
                "detail": "",
            }
        }
    else:
        text = f"{code} {title}\n\n{message}\n"
        return text.encode(), "text/plain; charset=UTF-8"
    return json.dumps(body).encode(), "application/json"


def render_exception(
    style: ErrorStyle,
    exc: OneStackError,
    accept: str | None = None,
    *,
    resource: str = "",
    request_id: str = "",
) -> tuple[int, bytes, str]:
    """The status, body and content type of ``exc`` in ``style``."""
    body, content_type = render(
        style,
        exc.code,
        exc.message,
        title=exc.title,
        type_name=exc.type_name,
        fault_name=exc.fault_name,
        accept=accept,
        description=exc.description,
        s3_code=exc.s3_code,
        resource=resource,
        request_id=request_id,
    )
    status = s3_error(exc.code, exc.s3_code)[1] if style is ErrorStyle.S3 else exc.code
    return status, body, content_type
