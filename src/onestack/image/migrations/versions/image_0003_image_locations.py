"""image locations: one row per store holding an image's data

Revision ID: image_0003
Revises: image_0002
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "image_0003"
down_revision = "image_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_locations",
        sa.Column("image_id", sa.String(length=36), nullable=False),
        sa.Column("store", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["image_id"],
            ["image_images.id"],
            name=op.f("fk_image_locations_image_id_image_images"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("image_id", "store", name=op.f("pk_image_locations")),
    )
    # the data of every image with data so far is in the filesystem store
    op.execute(
        "INSERT INTO image_locations (image_id, store, url, created_at) "
        "SELECT id, 'file', location, updated_at FROM image_images "
        "WHERE location IS NOT NULL AND staged_size IS NULL "
        "AND status IN ('active', 'deactivated')"
    )
    op.execute(
        "UPDATE image_images SET location = NULL "
        "WHERE staged_size IS NULL AND status IN ('active', 'deactivated')"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE image_images SET location = (SELECT url FROM image_locations "
        "WHERE image_locations.image_id = image_images.id AND store = 'file') "
        "WHERE location IS NULL"
    )
    op.drop_table("image_locations")
