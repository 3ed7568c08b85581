"""What every identity manager shares: the database, policy, settings and the
revision counter that invalidates cached tokens and catalogs on any write."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from onestack.common.db import Database, is_duplicate
from onestack.common.policy import Enforcer
from onestack.config import Settings
from onestack.identity.exceptions import DuplicateEntry, not_found
from onestack.identity.passwords import PasswordHashing

T = TypeVar("T")

DEFAULT_DOMAIN_ID = "default"


M = TypeVar("M")


def get_or_404(session: Session, model: type[M], kind: str, ref: str) -> M:
    """The row with primary key ``ref``, or Keystone's 404 naming ``kind``."""
    row = session.get(model, ref)
    if row is None:
        raise not_found(kind, ref)
    return row


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Revision:
    """Bumped on every identity write; caches keyed by it drop stale entries."""

    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    value: int = 0

    def bump(self) -> None:
        self.value = next(self._counter)


class IdentityCore:
    def __init__(self, settings: Settings, db: Database, enforcer: Enforcer) -> None:
        self.settings = settings
        self.db = db
        self.enforcer = enforcer
        self.revision = Revision()
        ident = settings.identity
        self.passwords = PasswordHashing(
            time_cost=ident.argon2_time_cost,
            memory_kib=ident.argon2_memory_kib,
            parallelism=ident.argon2_parallelism,
        )

    @contextmanager
    def write(self, kind: str = "entity", field: str = "name") -> Iterator[Session]:
        """A write transaction; unique violations become Keystone's 409."""
        try:
            with self.db.writer() as session:
                yield session
        except IntegrityError as exc:
            if is_duplicate(exc):
                raise DuplicateEntry(kind=kind, field=field) from None
            raise
        finally:
            self.revision.bump()

    def read(self) -> Any:
        return self.db.reader()
