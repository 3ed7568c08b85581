"""object: container sync (``X-Container-Sync-To``/``-Key``, the pass's sync point) and
the symlink fields of object listings

Revision ID: object_0002_sync_symlinks
Revises: object_0001
Create Date: 2026-12-05 13:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "object_0002_sync_symlinks"
down_revision = "object_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("object_containers") as batch:
        batch.add_column(sa.Column("sync_to", sa.String(length=1024), nullable=True))
        batch.add_column(sa.Column("sync_key", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("sync_point", sa.String(length=20), nullable=True))
    with op.batch_alter_table("object_objects") as batch:
        batch.add_column(sa.Column("symlink_path", sa.String(length=4096), nullable=True))
        batch.add_column(sa.Column("symlink_etag", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("symlink_bytes", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("object_objects") as batch:
        batch.drop_column("symlink_bytes")
        batch.drop_column("symlink_etag")
        batch.drop_column("symlink_path")
    with op.batch_alter_table("object_containers") as batch:
        batch.drop_column("sync_point")
        batch.drop_column("sync_key")
        batch.drop_column("sync_to")
