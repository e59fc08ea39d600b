"""The ledger in chains per compound, sealed, with heads, kept texts, and rounds that end.

- `ledger` becomes one chain per compound plus a global one (`chain`, `seq`), each entry sealed
  with the ledger key, and tagged with the unit it is about; `ledger_heads` holds each chain's
  newest entry; `ledger_texts` holds free text by digest, so it can be erased.
- The chain written before this revision moves, unchanged and still verified, to `ledger_v1`.
- Vote rounds get their compound, a status (open, closed, void), who closed them, the final
  tally, the ledger head at the close, and why a round was voided.
- A database that already holds data gets a baseline: one entry per row the ledger protects,
  so that `colift ledger verify` compares the tables from here on (`ledger_baseline.py`).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)
OLD_COLUMNS = "seq, at, actor, action, subject, payload, prev_hash, hash"


def _old_ledger(name: str) -> None:
    op.create_table(
        name,
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=f"pk_{name}"),
        sa.UniqueConstraint("hash", name=f"uq_{name}_hash"),
    )


def upgrade() -> None:
    _old_ledger("ledger_v1")
    op.execute(f"INSERT INTO ledger_v1 ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM ledger")
    op.drop_table("ledger")
    op.create_table(
        "ledger",
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("seal", sa.String(80), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", name="pk_ledger"),
        sa.UniqueConstraint("hash", name="uq_ledger_hash"),
    )
    op.create_index("ix_ledger_unit", "ledger", ["unit_id"])
    op.create_table(
        "ledger_heads",
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("at", TZ, nullable=True),
        sa.Column("seal", sa.String(80), server_default=sa.text("''"), nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_ledger_heads"),
    )
    op.create_table(
        "ledger_texts",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("erased_at", TZ, nullable=True),
        sa.Column("erased_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_ledger_texts"),
    )
    op.add_column("vote_rounds", sa.Column("compound_id", sa.Integer(), nullable=True))
    op.add_column(
        "vote_rounds",
        sa.Column("status", sa.String(16), server_default=sa.text("'open'"), nullable=False),
    )
    op.add_column("vote_rounds", sa.Column("closed_by", sa.String(200), nullable=True))
    op.add_column("vote_rounds", sa.Column("closed_head", sa.String(64), nullable=True))
    op.add_column("vote_rounds", sa.Column("tally", sa.Text(), nullable=True))
    op.add_column(
        "vote_rounds",
        sa.Column("void_reason", sa.Text(), server_default=sa.text("''"), nullable=False),
    )
    op.create_index("ix_vote_rounds_compound", "vote_rounds", ["compound_id"])
    op.execute(
        "UPDATE vote_rounds SET compound_id = CASE scope_kind"
        " WHEN 'compound' THEN scope_id"
        " WHEN 'building' THEN (SELECT b.compound_id FROM buildings b WHERE b.id = scope_id)"
        " ELSE (SELECT b.compound_id FROM units u JOIN buildings b ON b.id = u.building_id"
        " WHERE u.id = scope_id) END"
    )
    op.execute("UPDATE vote_rounds SET status = 'closed' WHERE closed_on IS NOT NULL")

    from colift.store.ledger_baseline import write_baseline

    write_baseline(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_vote_rounds_compound", table_name="vote_rounds")
    with op.batch_alter_table("vote_rounds") as batch:
        for column in ("void_reason", "tally", "closed_head", "closed_by", "status"):
            batch.drop_column(column)
        batch.drop_column("compound_id")
    op.drop_table("ledger_texts")
    op.drop_table("ledger_heads")
    op.drop_index("ix_ledger_unit", table_name="ledger")
    op.drop_table("ledger")
    _old_ledger("ledger")
    op.execute(f"INSERT INTO ledger ({OLD_COLUMNS}) SELECT {OLD_COLUMNS} FROM ledger_v1")
    op.drop_table("ledger_v1")
