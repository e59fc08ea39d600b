"""Named parameter sets of the simulation (calibrated or hand-made), with their provenance;
REFI-QDA Sets (of codes and of sources) of evidence projects.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "param_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("values", sa.Text(), nullable=False),
        sa.Column("provenance", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("adopted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_param_sets"),
        sa.UniqueConstraint("name", name="uq_param_sets_name"),
    )

    op.create_table(
        "evidence_sets",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.String(200), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("codes", sa.Text(), nullable=False),
        sa.Column("sources", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["evidence_projects.id"],
            name="fk_evidence_sets_project_id_evidence_projects",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("project_id", "set_id", name="pk_evidence_sets"),
    )


def downgrade() -> None:
    op.drop_table("evidence_sets")
    op.drop_table("param_sets")
