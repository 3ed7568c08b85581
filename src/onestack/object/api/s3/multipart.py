"""S3 multipart uploads, kept as Swift objects in ``<bucket>+segments``.

``<key>/<upload id>`` marks an upload in progress (its metadata holds the
final object's content type and user metadata); parts are
``<key>/<upload id>/<part number>``.  Completing an upload writes an SLO
manifest at ``<key>`` whose S3 ETag is ``md5(part md5s)-<parts>``; parts
other than the last must be at least 5 MiB.  Aborting deletes the parts.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.exceptions import OneStackError
from onestack.object.api.http import guess_type
from onestack.object.api.s3.context import S3Context
from onestack.object.api.s3.objects import (
    _content_md5,
    _declared_length,
    _user_headers,
    stream_upload,
)
from onestack.object.api.s3.xml import Doc, iso, parse
from onestack.object.exceptions import S3Error
from onestack.object.large import parse_manifest_put
from onestack.object.listings import ts_datetime
from onestack.object.models import ObjectRow
from onestack.object.upload import UploadSpec

MIN_PART = 5 * 1024 * 1024
MAX_PART_NUMBER = 10000
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def segments_of(bucket: str) -> str:
    return f"{bucket}+segments"


def _marker(s3: S3Context, bucket: str, key: str, upload_id: str) -> Any:
    if not UPLOAD_ID.match(upload_id):
        raise S3Error("NoSuchUpload", "The specified upload does not exist.")
    s3.manager.core.container_access(s3.caller, s3.account, bucket, write=True)
    stored = s3.manager.core.stored(s3.account, segments_of(bucket), f"{key}/{upload_id}")
    if stored is None:
        raise S3Error("NoSuchUpload", "The specified upload does not exist.")
    return stored


def _parts(s3: S3Context, bucket: str, key: str, upload_id: str) -> dict[int, ObjectRow]:
    row = s3.manager.core.listings.container(s3.account, segments_of(bucket))
    if row is None:
        return {}
    prefix = f"{key}/{upload_id}/"
    parts: dict[int, ObjectRow] = {}
    marker = ""
    while True:
        rows = s3.manager.core.listings.list_objects(
            row.id, prefix=prefix, marker=marker, limit=1000
        )
        for entry in rows:
            if isinstance(entry, ObjectRow):
                number = entry.name[len(prefix) :]
                if number.isdigit():
                    parts[int(number)] = entry
                marker = entry.name
        if len(rows) < 1000:
            return parts


async def create(request: Request, s3: S3Context, bucket: str, key: str) -> Response:
    upload_id = uuid.uuid4().hex

    def work() -> None:
        s3.manager.core.container_access(s3.caller, s3.account, bucket, write=True)
        segments = segments_of(bucket)
        if s3.manager.core.listings.container(s3.account, segments) is None:
            s3.manager.containers.put_container(s3.caller, s3.account, segments, {})
        info = {
            "content_type": request.headers.get("content-type") or guess_type(key),
            "headers": _user_headers(request),
        }
        spec = UploadSpec(
            content_type="application/x-onestack-multipart-upload",
            headers={"x-object-sysmeta-s3-upload": json.dumps(info)},
            check_quota=False,
        )
        row = s3.manager.core.listings.container(s3.account, segments)
        assert row is not None
        s3.manager.objects.write_internal(s3.account, row, f"{key}/{upload_id}", spec, [b""])

    await request.body()
    await run_in_threadpool(work)
    doc = Doc("InitiateMultipartUploadResult")
    doc.add("Bucket", bucket)
    doc.add("Key", key)
    doc.add("UploadId", upload_id)
    return Response(doc.bytes(), media_type="application/xml")


async def upload_part(
    request: Request, s3: S3Context, bucket: str, key: str, upload_id: str
) -> Response:
    number = request.query_params.get("partNumber", "")
    if not number.isdigit() or not 1 <= int(number) <= MAX_PART_NUMBER:
        raise S3Error("InvalidArgument", "Part number must be an integer between 1 and 10000.")
    if request.headers.get("x-amz-copy-source"):
        raise S3Error("NotImplemented", "UploadPartCopy is not implemented.")
    await run_in_threadpool(_marker, s3, bucket, key, upload_id)
    spec = UploadSpec(
        content_type="application/octet-stream",
        expected_etag=_content_md5(request),
        length=_declared_length(request),
        check_quota=False,
        versioning=False,
    )
    stored = await stream_upload(
        request, s3, segments_of(bucket), f"{key}/{upload_id}/{int(number)}", spec
    )
    return Response(status_code=200, headers={"ETag": f'"{stored.etag}"'})


def list_parts(
    s3: S3Context, bucket: str, key: str, upload_id: str, query: dict[str, str]
) -> Response:
    _marker(s3, bucket, key, upload_id)
    parts = _parts(s3, bucket, key, upload_id)
    try:
        after = int(query.get("part-number-marker", "0") or 0)
        max_parts = min(int(query.get("max-parts", 1000)), 1000)
    except ValueError:
        raise S3Error("InvalidArgument", "Part markers must be integers.") from None
    numbers = sorted(n for n in parts if n > after)
    shown = numbers[:max_parts]
    doc = Doc("ListPartsResult")
    doc.add("Bucket", bucket)
    doc.add("Key", key)
    doc.add("UploadId", upload_id)
    doc.add("PartNumberMarker", after)
    doc.add("NextPartNumberMarker", shown[-1] if shown else after)
    doc.add("MaxParts", max_parts)
    doc.add("IsTruncated", "true" if len(numbers) > max_parts else "false")
    doc.add("StorageClass", "STANDARD")
    for number in shown:
        row = parts[number]
        part = doc.child("Part")
        doc.add("PartNumber", number, part)
        doc.add("LastModified", iso(row.last_modified), part)
        doc.add("ETag", f'"{row.etag}"', part)
        doc.add("Size", row.size, part)
    return Response(doc.bytes(), media_type="application/xml")


async def complete(
    request: Request, s3: S3Context, bucket: str, key: str, upload_id: str
) -> Response:
    root = parse(await request.body())
    wanted: list[tuple[int, str]] = []
    for part in root.findall("Part"):
        number = (part.findtext("PartNumber") or "").strip()
        etag = (part.findtext("ETag") or "").strip().strip('"')
        if not number.isdigit():
            raise S3Error("MalformedXML", "Each Part needs a PartNumber.")
        wanted.append((int(number), etag))
    if not wanted:
        raise S3Error("MalformedXML", "You must specify at least one part.")
    numbers = [n for n, _ in wanted]
    if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
        raise S3Error("InvalidPartOrder", "The list of parts was not in ascending order.")

    def work() -> tuple[str, Any]:
        marker = _marker(s3, bucket, key, upload_id)
        parts = _parts(s3, bucket, key, upload_id)
        segments = segments_of(bucket)
        manifest = []
        digest = hashlib.md5(usedforsecurity=False)
        for index, (number, etag) in enumerate(wanted):
            row = parts.get(number)
            if row is None or (etag and etag != row.etag):
                raise S3Error(
                    "InvalidPart",
                    f"Part {number} could not be found or its ETag does not match.",
                )
            if row.size < MIN_PART and index < len(wanted) - 1:
                raise S3Error(
                    "EntityTooSmall", "Your proposed upload is smaller than the minimum size."
                )
            manifest.append(
                {"path": f"/{segments}/{row.name}", "etag": row.etag, "size_bytes": row.size}
            )
            digest.update(bytes.fromhex(row.etag))
        s3_etag = f"{digest.hexdigest()}-{len(wanted)}"
        info = json.loads(marker.headers.get("x-object-sysmeta-s3-upload", "{}"))
        stored_manifest, total, slo_etag = parse_manifest_put(
            s3.manager.core, s3.caller, s3.account, json.dumps(manifest).encode()
        )
        data = json.dumps(stored_manifest).encode()
        spec = UploadSpec(
            content_type=info.get("content_type") or guess_type(key),
            headers={
                **info.get("headers", {}),
                "x-static-large-object": "True",
                "x-object-sysmeta-slo-etag": slo_etag,
                "x-object-sysmeta-slo-size": str(total),
                "x-object-sysmeta-s3-etag": s3_etag,
            },
            listing_size=total,
            listing_etag=slo_etag,
        )
        stored = s3.manager.objects.write_object(s3.caller, s3.account, bucket, key, spec, [data])
        # Parts the client left out are garbage now.
        used = {n for n, _ in wanted}
        for number, row in parts.items():
            if number not in used:
                s3.manager.objects.remove(s3.account, segments, row.name)
        s3.manager.objects.remove(s3.account, segments, f"{key}/{upload_id}")
        return s3_etag, stored

    s3_etag, _ = await run_in_threadpool(work)
    doc = Doc("CompleteMultipartUploadResult")
    doc.add("Location", f"/{bucket}/{key}")
    doc.add("Bucket", bucket)
    doc.add("Key", key)
    doc.add("ETag", f'"{s3_etag}"')
    return Response(doc.bytes(), media_type="application/xml")


def abort(s3: S3Context, bucket: str, key: str, upload_id: str) -> None:
    _marker(s3, bucket, key, upload_id)
    segments = segments_of(bucket)
    for row in _parts(s3, bucket, key, upload_id).values():
        s3.manager.objects.remove(s3.account, segments, row.name)
    s3.manager.objects.remove(s3.account, segments, f"{key}/{upload_id}")


def list_uploads(s3: S3Context, bucket: str, query: dict[str, str]) -> Response:
    s3.manager.core.container_access(s3.caller, s3.account, bucket, write=False)
    row = s3.manager.core.listings.container(s3.account, segments_of(bucket))
    prefix = query.get("prefix", "")
    doc = Doc("ListMultipartUploadsResult")
    doc.add("Bucket", bucket)
    doc.add("KeyMarker", query.get("key-marker", ""))
    doc.add("UploadIdMarker", query.get("upload-id-marker", ""))
    doc.add("Prefix", prefix)
    doc.add("MaxUploads", 1000)
    doc.add("IsTruncated", "false")
    if row is not None:
        entries = s3.manager.core.listings.list_objects(row.id, prefix=prefix, limit=10000)
        for entry in entries:
            if not isinstance(entry, ObjectRow):
                continue
            key, _, upload_id = entry.name.rpartition("/")
            if key and UPLOAD_ID.match(upload_id):
                upload = doc.child("Upload")
                doc.add("Key", key, upload)
                doc.add("UploadId", upload_id, upload)
                doc.add("Initiated", iso(ts_datetime(entry.timestamp)), upload)
                doc.add("StorageClass", "STANDARD", upload)
    return Response(doc.bytes(), media_type="application/xml")


def delete_bucket(s3: S3Context, bucket: str) -> None:
    s3.manager.containers.delete_container(s3.caller, s3.account, bucket)
    try:
        s3.manager.containers.delete_container(s3.caller, s3.account, segments_of(bucket))
    except OneStackError:  # the segments container is optional and may still hold parts
        pass
