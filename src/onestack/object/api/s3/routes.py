"""The S3 app: path-style ``/<bucket>/<key>`` over the same objects as the Swift API.

A request signed with SigV4 by an EC2 credential acts for the credential's
user in its project: buckets are the containers of ``AUTH_<project_id>``.
Multipart parts live in the container ``<bucket>+segments`` (as Swift's s3api
keeps them) and a completed upload is a static large object.  Errors are
S3's XML documents, rendered by the pipeline (``ErrorStyle.S3``), and every
response carries ``x-amz-request-id``.  Unsigned requests are refused.
"""

from __future__ import annotations

import logging
import re

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.app import create_app
from onestack.common.errors import ErrorStyle
from onestack.common.exceptions import Unauthorized
from onestack.common.pipeline import PipelineSpec, TokenValidator
from onestack.config import Settings
from onestack.object.acl import Caller, account_for
from onestack.object.api.s3 import multipart, objects, sigv2, sigv4
from onestack.object.api.s3.context import S3Context
from onestack.object.api.s3.xml import Doc, iso
from onestack.object.exceptions import S3Error
from onestack.object.listings import ContainerEntry
from onestack.object.manager import ObjectManager

LOG = logging.getLogger(__name__)

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE"]
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
UNSUPPORTED_SUBRESOURCES = (
    "acl",
    "cors",
    "lifecycle",
    "policy",
    "tagging",
    "website",
    "logging",
    "notification",
    "replication",
    "encryption",
    "object-lock",
    "accelerate",
    "requestPayment",
    "inventory",
    "analytics",
    "metrics",
    "ownershipControls",
    "publicAccessBlock",
    "intelligent-tiering",
    "retention",
    "legal-hold",
    "torrent",
    "restore",
    "select",
    "attributes",
)


def valid_bucket(name: str) -> bool:
    return bool(BUCKET_NAME.match(name)) and ".." not in name


async def authenticate(request: Request, manager: ObjectManager) -> S3Context:
    v2 = sigv2.parse(request)
    signed = None if v2 is not None else sigv4.parse(request)
    if signed is None and v2 is None:
        raise S3Error("AccessDenied", "Anonymous access is not allowed; sign the request.")
    access = v2.access_key if v2 is not None else signed.access_key if signed else ""
    secret = await run_in_threadpool(manager.ec2_credential, access)
    if secret is None:
        raise S3Error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    if v2 is not None:
        sigv2.verify(request, v2, secret.secret)
        request.state.payload_hash = None
    else:
        assert signed is not None
        request.state.chunk_signer = sigv4.verify(request, signed, secret.secret)
        request.state.payload_hash = signed.payload_hash
    if not secret.project_id:
        raise S3Error("AccessDenied", "The credential is not scoped to a project.")
    request_id = request.scope.get("state", {}).get("request_id", "")
    try:
        ctx = await run_in_threadpool(
            manager.acting_as, secret.user_id, secret.project_id, request_id
        )
    except Unauthorized:
        raise S3Error("AccessDenied", "The credential's user may not act on its project.") from None
    return S3Context(manager, Caller(ctx), account_for(secret.project_id), secret.project_id)


async def list_buckets(s3: S3Context) -> Response:
    _, items = await run_in_threadpool(
        s3.manager.containers.list_containers, s3.caller, s3.account, {"limit": 10000}
    )
    doc = Doc("ListAllMyBucketsResult")
    owner = doc.child("Owner")
    doc.add("ID", s3.owner, owner)
    doc.add("DisplayName", s3.owner, owner)
    buckets = doc.child("Buckets")
    for item in items:
        if isinstance(item, ContainerEntry) and valid_bucket(item.name):
            bucket = doc.child("Bucket", buckets)
            doc.add("Name", item.name, bucket)
            doc.add("CreationDate", iso(item.last_modified), bucket)
    return xml_response(doc)


def xml_response(doc: Doc, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(doc.bytes(), status, headers=headers, media_type="application/xml")


async def bucket_request(request: Request, s3: S3Context, bucket: str) -> Response:
    query = request.query_params
    method = request.method
    for name in UNSUPPORTED_SUBRESOURCES:
        if name in query:
            raise S3Error("NotImplemented", f"The ?{name} subresource is not implemented.")
    if method == "PUT":
        if not valid_bucket(bucket):
            raise S3Error("InvalidBucketName", "The specified bucket is not valid.")
        await request.body()
        created = await run_in_threadpool(
            s3.manager.containers.put_container, s3.caller, s3.account, bucket, {}
        )
        if not created:
            raise S3Error(
                "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already "
                "own it.",
            )
        return Response(status_code=200, headers={"Location": f"/{bucket}"})
    if method == "HEAD":
        await run_in_threadpool(s3.manager.containers.container_info, s3.caller, s3.account, bucket)
        return Response(status_code=200, headers={"x-amz-bucket-region": "us-east-1"})
    if method == "DELETE":
        await run_in_threadpool(multipart.delete_bucket, s3, bucket)
        return Response(status_code=204)
    if method == "GET":
        if "location" in query:
            await run_in_threadpool(
                s3.manager.containers.container_info, s3.caller, s3.account, bucket
            )
            doc = Doc("LocationConstraint")
            doc.root.text = None
            return xml_response(doc)
        if "versioning" in query:
            await run_in_threadpool(
                s3.manager.containers.container_info, s3.caller, s3.account, bucket
            )
            return xml_response(Doc("VersioningConfiguration"))
        if "uploads" in query:
            return await run_in_threadpool(multipart.list_uploads, s3, bucket, dict(query))
        if "versions" in query:
            raise S3Error("NotImplemented", "Listing object versions is not implemented.")
        return await run_in_threadpool(objects.list_objects, s3, bucket, dict(query))
    if method == "POST" and "delete" in query:
        return await objects.delete_objects(request, s3, bucket)
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


async def object_request(request: Request, s3: S3Context, bucket: str, key: str) -> Response:
    query = request.query_params
    method = request.method
    for name in UNSUPPORTED_SUBRESOURCES:
        if name in query:
            raise S3Error("NotImplemented", f"The ?{name} subresource is not implemented.")
    if "uploadId" in query:
        upload_id = query["uploadId"]
        if method == "PUT":
            return await multipart.upload_part(request, s3, bucket, key, upload_id)
        if method == "GET":
            return await run_in_threadpool(
                multipart.list_parts, s3, bucket, key, upload_id, dict(query)
            )
        if method == "POST":
            return await multipart.complete(request, s3, bucket, key, upload_id)
        if method == "DELETE":
            await run_in_threadpool(multipart.abort, s3, bucket, key, upload_id)
            return Response(status_code=204)
    if method == "POST" and "uploads" in query:
        return await multipart.create(request, s3, bucket, key)
    if method in ("GET", "HEAD"):
        return await objects.get_object(request, s3, bucket, key)
    if method == "PUT":
        if request.headers.get("x-amz-copy-source"):
            return await objects.copy_object(request, s3, bucket, key)
        return await objects.put_object(request, s3, bucket, key)
    if method == "DELETE":
        await run_in_threadpool(objects.delete_object, s3, bucket, key)
        return Response(status_code=204)
    raise S3Error("MethodNotAllowed", "The specified method is not allowed against this resource.")


def build_app(manager: ObjectManager, validator: TokenValidator, settings: Settings) -> FastAPI:
    spec = PipelineSpec(
        service="s3",
        error_style=ErrorStyle.S3,
        max_body=None,
        request_id_headers=("x-amz-request-id",),
    )
    app = create_app(
        spec,
        validator,
        settings.url("identity") + "/v3",
        title="onestack S3 API",
        version="2006-03-01",
    )

    async def dispatch(request: Request) -> Response:
        bucket, _, key = request.scope["path"].lstrip("/").partition("/")
        s3 = await authenticate(request, manager)
        if not bucket:
            if request.method != "GET":
                raise S3Error("MethodNotAllowed", "Only GET is allowed on the service.")
            return await list_buckets(s3)
        if not key:
            return await bucket_request(request, s3, bucket)
        return await object_request(request, s3, bucket, key)

    app.add_api_route("/{path:path}", dispatch, methods=METHODS)
    return app
