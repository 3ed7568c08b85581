"""Account and container requests: listings, metadata, ACLs, versioning, quotas."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from onestack.common.exceptions import BadRequest, NotSupported
from onestack.object.acl import Caller, validate_acl
from onestack.object.api import bulk
from onestack.object.api.http import (
    account_quota_changes,
    listing_format,
    meta_changes,
    not_allowed,
)
from onestack.object.api.views import account_headers, container_headers, render_listing
from onestack.object.containers import listing_options
from onestack.object.manager import ObjectManager
from onestack.object.sync import SyncRealm, parse_sync_to


def _owner(caller: Caller, account: str) -> bool:
    return caller.owner_level(account) is not None


# -- accounts -----------------------------------------------------------------------


async def account(
    request: Request, manager: ObjectManager, caller: Caller, account_name: str
) -> Response:
    method = request.method
    if method in ("GET", "HEAD"):
        if method == "HEAD":
            info = await run_in_threadpool(manager.containers.account_info, caller, account_name)
            return Response(status_code=204, headers=account_headers(info, owner=True))
        options = listing_options(dict(request.query_params))
        info, items = await run_in_threadpool(
            manager.containers.list_containers, caller, account_name, options
        )
        headers = account_headers(info, owner=True)
        return render_listing(listing_format(request), "account", account_name, items, headers)
    if method in ("POST", "DELETE") and "bulk-delete" in request.query_params:
        # Swift's bulk middleware takes the list with either method.
        return await bulk.bulk_delete(request, manager, caller, account_name)
    if method == "POST":
        changes = {**meta_changes(request, "account"), **account_quota_changes(request)}
        await run_in_threadpool(manager.containers.post_account, caller, account_name, changes)
        return Response(status_code=204)
    if method == "PUT" and "extract-archive" in request.query_params:
        return await bulk.extract_archive(request, manager, caller, account_name, "", "")
    raise not_allowed("accounts")


# -- containers ---------------------------------------------------------------------


def container_fields(request: Request, realm: SyncRealm | None) -> dict[str, Any]:
    headers = request.headers
    fields: dict[str, Any] = {"metadata": meta_changes(request, "container")}
    for name, key, write in (("read", "read_acl", False), ("write", "write_acl", True)):
        if f"x-container-{name}" in headers:
            fields[key] = validate_acl(headers[f"x-container-{name}"], write=write)
        if f"x-remove-container-{name}" in headers:
            fields[key] = ""
    versions = headers.get("x-versions-location")
    history = headers.get("x-history-location")
    if versions and history:
        raise BadRequest("Only one of X-Versions-Location or X-History-Location may be specified")
    if versions or history:
        location = unquote(versions or history or "").strip("/")
        if not location or "/" in location:
            raise BadRequest("Invalid versions location: name a container in this account.")
        fields["versions"] = (location, "stack" if versions else "history")
    elif any(
        name in headers
        for name in (
            "x-versions-location",
            "x-history-location",
            "x-remove-versions-location",
            "x-remove-history-location",
        )
    ):
        fields["versions"] = (None, None)
    for name in ("x-container-meta-quota-bytes", "x-container-meta-quota-count"):
        value = fields["metadata"].get(name)
        if value is not None and not value.isdigit():
            raise BadRequest(f"Invalid {name}: must be a non-negative integer.")
    if "x-container-sync-to" in headers:
        sync_to = headers["x-container-sync-to"].strip()
        if sync_to:
            parse_sync_to(sync_to, realm)
        fields["sync_to"] = sync_to
    if "x-container-sync-key" in headers:
        fields["sync_key"] = headers["x-container-sync-key"].strip()
    if headers.get("x-versions-enabled"):
        raise NotSupported(
            operation="Object versioning with X-Versions-Enabled (use X-Versions-Location)"
        )
    policy = headers.get("x-storage-policy")
    if policy is not None and policy.strip().lower() not in ("", "policy-0"):
        raise BadRequest(f"Invalid X-Storage-Policy {policy!r}")
    return fields


async def container(
    request: Request, manager: ObjectManager, caller: Caller, account_name: str, name: str
) -> Response:
    method = request.method
    owner = _owner(caller, account_name)
    if method == "HEAD":
        row, usage = await run_in_threadpool(
            manager.containers.container_info, caller, account_name, name
        )
        return Response(status_code=204, headers=container_headers(row, usage, owner=owner))
    if method == "GET":
        options = listing_options(dict(request.query_params))
        row, usage, items = await run_in_threadpool(
            manager.containers.list_objects, caller, account_name, name, options
        )
        headers = container_headers(row, usage, owner=owner)
        return render_listing(listing_format(request), "container", name, items, headers)
    if method == "PUT":
        if "extract-archive" in request.query_params:
            return await bulk.extract_archive(request, manager, caller, account_name, name, "")
        fields = container_fields(request, manager.sync_realm)
        created = await run_in_threadpool(
            manager.containers.put_container, caller, account_name, name, fields
        )
        return Response(status_code=201 if created else 202)
    if method == "POST":
        fields = container_fields(request, manager.sync_realm)
        await run_in_threadpool(
            manager.containers.post_container, caller, account_name, name, fields
        )
        return Response(status_code=204)
    if method == "DELETE":
        await run_in_threadpool(manager.containers.delete_container, caller, account_name, name)
        return Response(status_code=204)
    raise not_allowed("containers")
