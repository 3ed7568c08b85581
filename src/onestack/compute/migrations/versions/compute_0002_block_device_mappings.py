"""compute: block device mappings (volumes attached to instances, boot volumes)

Revision ID: compute_0002_bdm
Revises: compute_0001
Create Date: 2026-11-24 03:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "compute_0002_bdm"
down_revision = "compute_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_block_device_mappings",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("instance_id", sa.String(length=64), nullable=False),
        sa.Column("volume_id", sa.String(length=64), nullable=True),
        sa.Column("attachment_id", sa.String(length=64), nullable=True),
        sa.Column("device_name", sa.String(length=64), nullable=False),
        sa.Column("boot_index", sa.Integer(), nullable=True),
        sa.Column("source_type", sa.String(length=32), nullable=False),
        sa.Column("destination_type", sa.String(length=32), nullable=False),
        sa.Column("image_id", sa.String(length=64), nullable=True),
        sa.Column("volume_size", sa.Integer(), nullable=True),
        sa.Column("delete_on_termination", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=60), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("host_device", sa.String(length=255), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_block_device_mappings")),
        sa.UniqueConstraint(
            "instance_id",
            "device_name",
            name=op.f("uq_compute_block_device_mappings_instance_id_device_name"),
        ),
    )
    with op.batch_alter_table("compute_block_device_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compute_block_device_mappings_instance_id"),
            ["instance_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_compute_block_device_mappings_volume_id"), ["volume_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("compute_block_device_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compute_block_device_mappings_volume_id"))
        batch_op.drop_index(batch_op.f("ix_compute_block_device_mappings_instance_id"))
    op.drop_table("compute_block_device_mappings")
