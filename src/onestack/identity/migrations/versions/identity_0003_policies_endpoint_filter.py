"""identity: /v3/policies and OS-EP-FILTER endpoint groups and associations

Revision ID: identity_0003
Revises: identity_0002
Create Date: 2026-12-05 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0003"
down_revision = "identity_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_policies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("blob", sa.Text(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "identity_endpoint_groups",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "identity_project_endpoints",
        sa.Column("endpoint_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["endpoint_id"], ["identity_endpoints.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["project_id"], ["identity_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("endpoint_id", "project_id"),
    )
    op.create_index(
        op.f("ix_identity_project_endpoints_project_id"),
        "identity_project_endpoints",
        ["project_id"],
    )
    op.create_table(
        "identity_project_endpoint_groups",
        sa.Column("endpoint_group_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_group_id"], ["identity_endpoint_groups.id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["project_id"], ["identity_projects.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("endpoint_group_id", "project_id"),
    )
    op.create_index(
        op.f("ix_identity_project_endpoint_groups_project_id"),
        "identity_project_endpoint_groups",
        ["project_id"],
    )


def downgrade() -> None:
    op.drop_table("identity_project_endpoint_groups")
    op.drop_table("identity_project_endpoints")
    op.drop_table("identity_endpoint_groups")
    op.drop_table("identity_policies")
