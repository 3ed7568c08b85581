"""object initial schema

Revision ID: object_0001
Revises:
Create Date: 2026-11-24 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "object_0001"
down_revision = None
branch_labels = ("object",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "object_accounts",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("put_timestamp", sa.String(length=20), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_object_accounts")),
    )
    op.create_index(
        op.f("ix_object_accounts_project_id"), "object_accounts", ["project_id"], unique=False
    )
    op.create_table(
        "object_containers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("name", onestack.common.db.binary_string(256), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("read_acl", sa.String(length=4096), nullable=False),
        sa.Column("write_acl", sa.String(length=4096), nullable=False),
        sa.Column("versions_location", sa.String(length=256), nullable=True),
        sa.Column("versions_mode", sa.String(length=16), nullable=True),
        sa.Column("put_timestamp", sa.String(length=20), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_containers")),
        sa.UniqueConstraint("account", "name", name=op.f("uq_object_containers_account_name")),
    )
    op.create_index(
        op.f("ix_object_containers_account"), "object_containers", ["account"], unique=False
    )
    op.create_table(
        "object_objects",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("container_id", sa.Integer(), nullable=False),
        sa.Column("name", onestack.common.db.binary_string(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=256), nullable=False),
        sa.Column("timestamp", sa.String(length=20), nullable=False),
        sa.Column("last_modified", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("delete_at", sa.BigInteger(), nullable=True),
        sa.Column("s3_etag", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["container_id"],
            ["object_containers.id"],
            name=op.f("fk_object_objects_container_id_object_containers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_object_objects")),
        sa.UniqueConstraint(
            "container_id", "name", name=op.f("uq_object_objects_container_id_name")
        ),
    )
    op.create_index(
        "ix_object_objects_listing",
        "object_objects",
        ["container_id", "deleted", "name"],
        unique=False,
        mysql_length={"name": 255},
    )
    op.create_index(
        op.f("ix_object_objects_delete_at"), "object_objects", ["delete_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("object_objects")
    op.drop_table("object_containers")
    op.drop_table("object_accounts")
