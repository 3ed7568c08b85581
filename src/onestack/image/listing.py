"""``GET /v2/images``: Glance's filters, sorting and pagination.

Filters: ``name``, ``status``, ``id``, ``disk_format``, ``container_format``
(each also as ``in:a,b``), ``visibility`` (``public``, ``private``, ``shared``,
``community``, ``all``), ``member_status`` (``accepted`` by default),
``owner``, ``tag`` (repeatable: all must match), ``size_min``/``size_max``,
``protected``, ``os_hidden`` (hidden images are left out by default),
``created_at``/``updated_at`` with ``gt:``, ``gte:``, ``lt:``, ``lte:``,
``eq:``, ``neq:``, and any other ``key=value`` as an extra-property filter.
Sorting: ``sort_key``/``sort_dir`` (repeatable) or ``sort=key:dir,...``; the
default is ``created_at`` descending, and a direction left out is ``desc``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import exists, select

from onestack.common.context import RequestContext
from onestack.common.exceptions import BadRequest, NotFound
from onestack.common.pagination import PageRequest, SortKey, paginate, parse_bool
from onestack.image.core import ImageCore
from onestack.image.models import Image, ImageMember, ImageProperty, ImageTag

Query = Sequence[tuple[str, str]]

SORT_COLUMNS: dict[str, Any] = {
    "name": Image.name,
    "status": Image.status,
    "container_format": Image.container_format,
    "disk_format": Image.disk_format,
    "size": Image.size,
    "virtual_size": Image.virtual_size,
    "id": Image.id,
    "created_at": Image.created_at,
    "updated_at": Image.updated_at,
    "visibility": Image.visibility,
    "owner": Image.owner,
    "min_disk": Image.min_disk,
    "min_ram": Image.min_ram,
    "os_hidden": Image.os_hidden,
}
IN_FILTERS: dict[str, Any] = {
    "name": Image.name,
    "status": Image.status,
    "id": Image.id,
    "disk_format": Image.disk_format,
    "container_format": Image.container_format,
}
TIME_OPS = {
    "gt": lambda c, v: c > v,
    "gte": lambda c, v: c >= v,
    "lt": lambda c, v: c < v,
    "lte": lambda c, v: c <= v,
    "eq": lambda c, v: c == v,
    "neq": lambda c, v: c != v,
}
NOT_PROPERTIES = (
    "limit",
    "marker",
    "sort_key",
    "sort_dir",
    "sort",
    "member_status",
    "visibility",
    "os_hidden",
    "owner",
    "tag",
    "size_min",
    "size_max",
    "protected",
    "created_at",
    "updated_at",
    *IN_FILTERS,
)


@dataclass(frozen=True)
class Page:
    images: list[Image]
    next_marker: str | None


def parse_sort(query: Query) -> tuple[SortKey, ...]:
    keys: list[SortKey] = []
    sort_keys = [v for k, v in query if k == "sort_key"]
    sort_dirs = [v for k, v in query if k == "sort_dir"]
    sort = [v for k, v in query if k == "sort"]
    if sort and (sort_keys or sort_dirs):
        raise BadRequest("The 'sort' key cannot be combined with 'sort_key' or 'sort_dir'.")
    for value in sort:
        for item in value.split(","):
            name, _, direction = item.strip().partition(":")
            keys.append(SortKey(name, direction or "desc"))
    if sort_dirs and len(sort_dirs) not in (1, len(sort_keys) or 1):
        raise BadRequest("The number of sort_dir and sort_key values must match.")
    for index, name in enumerate(sort_keys or (["created_at"] if sort_dirs else [])):
        direction = sort_dirs[index] if index < len(sort_dirs) else (sort_dirs or ["desc"])[0]
        keys.append(SortKey(name, direction))
    for sort_key in keys:
        if sort_key.name not in SORT_COLUMNS:
            raise BadRequest(f"Invalid sort key: {sort_key.name}. It is not available.")
        if sort_key.direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction: {sort_key.direction}")
    return tuple(keys) or (SortKey("created_at", "desc"),)


def _in_values(value: str) -> list[str]:
    if not value.startswith("in:"):
        return [value]
    items, current, quoted = [], "", False
    for char in value[3:]:
        if char == '"':
            quoted = not quoted
        elif char == "," and not quoted:
            items.append(current)
            current = ""
        else:
            current += char
    items.append(current)
    return items


def page_order(
    core: ImageCore, params: Mapping[str, str], sort_keys: Mapping[str, Any]
) -> tuple[int, str, str]:
    """Glance's ``limit``, ``sort_key`` and ``sort_dir`` of a task or metadefs list:
    the page size (capped at ``api_limit_max``), the key and the direction."""
    settings = core.settings
    try:
        limit = int(params.get("limit", settings.limit_param_default))
    except ValueError:
        raise BadRequest("limit param must be an integer") from None
    if limit < 0:
        raise BadRequest("limit param must be positive")
    key = params.get("sort_key", "created_at")
    direction = params.get("sort_dir", "desc")
    if key not in sort_keys:
        raise BadRequest(f"Invalid sort key: {key}. It must be one of: {', '.join(sort_keys)}")
    if direction not in ("asc", "desc"):
        raise BadRequest(f"Invalid sort direction: {direction}")
    return min(limit, settings.api_limit_max), key, direction


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: {value!r} is not an integer.") from None


def _time(name: str, value: str) -> tuple[Any, datetime]:
    op, _, stamp = value.partition(":")
    if op not in TIME_OPS or not stamp:
        op, stamp = "eq", value
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: {value!r}.") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return TIME_OPS[op], when


class ImageLister:
    def __init__(self, core: ImageCore) -> None:
        self.core = core

    def _visibility(self, ctx: RequestContext, query: Query) -> Any:
        params = dict(query)
        visibility = params.get("visibility")
        member_status = params.get("member_status", "accepted")
        if member_status not in ("accepted", "pending", "rejected", "all"):
            raise BadRequest(f"Invalid member_status value: {member_status}")
        if visibility not in (None, "public", "private", "shared", "community", "all"):
            raise BadRequest(f"Invalid visibility value: {visibility}")
        member = ImageMember.member_id == ctx.project_id
        if member_status != "all":
            member = member & (ImageMember.status == member_status)
        shared = (Image.visibility == "shared") & exists().where(
            ImageMember.image_id == Image.id, member
        )
        mine = Image.owner == ctx.project_id
        if ctx.is_admin:
            if visibility in (None, "all"):
                return None
            if visibility == "shared" and "member_status" in params:
                return shared
            return Image.visibility == visibility
        if visibility == "public":
            return Image.visibility == "public"
        if visibility == "community":
            return Image.visibility == "community"
        if visibility == "private":
            return mine & (Image.visibility == "private")
        if visibility == "shared":
            return (Image.visibility == "shared") & (mine | shared)
        if visibility == "all":
            return mine | Image.visibility.in_(("public", "community")) | shared
        return mine | (Image.visibility == "public") | shared

    def list(
        self, ctx: RequestContext, query: Query, at_least: Mapping[str, int] | None = None
    ) -> Page:
        """``GET /v2/images``; ``at_least`` (``min_disk``, ``min_ram``) is for Nova's
        image proxy, whose ``minDisk``/``minRam`` filters Glance's API has not."""
        core = self.core
        core.enforce(ctx, "get_images")
        settings = core.settings
        params = dict(query)
        limit = settings.limit_param_default
        if "limit" in params:
            limit = _int("limit", params["limit"])
            if limit < 0:
                raise BadRequest("limit param must be positive")
        limit = min(limit, settings.api_limit_max)
        stmt = select(Image)
        visible = self._visibility(ctx, query)
        if visible is not None:
            stmt = stmt.where(visible)
        hidden = parse_bool(params["os_hidden"], "os_hidden") if "os_hidden" in params else False
        stmt = stmt.where(Image.os_hidden == hidden)
        for name, value in query:
            if name in IN_FILTERS:
                stmt = stmt.where(IN_FILTERS[name].in_(_in_values(value)))
            elif name == "owner":
                stmt = stmt.where(Image.owner == value)
            elif name == "tag":
                stmt = stmt.where(
                    exists().where(ImageTag.image_id == Image.id, ImageTag.value == value)
                )
            elif name == "size_min":
                stmt = stmt.where(Image.size >= _int(name, value))
            elif name == "size_max":
                stmt = stmt.where(Image.size <= _int(name, value))
            elif name == "protected":
                stmt = stmt.where(Image.protected == parse_bool(value, name))
            elif name in ("created_at", "updated_at"):
                compare, when = _time(name, value)
                stmt = stmt.where(compare(SORT_COLUMNS[name], when))
            elif name not in NOT_PROPERTIES:
                stmt = stmt.where(
                    exists().where(
                        ImageProperty.image_id == Image.id,
                        ImageProperty.name == name,
                        ImageProperty.value == value,
                    )
                )
        for column, minimum in (at_least or {}).items():
            stmt = stmt.where(getattr(Image, column) >= minimum)
        page = PageRequest(limit=limit, marker=params.get("marker"), sort=parse_sort(query))
        with core.db.reader() as session:
            try:
                images = paginate(session, stmt, Image, page, SORT_COLUMNS, Image.id)
            except NotFound:
                raise BadRequest(
                    f"Invalid marker. Image {page.marker} could not be found."
                ) from None
        next_marker = images[-1].id if limit and len(images) == limit else None
        return Page(images, next_marker)
