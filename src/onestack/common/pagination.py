"""Listing helpers shared by every API: limit/marker pagination, sorting,
filters and the ``links`` a client follows to the next page.

Pagination is keyset-based: the marker is the id of the last item of the
previous page, and the next page starts strictly after it in the requested
sort order (ties broken by id), as oslo.db's ``paginate_query`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, false, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from onestack.common.exceptions import BadRequest, NotFound

Column = InstrumentedAttribute[Any]


@dataclass(frozen=True)
class SortKey:
    name: str
    direction: str = "asc"


@dataclass(frozen=True)
class PageRequest:
    limit: int | None = None
    marker: str | None = None
    sort: tuple[SortKey, ...] = field(default_factory=tuple)


def parse_limit(value: str | None, *, maximum: int = 1000) -> int | None:
    if value is None or value == "":
        return None
    try:
        limit = int(value)
    except ValueError:
        raise BadRequest(f"limit must be an integer, not {value!r}.") from None
    if limit < 0:
        raise BadRequest("limit must be a non-negative integer.")
    return min(limit, maximum)


def parse_sort(
    query: Mapping[str, str] | Sequence[tuple[str, str]],
    allowed: Sequence[str],
    default: Sequence[SortKey] = (),
) -> tuple[SortKey, ...]:
    """Read ``sort=key:dir,key2`` or repeated ``sort_key``/``sort_dir``."""
    pairs = list(query.items()) if isinstance(query, Mapping) else list(query)
    keys: list[SortKey] = []
    for name, value in pairs:
        if name == "sort":
            for item in value.split(","):
                name_part, _, direction = item.strip().partition(":")
                keys.append(SortKey(name_part, direction or "asc"))
    sort_keys = [v for k, v in pairs if k == "sort_key"]
    sort_dirs = [v for k, v in pairs if k == "sort_dir"]
    for index, raw in enumerate(sort_keys):
        for part in raw.split(","):
            direction = (
                sort_dirs[index]
                if index < len(sort_dirs)
                else (sort_dirs[0] if sort_dirs else "asc")
            )
            keys.append(SortKey(part.strip(), direction))
    if not sort_keys and sort_dirs and default:
        keys = [SortKey(k.name, sort_dirs[0]) for k in default]
    for sort_key in keys:
        if sort_key.name not in allowed:
            raise BadRequest(f"Invalid sort key {sort_key.name!r}.")
        if sort_key.direction not in ("asc", "desc"):
            raise BadRequest(f"Invalid sort direction {sort_key.direction!r}.")
    return tuple(keys) or tuple(default)


def paginate(
    session: Session,
    stmt: Select[Any],
    model: type[Any],
    page: PageRequest,
    columns: Mapping[str, Column],
    id_column: Column,
) -> list[Any]:
    """Apply sorting, the marker and the limit to ``stmt`` and run it."""
    sort = list(page.sort)
    order: list[Any] = []
    keys: list[tuple[Column, str]] = []
    for key in sort:
        column = columns[key.name]
        keys.append((column, key.direction))
    if not any(column is id_column for column, _ in keys):
        keys.append((id_column, keys[-1][1] if keys else "asc"))
    for column, direction in keys:
        order.append(column.desc() if direction == "desc" else column.asc())
    stmt = stmt.order_by(*order)
    if page.marker is not None:
        marker = session.execute(
            stmt.with_only_columns(*[c for c, _ in keys])
            .order_by(None)
            .where(id_column == page.marker)
        ).first()
        if marker is None:
            raise NotFound(f"Marker {page.marker} could not be found.")
        stmt = stmt.where(_after(keys, tuple(marker)))
    if page.limit is not None:
        stmt = stmt.limit(page.limit)
    return list(session.scalars(stmt))


def _after(keys: list[tuple[Column, str]], values: tuple[Any, ...]) -> Any:
    clauses = []
    for i, (column, direction) in enumerate(keys):
        equal = [keys[j][0] == values[j] for j in range(i)]
        value = values[i]
        step: ColumnElement[bool]
        if value is None:
            # NULLs sort first ascending here; everything non-null is after them.
            step = column.is_not(None) if direction == "asc" else false()
        else:
            step = column > value if direction == "asc" else column < value
            if direction == "desc":
                step = or_(step, column.is_(None))
        clauses.append(and_(*equal, step))
    return or_(*clauses)


def next_link(base_url: str, query: Sequence[tuple[str, str]], marker: str) -> str:
    params = [(k, v) for k, v in query if k != "marker"]
    params.append(("marker", marker))
    return f"{base_url}?{urlencode(params)}"


_INEXACT = {
    "contains": lambda c, v: c.contains(v, autoescape=True),
    "icontains": lambda c, v: c.icontains(v, autoescape=True),
    "startswith": lambda c, v: c.startswith(v, autoescape=True),
    "istartswith": lambda c, v: c.istartswith(v, autoescape=True),
    "endswith": lambda c, v: c.endswith(v, autoescape=True),
    "iendswith": lambda c, v: c.iendswith(v, autoescape=True),
}


def apply_filters(
    stmt: Select[Any],
    query: Sequence[tuple[str, str]],
    columns: Mapping[str, Column],
    *,
    booleans: Sequence[str] = (),
) -> Select[Any]:
    """Keep rows where each known ``name=value`` (or ``name__contains=v``...) holds.

    Unknown parameters are ignored, as the OpenStack services do.
    """
    for name, value in query:
        base, _, op = name.partition("__")
        column = columns.get(base)
        if column is None:
            continue
        if op:
            fn = _INEXACT.get(op)
            if fn is None:
                continue
            stmt = stmt.where(fn(column, value))
        elif base in booleans:
            stmt = stmt.where(column == parse_bool(value, base))
        else:
            stmt = stmt.where(column == value)
    return stmt


def parse_bool(value: str, name: str = "value") -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on", "t", "y"):
        return True
    if lowered in ("0", "false", "no", "off", "f", "n"):
        return False
    raise BadRequest(f"{name} must be a boolean, not {value!r}.")
