"""Cost plans: each unit's total, subsidy, sharing scheme, compensation and schedule.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cost_plans",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("plan", sa.Text(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name="fk_cost_plans_unit_id_units",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name="pk_cost_plans"),
    )


def downgrade() -> None:
    op.drop_table("cost_plans")
