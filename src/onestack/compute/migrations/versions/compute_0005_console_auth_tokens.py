"""compute: remote console tokens (Nova's console_auth_tokens)

Revision ID: compute_0005
Revises: compute_0004
Create Date: 2026-12-05 06:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from onestack.common.db import UTCDateTime

revision = "compute_0005"
down_revision = "compute_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_console_auth_tokens",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("token_hash", sa.String(255), nullable=False, unique=True),
        sa.Column("console_type", sa.String(255), nullable=False),
        sa.Column("instance_uuid", sa.String(64), nullable=False, index=True),
        sa.Column("project_id", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires", UTCDateTime(), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("compute_console_auth_tokens")
