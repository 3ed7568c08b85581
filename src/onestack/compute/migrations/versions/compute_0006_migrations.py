"""compute: migration records (Nova's migrations table; onestack records resizes)

Revision ID: compute_0006
Revises: compute_0005
Create Date: 2026-12-05 13:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "compute_0006"
down_revision = "compute_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_migrations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("uuid", sa.String(64), nullable=False, unique=True),
        sa.Column("instance_uuid", sa.String(64), nullable=False, index=True),
        sa.Column("migration_type", sa.String(32), nullable=False),
        sa.Column("status", sa.String(32), nullable=False, index=True),
        sa.Column("source_compute", sa.String(255)),
        sa.Column("source_node", sa.String(255)),
        sa.Column("dest_compute", sa.String(255)),
        sa.Column("dest_node", sa.String(255)),
        sa.Column("dest_host", sa.String(64)),
        sa.Column("old_flavor_id", sa.String(255)),
        sa.Column("new_flavor_id", sa.String(255)),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime()),
    )


def downgrade() -> None:
    op.drop_table("compute_migrations")
