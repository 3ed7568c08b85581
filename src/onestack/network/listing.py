"""Neutron's list semantics on top of ``onestack.common.pagination``.

Filters: any attribute by equality (``?status=ACTIVE``); a repeated key
matches any of its values; booleans accept true/false/1/0; ``tags``,
``tags-any``, ``not-tags`` and ``not-tags-any`` take comma-separated lists.
Sorting: ``sort_key``/``sort_dir`` pairs.  Pagination: ``limit``, ``marker``
and ``page_reverse``; the API adds ``<collection>_links`` (next/previous,
``api.deps.page_links``).
Unknown filter names are ignored, as Neutron does without filter validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, not_, select
from sqlalchemy.orm import Session

from onestack.common.exceptions import BadRequest as CommonBadRequest
from onestack.common.pagination import Column, PageRequest, SortKey, paginate, parse_bool
from onestack.network.exceptions import BadRequest
from onestack.network.models import Tag

#: parameters that are never attribute filters
RESERVED = frozenset(
    {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}
    | {"tags", "tags-any", "not-tags", "not-tags-any"}
)

Special = Callable[[Select[Any], list[str]], Select[Any]]


@dataclass(frozen=True)
class ListSpec:
    """How one collection maps query parameters onto its table."""

    model: type[Any]
    columns: Mapping[str, Column]
    booleans: frozenset[str] = frozenset()
    integers: frozenset[str] = frozenset()
    #: filters that are not a plain column (``fixed_ips``, ``security_groups``...)
    special: Mapping[str, Special] = field(default_factory=dict)
    default_sort: tuple[SortKey, ...] = ()


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    limit: int | None
    marker: str | None
    reverse: bool


def _grouped(query: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in query:
        grouped.setdefault(key, []).append(value)
    return grouped


def _convert(spec: ListSpec, name: str, value: str) -> Any:
    if name in spec.booleans:
        try:
            return parse_bool(value, name)
        except CommonBadRequest:
            raise BadRequest(resource="filter", msg=f"'{value}' is not a boolean") from None
    if name in spec.integers:
        try:
            return int(value)
        except ValueError:
            raise BadRequest(resource="filter", msg=f"'{value}' is not an integer") from None
    return value


def apply_query_filters(
    stmt: Select[Any], spec: ListSpec, query: Sequence[tuple[str, str]]
) -> Select[Any]:
    grouped = _grouped(query)
    id_column = spec.columns["id"]
    for name, values in grouped.items():
        if name in RESERVED:
            continue
        if name in spec.special:
            stmt = spec.special[name](stmt, values)
            continue
        column = spec.columns.get(name)
        if column is None:
            continue
        converted = [_convert(spec, name, v) for v in values]
        stmt = (
            stmt.where(column.in_(converted))
            if len(converted) > 1
            else stmt.where(column == converted[0])
        )
    for name in ("tags", "tags-any", "not-tags", "not-tags-any"):
        if name not in grouped:
            continue
        tags = sorted({t for v in grouped[name] for t in v.split(",") if t})
        if not tags:
            continue
        if name in ("tags", "not-tags"):
            matching = (
                select(Tag.resource_id)
                .where(Tag.tag.in_(tags))
                .group_by(Tag.resource_id)
                .having(func.count() == len(tags))
            )
        else:
            matching = select(Tag.resource_id).where(Tag.tag.in_(tags))
        clause = id_column.in_(matching)
        stmt = stmt.where(not_(clause) if name.startswith("not-") else clause)
    return stmt


def parse_page(spec: ListSpec, query: Sequence[tuple[str, str]]) -> tuple[PageRequest, bool]:
    grouped = _grouped(query)
    limit: int | None = None
    raw_limit = grouped.get("limit", [""])[-1]
    if raw_limit:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise BadRequest(
                resource="limit", msg=f"Limit must be an integer 0 or greater and not '{raw_limit}'"
            ) from None
        if not 0 <= limit <= 2**63 - 1:
            raise BadRequest(
                resource="limit", msg=f"Limit must be an integer 0 or greater and not '{raw_limit}'"
            )
        if limit == 0:
            limit = None
    reverse = parse_bool(grouped.get("page_reverse", ["false"])[-1], "page_reverse")
    keys = grouped.get("sort_key", [])
    dirs = grouped.get("sort_dir", [])
    if dirs and len(dirs) != len(keys):
        raise BadRequest(resource="sort", msg="The number of sort_keys and sort_dirs must be same")
    sort: list[SortKey] = []
    for index, key in enumerate(keys):
        direction = dirs[index] if dirs else "asc"
        if key not in spec.columns:
            raise BadRequest(resource="sort", msg=f"{key} is an invalid attribute for sort_keys")
        if direction not in ("asc", "desc"):
            raise BadRequest(
                resource="sort",
                msg=f"{direction} is an invalid value for sort_dirs, valid values are "
                "'asc' and 'desc'",
            )
        sort.append(SortKey(key, direction))
    if reverse:
        sort = [SortKey(k.name, "desc" if k.direction == "asc" else "asc") for k in sort] or [
            SortKey("id", "desc")
        ]
    marker = grouped.get("marker", [None])[-1] or None
    return PageRequest(limit=limit, marker=marker, sort=tuple(sort)), reverse


def list_rows(
    session: Session, spec: ListSpec, base: Select[Any], query: Sequence[tuple[str, str]]
) -> Page:
    """The rows of one page, already in the order the client asked for."""
    stmt = apply_query_filters(base, spec, query)
    page, reverse = parse_page(spec, query)
    rows = paginate(session, stmt, spec.model, page, spec.columns, spec.columns["id"])
    if reverse:
        rows.reverse()
    return Page(rows=rows, limit=page.limit, marker=page.marker, reverse=reverse)


def tags_of(session: Session, ids: Sequence[str]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return result
    for row in session.execute(
        select(Tag.resource_id, Tag.tag).where(Tag.resource_id.in_(list(ids))).order_by(Tag.tag)
    ):
        result.setdefault(row[0], []).append(row[1])
    return result


def attach_tags(session: Session, rows: Sequence[Any]) -> None:
    tags = tags_of(session, [r.id for r in rows])
    for row in rows:
        row.tag_list = tags.get(row.id, [])
