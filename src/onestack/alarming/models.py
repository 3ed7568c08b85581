"""The alarming service's tables: alarms, their history, quotas and evaluation counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, JSONType, UTCDateTime


class Alarm(Base):
    __tablename__ = "alarming_alarms"

    alarm_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(64), index=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    severity: Mapped[str] = mapped_column(String(16), default="low")
    state: Mapped[str] = mapped_column(String(32), default="insufficient data")
    state_reason: Mapped[str] = mapped_column(Text, default="Not evaluated yet")
    state_timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    evaluate_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    user_id: Mapped[str | None] = mapped_column(String(128), index=True)
    project_id: Mapped[str | None] = mapped_column(String(128), index=True)
    ok_actions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    alarm_actions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    insufficient_data_actions: Mapped[list[str]] = mapped_column(JSONType, default=list)
    repeat_actions: Mapped[bool] = mapped_column(Boolean, default=False)
    time_constraints: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    rule: Mapped[dict[str, Any]] = mapped_column(JSONType)
    #: the project whose resources a non-admin's alarm may read (None: an admin's alarm)
    scope_project_id: Mapped[str | None] = mapped_column(String(128))


class AlarmChange(Base):
    __tablename__ = "alarming_history"
    __table_args__ = (Index("ix_alarming_history_alarm_time", "alarm_id", "timestamp"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    alarm_id: Mapped[str] = mapped_column(String(36))
    on_behalf_of: Mapped[str | None] = mapped_column(String(128), index=True)
    project_id: Mapped[str | None] = mapped_column(String(128))
    user_id: Mapped[str | None] = mapped_column(String(128))
    type: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime)
    severity: Mapped[str | None] = mapped_column(String(16))


class Quota(Base):
    __tablename__ = "alarming_quotas"

    project_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    resource: Mapped[str] = mapped_column(String(50), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class Counter(Base):
    """How often the evaluator found each alarm in each state (the /v2/metrics API)."""

    __tablename__ = "alarming_counters"

    alarm_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(128), index=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)
