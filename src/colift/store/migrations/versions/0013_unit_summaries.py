"""One summary line per unit for the street, compound and city overviews (derived data).

Existing units get a line marked wholly stale (`stale` = 2): the refresher (`colift summary
refresh`, or the server's background refresher) computes it; every later write keeps it current.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unit_summaries",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("street", sa.String(100), nullable=False),
        sa.Column("building", sa.String(32), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("stage_since", sa.Date(), nullable=True),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("agree_heads", sa.Integer(), nullable=False),
        sa.Column("total_heads", sa.Integer(), nullable=False),
        sa.Column("heads_short", sa.Integer(), nullable=False),
        sa.Column("area_short", sa.String(16), nullable=False),
        sa.Column("open_objections", sa.Integer(), nullable=False),
        sa.Column("cooperation_level", sa.Integer(), nullable=False),
        sa.Column("heterogeneity_milli", sa.Integer(), nullable=False),
        sa.Column("next_action", sa.String(200), nullable=False),
        sa.Column("stale", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name="fk_unit_summaries_unit_id_units",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compounds.id"],
            name="fk_unit_summaries_compound_id_compounds",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unit_id", name="pk_unit_summaries"),
    )
    op.create_index("ix_unit_summaries_street", "unit_summaries", ["street", "compound_id"])
    op.create_index("ix_unit_summaries_compound", "unit_summaries", ["compound_id", "stage"])
    op.create_index("ix_unit_summaries_stale", "unit_summaries", ["stale"])
    op.execute(
        "INSERT INTO unit_summaries (unit_id, compound_id, street, building, label, stage, "
        "passed, agree_heads, total_heads, heads_short, area_short, open_objections, "
        "cooperation_level, heterogeneity_milli, next_action, stale, version) "
        "SELECT units.id, buildings.compound_id, compounds.street, buildings.number, '', "
        "'survey', false, 0, 0, 0, '0.00', 0, 0, 0, '', 2, 0 FROM units "
        "JOIN buildings ON buildings.id = units.building_id "
        "JOIN compounds ON compounds.id = buildings.compound_id"
    )


def downgrade() -> None:
    op.drop_table("unit_summaries")
