"""compute: the image a shelved instance was saved to (Nova's shelved_image_id)

Revision ID: compute_0008
Revises: compute_0007
Create Date: 2026-12-05 14:15:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "compute_0008"
down_revision = "compute_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("compute_instances") as batch:
        batch.add_column(sa.Column("shelved_image_id", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("compute_instances") as batch:
        batch.drop_column("shelved_image_id")
