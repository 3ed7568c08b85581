"""Form POST: browser uploads signed with a temp URL key (Swift's formpost middleware).

A ``POST /v1/AUTH_x/<container>[/<prefix>]`` with a ``multipart/form-data``
body carries the fields ``redirect``, ``max_file_size``, ``max_file_count``,
``expires`` and ``signature`` (an HMAC with an account or container
``Temp-URL-Key`` over ``"<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>"``),
optionally ``x_delete_at``/``x_delete_after``, then file parts; each file
becomes the object ``<prefix><filename>``.  Without ``redirect`` the answer is
the status with a plain-text ``FormPost: <message>`` body; with one, a 303 to
it with ``status`` and ``message`` in the query.  A form past ``expires`` is
401 "FormPost: Form Expired", a wrong signature 401 "FormPost: Invalid Signature".
The form is parsed in memory, so bodies over 256 MiB are refused (413).
"""

from __future__ import annotations

import time
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import quote, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.exceptions import BadRequest
from onestack.object import tempurl
from onestack.object.acl import Caller
from onestack.object.api.http import expiry
from onestack.object.manager import ObjectManager
from onestack.object.upload import UploadSpec

#: the largest form body taken (it is parsed in memory)
MAX_FORM_BODY = 256 * 1024 * 1024


def is_form(request: Request, container: str) -> bool:
    kind = request.headers.get("content-type", "").lower()
    return request.method == "POST" and bool(container) and kind.startswith("multipart/form-data")


def _plain(status: int, reason: str, message: str) -> Response:
    body = f"{status} {reason}\r\nFormPost: {message}"
    return Response(body, status_code=status, media_type="text/plain")


def _parts(content_type: str, body: bytes) -> list[Message]:
    document = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not document.is_multipart():
        return []
    return [part for part in document.iter_parts()]


def _int(value: str, name: str) -> int:
    if not value.strip().isdigit():
        raise ValueError(f"{name} must be an integer")
    return int(value)


async def handle(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    account: str,
    container: str,
    prefix: str,
    keys: list[str],
) -> Response:
    fields: dict[str, str] = {}
    files: list[tuple[str, str, bytes]] = []
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BODY:
            return _plain(413, "Request Entity Too Large", "form larger than the limit")
    parts = _parts(request.headers["content-type"], bytes(body))
    if not parts:
        return _plain(400, "Bad Request", "invalid starting boundary")
    for part in parts:
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if filename is not None:
            files.append((filename, part.get_content_type(), data))
        elif isinstance(name, str):
            fields[name] = data.decode("utf-8", "replace")
    redirect = fields.get("redirect", "")
    try:
        max_size = _int(fields.get("max_file_size", ""), "max_file_size")
        max_count = _int(fields.get("max_file_count", ""), "max_file_count")
        expires = _int(fields.get("expires", "0") or "0", "expires")
    except ValueError as exc:
        return _plain(400, "Bad Request", str(exc))
    if expires < time.time():
        return _plain(401, "Unauthorized", "Form Expired")
    path = f"/v1/{account}/{container}/{prefix}" if prefix else f"/v1/{account}/{container}"
    signed = "\n".join(
        [
            path,
            redirect,
            fields.get("max_file_size", ""),
            fields.get("max_file_count", ""),
            fields.get("expires", ""),
        ]
    )
    if not tempurl.signature_matches(signed, fields.get("signature", ""), keys):
        return _plain(401, "Unauthorized", "Invalid Signature")
    headers: dict[str, str] = {}
    try:
        when = expiry(fields.get("x_delete_at") or None, fields.get("x_delete_after") or None)
    except BadRequest as exc:
        return _plain(400, "Bad Request", exc.message)
    if when is not None:
        headers["x-delete-at"] = when
    status, reason, message = 201, "Created", ""
    if len(files) > max_count:
        status, reason, message = 400, "Bad Request", "max file count exceeded"
    elif any(len(data) > max_size for _, _, data in files):
        status, reason, message = 400, "Bad Request", "max_file_size exceeded"
    else:
        target = Caller(caller.ctx, caller.referrer, tempurl=True)
        for filename, kind, data in files:
            if not filename:
                continue
            spec = UploadSpec(content_type=kind, headers=dict(headers), length=len(data))
            await run_in_threadpool(
                _write, manager, target, (account, container, prefix + filename), spec, data
            )
    if redirect:
        sep = "&" if "?" in redirect else "?"
        location = redirect + sep + urlencode({"status": status, "message": message})
        return Response(
            status_code=303,
            headers={"Location": quote(location, safe=":/?&=%#+;,@")},
            media_type="text/html",
        )
    return _plain(status, reason, message)


def _write(
    manager: ObjectManager,
    caller: Caller,
    target: tuple[str, str, str],
    spec: UploadSpec,
    data: Any,
) -> None:
    manager.objects.write_object(caller, *target, spec, [data])
