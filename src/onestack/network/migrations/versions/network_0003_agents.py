"""network agents and their DHCP and router bindings

Revision ID: network_0003
Revises: network_0002
Create Date: 2026-12-05 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import onestack.common.db

revision = "network_0003"
down_revision = "network_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_agents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agent_type", sa.String(length=255), nullable=False),
        sa.Column("binary", sa.String(length=255), nullable=False),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("availability_zone", sa.String(length=255), nullable=True),
        sa.Column("admin_state_up", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=True),
        sa.Column("configurations", sa.JSON(), nullable=False),
        sa.Column("created_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("started_at", onestack.common.db.UTCDateTime(), nullable=False),
        sa.Column("heartbeat_timestamp", onestack.common.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_agents")),
        sa.UniqueConstraint("agent_type", "host", name=op.f("uq_network_agents_agent_type_host")),
    )
    with op.batch_alter_table("network_agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_network_agents_host"), ["host"], unique=False)
    op.create_table(
        "network_dhcp_agent_bindings",
        sa.Column("network_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["network_agents.id"],
            name=op.f("fk_network_dhcp_agent_bindings_agent_id_network_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["network_id"], ["network_networks.id"],
            name=op.f("fk_network_dhcp_agent_bindings_network_id_network_networks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("network_id", name=op.f("pk_network_dhcp_agent_bindings")),
    )  # fmt: skip
    with op.batch_alter_table("network_dhcp_agent_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_dhcp_agent_bindings_agent_id"), ["agent_id"], unique=False
        )
    op.create_table(
        "network_router_agent_bindings",
        sa.Column("router_id", sa.String(length=36), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["network_agents.id"],
            name=op.f("fk_network_router_agent_bindings_agent_id_network_agents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["router_id"], ["network_routers.id"],
            name=op.f("fk_network_router_agent_bindings_router_id_network_routers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("router_id", name=op.f("pk_network_router_agent_bindings")),
    )  # fmt: skip
    with op.batch_alter_table("network_router_agent_bindings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_router_agent_bindings_agent_id"), ["agent_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("network_router_agent_bindings")
    op.drop_table("network_dhcp_agent_bindings")
    op.drop_table("network_agents")
