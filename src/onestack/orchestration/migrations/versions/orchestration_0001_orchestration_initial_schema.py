"""orchestration initial schema

Revision ID: orchestration_0001
Revises:
Create Date: 2026-12-05 06:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "orchestration_0001"
down_revision = None
branch_labels = ("orchestration",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "orchestration_software_configs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("group", sa.String(length=255), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_software_configs")),
    )
    op.create_index(
        op.f("ix_orchestration_software_configs_project_id"),
        "orchestration_software_configs",
        ["project_id"],
        unique=False,
    )
    op.create_table(
        "orchestration_software_deployments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("config_id", sa.String(length=64), nullable=False),
        sa.Column("server_id", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("input_values", sa.JSON(), nullable=False),
        sa.Column("output_values", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_software_deployments")),
    )
    op.create_index(
        op.f("ix_orchestration_software_deployments_project_id"),
        "orchestration_software_deployments",
        ["project_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_orchestration_software_deployments_server_id"),
        "orchestration_software_deployments",
        ["server_id"],
        unique=False,
    )
    op.create_table(
        "orchestration_stacks",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=255), nullable=True),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("owner_resource", sa.String(length=255), nullable=True),
        sa.Column("nested_depth", sa.Integer(), nullable=False),
        sa.Column("template", sa.JSON(), nullable=False),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("previous", sa.JSON(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("disable_rollback", sa.Boolean(), nullable=False),
        sa.Column("timeout_mins", sa.Integer(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("trust_id", sa.String(length=64), nullable=True),
        sa.Column("engine_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_stacks")),
    )
    op.create_index(
        op.f("ix_orchestration_stacks_parent_id"),
        "orchestration_stacks",
        ["parent_id"],
        unique=False,
    )
    op.create_index(
        "ix_orchestration_stacks_project_name",
        "orchestration_stacks",
        ["project_id", "name"],
        unique=False,
    )
    op.create_table(
        "orchestration_events",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("stack_id", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("resource_type", sa.String(length=255), nullable=False),
        sa.Column("physical_resource_id", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stacks.id"],
            name=op.f("fk_orchestration_events_stack_id_orchestration_stacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orchestration_events")),
        sa.UniqueConstraint("id", name=op.f("uq_orchestration_events_id")),
    )
    op.create_index(
        op.f("ix_orchestration_events_stack_id"), "orchestration_events", ["stack_id"], unique=False
    )
    op.create_table(
        "orchestration_resources",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("stack_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=255), nullable=False),
        sa.Column("physical_id", sa.String(length=255), nullable=True),
        sa.Column("physical_name", sa.String(length=255), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("rsrc_metadata", sa.JSON(), nullable=False),
        sa.Column("required_by", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stacks.id"],
            name=op.f("fk_orchestration_resources_stack_id_orchestration_stacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_resources")),
    )
    op.create_index(
        op.f("ix_orchestration_resources_physical_id"),
        "orchestration_resources",
        ["physical_id"],
        unique=False,
    )
    op.create_index(
        "ix_orchestration_resources_stack_name",
        "orchestration_resources",
        ["stack_id", "name"],
        unique=False,
    )
    op.create_table(
        "orchestration_signals",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stack_id", sa.String(length=64), nullable=False),
        sa.Column("resource_name", sa.String(length=255), nullable=False),
        sa.Column("signal_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stacks.id"],
            name=op.f("fk_orchestration_signals_stack_id_orchestration_stacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_orchestration_signals")),
    )
    op.create_index(
        op.f("ix_orchestration_signals_stack_id"),
        "orchestration_signals",
        ["stack_id"],
        unique=False,
    )
    op.create_table(
        "orchestration_snapshots",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("stack_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stack_id"],
            ["orchestration_stacks.id"],
            name=op.f("fk_orchestration_snapshots_stack_id_orchestration_stacks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orchestration_snapshots")),
    )
    op.create_index(
        op.f("ix_orchestration_snapshots_stack_id"),
        "orchestration_snapshots",
        ["stack_id"],
        unique=False,
    )


def downgrade() -> None:
    for table in (
        "orchestration_signals",
        "orchestration_snapshots",
        "orchestration_events",
        "orchestration_resources",
        "orchestration_software_deployments",
        "orchestration_software_configs",
        "orchestration_stacks",
    ):
        op.drop_table(table)
