"""Accounts with a lifecycle and personal data encrypted at rest.

API tokens get an expiry and a revocation time (a revoked or expired token signs no one in; the
row stays, so the list shows what was revoked and when). Phone columns widen to hold the
ciphertext (`store/personal.py`), and owners get an ID number (身份证号, encrypted likewise).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CIPHER = 200  # "enc1:" + base64 of an AES-SIV ciphertext of an 11-32 character number


def _widen(table: str, length: int, was: int) -> None:
    # SQLite does not enforce a VARCHAR length (and rebuilding `owners` would trip the foreign
    # keys of the rows that point at it): only PostgreSQL needs the wider column.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(table, "phone", type_=sa.String(length), existing_type=sa.String(was))


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(timezone=True)))
    op.add_column("api_tokens", sa.Column("revoked_at", sa.DateTime(timezone=True)))
    op.add_column(
        "owners", sa.Column("id_number", sa.String(CIPHER), nullable=False, server_default="")
    )
    _widen("owners", CIPHER, 32)
    _widen("persons", CIPHER, 32)


def downgrade() -> None:
    _widen("persons", 32, CIPHER)
    _widen("owners", 32, CIPHER)
    with op.batch_alter_table("owners") as batch:
        batch.drop_column("id_number")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("revoked_at")
        batch.drop_column("expires_at")
