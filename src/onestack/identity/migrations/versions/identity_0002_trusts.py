"""identity: OS-TRUST trusts

Revision ID: identity_0002
Revises: identity_0001
Create Date: 2026-12-05 06:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_trusts",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("trustor_user_id", sa.String(length=64), nullable=False),
        sa.Column("trustee_user_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=True),
        sa.Column("impersonation", sa.Boolean(), nullable=False),
        sa.Column("expires_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("remaining_uses", sa.Integer(), nullable=True),
        sa.Column("redelegation_count", sa.Integer(), nullable=False),
        sa.Column("redelegated_trust_id", sa.String(length=64), nullable=True),
        sa.Column("role_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_identity_trusts_trustor_user_id"), "identity_trusts", ["trustor_user_id"]
    )
    op.create_index(
        op.f("ix_identity_trusts_trustee_user_id"), "identity_trusts", ["trustee_user_id"]
    )
    op.create_index(
        op.f("ix_identity_trusts_redelegated_trust_id"),
        "identity_trusts",
        ["redelegated_trust_id"],
    )


def downgrade() -> None:
    op.drop_table("identity_trusts")
