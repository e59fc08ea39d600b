"""The schema, as SQLAlchemy Core tables. Alembic migrations under `migrations/` create it.

Areas are stored as integer square centimetres (`area_cm2`, 1 m² = 10 000 cm²) so that SQLite
and PostgreSQL both sum them exactly; money is integer fen. Enum-valued columns hold the
`StrEnum` values of `colift.model`.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

compounds = Table(
    "compounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("city", String(100), nullable=False),
    Column("district", String(100), nullable=False, default=""),
    Column("street", String(100), nullable=False, default=""),
    Column("community", String(100), nullable=False, default=""),
    Column("built_year", Integer),
    Column("consent_profile", String(64), nullable=False),
    Column("subsidy_profile", String(64)),
)

buildings = Table(
    "buildings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("compound_id", ForeignKey("compounds.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("storeys", Integer, nullable=False),
    Column("built_year", Integer),
    UniqueConstraint("compound_id", "number", name="uq_buildings_compound_number"),
)

units = Table(
    "units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("building_id", ForeignKey("buildings.id", ondelete="CASCADE"), nullable=False),
    Column("number", String(32), nullable=False),
    Column("consent_profile", String(64)),  # NULL: the compound's profile
    UniqueConstraint("building_id", "number", name="uq_units_building_number"),
)

# A phone number's ciphertext (store/personal.py) is longer than the 32 characters the column
# had; PostgreSQL holds it in a wider column (migration 0014), SQLite ignores VARCHAR lengths, so
# its column stays as it was rather than rebuilding `owners` under the rows that point at it.
CIPHER_TEXT = String(32).with_variant(String(200), "postgresql")

owners = Table(
    "owners",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("compound_id", ForeignKey("compounds.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    # Encrypted at rest (store/personal.py: deterministic, so the identity below still holds).
    Column("phone", CIPHER_TEXT, nullable=False, default=""),
    Column("id_number", String(200), nullable=False, default="", server_default=""),
    # One buyer of several flats is one owner: (compound, name, phone) identifies them.
    UniqueConstraint("compound_id", "name", "phone", name="uq_owners_identity"),
)

households = Table(
    "households",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("room", String(32), nullable=False),
    Column("floor", Integer, nullable=False),
    Column("area_cm2", BigInteger, nullable=False),
    Column("area_source", String(32), nullable=False),
    Column("tenure", String(32), nullable=False),
    Column("owner_id", ForeignKey("owners.id"), nullable=False),
    # 1 on the one flat that carries its owner's head in the unit's count (SPC art. 9: one buyer
    # of several flats is one owner; all developer-held flats are one owner), 0 on the others.
    # Set when flats are added, so a city-wide tally sums heads in one pass.
    Column("owner_head", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("unit_id", "room", name="uq_households_unit_room"),
)
Index("ix_households_owner", households.c.owner_id)

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("compound_id", ForeignKey("compounds.id", ondelete="CASCADE")),
    Column("household_id", ForeignKey("households.id", ondelete="SET NULL")),
    Column("owner_id", ForeignKey("owners.id", ondelete="SET NULL")),
    Column("name", String(200), nullable=False),
    Column("age_band", String(16)),
    Column("mobility", String(32), nullable=False, default="none"),
    Column("party_member", Boolean, nullable=False, default=False),
    Column("phone", CIPHER_TEXT, nullable=False, default=""),  # encrypted (store/personal.py)
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", ForeignKey("persons.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(64), nullable=False),
    Column("scope_kind", String(16), nullable=False),
    Column("scope_id", Integer),
    Column("since", Date),
    Column("until", Date),
)
Index("ix_role_assignments_scope", role_assignments.c.scope_kind, role_assignments.c.scope_id)

# A consent round: one vote or signature campaign over a scope under one profile.
vote_rounds = Table(
    "vote_rounds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("scope_kind", String(16), nullable=False),  # unit, building or compound
    Column("scope_id", Integer, nullable=False),
    Column("profile", String(64), nullable=False),
    Column("title", String(200), nullable=False, default=""),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
    # SHA-256 of the consent profile file the round opened under (NULL: opened before 0007).
    Column("profile_sha256", String(64)),
    # The compound the scope lies in: the ledger chain every write about the round goes to.
    # (Like scope_id, no foreign key; set on every round since revision 0008.)
    Column("compound_id", Integer),
    Column("status", String(16), nullable=False, server_default=text("'open'")),  # open/closed/void
    Column("closed_by", String(200)),
    Column("closed_head", String(64)),  # hash of the ledger entry that closed or voided it
    Column("tally", Text),  # canonical JSON of the final tally, set on close
    Column("void_reason", Text, nullable=False, server_default=text("''")),
)
Index("ix_vote_rounds_scope", vote_rounds.c.scope_kind, vote_rounds.c.scope_id)
Index("ix_vote_rounds_compound", vote_rounds.c.compound_id)

# The current vote of each flat in a round; every change also goes to the ledger.
ballots = Table(
    "ballots",
    metadata,
    Column("round_id", ForeignKey("vote_rounds.id", ondelete="CASCADE"), primary_key=True),
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
    Column("vote", String(16), nullable=False),
    Column("signed_on", Date),
    Column("recorded_by", String(200), nullable=False, default=""),
)

objections = Table(
    "objections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), nullable=False),
    Column("reasons", String(200), nullable=False),  # comma-separated reason codes
    Column("status", String(16), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("updated_on", Date, nullable=False),
    Column("handled_by", String(200), nullable=False, default=""),
    Column("notes", Text, nullable=False, default=""),
)
Index("ix_objections_household", objections.c.household_id)

# Households whose exclusive part the plan occupies (their owners must agree in some cities).
occupied_households = Table(
    "occupied_households",
    metadata,
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
    Column("note", String(200), nullable=False, default=""),
)

# Append-only, hash-chained, sealed record of every write that matters (store/ledger.py): one
# chain per compound ("compound:7") and a "global" one, each numbered from 1.
ledger = Table(
    "ledger",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("unit_id", Integer),  # the unit the entry is about, if one (no FK: entries outlive rows)
    Column("payload", Text, nullable=False),  # canonical JSON; free text only as {"$text": digest}
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("seal", String(80), nullable=False, server_default=text("''")),  # key id:HMAC(hash)
)
Index("ix_ledger_unit", ledger.c.unit_id)

# The newest entry of each chain, updated in place by every append (the chain's lock row).
ledger_heads = Table(
    "ledger_heads",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("at", DateTime(timezone=True)),
    Column("seal", String(80), nullable=False, server_default=text("''")),
)

# Free text the ledger refers to by digest = sha256(salt + text); erasing a person's text
# deletes salt and text and keeps the digest, so the chain still verifies.
ledger_texts = Table(
    "ledger_texts",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("salt", String(32)),
    Column("text", Text),
    Column("erased_at", DateTime(timezone=True)),
    Column("erased_by", String(200)),
)

# The single chain of colift before revision 0008, kept read-only and still verified.
ledger_v1 = Table(
    "ledger_v1",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("payload", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
)

# A unit's cost plan, in the request format of `colift costshare` without the households:
# total, subsidy (fen or profile), scheme, compensation, running costs, payment schedule.
cost_plans = Table(
    "cost_plans",
    metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("total_fen", BigInteger, nullable=False),
    Column("plan", Text, nullable=False),  # canonical JSON
    Column("updated_on", Date, nullable=False),
    Column("updated_by", String(200), nullable=False, default=""),
)

# --- co-production: the stage of each unit's project and what was done to move it ------------

# One row per unit whose project has been started; a unit without a row is at the survey stage.
unit_projects = Table(
    "unit_projects",
    metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("stage", String(16), nullable=False),
    Column("stage_since", Date, nullable=False),
    Column("suspended_from", String(16)),  # the stage to resume, while suspended
    Column("notice_opened_on", Date),
    Column("approval_reference", String(100)),  # permit or planning filing number
    Column("acceptance_on", Date),
    Column("registration_reference", String(100)),  # special-equipment use registration
)

# Every stage change with who made it and why; each also goes to the ledger.
stage_transitions = Table(
    "stage_transitions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("from_stage", String(16)),  # NULL: the project's first record
    Column("to_stage", String(16), nullable=False),
    Column("on", Date, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("reference", String(100), nullable=False, default=""),
)
Index("ix_stage_transitions_unit", stage_transitions.c.unit_id)

# The activity log (path-model.md §5): who, in which role, under which guidance, with which tool.
# `outcome` holds the rest of the outcome as canonical JSON: stance changes, objections, note.
activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("person_id", ForeignKey("persons.id", ondelete="SET NULL")),
    Column("actor_name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("guidance", String(16), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("on", Date, nullable=False),
    Column("notes", Text, nullable=False, default=""),
    Column("outcome", Text, nullable=False),
    Column("money_fen", BigInteger, nullable=False, default=0),
    Column("labour_hours", Integer, nullable=False, default=0),
    Column("participants", Integer, nullable=False, default=0),
)
Index("ix_activities_unit", activities.c.unit_id)

# The households an activity was aimed at; none means the whole unit.
activity_targets = Table(
    "activity_targets",
    metadata,
    Column("activity_id", ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True),
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
)

# Each household's stance as last heard; every change also goes to the ledger.
stances = Table(
    "stances",
    metadata,
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
    Column("stance", String(16), nullable=False),
    Column("reasons", String(200), nullable=False, default=""),  # comma-separated reason codes
    Column("recorded_on", Date, nullable=False),
    Column("activity_id", ForeignKey("activities.id", ondelete="SET NULL")),
)

# What a household says it can pay towards its share; NULL: not known.
household_profiles = Table(
    "household_profiles",
    metadata,
    Column("household_id", ForeignKey("households.id", ondelete="CASCADE"), primary_key=True),
    Column("ability_to_pay_fen", BigInteger),
)

# Physical constraints found by a survey (管线踏勘, structure check); severity 3 blocks any plan.
technical_issues = Table(
    "technical_issues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("severity", Integer, nullable=False),
    Column("resolved", Boolean, nullable=False, default=False),
    Column("note", Text, nullable=False, default=""),
    Column("found_on", Date, nullable=False),
    Column("resolved_on", Date),
)
Index("ix_technical_issues_unit", technical_issues.c.unit_id)

# Social ties between two households of a unit, stored once with household_a < household_b.
ties = Table(
    "ties",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), nullable=False),
    Column("household_a", ForeignKey("households.id", ondelete="CASCADE"), nullable=False),
    Column("household_b", ForeignKey("households.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("weight_permille", Integer, nullable=False),  # tie strength × 1000, exact
    UniqueConstraint("household_a", "household_b", "kind", name="uq_ties_pair_kind"),
)
Index("ix_ties_unit", ties.c.unit_id)

# Community regeneration (社区更新): collective actions, conflicts and complaints recorded in a
# compound, read against the day its first lift ran (coproduction/regeneration.py).
regeneration_events = Table(
    "regeneration_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("compound_id", ForeignKey("compounds.id", ondelete="CASCADE"), nullable=False),
    Column("unit_id", ForeignKey("units.id", ondelete="SET NULL")),
    Column("kind", String(32), nullable=False),
    Column("on", Date, nullable=False),
    Column("households", Integer, nullable=False),
    Column("of_households", Integer, nullable=False),
    Column("title", String(200), nullable=False),
)
Index("ix_regeneration_events_compound", regeneration_events.c.compound_id)

# --- accounts: people who sign in to the web app, their sessions and program tokens ---------
# Passwords are argon2 hashes; session and API tokens are stored only as SHA-256 hex digests.
accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False, default=""),
    Column("password_hash", Text, nullable=False),
    Column("role", String(32), nullable=False),  # colift.model.accounts.AccountRole
    Column("compound_code", String(64)),  # worker, unit leader, resident
    Column("unit_id", ForeignKey("units.id", ondelete="SET NULL")),  # unit leader, resident
    Column("room", String(32)),  # resident
    Column("street", String(128)),  # street-office viewer; NULL reads every street
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True)),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)
Index("ix_sessions_account", sessions.c.account_id)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("account_id", ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(128), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True)),  # NULL only for tokens made before 0014
    Column("revoked_at", DateTime(timezone=True)),
)

# Failed sign-ins, for rate limiting by username and by client address.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)
Index("ix_login_failures_username_at", login_failures.c.username, login_failures.c.at)
Index("ix_login_failures_client_at", login_failures.c.client, login_failures.c.at)

# --- evidence: qualitative records, codebook, coding, memos (docs/evidence.md) ----------------
# Codes, sources, cases and memos keep their colift ids (strings) per project; offsets are
# character positions into `evidence_sources.text`, which is stored exactly as imported.

evidence_projects = Table(
    "evidence_projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False, default=""),
    # whose project: that compound's workers read and write it, its street office reads it;
    # no compound: admins only, unless an admin `shared` it with every worker and street office
    Column("compound_id", ForeignKey("compounds.id", ondelete="SET NULL")),
    Column("shared", Boolean, nullable=False, default=False, server_default=false()),
)
Index("ix_evidence_projects_compound", evidence_projects.c.compound_id)

evidence_codes = Table(
    "evidence_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("evidence_projects.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("name_en", String(200), nullable=False, default=""),
    Column("parent", String(200)),
    Column("level", String(16), nullable=False),
    Column("definition", Text, nullable=False, default=""),
    Column("include_note", Text, nullable=False, default=""),
    Column("exclude_note", Text, nullable=False, default=""),
    Column("examples", Text, nullable=False, default="[]"),  # JSON list
    Column("triggers", Text, nullable=False, default="[]"),  # JSON list
    Column("color", String(16), nullable=False, default="#888888"),
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "code", name="uq_evidence_codes_project_code"),
)

# Every merge, split, move or rename of a code, with who did it and the details as JSON.
evidence_code_history = Table(
    "evidence_code_history",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("evidence_projects.id", ondelete="CASCADE"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("operation", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # canonical JSON
)
Index("ix_evidence_code_history_project", evidence_code_history.c.project_id)

evidence_users = Table(
    "evidence_users",
    metadata,
    Column(
        "project_id",
        ForeignKey("evidence_projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(200), primary_key=True),
)

evidence_sources = Table(
    "evidence_sources",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("evidence_projects.id", ondelete="CASCADE"), nullable=False),
    Column("source", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("language", String(8), nullable=False),
    Column("text", Text, nullable=False),  # exact: CRLF kept, never normalised
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "source", name="uq_evidence_sources_project_source"),
)

# What a source is about in the registry: compound code, unit id, activity id, person id.
evidence_source_links = Table(
    "evidence_source_links",
    metadata,
    Column("source_id", ForeignKey("evidence_sources.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),  # compound / unit / activity / person
    Column("target", String(200), nullable=False),
)

evidence_cases = Table(
    "evidence_cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("evidence_projects.id", ondelete="CASCADE"), nullable=False),
    Column("case", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("project_id", "case", name="uq_evidence_cases_project_case"),
)

# A case's attributes (role, floor, tenure, age band, …) as text.
evidence_case_variables = Table(
    "evidence_case_variables",
    metadata,
    Column("case_id", ForeignKey("evidence_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("value", String(500), nullable=False),
)

evidence_source_cases = Table(
    "evidence_source_cases",
    metadata,
    Column("source_id", ForeignKey("evidence_sources.id", ondelete="CASCADE"), primary_key=True),
    Column("case_id", ForeignKey("evidence_cases.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),  # order of the source's cases
)

# `code` applied by `coder` to text[start_pos:end_pos] of a source.
evidence_codings = Table(
    "evidence_codings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("evidence_sources.id", ondelete="CASCADE"), nullable=False),
    Column("start_pos", Integer, nullable=False),
    Column("end_pos", Integer, nullable=False),
    Column("code", String(200), nullable=False),
    Column("coder", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "source_id", "start_pos", "end_pos", "code", "coder", name="uq_evidence_codings_segment"
    ),
)
Index("ix_evidence_codings_source", evidence_codings.c.source_id)

evidence_memos = Table(
    "evidence_memos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("project_id", ForeignKey("evidence_projects.id", ondelete="CASCADE"), nullable=False),
    Column("memo", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(200), nullable=False),
    Column("target_kind", String(16), nullable=False),  # project / code / source / segment
    Column("target", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "memo", name="uq_evidence_memos_project_memo"),
)

# REFI-QDA GUIDs of imported elements, so a re-export keeps the other tool's identities.
evidence_guids = Table(
    "evidence_guids",
    metadata,
    Column(
        "project_id",
        ForeignKey("evidence_projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(500), primary_key=True),  # "code:<id>", "source:<id>", …
    Column("guid", String(40), nullable=False),
)

# A coder's verdict on a suggested code; an accepted one also became a coding.
evidence_suggestion_decisions = Table(
    "evidence_suggestion_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source_id", ForeignKey("evidence_sources.id", ondelete="CASCADE"), nullable=False),
    Column("start_pos", Integer, nullable=False),
    Column("end_pos", Integer, nullable=False),
    Column("code", String(200), nullable=False),
    Column("accepted", Boolean, nullable=False),
    Column("score_permille", Integer, nullable=False, default=0),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
)
Index("ix_evidence_suggestion_decisions_source", evidence_suggestion_decisions.c.source_id)


# Steps of the works the law or the city requires (coproduction.workflow.WorkStep): the day each
# was done and its reference (report, notice or certificate number); changes go to the ledger.
work_steps = Table(
    "work_steps",
    metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("step", String(32), primary_key=True),
    Column("done_on", Date, nullable=False),
    Column("reference", String(200), nullable=False, default=""),
    Column("recorded_by", String(200), nullable=False),
)


# Named parameter sets for the simulation (calibrated or hand-made): the values that differ from
# the defaults, and where they came from (method, units, dates, posterior summaries) as JSON.
param_sets = Table(
    "param_sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("values", Text, nullable=False),  # canonical JSON {name: value}
    Column("provenance", Text, nullable=False),  # canonical JSON
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("adopted", Boolean, nullable=False, default=False),
)

# REFI-QDA Sets of an evidence project: named groups of codes and of sources (JSON id lists).
evidence_sets = Table(
    "evidence_sets",
    metadata,
    Column(
        "project_id",
        ForeignKey("evidence_projects.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("set_id", String(200), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("codes", Text, nullable=False),  # JSON list of code ids
    Column("sources", Text, nullable=False),  # JSON list of source ids
)
# Derived, not ledger state: one line per unit as the street, compound and city overviews show
# it, kept current by every write in the same transaction (services/summary.py). `stale`: 0
# current; 1 the advice columns (cooperation level, heterogeneity, next action) wait for the
# refresher after a vote; 2 the whole line waits (a unit imported before revision 0013);
# 3 the consent rules cannot count the unit (no flats yet): zeros until a write fixes it.
# `version` grows with every write, so a refresher never overwrites a newer line.
unit_summaries = Table(
    "unit_summaries",
    metadata,
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
    Column("compound_id", ForeignKey("compounds.id", ondelete="CASCADE"), nullable=False),
    Column("street", String(100), nullable=False, default=""),
    Column("building", String(32), nullable=False, default=""),
    Column("label", String(100), nullable=False, default=""),
    Column("stage", String(16), nullable=False, default="survey"),
    Column("stage_since", Date),
    Column("round_id", Integer),
    Column("passed", Boolean, nullable=False, default=False),
    Column("agree_heads", Integer, nullable=False, default=0),
    Column("total_heads", Integer, nullable=False, default=0),
    Column("heads_short", Integer, nullable=False, default=0),
    Column("area_short", String(16), nullable=False, default="0.00"),
    Column("open_objections", Integer, nullable=False, default=0),
    Column("cooperation_level", Integer, nullable=False, default=0),
    Column("heterogeneity_milli", Integer, nullable=False, default=0),
    Column("next_action", String(200), nullable=False, default=""),
    Column("due_on", Date),
    Column("stale", Integer, nullable=False, default=2),
    Column("version", Integer, nullable=False, default=0),
)
Index("ix_unit_summaries_street", unit_summaries.c.street, unit_summaries.c.compound_id)
Index("ix_unit_summaries_compound", unit_summaries.c.compound_id, unit_summaries.c.stage)
Index("ix_unit_summaries_stale", unit_summaries.c.stale)
Index("ix_unit_summaries_due", unit_summaries.c.due_on)
