"""networks and routers an admin removed from their DHCP or L3 agent

Revision ID: network_0005
Revises: network_0004
Create Date: 2026-12-05 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "network_0005"
down_revision = "network_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("network_networks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dhcp_unscheduled", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("network_routers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("l3_unscheduled", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("network_routers", schema=None) as batch_op:
        batch_op.drop_column("l3_unscheduled")
    with op.batch_alter_table("network_networks", schema=None) as batch_op:
        batch_op.drop_column("dhcp_unscheduled")
