"""Revision 0008 on a database that already holds data: the old chain is kept and still
verified, and a baseline makes `ledger verify` compare the tables from the upgrade on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

from sqlalchemy import text

from colift.model import Vote
from colift.services.consent import cast_vote, close_vote_round
from colift.services.ledger import verify_ledger
from colift.store import make_engine, migrate
from colift.store.ledger import GENESIS_HASH, canonical_json
from colift.store.ledger_verify import legacy_entry_hash

ROWS = [
    "INSERT INTO compounds (id, code, name, city, district, street, community, consent_profile)"
    " VALUES (1, 'old', '老小区', '成都', '', '', '', 'cn-civil-code-278')",
    "INSERT INTO buildings (id, compound_id, number, storeys) VALUES (1, 1, '1', 6)",
    "INSERT INTO units (id, building_id, number) VALUES (1, 1, '1')",
    "INSERT INTO owners (id, compound_id, name, kind, phone) VALUES"
    " (1, 1, '甲', 'person', ''), (2, 1, '乙', 'person', '')",
    "INSERT INTO households (id, unit_id, room, floor, area_cm2, area_source, tenure, owner_id,"
    " owner_head) VALUES (1, 1, '101', 1, 600000, 'registered', 'owner_occupied', 1, 1),"
    " (2, 1, '201', 2, 700000, 'registered', 'owner_occupied', 2, 1)",
    "INSERT INTO vote_rounds (id, scope_kind, scope_id, profile, title, opened_on)"
    " VALUES (1, 'unit', 1, 'cn-civil-code-278', '第一轮', '2024-03-01')",
    "INSERT INTO ballots (round_id, household_id, vote, recorded_by) VALUES (1, 1, 'agree', 'x')",
    "INSERT INTO objections (id, household_id, reasons, status, raised_on, updated_on,"
    " handled_by, notes) VALUES (1, 2, 'light', 'open', '2024-03-02', '2024-03-02', 'x', '挡光')",
    "INSERT INTO cost_plans (unit_id, total_fen, plan, updated_on, updated_by)"
    " VALUES (1, 100, '{\"total_fen\":100}', '2024-03-01', 'x')",
    "INSERT INTO unit_projects (unit_id, stage, stage_since) VALUES (1, 'vote', '2024-03-01')",
    'INSERT INTO stage_transitions (id, unit_id, from_stage, to_stage, "on", actor, reason,'
    " reference) VALUES (1, 1, NULL, 'vote', '2024-03-01', 'x', '', '')",
]


def test_an_old_database_keeps_its_chain_and_is_protected_from_the_upgrade_on(
    unmigrated_url: str,
) -> None:
    migrate(unmigrated_url, "0006")
    engine = make_engine(unmigrated_url)
    try:
        prev = GENESIS_HASH
        with engine.begin() as conn:
            for row in ROWS:
                conn.exec_driver_sql(row)
            for seq, action in enumerate(["round.open", "ballot.set"], start=1):
                at = datetime(2024, 3, seq, 8, tzinfo=UTC)
                values = {
                    "seq": seq,
                    "at": at,
                    "actor": "x",
                    "action": action,
                    "subject": f"round:1/{seq}",
                    "payload": canonical_json({"n": seq}),
                }
                digest = legacy_entry_hash(prev, SimpleNamespace(**values))  # type: ignore[arg-type]
                conn.execute(
                    text(
                        "INSERT INTO ledger (seq, at, actor, action, subject, payload, prev_hash,"
                        " hash) VALUES (:seq, :at, :actor, :action, :subject, :payload, :prev,"
                        " :hash)"
                    ),
                    {**values, "prev": prev, "hash": digest},
                )
                prev = digest
        migrate(engine)
        report = verify_ledger(engine)
        assert report.ok, report.message
        assert report.legacy == 2 and report.rows_checked >= 11
        with engine.connect() as conn:
            baseline = json.loads(
                conn.execute(
                    text("SELECT payload FROM ledger WHERE action = 'ledger.baseline'")
                ).scalar_one()
            )
            status, compound = conn.execute(
                text("SELECT status, compound_id FROM vote_rounds WHERE id = 1")
            ).one()
            notes = conn.execute(
                text("SELECT payload FROM ledger WHERE action = 'objections.baseline'")
            ).scalar_one()
        assert baseline == {"legacy_entries": 2, "legacy_head": prev}
        assert (status, compound) == ("open", 1)
        assert "挡光" not in notes  # free text kept out of the chain from the baseline on
        # The upgraded database works on: a vote, the close; and edits are found.
        cast_vote(engine, 1, "201", Vote.DISAGREE, actor="居委会")
        close_vote_round(engine, 1, actor="居委会", closed_on=date(2024, 4, 1))
        assert verify_ledger(engine).ok
        with engine.begin() as conn:
            conn.execute(text("UPDATE households SET area_cm2 = 1800000 WHERE id = 1"))
        assert verify_ledger(engine).problem.table == "households"  # type: ignore[union-attr]
        with engine.begin() as conn:
            conn.execute(text("UPDATE households SET area_cm2 = 600000 WHERE id = 1"))
            conn.execute(text("UPDATE ledger_v1 SET actor = 'y' WHERE seq = 1"))
        broken = verify_ledger(engine)
        assert not broken.ok and "ledger_v1" in broken.message
    finally:
        engine.dispose()
