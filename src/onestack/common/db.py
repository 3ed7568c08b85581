"""Database engine and sessions.

``Database.reader()`` opens a read transaction, ``Database.writer()`` a write
transaction that commits on success and rolls back on any exception, so a
failed request never leaves a half-written record.

On SQLite (the default) the database runs in WAL mode: readers never block,
and writers take ``BEGIN IMMEDIATE`` behind one in-process lock, so
concurrent writers queue instead of failing with "database is locked"
(another process waits up to ``busy_timeout``).  PostgreSQL and MariaDB use
their own row locking.

No value a client sent can make a statement fail inside the database driver: an
integer outside the signed 64-bit range or a string with a lone surrogate (no UTF-8
for it) is refused before it is sent, and a value the database itself rejects (an
out-of-range number for a narrower column, PostgreSQL's ``DataError``) becomes the
same 400, ``InvalidValue``, with the transaction rolled back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.types import TypeDecorator

from onestack.common.exceptions import BadRequest

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base of every service's tables (one shared MetaData)."""

    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored naive in UTC and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


JSONType = JSON


def binary_string(length: int) -> String:
    """A string compared and sorted byte by byte on every database (C collation on
    PostgreSQL, utf8mb4_bin on MariaDB), for names whose order or case an API defines."""
    return (
        String(length)
        .with_variant(String(length, collation="C"), "postgresql")
        .with_variant(String(length, collation="utf8mb4_bin"), "mysql", "mariadb")
    )


def utcnow() -> datetime:
    return datetime.now(UTC)


class InvalidValue(BadRequest):
    msg_fmt = "Invalid input: {reason}"


_INT_MIN, _INT_MAX = -(2**63), 2**63 - 1


def _check_value(value: Any) -> None:
    if type(value) is int and not _INT_MIN <= value <= _INT_MAX:
        raise InvalidValue(reason=f"the integer {str(value)[:40]} is out of range")
    if type(value) is str and not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidValue(reason="the text is not valid Unicode (a lone surrogate)") from None


def check_parameters(parameters: Any) -> None:
    """Raise ``InvalidValue`` when a statement's parameters hold a value no database
    stores (checked before every statement; see the module docstring)."""
    if isinstance(parameters, dict):
        for value in parameters.values():
            _check_value(value)
    elif isinstance(parameters, (list, tuple)):
        for value in parameters:
            if isinstance(value, (dict, list, tuple)):
                check_parameters(value)
            else:
                _check_value(value)


class Database:
    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, max_overflow: int = 30
    ) -> None:
        """``pool_size``/``max_overflow``: connections kept and allowed beyond them, for a
        server database (a host among hundreds keeps few: the server's limit is shared)."""
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 60}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool  # one shared in-memory database
            else:
                kwargs["pool_size"] = 20
                kwargs["max_overflow"] = 20
        else:
            kwargs["pool_pre_ping"] = True
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = max_overflow
            kwargs["pool_recycle"] = 3600
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        event.listen(self.engine, "before_cursor_execute", _before_execute)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._write_lock = threading.Lock() if self.is_sqlite else None

    @contextmanager
    def reader(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
        except DataError as exc:
            raise InvalidValue(reason=_data_error(exc)) from None
        finally:
            session.close()  # ends the transaction; loaded objects stay readable

    @contextmanager
    def writer(self) -> Iterator[Session]:
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        with lock:
            session = self._sessions()
            if self.is_sqlite:
                session.connection(execution_options={"onestack_write": True})
            try:
                yield session
                session.commit()
            except DataError as exc:
                session.rollback()
                raise InvalidValue(reason=_data_error(exc)) from None
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _before_execute(
    conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
) -> None:
    check_parameters(parameters)


def _data_error(exc: DataError) -> str:
    """The first line of the database's complaint (no statement, no parameters)."""
    return str(exc.orig).strip().splitlines()[0][:200] if exc.orig is not None else "bad value"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite so that BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get("onestack_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def is_duplicate(exc: IntegrityError) -> bool:
    """True when an IntegrityError is a unique-constraint violation."""
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("unique constraint", "duplicate entry", "duplicate key", "unique")
    )
