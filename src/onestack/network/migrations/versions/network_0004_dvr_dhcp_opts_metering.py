"""routers' distributed flag, ports' extra_dhcp_opts, metering labels and rules

Revision ID: network_0004
Revises: network_0003
Create Date: 2026-12-05 10:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0004"
down_revision = "network_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("network_routers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("distributed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("network_ports", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("extra_dhcp_opts", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    op.create_table(
        "network_metering_labels",
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_metering_labels")),
    )
    with op.batch_alter_table("network_metering_labels", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_metering_labels_project_id"), ["project_id"], unique=False
        )
    op.create_table(
        "network_metering_label_rules",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("metering_label_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.Column("remote_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("source_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("destination_ip_prefix", sa.String(length=64), nullable=True),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["metering_label_id"],
            ["network_metering_labels.id"],
            name=op.f("fk_network_metering_label_rules_metering_label_id_network_metering_labels"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_metering_label_rules")),
    )
    with op.batch_alter_table("network_metering_label_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_metering_label_rules_metering_label_id"),
            ["metering_label_id"],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("network_metering_label_rules")
    op.drop_table("network_metering_labels")
    with op.batch_alter_table("network_ports", schema=None) as batch_op:
        batch_op.drop_column("extra_dhcp_opts")
    with op.batch_alter_table("network_routers", schema=None) as batch_op:
        batch_op.drop_column("distributed")
