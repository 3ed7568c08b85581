"""S3 object operations: ListObjects(V2), Get/Head/Put/Copy/Delete, DeleteObjects."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import quote, unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from onestack.common.exceptions import NotFound, OneStackError
from onestack.object.api.http import check_conditions, guess_type, http_date, parse_ranges, title
from onestack.object.api.s3 import sigv4
from onestack.object.api.s3.context import S3Context
from onestack.object.api.s3.errors import s3_code
from onestack.object.api.s3.xml import Doc, iso, parse
from onestack.object.exceptions import S3Error, UnprocessableEntity
from onestack.object.listings import Subdir, ts_datetime
from onestack.object.models import ObjectRow
from onestack.object.reader import ReadResult, open_read, public_headers
from onestack.object.upload import UploadSpec

BATCH = 1 << 20
MAX_KEYS = 1000


def _enc(value: str, url: bool) -> str:
    return quote(value, safe="/") if url else value


def list_objects(s3: S3Context, bucket: str, query: dict[str, str]) -> Response:
    v2 = query.get("list-type") == "2"
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    url = query.get("encoding-type") == "url"
    try:
        max_keys = min(int(query.get("max-keys", MAX_KEYS)), MAX_KEYS)
    except ValueError:
        raise S3Error("InvalidArgument", "max-keys must be an integer.") from None
    if max_keys < 0:
        raise S3Error("InvalidArgument", "max-keys must not be negative.")
    if v2:
        token = query.get("continuation-token")
        if token:
            try:
                marker = base64.urlsafe_b64decode(token.encode()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise S3Error("InvalidArgument", "The continuation token is not valid.") from None
        else:
            marker = query.get("start-after", "")
    else:
        marker = query.get("marker", "")
    options = {
        "prefix": prefix,
        "delimiter": delimiter,
        "marker": marker,
        "limit": max_keys + 1,
    }
    _, _, items = s3.manager.containers.list_objects(s3.caller, s3.account, bucket, options)
    truncated = len(items) > max_keys
    items = items[:max_keys]
    doc = Doc("ListBucketResult")
    doc.add("Name", bucket)
    doc.add("Prefix", _enc(prefix, url))
    if v2:
        if query.get("start-after"):
            doc.add("StartAfter", _enc(query["start-after"], url))
        if query.get("continuation-token"):
            doc.add("ContinuationToken", query["continuation-token"])
        doc.add("KeyCount", len(items))
    else:
        doc.add("Marker", _enc(marker, url))
    doc.add("MaxKeys", max_keys)
    if delimiter:
        doc.add("Delimiter", _enc(delimiter, url))
    if url:
        doc.add("EncodingType", "url")
    doc.add("IsTruncated", "true" if truncated else "false")
    if truncated and items:
        last = items[-1].name
        if v2:
            doc.add("NextContinuationToken", base64.urlsafe_b64encode(last.encode()).decode())
        elif delimiter:
            doc.add("NextMarker", _enc(last, url))
    fetch_owner = not v2 or query.get("fetch-owner") == "true"
    for item in items:
        if isinstance(item, Subdir):
            common = doc.child("CommonPrefixes")
            doc.add("Prefix", _enc(item.name, url), common)
            continue
        assert isinstance(item, ObjectRow)
        entry = doc.child("Contents")
        doc.add("Key", _enc(item.name, url), entry)
        doc.add("LastModified", iso(item.last_modified), entry)
        doc.add("ETag", f'"{item.s3_etag or item.etag}"', entry)
        doc.add("Size", item.size, entry)
        doc.add("StorageClass", "STANDARD", entry)
        if fetch_owner:
            owner = doc.child("Owner", entry)
            doc.add("ID", s3.owner, owner)
            doc.add("DisplayName", s3.owner, owner)
    return Response(doc.bytes(), media_type="application/xml")


def _headers(result: ReadResult) -> dict[str, str]:
    stored = result.stored
    etag = stored.headers.get("x-object-sysmeta-s3-etag") or result.etag
    headers = {
        "Content-Type": result.content_type,
        "ETag": f'"{etag}"',
        "Last-Modified": http_date(stored.last_changed),
        "Accept-Ranges": "bytes",
    }
    for key, value in public_headers(stored).items():
        if key.startswith("x-object-meta-"):
            headers["x-amz-meta-" + key[len("x-object-meta-") :]] = value
        elif key in ("content-encoding", "content-disposition"):
            headers[title(key)] = value
    return headers


async def get_object(request: Request, s3: S3Context, bucket: str, key: str) -> Response:
    head = request.method == "HEAD"
    result = await run_in_threadpool(
        open_read, s3.manager.core, s3.caller, s3.account, bucket, key, with_body=not head
    )
    try:
        headers = _headers(result)
        etag = headers["ETag"].strip('"')
        if not check_conditions(request.headers, etag, result.stored.last_changed):
            result.close()
            return Response(status_code=304, headers={"ETag": headers["ETag"]})
        ranges = None
        if not head and request.headers.get("range"):
            ranges = parse_ranges(request.headers["range"], result.length)
    except BaseException:
        result.close()
        raise
    if head:
        headers["Content-Length"] = str(result.length)
        return Response(status_code=200, headers=headers)
    start, end, status = 0, result.length, 200
    if ranges is not None and len(ranges) == 1:
        start, end = ranges[0]
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end - 1}/{result.length}"
    headers["Content-Length"] = str(end - start)

    def stream() -> Any:
        try:
            assert result.body is not None
            yield from result.body.read(start, end)
        finally:
            result.close()

    return StreamingResponse(stream(), status, headers)


def _user_headers(request: Request) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        name = name.lower()
        if name.startswith("x-amz-meta-"):
            headers["x-object-meta-" + name[len("x-amz-meta-") :]] = value
        elif name in ("content-encoding", "content-disposition") and value:
            headers[name] = value
    return headers


def _content_md5(request: Request) -> str | None:
    value = request.headers.get("content-md5")
    if value is None:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.") from None
    if len(raw) != 16:
        raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.")
    return raw.hex()


def _declared_length(request: Request) -> int | None:
    decoded = request.headers.get("x-amz-decoded-content-length")
    length = decoded or request.headers.get("content-length")
    if length is None:
        if "chunked" in request.headers.get("transfer-encoding", ""):
            return None
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.")
    if not length.isdigit():
        raise S3Error("InvalidArgument", "Invalid Content-Length.")
    return int(length)


async def stream_upload(
    request: Request, s3: S3Context, container: str, name: str, spec: UploadSpec
) -> Any:
    upload = await run_in_threadpool(
        s3.manager.objects.begin_upload, s3.caller, s3.account, container, name, spec
    )
    try:
        buffer = bytearray()
        async for chunk in sigv4.payload(
            request,
            getattr(request.state, "payload_hash", None),
            getattr(request.state, "chunk_signer", None),
        ):
            buffer += chunk
            if len(buffer) >= BATCH:
                await run_in_threadpool(upload.write, bytes(buffer))
                buffer.clear()
        if buffer:
            await run_in_threadpool(upload.write, bytes(buffer))
        return await run_in_threadpool(upload.finish)
    except UnprocessableEntity:
        await run_in_threadpool(upload.abort)
        raise S3Error(
            "BadDigest", "The Content-MD5 you specified did not match what we received."
        ) from None
    except BaseException:
        await run_in_threadpool(upload.abort)
        raise


async def put_object(request: Request, s3: S3Context, bucket: str, key: str) -> Response:
    spec = UploadSpec(
        content_type=request.headers.get("content-type") or guess_type(key),
        headers=_user_headers(request),
        expected_etag=_content_md5(request),
        length=_declared_length(request),
    )
    stored = await stream_upload(request, s3, bucket, key, spec)
    return Response(status_code=200, headers={"ETag": f'"{stored.etag}"'})


def _copy_source(request: Request) -> tuple[str, str]:
    source = unquote(request.headers["x-amz-copy-source"]).split("?", 1)[0]
    bucket, _, key = source.lstrip("/").partition("/")
    if not bucket or not key:
        raise S3Error("InvalidArgument", "x-amz-copy-source must be /bucket/key.")
    return bucket, key


async def copy_object(request: Request, s3: S3Context, bucket: str, key: str) -> Response:
    src_bucket, src_key = _copy_source(request)
    directive = request.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise S3Error("InvalidArgument", "Unknown metadata directive.")
    if (src_bucket, src_key) == (bucket, key) and directive == "COPY":
        raise S3Error(
            "InvalidRequest",
            "This copy request is illegal because it is trying to copy an object to itself "
            "without changing the object's metadata.",
        )

    def work() -> tuple[Any, Any]:
        source = open_read(s3.manager.core, s3.caller, s3.account, src_bucket, src_key)
        try:
            stored = source.stored
            etag = stored.headers.get("x-object-sysmeta-s3-etag") or source.etag
            conditions = {
                k[len("x-amz-copy-source-") :]: v
                for k, v in request.headers.items()
                if k.lower().startswith("x-amz-copy-source-if-")
            }
            if conditions and not check_conditions(conditions, etag, stored.last_changed):
                raise S3Error("PreconditionFailed", "At least one of the preconditions failed.")
            if directive == "REPLACE":
                headers = _user_headers(request)
                content_type = request.headers.get("content-type") or stored.content_type
            else:
                headers = {
                    k: v
                    for k, v in public_headers(stored).items()
                    if k not in ("x-delete-at", "x-object-manifest")
                }
                content_type = stored.content_type
            spec = UploadSpec(content_type=content_type, headers=headers)
            assert source.body is not None
            chunks = source.body.read(0, source.length)
            return stored, s3.manager.objects.write_object(
                s3.caller, s3.account, bucket, key, spec, chunks
            )
        finally:
            source.close()

    _, new = await run_in_threadpool(work)
    doc = Doc("CopyObjectResult")
    doc.add("LastModified", iso(ts_datetime(new.timestamp)))
    doc.add("ETag", f'"{new.etag}"')
    return Response(doc.bytes(), media_type="application/xml")


def delete_object(s3: S3Context, bucket: str, key: str) -> None:
    s3.manager.core.container_access(s3.caller, s3.account, bucket, write=True)
    try:
        s3.manager.objects.delete_object(s3.caller, s3.account, bucket, key)
    except NotFound as exc:
        if s3_code(exc) == "NoSuchBucket":
            raise


async def delete_objects(request: Request, s3: S3Context, bucket: str) -> Response:
    body = await request.body()
    root = parse(body)
    quiet = (root.findtext("Quiet") or "").lower() == "true"
    keys = [o.findtext("Key") or "" for o in root.findall("Object")]
    if len(keys) > 1000:
        raise S3Error("MalformedXML", "At most 1000 keys can be deleted per request.")

    def work() -> Doc:
        s3.manager.core.container_access(s3.caller, s3.account, bucket, write=True)
        doc = Doc("DeleteResult")
        for key in keys:
            try:
                delete_object(s3, bucket, key)
                if not quiet:
                    doc.add("Key", key, doc.child("Deleted"))
            except OneStackError as exc:
                error = doc.child("Error")
                doc.add("Key", key, error)
                doc.add("Code", s3_code(exc), error)
                doc.add("Message", exc.message, error)
        return doc

    doc = await run_in_threadpool(work)
    return Response(doc.bytes(), media_type="application/xml")


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()
