"""metadata definitions (metadefs); tasks created through /v2/tasks have no image yet

Revision ID: image_0004
Revises: image_0003
Create Date: 2026-12-05 13:10:00.000000
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0004"
down_revision = "image_0003"
branch_labels = None
depends_on = None


def _times() -> list[sa.Column[datetime]]:
    return [
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
    ]


def _child(table: str, name_length: int, *columns: sa.Column[object]) -> None:
    op.create_table(
        table,
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("namespace_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=name_length), nullable=False),
        *columns,
        *_times(),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["image_md_namespaces.id"],
            name=op.f(f"fk_{table}_namespace_id_image_md_namespaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
        sa.UniqueConstraint("namespace_id", "name", name=op.f(f"uq_{table}_namespace_id_name")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_namespace_id"), ["namespace_id"])


def upgrade() -> None:
    op.create_table(
        "image_md_namespaces",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("namespace", sa.String(length=80), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("visibility", sa.String(length=32), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        *_times(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_md_namespaces")),
        sa.UniqueConstraint("namespace", name=op.f("uq_image_md_namespaces_namespace")),
    )
    with op.batch_alter_table("image_md_namespaces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_md_namespaces_owner"), ["owner"])
    _child(
        "image_md_objects",
        80,
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("required", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
    )
    _child("image_md_properties", 255, sa.Column("schema", sa.JSON(), nullable=False))
    _child("image_md_tags", 255)
    op.create_table(
        "image_md_resource_types",
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("protected", sa.Boolean(), nullable=False),
        *_times(),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_image_md_resource_types")),
    )
    op.create_table(
        "image_md_associations",
        sa.Column("namespace_id", sa.String(length=36), nullable=False),
        sa.Column("resource_type", sa.String(length=80), nullable=False),
        sa.Column("prefix", sa.String(length=80), nullable=True),
        sa.Column("properties_target", sa.String(length=80), nullable=True),
        *_times(),
        sa.ForeignKeyConstraint(
            ["namespace_id"],
            ["image_md_namespaces.id"],
            name=op.f("fk_image_md_associations_namespace_id_image_md_namespaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["resource_type"],
            ["image_md_resource_types.name"],
            name=op.f("fk_image_md_associations_resource_type_image_md_resource_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "namespace_id", "resource_type", name=op.f("pk_image_md_associations")
        ),
    )
    with op.batch_alter_table("image_md_associations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_image_md_associations_resource_type"), ["resource_type"]
        )
    with op.batch_alter_table("image_tasks", schema=None) as batch_op:
        batch_op.alter_column("image_id", existing_type=sa.String(length=36), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM image_tasks WHERE image_id IS NULL")
    with op.batch_alter_table("image_tasks", schema=None) as batch_op:
        batch_op.alter_column("image_id", existing_type=sa.String(length=36), nullable=False)
    op.drop_table("image_md_associations")
    op.drop_table("image_md_resource_types")
    op.drop_table("image_md_tags")
    op.drop_table("image_md_properties")
    op.drop_table("image_md_objects")
    op.drop_table("image_md_namespaces")
