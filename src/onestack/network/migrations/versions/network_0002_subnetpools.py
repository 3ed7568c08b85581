"""subnet pools

Revision ID: network_0002
Revises: network_0001
Create Date: 2026-11-24 07:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0002"
down_revision = "network_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_subnetpools",
        sa.Column("ip_version", sa.Integer(), nullable=False),
        sa.Column("prefixes", sa.JSON(), nullable=False),
        sa.Column("default_prefixlen", sa.Integer(), nullable=False),
        sa.Column("min_prefixlen", sa.Integer(), nullable=False),
        sa.Column("max_prefixlen", sa.Integer(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("default_quota", sa.Integer(), nullable=True),
        sa.Column("address_scope_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_subnetpools")),
    )
    with op.batch_alter_table("network_subnetpools", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_subnetpools_project_id"), ["project_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("network_subnetpools", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_subnetpools_project_id"))
    op.drop_table("network_subnetpools")
