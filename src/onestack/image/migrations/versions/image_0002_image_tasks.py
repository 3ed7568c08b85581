"""image import tasks

Revision ID: image_0002
Revises: image_0001
Create Date: 2026-11-24 06:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0002"
down_revision = "image_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_tasks",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("user_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_images.id"],
            name=op.f("fk_image_tasks_image_id_image_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_image_tasks")),
    )
    with op.batch_alter_table("image_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_image_tasks_image_id"), ["image_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("image_tasks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_image_tasks_image_id"))
    op.drop_table("image_tasks")
