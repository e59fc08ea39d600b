"""Community regeneration: collective actions, conflicts and complaints recorded per compound.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "regeneration_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("of_households", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_regeneration_events"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compounds.id"],
            name="fk_regeneration_events_compound_id_compounds",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name="fk_regeneration_events_unit_id_units",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_regeneration_events_compound", "regeneration_events", ["compound_id"])


def downgrade() -> None:
    op.drop_index("ix_regeneration_events_compound", table_name="regeneration_events")
    op.drop_table("regeneration_events")
