"""Research projects belong to a compound, or are shared explicitly.

- `evidence_projects.compound_id`: the compound whose workers read and write the project, and
  whose street office reads it. NULL: admins only, unless `shared`.
- `evidence_projects.shared`: an admin opened a project without a compound to every worker and
  street office. Projects that exist before this revision have no compound and are not shared,
  so they stay admin-only until an admin scopes them.

Revision ID: 0009
Revises: 0014
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("evidence_projects") as batch:
        batch.add_column(sa.Column("compound_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("shared", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_foreign_key(
            "fk_evidence_projects_compound_id_compounds",
            "compounds",
            ["compound_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_evidence_projects_compound", ["compound_id"])


def downgrade() -> None:
    with op.batch_alter_table("evidence_projects") as batch:
        batch.drop_index("ix_evidence_projects_compound")
        batch.drop_constraint("fk_evidence_projects_compound_id_compounds", type_="foreignkey")
        batch.drop_column("shared")
        batch.drop_column("compound_id")
