"""The object service's tables: accounts, containers and the object listings.

Object bytes are on the ring's devices (``store``); these tables hold what
Swift keeps in its account and container databases: metadata, ACLs and one
row per object for listings, counts and bytes used.  An object row records
the timestamp of the version it describes, so an older update never
overwrites a newer one, and a deletion keeps the row (``deleted``) for the
same reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from onestack.common.db import Base, JSONType, UTCDateTime, binary_string, utcnow


class Account(Base):
    __tablename__ = "object_accounts"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    put_timestamp: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Container(Base):
    __tablename__ = "object_containers"
    __table_args__ = (UniqueConstraint("account", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(binary_string(256))
    #: X-Container-Meta-* and the other settable headers, lower-case names
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    read_acl: Mapped[str] = mapped_column(String(4096), default="")
    write_acl: Mapped[str] = mapped_column(String(4096), default="")
    versions_location: Mapped[str | None] = mapped_column(String(256), nullable=True)
    #: "stack" (X-Versions-Location) or "history" (X-History-Location)
    versions_mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    #: X-Container-Sync-To (``//realm/cluster/account/container``) and X-Container-Sync-Key
    sync_to: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    sync_key: Mapped[str | None] = mapped_column(String(256), nullable=True)
    #: the container sync pass has sent every row up to this timestamp
    sync_point: Mapped[str | None] = mapped_column(String(20), nullable=True)
    put_timestamp: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ObjectRow(Base):
    __tablename__ = "object_objects"
    __table_args__ = (
        UniqueConstraint("container_id", "name"),
        # MariaDB indexes at most 3072 bytes: index a prefix of the 1024-character name
        Index(
            "ix_object_objects_listing",
            "container_id",
            "deleted",
            "name",
            mysql_length={"name": 255},
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    container_id: Mapped[int] = mapped_column(
        ForeignKey("object_containers.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(binary_string(1024))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    etag: Mapped[str] = mapped_column(String(64), default="")
    content_type: Mapped[str] = mapped_column(String(256), default="")
    timestamp: Mapped[str] = mapped_column(String(20))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    delete_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    #: the S3 ETag of a multipart upload ("<md5>-<parts>"), when it differs
    s3_etag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: a symlink's target (``/v1/<account>/<container>/<object>``, quoted), and a static
    #: link's target ETag and size
    symlink_path: Mapped[str | None] = mapped_column(String(4096), nullable=True)
    symlink_etag: Mapped[str | None] = mapped_column(String(64), nullable=True)
    symlink_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
