"""Account and container records and their listings (the database side).

Swift keeps these in per-account and per-container SQLite files; onestack
keeps them in the main database so that they work the same on PostgreSQL and
MariaDB.  Listings follow Swift: UTF-8 byte order, ``prefix``,
``delimiter`` (roll-up into ``subdir`` entries), ``marker``, ``end_marker``,
``limit`` and ``reverse``.  Object rows carry the timestamp of the version
they describe; ``record_object`` ignores an update older than the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from onestack.common.db import Database
from onestack.object.models import Account, Container, ObjectRow

MAX_CHAR = "\U0010ffff"
T = TypeVar("T")


@dataclass(frozen=True)
class Subdir:
    name: str


@dataclass(frozen=True)
class ContainerEntry:
    name: str
    count: int
    bytes: int
    last_modified: datetime


@dataclass(frozen=True)
class Usage:
    count: int
    bytes: int


def ts_datetime(timestamp: str) -> datetime:
    return datetime.fromtimestamp(float(timestamp), UTC)


def _prefix_bounds(column: InstrumentedAttribute[str], prefix: str) -> list[ColumnElement[bool]]:
    if not prefix:
        return []
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1) if ord(prefix[-1]) < 0x10FFFF else None
    bounds = [column >= prefix]
    if upper is not None:
        bounds.append(column < upper)
    return bounds


def listing(
    fetch: Callable[[list[ColumnElement[bool]], bool, int], Sequence[T]],
    name_of: Callable[[T], str],
    column: InstrumentedAttribute[str],
    *,
    prefix: str = "",
    delimiter: str = "",
    marker: str = "",
    end_marker: str = "",
    limit: int = 10000,
    reverse: bool = False,
) -> list[T | Subdir]:
    """Swift's listing walk over rows fetched by ``fetch(conditions, reverse, limit)``."""
    results: list[T | Subdir] = []
    while len(results) < limit:
        conditions = _prefix_bounds(column, prefix)
        if marker:
            conditions.append(column < marker if reverse else column > marker)
        if end_marker:
            conditions.append(column > end_marker if reverse else column < end_marker)
        batch = max(limit - len(results), 1)
        rows = fetch(conditions, reverse, batch)
        if not rows:
            break
        requery = False
        for row in rows:
            name = name_of(row)
            if delimiter:
                cut = name.find(delimiter, len(prefix))
                if cut >= 0:
                    subdir = name[: cut + len(delimiter)]
                    if not results or not (
                        isinstance(results[-1], Subdir) and results[-1].name == subdir
                    ):
                        results.append(Subdir(subdir))
                    marker = subdir if reverse else subdir + MAX_CHAR
                    requery = True
                    break
            results.append(row)
            marker = name
            if len(results) >= limit:
                break
        if not requery and len(rows) < batch:
            break
    return results[:limit]


class Listings:
    """Database operations on accounts, containers and object rows."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- accounts ---------------------------------------------------------------

    def account(self, name: str) -> Account | None:
        with self.db.reader() as session:
            return session.get(Account, name)

    def ensure_account(self, session: Session, name: str, project_id: str, ts: str) -> Account:
        account = session.get(Account, name)
        if account is None:
            account = Account(name=name, project_id=project_id, metadata_={}, put_timestamp=ts)
            session.add(account)
            session.flush()
        return account

    def update_account(
        self, name: str, project_id: str, ts: str, changes: dict[str, str | None]
    ) -> None:
        for attempt in range(2):
            try:
                with self.db.writer() as session:
                    account = self.ensure_account(session, name, project_id, ts)
                    account.metadata_ = apply_meta(account.metadata_, changes)
                return
            except IntegrityError:
                if attempt:
                    raise

    def account_usage(self, name: str) -> tuple[int, Usage]:
        with self.db.reader() as session:
            containers = session.scalar(
                select(func.count()).select_from(Container).where(Container.account == name)
            )
            row = session.execute(
                select(func.count(ObjectRow.id), func.coalesce(func.sum(ObjectRow.size), 0))
                .join(Container, Container.id == ObjectRow.container_id)
                .where(Container.account == name, ObjectRow.deleted.is_(False))
            ).one()
        return int(containers or 0), Usage(int(row[0]), int(row[1]))

    def list_containers(self, account: str, **options: Any) -> list[ContainerEntry | Subdir]:
        with self.db.reader() as session:

            def fetch(
                conditions: list[ColumnElement[bool]], reverse: bool, limit: int
            ) -> Sequence[Container]:
                order = Container.name.desc() if reverse else Container.name.asc()
                stmt = select(Container).where(Container.account == account, *conditions)
                return list(session.scalars(stmt.order_by(order).limit(limit)))

            rows = listing(fetch, lambda c: c.name, Container.name, **options)
            ids = [r.id for r in rows if isinstance(r, Container)]
            usage = {
                cid: Usage(int(count), int(size))
                for cid, count, size in session.execute(
                    select(
                        ObjectRow.container_id,
                        func.count(ObjectRow.id),
                        func.coalesce(func.sum(ObjectRow.size), 0),
                    )
                    .where(ObjectRow.container_id.in_(ids), ObjectRow.deleted.is_(False))
                    .group_by(ObjectRow.container_id)
                )
            }
        result: list[ContainerEntry | Subdir] = []
        for row in rows:
            if isinstance(row, Subdir):
                result.append(row)
            else:
                used = usage.get(row.id, Usage(0, 0))
                result.append(
                    ContainerEntry(row.name, used.count, used.bytes, ts_datetime(row.put_timestamp))
                )
        return result

    # -- containers ---------------------------------------------------------------

    def container(self, account: str, name: str) -> Container | None:
        with self.db.reader() as session:
            return self._container(session, account, name)

    @staticmethod
    def _container(session: Session, account: str, name: str) -> Container | None:
        return session.scalar(
            select(Container).where(Container.account == account, Container.name == name)
        )

    def put_container(
        self, account: str, project_id: str, name: str, ts: str, fields: dict[str, Any]
    ) -> bool:
        """Create or update a container; True when it was created."""
        for attempt in range(2):
            try:
                with self.db.writer() as session:
                    self.ensure_account(session, account, project_id, ts)
                    container = self._container(session, account, name)
                    created = container is None
                    if container is None:
                        container = Container(
                            account=account, name=name, metadata_={}, put_timestamp=ts
                        )
                        session.add(container)
                    self._apply(container, fields)
                    session.flush()
                return created
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def update_container(self, account: str, name: str, fields: dict[str, Any]) -> bool:
        with self.db.writer() as session:
            container = self._container(session, account, name)
            if container is None:
                return False
            self._apply(container, fields)
        return True

    @staticmethod
    def _apply(container: Container, fields: dict[str, Any]) -> None:
        meta = fields.get("metadata")
        if meta:
            container.metadata_ = apply_meta(container.metadata_, meta)
        for key in ("read_acl", "write_acl"):
            if key in fields:
                setattr(container, key, fields[key] or "")
        if "versions" in fields:
            location, mode = fields["versions"]
            container.versions_location = location
            container.versions_mode = mode
        for key in ("sync_to", "sync_key"):
            if key in fields:
                if fields[key] != getattr(container, key):
                    # A new target (or key) is synced from the start.
                    container.sync_point = None
                setattr(container, key, fields[key] or None)

    def delete_container(self, account: str, name: str) -> str:
        """ "deleted", "missing" or "not_empty"."""
        with self.db.writer() as session:
            container = self._container(session, account, name)
            if container is None:
                return "missing"
            live = session.scalar(
                select(ObjectRow.id)
                .where(ObjectRow.container_id == container.id, ObjectRow.deleted.is_(False))
                .limit(1)
            )
            if live is not None:
                return "not_empty"
            session.execute(delete(ObjectRow).where(ObjectRow.container_id == container.id))
            session.delete(container)
        return "deleted"

    def container_usage(self, container_id: int) -> Usage:
        with self.db.reader() as session:
            row = session.execute(
                select(func.count(ObjectRow.id), func.coalesce(func.sum(ObjectRow.size), 0)).where(
                    ObjectRow.container_id == container_id, ObjectRow.deleted.is_(False)
                )
            ).one()
        return Usage(int(row[0]), int(row[1]))

    def list_objects(self, container_id: int, **options: Any) -> list[ObjectRow | Subdir]:
        with self.db.reader() as session:

            def fetch(
                conditions: list[ColumnElement[bool]], reverse: bool, limit: int
            ) -> Sequence[ObjectRow]:
                order = ObjectRow.name.desc() if reverse else ObjectRow.name.asc()
                stmt = select(ObjectRow).where(
                    ObjectRow.container_id == container_id,
                    ObjectRow.deleted.is_(False),
                    *conditions,
                )
                return list(session.scalars(stmt.order_by(order).limit(limit)))

            return listing(fetch, lambda r: r.name, ObjectRow.name, **options)

    # -- object rows ---------------------------------------------------------------

    def record_object(self, update: dict[str, Any]) -> bool:
        """Apply one container update (a dict, so it can wait in a file); False when the
        container no longer exists."""
        with self.db.writer() as session:
            container = self._container(session, update["account"], update["container"])
            if container is None:
                return False
            row = session.scalar(
                select(ObjectRow).where(
                    ObjectRow.container_id == container.id, ObjectRow.name == update["name"]
                )
            )
            if row is not None and row.timestamp >= update["timestamp"]:
                return True
            if row is None:
                row = ObjectRow(container_id=container.id, name=update["name"])
                session.add(row)
            row.timestamp = update["timestamp"]
            row.deleted = bool(update.get("deleted"))
            row.size = int(update.get("size") or 0)
            row.etag = update.get("etag") or ""
            row.content_type = update.get("content_type") or ""
            row.delete_at = update.get("delete_at")
            row.s3_etag = update.get("s3_etag")
            row.symlink_path = update.get("symlink_path")
            row.symlink_etag = update.get("symlink_etag")
            bytes_ = update.get("symlink_bytes")
            row.symlink_bytes = int(bytes_) if bytes_ is not None else None
            row.last_modified = ts_datetime(update.get("last_modified") or update["timestamp"])
        return True

    # -- container sync ----------------------------------------------------------

    def sync_containers(self) -> list[Container]:
        """The containers with both a sync target and a sync key."""
        with self.db.reader() as session:
            return list(
                session.scalars(
                    select(Container)
                    .where(Container.sync_to.is_not(None), Container.sync_key.is_not(None))
                    .order_by(Container.id)
                )
            )

    def rows_since(self, container_id: int, after: str | None, limit: int) -> list[ObjectRow]:
        """Object rows (deletions too) newer than ``after``, oldest first."""
        with self.db.reader() as session:
            stmt = select(ObjectRow).where(ObjectRow.container_id == container_id)
            if after is not None:
                stmt = stmt.where(ObjectRow.timestamp > after)
            return list(session.scalars(stmt.order_by(ObjectRow.timestamp).limit(limit)))

    def set_sync_point(self, container_id: int, point: str) -> None:
        with self.db.writer() as session:
            container = session.get(Container, container_id)
            if container is not None:
                container.sync_point = point

    def expired(self, now: float, limit: int = 500) -> list[tuple[str, str, str, int]]:
        """(account, container, object, delete_at) of objects due for deletion."""
        with self.db.reader() as session:
            rows = session.execute(
                select(Container.account, Container.name, ObjectRow.name, ObjectRow.delete_at)
                .join(Container, Container.id == ObjectRow.container_id)
                .where(
                    ObjectRow.deleted.is_(False),
                    ObjectRow.delete_at.is_not(None),
                    ObjectRow.delete_at <= int(now),
                )
                .limit(limit)
            ).all()
        return [(a, c, o, int(d or 0)) for a, c, o, d in rows]


def apply_meta(current: dict[str, Any], changes: dict[str, str | None]) -> dict[str, Any]:
    merged = dict(current)
    for key, value in changes.items():
        if value is None or value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
