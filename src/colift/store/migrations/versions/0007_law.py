"""Law in force: rounds pin the hash of their consent profile; the required work steps.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vote_rounds") as batch:
        batch.add_column(sa.Column("profile_sha256", sa.String(64), nullable=True))
    op.create_table(
        "work_steps",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_work_steps_unit_id_units", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("unit_id", "step", name="pk_work_steps"),
    )


def downgrade() -> None:
    op.drop_table("work_steps")
    with op.batch_alter_table("vote_rounds") as batch:
        batch.drop_column("profile_sha256")
