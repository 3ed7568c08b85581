"""The Swift v1 app: ``/info``, ``/healthcheck`` and ``/v1/<account>[/<container>[/<object>]]``.

One route takes every ``/v1`` request and dispatches on the path's depth, as
Swift's proxy does (object names may contain slashes).  Before dispatching it
builds the ``Caller`` (token context, referrer, temp URL) and afterwards adds
CORS headers for containers that allow the request's ``Origin``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from onestack.common.app import context_of, create_app
from onestack.common.errors import ErrorStyle
from onestack.common.exceptions import BadRequest, NotFound, Unauthorized
from onestack.common.pipeline import PipelineSpec
from onestack.object import symlinks, sync, tempurl
from onestack.object.acl import Caller, project_of
from onestack.object.api import containers, formpost, objects, staticweb
from onestack.object.core import (
    LISTING_LIMIT,
    MAX_CONTAINER_NAME,
    MAX_META_COUNT,
    MAX_META_NAME,
    MAX_META_SIZE,
    MAX_META_VALUE,
    MAX_OBJECT_NAME,
)
from onestack.object.large import MAX_MANIFEST_SIZE, MAX_SEGMENTS
from onestack.object.manager import ObjectManager

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"]
CORS_METHODS = "HEAD, GET, PUT, POST, COPY, OPTIONS, DELETE"
CORS_EXPOSE = (
    "cache-control, content-language, content-type, expires, last-modified, pragma, etag, "
    "x-timestamp, x-trans-id, x-openstack-request-id"
)


def swift_info(manager: ObjectManager) -> dict[str, Any]:
    return {
        "swift": {
            "version": "2.34.0",
            "max_file_size": manager.core.conf.max_file_size,
            "max_meta_name_length": MAX_META_NAME,
            "max_meta_value_length": MAX_META_VALUE,
            "max_meta_count": MAX_META_COUNT,
            "max_meta_overall_size": MAX_META_SIZE,
            "max_header_size": 8192,
            "max_object_name_length": MAX_OBJECT_NAME,
            "max_container_name_length": MAX_CONTAINER_NAME,
            "max_account_name_length": 256,
            "container_listing_limit": LISTING_LIMIT,
            "account_listing_limit": LISTING_LIMIT,
            "extra_header_count": 0,
            "valid_api_versions": ["v1", "v1.0"],
            "strict_cors_mode": True,
            "allow_account_management": False,
            "account_autocreate": True,
            "policies": [{"name": "Policy-0", "default": True}],
        },
        "slo": {
            "max_manifest_segments": MAX_SEGMENTS,
            "max_manifest_size": MAX_MANIFEST_SIZE,
            "min_segment_size": 1,
            "yield_frequency": 10,
            "allow_async_delete": False,
        },
        "dlo": {"max_segments": 10000},
        "tempurl": {
            "methods": list(tempurl.METHODS),
            "allowed_digests": ["sha1", "sha256", "sha512"],
            "incoming_allow_headers": [],
            "incoming_remove_headers": ["x-timestamp"],
            "outgoing_allow_headers": ["x-object-meta-public-*"],
            "outgoing_remove_headers": ["x-object-meta-*"],
        },
        "bulk_delete": {"max_deletes_per_request": 10000, "max_failed_deletes": 1000},
        "bulk_upload": {"max_containers_per_extraction": 10000, "max_failed_extractions": 1000},
        "versioned_writes": {"allowed_flags": ["x-versions-location", "x-history-location"]},
        "container_quotas": {},
        "account_quotas": {},
        "formpost": {},
        "staticweb": {},
        "crossdomain": {},
        "symlink": {"symloop_max": symlinks.SYMLOOP_MAX, "static_links": True},
        **(
            {"container_sync": {"realms": manager.sync_realm.info()}}
            if manager.sync_realm is not None
            else {}
        ),
    }


def _split(path: str) -> tuple[str, str, str]:
    rest = path[len("/v1/") :] if path.startswith("/v1/") else ""
    account, _, tail = rest.partition("/")
    container, _, obj = tail.partition("/")
    return account, container, obj


def _tempurl_keys(manager: ObjectManager, account: str, container: str) -> list[str]:
    keys = []
    row = manager.core.listings.account(account)
    if row is not None:
        for name in ("x-account-meta-temp-url-key", "x-account-meta-temp-url-key-2"):
            if row.metadata_.get(name):
                keys.append(str(row.metadata_[name]))
    crow = manager.core.listings.container(account, container)
    if crow is not None:
        for name in ("x-container-meta-temp-url-key", "x-container-meta-temp-url-key-2"):
            if crow.metadata_.get(name):
                keys.append(str(crow.metadata_[name]))
    return keys


def _check_sync_auth(
    manager: ObjectManager, request: Request, header: str, target: tuple[str, str]
) -> None:
    """401 unless ``X-Container-Sync-Auth`` is signed with the realm's key and the
    target container's sync key (Swift's container_sync middleware)."""
    row = manager.core.listings.container(*target)
    sync.verify(
        manager.sync_realm,
        header,
        request.method,
        quote(request.scope["path"]),
        request.headers.get("x-timestamp", "0"),
        row.sync_key if row is not None else None,
    )


def _cors_origin_allowed(
    manager: ObjectManager, account: str, container: str, origin: str
) -> dict[str, Any] | None:
    row = manager.core.listings.container(account, container) if container else None
    if row is None:
        return None
    allowed = str(row.metadata_.get("x-container-meta-access-control-allow-origin", ""))
    origins = allowed.split()
    if "*" in origins or origin in origins:
        return dict(row.metadata_)
    return None


async def _preflight(
    request: Request, manager: ObjectManager, account: str, container: str
) -> Response:
    origin = request.headers.get("origin")
    wanted = request.headers.get("access-control-request-method")
    if not origin or not wanted:
        return Response(status_code=200, headers={"Allow": CORS_METHODS})
    meta = await run_in_threadpool(_cors_origin_allowed, manager, account, container, origin)
    if meta is None or wanted.upper() not in CORS_METHODS:
        raise Unauthorized("The origin is not allowed by this container's CORS settings.")
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": CORS_METHODS,
        "Allow": CORS_METHODS,
    }
    if meta.get("x-container-meta-access-control-max-age"):
        headers["Access-Control-Max-Age"] = str(meta["x-container-meta-access-control-max-age"])
    requested = request.headers.get("access-control-request-headers")
    if requested:
        headers["Access-Control-Allow-Headers"] = requested
    return Response(status_code=200, headers=headers)


async def dispatch(request: Request) -> Response:
    manager: ObjectManager = request.app.state.manager
    account, container, obj = _split(request.scope["path"])
    if not account:
        raise NotFound("The resource could not be found.")
    if project_of(account) is None:
        raise BadRequest(f"Invalid account {account!r}: accounts are AUTH_<project_id>.")
    if request.method == "OPTIONS":
        return await _preflight(request, manager, account, container)
    caller = Caller(context_of(request), referrer=request.headers.get("referer"))
    if formpost.is_form(request, container):
        keys = await run_in_threadpool(_tempurl_keys, manager, account, container)
        return await formpost.handle(request, manager, caller, account, container, obj, keys)
    sync_auth = request.headers.get("x-container-sync-auth")
    if sync_auth and obj:
        await run_in_threadpool(_check_sync_auth, manager, request, sync_auth, (account, container))
        caller = Caller(caller.ctx, caller.referrer, container_sync=True)
    query = request.query_params
    if tempurl.is_tempurl(query):
        keys = await run_in_threadpool(_tempurl_keys, manager, account, container)
        tempurl.check(query, request.method, account, container, obj, keys)
        caller = Caller(caller.ctx, caller.referrer, tempurl=True)
    web: Response | None = None
    if container and not tempurl.is_tempurl(query) and staticweb.web_mode(request, caller):
        web = await staticweb.handle(request, manager, caller, account, container, obj)
    if web is not None:
        response = web
    elif not container:
        response = await containers.account(request, manager, caller, account)
    elif not obj:
        response = await containers.container(request, manager, caller, account, container)
    else:
        handler = {
            "GET": objects.get_or_head,
            "HEAD": objects.get_or_head,
            "PUT": objects.put,
            "POST": objects.post,
            "DELETE": objects.delete,
            "COPY": objects.copy_method,
        }[request.method]
        response = await handler(request, manager, caller, account, container, obj)
        if caller.tempurl and request.method in ("GET", "HEAD"):
            _tempurl_response(request, response, obj)
    origin = request.headers.get("origin")
    if origin and container:
        meta = await run_in_threadpool(_cors_origin_allowed, manager, account, container, origin)
        if meta is not None:
            expose = str(meta.get("x-container-meta-access-control-expose-headers", ""))
            meta_names = [k for k in response.headers if k.lower().startswith("x-object-meta-")]
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Expose-Headers"] = ", ".join(
                filter(None, [CORS_EXPOSE, *meta_names, expose])
            )
    return response


def _quoted(filename: str) -> str:
    return filename.replace('"', "")


def _tempurl_response(request: Request, response: Response, obj: str) -> None:
    given = request.query_params.get("filename")
    if "inline" in request.query_params:
        # Plain "inline" unless a file name was asked for, as Swift does.
        disposition = f'inline; filename="{_quoted(given)}"' if given else "inline"
    elif given:
        disposition = f'attachment; filename="{_quoted(given)}"'
    elif response.headers.get("content-disposition"):
        disposition = response.headers["content-disposition"]
    else:
        disposition = f'attachment; filename="{_quoted(obj.rsplit("/", 1)[-1])}"'
    response.headers["Content-Disposition"] = disposition
    for name in list(response.headers.keys()):
        if name.lower().startswith("x-object-meta-") and not name.lower().startswith(
            "x-object-meta-public-"
        ):
            del response.headers[name]


async def info(request: Request) -> Response:
    return JSONResponse(swift_info(request.app.state.manager))


CROSSDOMAIN_HEAD = (
    '<?xml version="1.0"?>\n'
    "<!DOCTYPE cross-domain-policy SYSTEM "
    '"http://www.adobe.com/xml/dtds/cross-domain-policy.dtd" >\n'
    "<cross-domain-policy>\n"
)


async def crossdomain(request: Request) -> Response:
    """The Flash cross-domain policy (Swift's crossdomain middleware; GET only)."""
    policy = request.app.state.manager.core.conf.crossdomain_policy
    body = f"{CROSSDOMAIN_HEAD}{policy}\n</cross-domain-policy>"
    return Response(body, media_type="application/xml; charset=utf-8")


async def healthcheck(request: Request) -> Response:
    return Response("OK", media_type="text/plain")


def build_app(manager: ObjectManager, validator: Any, identity_url: str) -> FastAPI:
    spec = PipelineSpec(
        service="object", error_style=ErrorStyle.PLAIN, max_body=None, trans_id=True
    )
    app = create_app(
        spec, validator, identity_url, title="onestack object storage (Swift v1)", version="1"
    )
    app.state.manager = manager
    app.add_api_route("/info", info, methods=["GET", "HEAD"])
    app.add_api_route("/healthcheck", healthcheck, methods=["GET", "HEAD"])
    app.add_api_route("/crossdomain.xml", crossdomain, methods=["GET"])
    app.add_api_route("/v1/{path:path}", dispatch, methods=METHODS)
    return app
