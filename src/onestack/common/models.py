"""The framework's own tables: quota limits (every service's quotas live here) and
injected faults (``onestack.common.faults``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, UTCDateTime


class QuotaLimit(Base):
    """A project's own limit for one resource; absent means the default."""

    __tablename__ = "quota_limits"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer, nullable=False)


class QuotaDefault(Base):
    """An operator-set default limit (``quota-class-sets``/``defaults``)."""

    __tablename__ = "quota_defaults"

    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    hard_limit: Mapped[int] = mapped_column(Integer, nullable=False)


class QuotaLock(Base):
    """One row per project and service, locked while usage is counted and checked."""

    __tablename__ = "quota_locks"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)


class InjectedFault(Base):
    """A fault an operator injected (``onestack fault add``), until it expires or is used up.

    ``kind`` says where it acts (``onestack.common.faults.FaultKind``): an API request
    answered with an error or a delay, an asynchronous operation that fails, or an
    agent reported down.
    """

    __tablename__ = "injected_faults"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    service: Mapped[str] = mapped_column(String(32), nullable=False)
    #: api: the HTTP method (``*``: any) and the path pattern (a regular expression)
    method: Mapped[str] = mapped_column(String(16), nullable=False, default="*")
    path: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    #: the project whose requests or resources it hits (None: any)
    project_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: agent_down: the host (None: every host of the service)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    status: Mapped[int] = mapped_column(Integer, nullable=False, default=500)
    message: Mapped[str] = mapped_column(String(1024), nullable=False, default="")
    delay: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    #: how many more matches it answers (None: every match until it expires)
    remaining: Mapped[int | None] = mapped_column(Integer, nullable=True)
    probability: Mapped[float] = mapped_column(Float, nullable=False, default=1.0)
    hits: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
