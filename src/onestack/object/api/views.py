"""Rendering of account and container listings (json, xml, plain) and their headers."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.responses import Response

from onestack.object.api.http import http_date, title
from onestack.object.containers import AccountInfo
from onestack.object.listings import ContainerEntry, Subdir, Usage
from onestack.object.models import Container, ObjectRow

CONTENT_TYPES = {
    "json": "application/json; charset=utf-8",
    "xml": "application/xml; charset=utf-8",
    "plain": "text/plain; charset=utf-8",
}


def _iso(row: ObjectRow | ContainerEntry) -> str:
    return row.last_modified.strftime("%Y-%m-%dT%H:%M:%S.%f")


def object_entry(row: ObjectRow) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": row.name,
        "hash": row.etag,
        "bytes": row.size,
        "content_type": row.content_type,
        "last_modified": _iso(row),
    }
    if row.symlink_path:
        entry["symlink_path"] = row.symlink_path
        if row.symlink_etag:
            entry["symlink_etag"] = row.symlink_etag
            entry["symlink_bytes"] = row.symlink_bytes or 0
    return entry


def container_entry(row: ContainerEntry) -> dict[str, Any]:
    return {
        "name": row.name,
        "count": row.count,
        "bytes": row.bytes,
        "last_modified": _iso(row),
    }


def _xml_value(key: str, value: Any) -> str:
    return f"<{key}>{escape(str(value))}</{key}>"


def render_listing(
    fmt: str,
    kind: str,
    owner: str,
    items: Sequence[ObjectRow | ContainerEntry | Subdir],
    headers: dict[str, str],
) -> Response:
    entry_name = "object" if kind == "container" else "container"
    docs: list[dict[str, Any]] = []
    for item in items:
        if isinstance(item, Subdir):
            docs.append({"subdir": item.name})
        elif isinstance(item, ObjectRow):
            docs.append(object_entry(item))
        else:
            docs.append(container_entry(item))
    if fmt == "json":
        body = json.dumps(docs).encode()
    elif fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>', f"<{kind} name={quoteattr(owner)}>"]
        for doc in docs:
            if "subdir" in doc:
                name = doc["subdir"]
                parts.append(f"<subdir name={quoteattr(name)}>{_xml_value('name', name)}</subdir>")
            else:
                inner = "".join(_xml_value(k, v) for k, v in doc.items())
                parts.append(f"<{entry_name}>{inner}</{entry_name}>")
        parts.append(f"</{kind}>")
        body = "".join(parts).encode()
    else:
        if not docs:
            return Response(status_code=204, headers=headers)
        body = "".join(f"{d.get('subdir') or d['name']}\n" for d in docs).encode()
    return Response(body, status_code=200, headers={**headers, "Content-Type": CONTENT_TYPES[fmt]})


def account_headers(info: AccountInfo, *, owner: bool) -> dict[str, str]:
    headers = {
        "X-Account-Container-Count": str(info.containers),
        "X-Account-Object-Count": str(info.usage.count),
        "X-Account-Bytes-Used": str(info.usage.bytes),
        "X-Account-Storage-Policy-Policy-0-Container-Count": str(info.containers),
        "X-Account-Storage-Policy-Policy-0-Object-Count": str(info.usage.count),
        "X-Account-Storage-Policy-Policy-0-Bytes-Used": str(info.usage.bytes),
    }
    if info.put_timestamp:
        headers["X-Timestamp"] = info.put_timestamp
        headers["X-Put-Timestamp"] = info.put_timestamp
        headers["Last-Modified"] = http_date(info.put_timestamp)
    else:
        # An account not yet created answers as Swift's auto-created one
        # does: stamped with the time of the request.
        headers["X-Timestamp"] = headers["X-Put-Timestamp"] = f"{time.time():016.5f}"
    if owner:
        for key, value in info.metadata.items():
            headers[title(key)] = str(value)
    return headers


def container_headers(row: Container, usage: Usage, *, owner: bool) -> dict[str, str]:
    headers = {
        "X-Container-Object-Count": str(usage.count),
        "X-Container-Bytes-Used": str(usage.bytes),
        "X-Timestamp": row.put_timestamp,
        "X-Put-Timestamp": row.put_timestamp,
        "Last-Modified": http_date(row.put_timestamp),
        "X-Storage-Policy": "Policy-0",
    }
    for key, value in row.metadata_.items():
        if owner or not key.startswith("x-container-meta-temp-url-key"):
            headers[title(key)] = str(value)
    if owner:
        if row.read_acl:
            headers["X-Container-Read"] = row.read_acl
        if row.write_acl:
            headers["X-Container-Write"] = row.write_acl
        if row.sync_to:
            headers["X-Container-Sync-To"] = row.sync_to
        if row.sync_key:
            headers["X-Container-Sync-Key"] = row.sync_key
    if row.versions_location:
        name = "X-History-Location" if row.versions_mode == "history" else "X-Versions-Location"
        headers[name] = row.versions_location
    return headers
