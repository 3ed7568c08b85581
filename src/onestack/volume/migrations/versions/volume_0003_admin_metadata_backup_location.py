"""volume: a volume's admin metadata (``readonly``), and where a backup's data lives

Revision ID: volume_0003
Revises: volume_0002
Create Date: 2026-12-05 13:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "volume_0003"
down_revision = "volume_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("volume_volumes") as batch:
        batch.add_column(
            sa.Column("admin_metadata", sa.JSON(), nullable=False, server_default="{}")
        )
    with op.batch_alter_table("volume_backups") as batch:
        batch.add_column(sa.Column("service_metadata", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("volume_backups") as batch:
        batch.drop_column("service_metadata")
    with op.batch_alter_table("volume_volumes") as batch:
        batch.drop_column("admin_metadata")
