"""Evidence: projects, codebooks with history, sources, cases, codings, memos, suggestions.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", ondelete="CASCADE"
    )


def _project(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    return (
        sa.Column("project_id", sa.Integer(), nullable=False),
        _fk(table, "project_id", "evidence_projects"),
    )


def upgrade() -> None:
    op.create_table(
        "evidence_projects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_projects"),
        sa.UniqueConstraint("name", name="uq_evidence_projects_name"),
    )
    op.create_table(
        "evidence_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        *_project("evidence_codes"),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent", sa.String(200), nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("include_note", sa.Text(), nullable=False),
        sa.Column("exclude_note", sa.Text(), nullable=False),
        sa.Column("examples", sa.Text(), nullable=False),
        sa.Column("triggers", sa.Text(), nullable=False),
        sa.Column("color", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_codes"),
        sa.UniqueConstraint("project_id", "code", name="uq_evidence_codes_project_code"),
    )
    op.create_table(
        "evidence_code_history",
        sa.Column("id", sa.Integer(), nullable=False),
        *_project("evidence_code_history"),
        sa.Column("at", TZ, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("operation", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_code_history"),
    )
    op.create_index("ix_evidence_code_history_project", "evidence_code_history", ["project_id"])
    op.create_table(
        "evidence_users",
        *_project("evidence_users"),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "name", name="pk_evidence_users"),
    )
    op.create_table(
        "evidence_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        *_project("evidence_sources"),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_sources"),
        sa.UniqueConstraint("project_id", "source", name="uq_evidence_sources_project_source"),
    )
    op.create_table(
        "evidence_source_links",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "kind", name="pk_evidence_source_links"),
        _fk("evidence_source_links", "source_id", "evidence_sources"),
    )
    op.create_table(
        "evidence_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        *_project("evidence_cases"),
        sa.Column("case", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_cases"),
        sa.UniqueConstraint("project_id", "case", name="uq_evidence_cases_project_case"),
    )
    op.create_table(
        "evidence_case_variables",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "name", name="pk_evidence_case_variables"),
        _fk("evidence_case_variables", "case_id", "evidence_cases"),
    )
    op.create_table(
        "evidence_source_cases",
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source_id", "case_id", name="pk_evidence_source_cases"),
        _fk("evidence_source_cases", "source_id", "evidence_sources"),
        _fk("evidence_source_cases", "case_id", "evidence_cases"),
    )
    op.create_table(
        "evidence_codings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_pos", sa.Integer(), nullable=False),
        sa.Column("end_pos", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("coder", sa.String(200), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_codings"),
        _fk("evidence_codings", "source_id", "evidence_sources"),
        sa.UniqueConstraint(
            "source_id", "start_pos", "end_pos", "code", "coder", name="uq_evidence_codings_segment"
        ),
    )
    op.create_index("ix_evidence_codings_source", "evidence_codings", ["source_id"])
    op.create_table(
        "evidence_memos",
        sa.Column("id", sa.Integer(), nullable=False),
        *_project("evidence_memos"),
        sa.Column("memo", sa.String(200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("target_kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_memos"),
        sa.UniqueConstraint("project_id", "memo", name="uq_evidence_memos_project_memo"),
    )
    op.create_table(
        "evidence_guids",
        *_project("evidence_guids"),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("guid", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "key", name="pk_evidence_guids"),
    )
    op.create_table(
        "evidence_suggestion_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("start_pos", sa.Integer(), nullable=False),
        sa.Column("end_pos", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(200), nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("score_permille", sa.Integer(), nullable=False),
        sa.Column("decided_by", sa.String(200), nullable=False),
        sa.Column("decided_at", TZ, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_suggestion_decisions"),
        _fk("evidence_suggestion_decisions", "source_id", "evidence_sources"),
    )
    op.create_index(
        "ix_evidence_suggestion_decisions_source",
        "evidence_suggestion_decisions",
        ["source_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_evidence_suggestion_decisions_source", "evidence_suggestion_decisions")
    op.drop_table("evidence_suggestion_decisions")
    op.drop_table("evidence_guids")
    op.drop_table("evidence_memos")
    op.drop_index("ix_evidence_codings_source", "evidence_codings")
    op.drop_table("evidence_codings")
    op.drop_table("evidence_source_cases")
    op.drop_table("evidence_case_variables")
    op.drop_table("evidence_cases")
    op.drop_table("evidence_source_links")
    op.drop_table("evidence_sources")
    op.drop_table("evidence_users")
    op.drop_index("ix_evidence_code_history_project", "evidence_code_history")
    op.drop_table("evidence_code_history")
    op.drop_table("evidence_codes")
    op.drop_table("evidence_projects")
