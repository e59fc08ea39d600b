"""The initial schema: registry, roles, consent rounds, ballots, objections and the ledger.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "compounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("city", sa.String(100), nullable=False),
        sa.Column("district", sa.String(100), nullable=False),
        sa.Column("street", sa.String(100), nullable=False),
        sa.Column("community", sa.String(100), nullable=False),
        sa.Column("built_year", sa.Integer(), nullable=True),
        sa.Column("consent_profile", sa.String(64), nullable=False),
        sa.Column("subsidy_profile", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_compounds"),
        sa.UniqueConstraint("code", name="uq_compounds_code"),
    )
    op.create_table(
        "buildings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("storeys", sa.Integer(), nullable=False),
        sa.Column("built_year", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_buildings"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compounds.id"],
            name="fk_buildings_compound_id_compounds",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("compound_id", "number", name="uq_buildings_compound_number"),
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("building_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("consent_profile", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
        sa.ForeignKeyConstraint(
            ["building_id"],
            ["buildings.id"],
            name="fk_units_building_id_buildings",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("building_id", "number", name="uq_units_building_number"),
    )
    op.create_table(
        "owners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_owners"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compounds.id"],
            name="fk_owners_compound_id_compounds",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("compound_id", "name", "phone", name="uq_owners_identity"),
    )
    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("room", sa.String(32), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=False),
        sa.Column("area_cm2", sa.BigInteger(), nullable=False),
        sa.Column("area_source", sa.String(32), nullable=False),
        sa.Column("tenure", sa.String(32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_households"),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name="fk_households_unit_id_units", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["owners.id"], name="fk_households_owner_id_owners"),
        sa.UniqueConstraint("unit_id", "room", name="uq_households_unit_room"),
    )
    op.create_index("ix_households_owner", "households", ["owner_id"])
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("age_band", sa.String(16), nullable=True),
        sa.Column("mobility", sa.String(32), nullable=False),
        sa.Column("party_member", sa.Boolean(), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
        sa.ForeignKeyConstraint(
            ["compound_id"],
            ["compounds.id"],
            name="fk_persons_compound_id_compounds",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_persons_household_id_households",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["owners.id"], name="fk_persons_owner_id_owners", ondelete="SET NULL"
        ),
    )
    op.create_table(
        "role_assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=True),
        sa.Column("since", sa.Date(), nullable=True),
        sa.Column("until", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_role_assignments"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name="fk_role_assignments_person_id_persons",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_role_assignments_scope", "role_assignments", ["scope_kind", "scope_id"])
    op.create_table(
        "vote_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_id", sa.Integer(), nullable=False),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vote_rounds"),
    )
    op.create_index("ix_vote_rounds_scope", "vote_rounds", ["scope_kind", "scope_id"])
    op.create_table(
        "ballots",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("vote", sa.String(16), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("round_id", "household_id", name="pk_ballots"),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["vote_rounds.id"],
            name="fk_ballots_round_id_vote_rounds",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_ballots_household_id_households",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "objections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("raised_on", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.Column("handled_by", sa.String(200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_objections"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_objections_household_id_households",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_objections_household", "objections", ["household_id"])
    op.create_table(
        "occupied_households",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("household_id", name="pk_occupied_households"),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name="fk_occupied_households_household_id_households",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "ledger",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger"),
        sa.UniqueConstraint("hash", name="uq_ledger_hash"),
    )


def downgrade() -> None:
    op.drop_table("ledger")
    op.drop_table("occupied_households")
    op.drop_index("ix_objections_household", table_name="objections")
    op.drop_table("objections")
    op.drop_table("ballots")
    op.drop_index("ix_vote_rounds_scope", table_name="vote_rounds")
    op.drop_table("vote_rounds")
    op.drop_index("ix_role_assignments_scope", table_name="role_assignments")
    op.drop_table("role_assignments")
    op.drop_table("persons")
    op.drop_index("ix_households_owner", table_name="households")
    op.drop_table("households")
    op.drop_table("owners")
    op.drop_table("units")
    op.drop_table("buildings")
    op.drop_table("compounds")
