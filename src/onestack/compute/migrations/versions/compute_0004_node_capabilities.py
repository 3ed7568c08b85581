"""compute: what each host's driver supports (its Capabilities, recorded by its agent)

Revision ID: compute_0004
Revises: compute_0003_disk_config
Create Date: 2026-12-05 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compute_0004"
down_revision = "compute_0003_disk_config"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("compute_nodes") as batch:
        batch.add_column(sa.Column("capabilities", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("compute_nodes") as batch:
        batch.drop_column("capabilities")
