"""compute: host aggregates and their hosts (Nova's aggregates, aggregate_hosts)

Revision ID: compute_0007
Revises: compute_0006
Create Date: 2026-12-05 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "compute_0007"
down_revision = "compute_0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_aggregates",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False, unique=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime()),
    )
    op.create_table(
        "compute_aggregate_hosts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "aggregate_id",
            sa.Integer(),
            sa.ForeignKey("compute_aggregates.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("host", sa.String(255), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("aggregate_id", "host"),
    )


def downgrade() -> None:
    op.drop_table("compute_aggregate_hosts")
    op.drop_table("compute_aggregates")
