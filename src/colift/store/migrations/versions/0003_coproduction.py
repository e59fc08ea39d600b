"""Co-production: unit projects and stage transitions, activities, stances, ties, technical issues.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _unit_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["unit_id"], ["units.id"], name=f"fk_{table}_unit_id_units", ondelete="CASCADE"
    )


def _household_fk(table: str, column: str = "household_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        ["households.id"],
        name=f"fk_{table}_{column}_households",
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "unit_projects",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("stage_since", sa.Date(), nullable=False),
        sa.Column("suspended_from", sa.String(16), nullable=True),
        sa.Column("notice_opened_on", sa.Date(), nullable=True),
        sa.Column("approval_reference", sa.String(100), nullable=True),
        sa.Column("acceptance_on", sa.Date(), nullable=True),
        sa.Column("registration_reference", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("unit_id", name="pk_unit_projects"),
        _unit_fk("unit_projects"),
    )
    op.create_table(
        "stage_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("from_stage", sa.String(16), nullable=True),
        sa.Column("to_stage", sa.String(16), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stage_transitions"),
        _unit_fk("stage_transitions"),
    )
    op.create_index("ix_stage_transitions_unit", "stage_transitions", ["unit_id"])
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("guidance", sa.String(16), nullable=False),
        sa.Column("tool", sa.String(64), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("money_fen", sa.BigInteger(), nullable=False),
        sa.Column("labour_hours", sa.Integer(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        _unit_fk("activities"),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name="fk_activities_person_id_persons",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_activities_unit", "activities", ["unit_id"])
    op.create_table(
        "activity_targets",
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("activity_id", "household_id", name="pk_activity_targets"),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name="fk_activity_targets_activity_id_activities",
            ondelete="CASCADE",
        ),
        _household_fk("activity_targets"),
    )
    op.create_table(
        "stances",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("stance", sa.String(16), nullable=False),
        sa.Column("reasons", sa.String(200), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("household_id", name="pk_stances"),
        _household_fk("stances"),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name="fk_stances_activity_id_activities",
            ondelete="SET NULL",
        ),
    )
    op.create_table(
        "household_profiles",
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("ability_to_pay_fen", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("household_id", name="pk_household_profiles"),
        _household_fk("household_profiles"),
    )
    op.create_table(
        "technical_issues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("severity", sa.Integer(), nullable=False),
        sa.Column("resolved", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("found_on", sa.Date(), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_technical_issues"),
        _unit_fk("technical_issues"),
    )
    op.create_index("ix_technical_issues_unit", "technical_issues", ["unit_id"])
    op.create_table(
        "ties",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("household_a", sa.Integer(), nullable=False),
        sa.Column("household_b", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("weight_permille", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ties"),
        _unit_fk("ties"),
        _household_fk("ties", "household_a"),
        _household_fk("ties", "household_b"),
        sa.UniqueConstraint("household_a", "household_b", "kind", name="uq_ties_pair_kind"),
    )
    op.create_index("ix_ties_unit", "ties", ["unit_id"])


def downgrade() -> None:
    op.drop_index("ix_ties_unit", table_name="ties")
    op.drop_table("ties")
    op.drop_index("ix_technical_issues_unit", table_name="technical_issues")
    op.drop_table("technical_issues")
    op.drop_table("household_profiles")
    op.drop_table("stances")
    op.drop_table("activity_targets")
    op.drop_index("ix_activities_unit", table_name="activities")
    op.drop_table("activities")
    op.drop_index("ix_stage_transitions_unit", table_name="stage_transitions")
    op.drop_table("stage_transitions")
    op.drop_table("unit_projects")
