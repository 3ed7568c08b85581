"""compute: the server's disk config (``OS-DCF:diskConfig`` AUTO or MANUAL)

Revision ID: compute_0003_disk_config
Revises: compute_0002_bdm
Create Date: 2026-11-24 06:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compute_0003_disk_config"
down_revision = "compute_0002_bdm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("compute_instances") as batch:
        batch.add_column(
            sa.Column("auto_disk_config", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("compute_instances") as batch:
        batch.drop_column("auto_disk_config")
