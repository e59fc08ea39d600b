"""Mark the flat that carries each owner's head in its unit, for one-pass tallies.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEVELOPER_TENURES = ("developer_unsold", "developer_undelivered")


def upgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.add_column(
            sa.Column("owner_head", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    # The lowest-numbered flat of each owner in each unit speaks for the owner's head;
    # developer-held flats of a unit share one head.
    # UPDATE … FROM a grouped subquery: a hash join, where IN (subquery) can go row by row.
    op.execute(
        sa.text(
            "UPDATE households SET owner_head = 1 FROM ("
            " SELECT min(id) AS id FROM households GROUP BY unit_id,"
            " CASE WHEN tenure IN ('developer_unsold', 'developer_undelivered')"
            " THEN -1 ELSE owner_id END) AS heads"
            " WHERE households.id = heads.id"
        )
    )


def downgrade() -> None:
    with op.batch_alter_table("households") as batch:
        batch.drop_column("owner_head")
