"""The orchestration service's tables (and nobody else's).

A stack row holds its template, environment, files and user parameters as
given (the engine parses them again when it resumes), its status, and the
trust it acts with.  A resource row is one physical resource in the making:
during a replacement the old and the new row share a name and only
``current`` tells them apart.  Events are ordered by their integer ``seq``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, JSONType, UTCDateTime, utcnow

ID = String(64)


class Stack(Base):
    __tablename__ = "orchestration_stacks"
    __table_args__ = (Index("ix_orchestration_stacks_project_name", "project_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    project_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID)
    username: Mapped[str | None] = mapped_column(String(255))
    #: the stack of a nested stack's owning resource (None for a top-level stack)
    parent_id: Mapped[str | None] = mapped_column(ID, index=True)
    owner_resource: Mapped[str | None] = mapped_column(String(255))
    nested_depth: Mapped[int] = mapped_column(Integer, default=0)
    template: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    environment: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    files: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: the definition before an update in progress (for rollback and resume)
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    action: Mapped[str] = mapped_column(String(16), default="CREATE")
    status: Mapped[str] = mapped_column(String(16), default="IN_PROGRESS")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    disable_rollback: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_mins: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list[str] | None] = mapped_column(JSONType)
    trust_id: Mapped[str | None] = mapped_column(ID)
    #: the engine (process) running the current action, and when it last said so
    engine_id: Mapped[str | None] = mapped_column(ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Resource(Base):
    __tablename__ = "orchestration_resources"
    __table_args__ = (Index("ix_orchestration_resources_stack_name", "stack_id", "name"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        ID, ForeignKey("orchestration_stacks.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(255))
    physical_id: Mapped[str | None] = mapped_column(String(255), index=True)
    #: the name given to the physical resource, chosen before it is created
    physical_name: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16), default="INIT")
    status: Mapped[str] = mapped_column(String(16), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    #: False for a resource being replaced (deleted once its successor exists)
    current: Mapped[bool] = mapped_column(Boolean, default=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    #: the resource's own data (a random string's value, signals received, ...)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    rsrc_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    required_by: Mapped[list[str]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Event(Base):
    __tablename__ = "orchestration_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True)
    stack_id: Mapped[str] = mapped_column(
        ID, ForeignKey("orchestration_stacks.id", ondelete="CASCADE"), index=True
    )
    resource_name: Mapped[str] = mapped_column(String(255))
    resource_type: Mapped[str] = mapped_column(String(255))
    physical_resource_id: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareConfig(Base):
    __tablename__ = "orchestration_software_configs"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    name: Mapped[str | None] = mapped_column(String(255))
    group: Mapped[str] = mapped_column(String(255), default="Heat::Ungrouped")
    config: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SoftwareDeployment(Base):
    __tablename__ = "orchestration_software_deployments"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    project_id: Mapped[str] = mapped_column(ID, index=True)
    config_id: Mapped[str] = mapped_column(ID)
    server_id: Mapped[str] = mapped_column(ID, index=True)
    action: Mapped[str] = mapped_column(String(16), default="INIT")
    status: Mapped[str] = mapped_column(String(16), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    input_values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    output_values: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Snapshot(Base):
    __tablename__ = "orchestration_snapshots"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    stack_id: Mapped[str] = mapped_column(
        ID, ForeignKey("orchestration_stacks.id", ondelete="CASCADE"), index=True
    )
    project_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="COMPLETE")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Signal(Base):
    """A signal a resource received (wait condition handles, scaling policies)."""

    __tablename__ = "orchestration_signals"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    stack_id: Mapped[str] = mapped_column(
        ID, ForeignKey("orchestration_stacks.id", ondelete="CASCADE"), index=True
    )
    resource_name: Mapped[str] = mapped_column(String(255))
    signal_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[Any] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
