"""Object requests: GET/HEAD (ranges, conditions), PUT (streamed), POST, DELETE, COPY."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from functools import partial
from urllib.parse import quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse

from onestack.common.exceptions import BadRequest, Conflict
from onestack.object import symlinks
from onestack.object.acl import Caller
from onestack.object.api import bulk
from onestack.object.api.http import (
    check_conditions,
    delete_at,
    guess_type,
    http_date,
    parse_ranges,
    title,
)
from onestack.object.exceptions import LengthRequired, ObjectNotFound, UnprocessableEntity
from onestack.object.large import MAX_MANIFEST_SIZE, parse_manifest_put
from onestack.object.manager import ObjectManager
from onestack.object.reader import ReadResult, copy_object, open_read
from onestack.object.store import StoredObject
from onestack.object.timestamps import format_timestamp
from onestack.object.upload import UploadSpec

BATCH = 1 << 20


def _etag_header(result: ReadResult) -> str:
    return f'"{result.etag}"' if result.quoted else result.etag


def read_headers(result: ReadResult) -> dict[str, str]:
    stored = result.stored
    headers = {
        "Content-Type": result.content_type,
        "Etag": _etag_header(result),
        "Last-Modified": http_date(stored.last_changed),
        "X-Timestamp": stored.last_changed,
        "Accept-Ranges": "bytes",
    }
    for key, value in result.headers.items():
        headers[title(key)] = value
    return headers


def _stream(
    result: ReadResult, pieces: list[tuple[bytes, int, int]], tail: bytes
) -> Iterator[bytes]:
    try:
        assert result.body is not None
        for head, start, end in pieces:
            if head:
                yield head
            yield from result.body.read(start, end)
        if tail:
            yield tail
    finally:
        result.close()


async def get_or_head(
    request: Request, manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> Response:
    head = request.method == "HEAD"
    manifest = request.query_params.get("multipart-manifest")
    if manifest == "get" and request.query_params.get("format") == "raw":
        manifest = "raw"
    result = await run_in_threadpool(
        open_read,
        manager.core,
        caller,
        account,
        container,
        obj,
        manifest=manifest,
        with_body=not head,
        symlink=request.query_params.get("symlink"),
    )
    try:
        headers = read_headers(result)
        if not check_conditions(request.headers, result.etag, result.stored.last_changed):
            result.close()
            return Response(
                status_code=304,
                headers={"Etag": headers["Etag"], "Last-Modified": headers["Last-Modified"]},
            )
        ranges = None if head else parse_ranges(request.headers.get("range"), result.length)
    except BaseException:
        result.close()
        raise
    if head:
        headers["Content-Length"] = str(result.length)
        return Response(status_code=200, headers=headers)
    length = result.length
    if ranges is None:
        headers["Content-Length"] = str(length)
        return StreamingResponse(_stream(result, [(b"", 0, length)], b""), 200, headers)
    if len(ranges) == 1:
        start, end = ranges[0]
        headers["Content-Length"] = str(end - start)
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{length}"
        return StreamingResponse(_stream(result, [(b"", start, end)], b""), 206, headers)
    boundary = uuid.uuid4().hex
    pieces = []
    total = 0
    for index, (start, end) in enumerate(ranges):
        lead = b"\r\n" if index else b""
        part_head = (
            lead
            + (
                f"--{boundary}\r\nContent-Type: {result.content_type}\r\n"
                f"Content-Range: bytes {start}-{end - 1}/{length}\r\n\r\n"
            ).encode()
        )
        pieces.append((part_head, start, end))
        total += len(part_head) + end - start
    tail = f"\r\n--{boundary}--".encode()
    headers["Content-Type"] = f"multipart/byteranges;boundary={boundary}"
    headers["Content-Length"] = str(total + len(tail))
    return StreamingResponse(_stream(result, pieces, tail), 206, headers)


def _stored_headers(request: Request, *, with_delete_at: bool = True) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name.startswith("x-object-meta-"):
            # An empty value is stored as such (objects, unlike containers
            # and accounts, have no "empty means remove" rule).
            headers[name] = value.strip()
        elif name in ("content-encoding", "content-disposition") and value:
            headers[name] = value
        elif name == "x-object-manifest" and value:
            if "/" not in unquote(value).lstrip("/"):
                raise BadRequest("X-Object-Manifest must be in the format container/prefix")
            headers[name] = value
    if with_delete_at:
        when = delete_at(request)
        if when is not None:
            headers["x-delete-at"] = when
    return headers


def sync_timestamp(request: Request, caller: Caller) -> str | None:
    """The X-Timestamp a container sync request carries (only those may set one)."""
    value = request.headers.get("x-timestamp")
    if not caller.container_sync or value is None:
        return None
    try:
        when = float(value)
    except ValueError:
        when = -1.0
    if not 0 < when < 10**10:
        raise BadRequest(f"X-Timestamp should be a UNIX timestamp float value; was {value!r}")
    return format_timestamp(when)


def _content_type(request: Request, obj: str) -> str:
    given = request.headers.get("content-type")
    detect = request.headers.get("x-detect-content-type", "").lower() in ("true", "1", "yes")
    if not given or detect:
        return guess_type(obj)
    return given


def _written(
    stored: StoredObject, etag: str | None = None, extra: dict[str, str] | None = None
) -> Response:
    headers = {
        "Etag": etag or stored.etag,
        "Last-Modified": http_date(stored.timestamp),
        "X-Timestamp": stored.timestamp,
        "Content-Type": "text/html; charset=UTF-8",
        **(extra or {}),
    }
    return Response(status_code=201, headers=headers)


def _split_dest(value: str) -> tuple[str, str]:
    container, _, obj = unquote(value).lstrip("/").partition("/")
    if not container or not obj:
        raise BadRequest("Bad copy destination/source: use container/object.")
    return container, obj


async def copy(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    src: tuple[str, str, str],
    dst: tuple[str, str, str],
) -> Response:
    headers = _stored_headers(request)
    fresh = request.headers.get("x-fresh-metadata", "").lower() in ("true", "1", "yes")
    content_type = request.headers.get("content-type") if request.method == "PUT" else None
    if request.method == "COPY":
        content_type = request.headers.get("content-type")
    source, stored = await run_in_threadpool(
        copy_object,
        manager.objects,
        caller,
        src,
        dst,
        headers=headers,
        content_type=content_type,
        fresh=fresh,
        manifest=request.query_params.get("multipart-manifest"),
        symlink=request.query_params.get("symlink"),
    )
    extra = {
        "X-Copied-From": quote(f"{src[1]}/{src[2]}"),
        "X-Copied-From-Last-Modified": http_date(source.last_changed),
        "X-Copied-From-Timestamp": source.last_changed,
    }
    if src[0] != dst[0]:
        extra["X-Copied-From-Account"] = quote(src[0])
    # The copy's user metadata (kept from the source and/or given) is echoed.
    for key, value in stored.headers.items():
        if key.startswith("x-object-meta-"):
            extra[title(key)] = value
    return _written(stored, extra=extra)


async def put(
    request: Request, manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> Response:
    copy_from = request.headers.get("x-copy-from")
    if copy_from:
        src_account = unquote(request.headers.get("x-copy-from-account") or account)
        return await copy(
            request,
            manager,
            caller,
            (src_account, *_split_dest(copy_from)),
            (account, container, obj),
        )
    length_raw = request.headers.get("content-length")
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    if length_raw is None and not chunked:
        raise LengthRequired()
    if length_raw is not None and not length_raw.isdigit():
        raise BadRequest("Invalid Content-Length")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise BadRequest("If-None-Match only supports *")
    headers = _stored_headers(request)
    content_type = _content_type(request, obj)
    if symlinks.requested(request.headers):
        body_length = int(length_raw) if length_raw is not None and not chunked else None
        headers.update(symlinks.link_headers(request.headers, body_length))
        if not request.headers.get("content-type"):
            content_type = symlinks.CONTENT_TYPE
        if request.headers.get("x-symlink-target-etag"):
            headers.update(
                await run_in_threadpool(
                    _static_target, manager, caller, account, headers, request.headers
                )
            )
    spec = UploadSpec(
        content_type=content_type,
        headers=headers,
        expected_etag=request.headers.get("etag"),
        length=int(length_raw) if length_raw is not None and not chunked else None,
        if_none_match=if_none_match is not None,
        timestamp=sync_timestamp(request, caller),
    )
    if request.query_params.get("multipart-manifest") == "put":
        return await _put_manifest(request, manager, caller, (account, container, obj), spec)
    upload = await run_in_threadpool(
        manager.objects.begin_upload, caller, account, container, obj, spec
    )
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= BATCH:
                await run_in_threadpool(upload.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(upload.write, bytes(buffer))
        stored = await run_in_threadpool(upload.finish)
    except ClientDisconnect:
        await run_in_threadpool(upload.abort)
        raise BadRequest("The client disconnected during the upload.") from None
    except BaseException:
        await run_in_threadpool(upload.abort)
        raise
    return _written(stored)


def _static_target(
    manager: ObjectManager,
    caller: Caller,
    account: str,
    headers: dict[str, str],
    request_headers: Mapping[str, str],
) -> dict[str, str]:
    """The target ETag and size a static link keeps; 409 when the target is missing or
    its ETag is not the one asked for."""
    wanted = request_headers["x-symlink-target-etag"].strip().strip('"')
    target_account = headers.get(symlinks.TARGET_ACCOUNT) or account
    container, _, obj = headers[symlinks.TARGET].partition("/")
    try:
        result = open_read(manager.core, caller, target_account, container, obj, with_body=False)
    except ObjectNotFound:
        raise Conflict("X-Symlink-Target does not exist") from None
    result.close()
    if result.etag != wanted:
        raise Conflict(
            f"Object Etag {result.etag!r} does not match X-Symlink-Target-Etag header {wanted!r}"
        )
    return {symlinks.TARGET_ETAG: result.etag, symlinks.TARGET_BYTES: str(result.length)}


async def _put_manifest(
    request: Request,
    manager: ObjectManager,
    caller: Caller,
    target: tuple[str, str, str],
    spec: UploadSpec,
) -> Response:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_MANIFEST_SIZE:
            raise BadRequest(f"Manifest larger than {MAX_MANIFEST_SIZE} bytes.")
    account = target[0]
    segments, total, slo_etag = await run_in_threadpool(
        parse_manifest_put, manager.core, caller, account, bytes(body)
    )
    if spec.expected_etag and spec.expected_etag.strip('"') != slo_etag:
        raise UnprocessableEntity()
    data = json.dumps(segments).encode()
    spec.expected_etag = None
    spec.length = len(data)
    spec.headers = {
        **spec.headers,
        "x-static-large-object": "True",
        "x-object-sysmeta-slo-etag": slo_etag,
        "x-object-sysmeta-slo-size": str(total),
    }
    spec.listing_size = total
    spec.listing_etag = slo_etag

    def write() -> StoredObject:
        return manager.objects.write_object(caller, *target, spec, [data])

    stored = await run_in_threadpool(write)
    return _written(stored, etag=f'"{slo_etag}"')


async def post(
    request: Request, manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> Response:
    if symlinks.requested(request.headers):
        raise BadRequest("A PUT request is required to set a symlink target")
    headers = _stored_headers(request)
    content_type = request.headers.get("content-type") or None
    stored = await run_in_threadpool(
        manager.objects.post_object, caller, account, container, obj, headers, content_type
    )
    target = symlinks.target_of(account, stored)
    if target is not None:
        # The link's own metadata changed; the client is pointed at the target.
        return Response(
            status_code=307,
            headers={
                "Location": symlinks.path_of(target),
                "Content-Type": "text/html; charset=UTF-8",
            },
        )
    return Response(status_code=202, headers={"Content-Type": "text/html; charset=UTF-8"})


async def delete(
    request: Request, manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> Response:
    if request.query_params.get("multipart-manifest") == "delete":
        return await bulk.delete_slo(request, manager, caller, account, container, obj)
    await run_in_threadpool(
        partial(
            manager.objects.delete_object,
            caller,
            account,
            container,
            obj,
            timestamp=sync_timestamp(request, caller),
        )
    )
    return Response(status_code=204)


async def copy_method(
    request: Request, manager: ObjectManager, caller: Caller, account: str, container: str, obj: str
) -> Response:
    destination = request.headers.get("destination")
    if not destination:
        raise BadRequest("Destination header required")
    dst_account = unquote(request.headers.get("destination-account") or account)
    return await copy(
        request,
        manager,
        caller,
        (account, container, obj),
        (dst_account, *_split_dest(destination)),
    )
