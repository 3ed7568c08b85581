"""object: container sync (``X-Container-Sync-To``/``-Key`` and the pass's sync point)

Revision ID: object_0002_container_sync
Revises: object_0001
Create Date: 2026-12-05 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "object_0002_container_sync"
down_revision = "object_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("object_containers") as batch:
        batch.add_column(sa.Column("sync_to", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("sync_key", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("sync_point", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("object_containers") as batch:
        batch.drop_column("sync_point")
        batch.drop_column("sync_key")
        batch.drop_column("sync_to")
