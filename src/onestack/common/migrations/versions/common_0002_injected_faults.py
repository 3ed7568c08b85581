"""injected faults

Revision ID: common_0002
Revises: common_0001
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "common_0002"
down_revision = "common_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "injected_faults",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("message", sa.String(length=1024), nullable=False),
        sa.Column("delay", sa.Float(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=True),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_injected_faults")),
    )


def downgrade() -> None:
    op.drop_table("injected_faults")
