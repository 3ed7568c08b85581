"""volume: QoS specs (associated with volume types) and volume type encryption

Revision ID: volume_0002
Revises: volume_0001
Create Date: 2026-12-05 13:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "volume_0002"
down_revision = "volume_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "volume_qos_specs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("consumer", sa.String(16), nullable=False),
        sa.Column("specs", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volume_qos_specs")),
        sa.UniqueConstraint("name", name=op.f("uq_volume_qos_specs_name")),
    )
    op.create_table(
        "volume_type_encryption",
        sa.Column("encryption_id", sa.String(36), nullable=False),
        sa.Column("volume_type_id", sa.String(36), nullable=False),
        sa.Column("provider", sa.String(255), nullable=False),
        sa.Column("cipher", sa.String(255), nullable=True),
        sa.Column("key_size", sa.Integer(), nullable=True),
        sa.Column("control_location", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["volume_type_id"],
            ["volume_types.id"],
            name=op.f("fk_volume_type_encryption_volume_type_id_volume_types"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("encryption_id", name=op.f("pk_volume_type_encryption")),
        sa.UniqueConstraint(
            "volume_type_id", name=op.f("uq_volume_type_encryption_volume_type_id")
        ),
    )
    with op.batch_alter_table("volume_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("qos_specs_id", sa.String(36), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_volume_types_qos_specs_id"), ["qos_specs_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("volume_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_volume_types_qos_specs_id"))
        batch_op.drop_column("qos_specs_id")
    op.drop_table("volume_type_encryption")
    op.drop_table("volume_qos_specs")
