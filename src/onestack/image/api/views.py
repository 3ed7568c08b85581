"""How images and members look on the wire (Glance v2's shapes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from onestack.image import states
from onestack.image.models import Image, ImageMember, ImageTask

#: statuses in which the data's size and hashes are shown
SHOW_DATA = (*states.HAS_DATA, states.KILLED)


def timestamp(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def image(row: Image) -> dict[str, Any]:
    data = row.status in SHOW_DATA
    body: dict[str, Any] = {prop.name: prop.value for prop in row.properties}
    body.update(
        {
            "id": row.id,
            "name": row.name,
            "status": row.status,
            "visibility": row.visibility,
            "protected": row.protected,
            "os_hidden": row.os_hidden,
            "checksum": row.checksum if data else None,
            "os_hash_algo": row.os_hash_algo if data else None,
            "os_hash_value": row.os_hash_value if data else None,
            "owner": row.owner,
            "size": row.size if data else None,
            "virtual_size": row.virtual_size if data else None,
            "min_ram": row.min_ram,
            "min_disk": row.min_disk,
            "disk_format": row.disk_format,
            "container_format": row.container_format,
            "tags": [t.value for t in row.tags],
            "created_at": timestamp(row.created_at),
            "updated_at": timestamp(row.updated_at),
            "self": f"/v2/images/{row.id}",
            "file": f"/v2/images/{row.id}/file",
            "schema": "/v2/schemas/image",
        }
    )
    if row.status in states.HAS_DATA and row.locations:
        # the stores holding the data, as Glance's multi-store lists them
        body["stores"] = ",".join(loc.store for loc in row.locations)
    return body


def images(
    rows: Sequence[Image], query: Sequence[tuple[str, str]], next_marker: str | None
) -> dict[str, Any]:
    params = [(k, v) for k, v in query if k != "marker"]
    first = "/v2/images" + (f"?{urlencode(params)}" if params else "")
    body: dict[str, Any] = {
        "images": [image(r) for r in rows],
        "schema": "/v2/schemas/images",
        "first": first,
    }
    if next_marker is not None:
        body["next"] = "/v2/images?" + urlencode([*params, ("marker", next_marker)])
    return body


def member(row: ImageMember) -> dict[str, Any]:
    return {
        "image_id": row.image_id,
        "member_id": row.member_id,
        "status": row.status,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
        "schema": "/v2/schemas/member",
    }


def task(row: ImageTask) -> dict[str, Any]:
    return {
        "id": row.id,
        "image_id": row.image_id,
        "request_id": row.request_id,
        "user_id": row.user_id,
        "type": row.type,
        "status": row.status,
        "owner": row.owner,
        "input": row.input,
        "result": row.result,
        "message": row.message,
        "expires_at": None,
        "created_at": timestamp(row.created_at),
        "updated_at": timestamp(row.updated_at),
    }
