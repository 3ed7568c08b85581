"""The telemetry service's tables (Gnocchi's index and its time series).

The index: archive policies and their rules, resource types, resources (their
type's attributes in one JSON column) with every former revision in
``telemetry_resource_history``, and metrics.

The time series, pre-aggregated as measures arrive (``storage.py``):

- ``telemetry_raw``: the metric's raw measures of the current block of its
  coarsest granularity (plus ``back_window`` blocks, plus one when a ``rate:``
  method needs the previous point) — what Gnocchi keeps as its "unaggregated
  timeserie";
- ``telemetry_aggregates``: one row per metric, granularity, method and bucket,
  truncated to each granularity's timespan.

Metrics are keyed in these two tables by ``Metric.key``, a 63-bit integer taken
from the metric's UUID, so that a row is five numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Double,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, JSONType, UTCDateTime, binary_string, utcnow


class ArchivePolicy(Base):
    __tablename__ = "telemetry_archive_policies"

    name: Mapped[str] = mapped_column(binary_string(255), primary_key=True)
    back_window: Mapped[int] = mapped_column(Integer, default=0)
    #: [{"granularity": µs, "points": int | None, "timespan": µs | None}], finest first
    definition: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    #: the resolved set of aggregation methods, sorted
    aggregation_methods: Mapped[list[str]] = mapped_column(JSONType)


class ArchivePolicyRule(Base):
    __tablename__ = "telemetry_archive_policy_rules"

    name: Mapped[str] = mapped_column(binary_string(255), primary_key=True)
    metric_pattern: Mapped[str] = mapped_column(String(255))
    archive_policy_name: Mapped[str] = mapped_column(
        ForeignKey("telemetry_archive_policies.name", ondelete="RESTRICT")
    )


class ResourceType(Base):
    __tablename__ = "telemetry_resource_types"

    name: Mapped[str] = mapped_column(binary_string(255), primary_key=True)
    #: {"attr": {"type": "string", "required": bool, "min_length": 0, ...}}
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(32), default="active")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class _ResourceColumns:
    type: Mapped[str] = mapped_column(String(255), index=True)
    creator: Mapped[str | None] = mapped_column(String(255))
    created_by_user_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_by_project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revision_start: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_id: Mapped[str | None] = mapped_column(String(255))
    project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    original_resource_id: Mapped[str] = mapped_column(String(289))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class Resource(_ResourceColumns, Base):
    __tablename__ = "telemetry_resources"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)


class ResourceHistory(_ResourceColumns, Base):
    __tablename__ = "telemetry_resource_history"
    __table_args__ = (Index("ix_telemetry_resource_history_id", "id"),)

    revision: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36))
    revision_end: Mapped[datetime] = mapped_column(UTCDateTime)


class Metric(Base):
    __tablename__ = "telemetry_metrics"
    __table_args__ = (UniqueConstraint("resource_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    #: the metric's key in the time series tables (63 bits of its UUID)
    key: Mapped[int] = mapped_column(BigInteger, unique=True)
    archive_policy_name: Mapped[str] = mapped_column(
        ForeignKey("telemetry_archive_policies.name", ondelete="RESTRICT"), index=True
    )
    creator: Mapped[str | None] = mapped_column(String(255))
    created_by_user_id: Mapped[str | None] = mapped_column(String(255), index=True)
    created_by_project_id: Mapped[str | None] = mapped_column(String(255), index=True)
    resource_id: Mapped[str | None] = mapped_column(
        ForeignKey("telemetry_resources.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str | None] = mapped_column(String(255))
    unit: Mapped[str | None] = mapped_column(String(31))
    #: newest raw timestamp seen (µs; None: no measure yet)
    last_raw: Mapped[int | None] = mapped_column(BigInteger)
    #: measures dropped because they were older than the back window
    dropped: Mapped[int] = mapped_column(BigInteger, default=0)


class RawMeasure(Base):
    __tablename__ = "telemetry_raw"

    metric_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Double)


class Aggregate(Base):
    __tablename__ = "telemetry_aggregates"

    metric_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    granularity: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    method: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    value: Mapped[float] = mapped_column(Double)
