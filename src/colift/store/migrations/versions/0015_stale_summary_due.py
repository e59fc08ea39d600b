"""A summary line says when its advice must be recomputed without any write.

- `unit_summaries.due_on`: the day the unit's stall status changes (it has been in its stage
  longer than the stage's limit in stalls.toml), so the refresher recomputes the advice that
  day; NULL: no change is due with time alone. Indexed: "lines due as of today" is a range
  query.
- Existing lines are marked wholly stale (`stale` = 2) so the refresher recomputes them once
  and fills `due_on`.

Revision ID: 0015
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("unit_summaries") as batch:
        batch.add_column(sa.Column("due_on", sa.Date(), nullable=True))
        batch.create_index("ix_unit_summaries_due", ["due_on"])
    op.execute("UPDATE unit_summaries SET stale = 2, version = version + 1 WHERE stale IN (0, 1)")


def downgrade() -> None:
    with op.batch_alter_table("unit_summaries") as batch:
        batch.drop_index("ix_unit_summaries_due")
        batch.drop_column("due_on")
