"""The volume service's tables (names prefixed ``volume_``), nobody else's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, JSONType, UTCDateTime, utcnow


class VolumeType(Base):
    __tablename__ = "volume_types"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    extra_specs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    #: the QoS specs associated with this type (qos.py), as Cinder keeps it
    qos_specs_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QosSpecs(Base):
    """Cinder's QoS specs: named key/value sets for a consumer, associated with types."""

    __tablename__ = "volume_qos_specs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True, nullable=False)
    #: front-end (the hypervisor applies them), back-end (the backend does), both
    consumer: Mapped[str] = mapped_column(String(16), nullable=False)
    specs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VolumeTypeEncryption(Base):
    """The encryption type of a volume type (Cinder's ``encryption`` table)."""

    __tablename__ = "volume_type_encryption"

    encryption_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_type_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("volume_types.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    provider: Mapped[str] = mapped_column(String(255), nullable=False)
    cipher: Mapped[str | None] = mapped_column(String(255))
    key_size: Mapped[int | None] = mapped_column(Integer)
    control_location: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class VolumeTypeAccess(Base):
    __tablename__ = "volume_type_access"

    volume_type_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("volume_types.id", ondelete="CASCADE"), primary_key=True
    )
    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class Volume(Base):
    __tablename__ = "volume_volumes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    previous_status: Mapped[str | None] = mapped_column(String(32))
    attach_status: Mapped[str] = mapped_column(String(32), default="detached", nullable=False)
    migration_status: Mapped[str | None] = mapped_column(String(32))
    availability_zone: Mapped[str] = mapped_column(String(255), nullable=False)
    #: Cinder's ``host@backend#pool``; the agent's name is the part before ``@``
    host: Mapped[str | None] = mapped_column(String(255))
    volume_type_id: Mapped[str] = mapped_column(String(36), nullable=False)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    source_volid: Mapped[str | None] = mapped_column(String(36))
    backup_id: Mapped[str | None] = mapped_column(String(36))
    image_id: Mapped[str | None] = mapped_column(String(36))
    bootable: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    readonly: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    multiattach: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, default=dict, nullable=False
    )
    image_metadata: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    #: Cinder's admin metadata: ``readonly`` ("True"/"False", once set), shown in ``metadata``
    admin_metadata: Mapped[dict[str, str]] = mapped_column(
        JSONType, default=dict, server_default="{}", nullable=False
    )
    fail_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Snapshot(Base):
    __tablename__ = "volume_snapshots"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    progress: Mapped[str] = mapped_column(String(8), default="0%", nullable=False)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, default=dict, nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Backup(Base):
    __tablename__ = "volume_backups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    user_id: Mapped[str | None] = mapped_column(String(64))
    volume_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    snapshot_id: Mapped[str | None] = mapped_column(String(36))
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)
    #: the agent that made it (its store holds the chunks)
    host: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    fail_reason: Mapped[str | None] = mapped_column(Text)
    availability_zone: Mapped[str | None] = mapped_column(String(255))
    container: Mapped[str | None] = mapped_column(String(255))
    object_count: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    is_incremental: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    restore_volume_id: Mapped[str | None] = mapped_column(String(36))
    checksum: Mapped[str | None] = mapped_column(String(64))
    #: where the data is when not under this record's own id and project (an imported
    #: record): ``{"project_id": ..., "backup_id": ...}``
    service_metadata: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    metadata_: Mapped[dict[str, Any]] = mapped_column(
        "metadata", JSONType, default=dict, nullable=False
    )
    data_timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Attachment(Base):
    __tablename__ = "volume_attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), index=True, nullable=False)
    project_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    instance_uuid: Mapped[str | None] = mapped_column(String(36), index=True)
    attached_host: Mapped[str | None] = mapped_column(String(255))
    mountpoint: Mapped[str | None] = mapped_column(String(255))
    attach_mode: Mapped[str] = mapped_column(String(4), default="rw", nullable=False)
    #: reserved, attaching, attached, detaching, detached, error_attaching
    attach_status: Mapped[str] = mapped_column(String(32), nullable=False)
    connector: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    connection_info: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    attach_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detach_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Transfer(Base):
    __tablename__ = "volume_transfers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    volume_id: Mapped[str] = mapped_column(String(36), unique=True, nullable=False)
    name: Mapped[str | None] = mapped_column(String(255))
    source_project_id: Mapped[str] = mapped_column(String(64), index=True, nullable=False)
    salt: Mapped[str] = mapped_column(String(64), nullable=False)
    crypt_hash: Mapped[str] = mapped_column(String(128), nullable=False)
    no_snapshots: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


class Service(Base):
    """A cinder-volume / cinder-scheduler / cinder-backup service and its heartbeat."""

    __tablename__ = "volume_services"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    binary: Mapped[str] = mapped_column(String(64), nullable=False)
    host: Mapped[str] = mapped_column(String(255), nullable=False)
    availability_zone: Mapped[str] = mapped_column(String(255), nullable=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    #: pool capacity facts the agent reports (GiB): total, free, reflink
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
