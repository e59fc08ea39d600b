"""The 17 direct edits of the database from the record's issue, each named by `ledger verify`.

On a fresh demo database (seeded once per backend, copied for each edit), with the server's
tools out of the picture: twelve edits of the tables or of the chain's end that the old verify
missed, and five edits inside the ledger table it already caught. The truncation and the
consistent rewrite are also named by `--head` with a head taken before the edit, as printed
on paper.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, insert, select, update
from typer.testing import CliRunner

from colift.cli import app
from colift.model import Vote
from colift.services.consent import consent_from_input, unit_consent
from colift.store import ledger as chain
from colift.store.ledger import LedgerReport
from colift.store.ledger_verify import Anchor, verify
from colift.store.tables import (
    ballots,
    cost_plans,
    households,
    ledger,
    ledger_heads,
    objections,
    owners,
    unit_projects,
    vote_rounds,
)
from demo_db import BACKENDS, demo_copies


@dataclass
class Seeded:
    """A seeded demo database to copy, and the compound chain's head taken before any edit."""

    backend: str
    make_copy: Callable[[], Engine]
    chain: str
    head: chain.ChainHead


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Seeded]:
    with demo_copies(request, tmp_path_factory, str(request.param)) as copies:
        with copies.make_copy().connect() as conn:
            (head,) = chain.heads(conn)
        yield Seeded(copies.backend, copies.make_copy, head.chain, head)


def check(engine: Engine, anchors: list[Anchor] | None = None) -> LedgerReport:
    with engine.connect() as conn:
        return verify(conn, anchors=anchors or [])


def edit(engine: Engine, change: Callable[[Connection], Any]) -> None:
    with engine.begin() as conn:
        change(conn)


def test_the_fresh_demo_verifies(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    report = check(engine, [Anchor(seeded.head.hash)])
    assert report.ok, report.message
    assert report.count > 1000 and report.rows_checked > 1000
    assert report.sealed and report.anchors == 1


# --- the twelve edits the old verify missed ------------------------------------------------------


def _a_ballot(conn: Connection, vote: str) -> Any:
    return conn.execute(
        select(ballots)
        .where(ballots.c.vote == vote)
        .order_by(ballots.c.round_id, ballots.c.household_id)
    ).first()


def test_a_changed_ballot_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        target = _a_ballot(conn, "disagree")
    edit(
        engine,
        lambda c: c.execute(
            update(ballots)
            .where(
                ballots.c.round_id == target.round_id, ballots.c.household_id == target.household_id
            )
            .values(vote="agree")
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "ballots"
    assert problem.row == f"round_id={target.round_id}, household_id={target.household_id}"
    assert (problem.ledger_says, problem.table_says) == ("disagree", "agree")


def test_two_flipped_ballots_that_turn_a_unit_to_passed_are_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        units = conn.execute(
            select(vote_rounds.c.scope_id).where(vote_rounds.c.scope_kind == "unit")
        ).scalars()
    flipped = None
    for unit_id in units:
        consent = unit_consent(engine, unit_id)
        if consent.result.passed or consent.input.round is None:
            continue
        rows = consent.input.rows
        against = [r for r in rows if r.vote in (Vote.DISAGREE, Vote.ABSTAIN)]
        for pair in combinations(against, 2):
            as_if = replace(
                consent.input,
                rows=tuple(replace(r, vote=Vote.AGREE) if r in pair else r for r in rows),
            )
            if consent_from_input(as_if).passed:
                flipped = (consent.input.round.id, unit_id, [r.household_id for r in pair])
                break
        if flipped:
            break
    assert flipped is not None, "the demo has a unit that two flipped ballots would pass"
    round_id, unit_id, pair = flipped
    edit(
        engine,
        lambda c: c.execute(
            update(ballots)
            .where(ballots.c.round_id == round_id, ballots.c.household_id.in_(pair))
            .values(vote="agree")
        ),
    )
    assert unit_consent(engine, unit_id).result.passed  # what the edit was for
    problem = check(engine).problem
    assert problem is not None and problem.table == "ballots"
    assert problem.row == f"round_id={round_id}, household_id={min(pair)}"
    assert problem.ledger_says != "agree" and problem.table_says == "agree"


def test_a_deleted_ballot_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        target = _a_ballot(conn, "agree")
    edit(
        engine,
        lambda c: c.execute(
            delete(ballots).where(
                ballots.c.round_id == target.round_id, ballots.c.household_id == target.household_id
            )
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "ballots"
    assert str(target.household_id) in (problem.row or "") and problem.table_says == "(no row)"
    assert "deleted" in problem.text.render("en")


def test_an_inserted_ballot_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        # Every flat of the demo's rounds has a ballot: a flat of the next unit gets one.
        round_id, unit_id = conn.execute(
            select(vote_rounds.c.id, vote_rounds.c.scope_id)
            .where(vote_rounds.c.scope_kind == "unit")
            .order_by(vote_rounds.c.id)
        ).first() or (None, None)
        flat = conn.execute(
            select(households.c.id).where(households.c.unit_id != unit_id).order_by(households.c.id)
        ).scalar()
    edit(
        engine,
        lambda c: c.execute(
            insert(ballots).values(
                round_id=round_id, household_id=flat, vote="agree", recorded_by="someone"
            )
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "ballots"
    assert problem.row == f"round_id={round_id}, household_id={flat}"
    assert problem.ledger_says == "(no row)"


def test_a_changed_objection_status_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        target = conn.execute(
            select(objections).where(objections.c.status != "resolved").order_by(objections.c.id)
        ).first()
    edit(
        engine,
        lambda c: c.execute(
            update(objections).where(objections.c.id == target.id).values(status="resolved")
        ),
    )
    problem = check(engine).problem
    assert (
        problem is not None and problem.table == "objections" and problem.row == f"id={target.id}"
    )
    assert (problem.ledger_says, problem.table_says) == (target.status, "resolved")


def test_a_doubled_cost_plan_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        plan = conn.execute(select(cost_plans).order_by(cost_plans.c.unit_id)).first()
    doubled = {**json.loads(plan.plan), "total_fen": plan.total_fen * 2}
    edit(
        engine,
        lambda c: c.execute(
            update(cost_plans)
            .where(cost_plans.c.unit_id == plan.unit_id)
            .values(total_fen=plan.total_fen * 2, plan=chain.canonical_json(doubled))
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "cost_plans"
    assert problem.row == f"unit_id={plan.unit_id}"
    assert (problem.ledger_says, problem.table_says) == (
        str(plan.total_fen),
        str(plan.total_fen * 2),
    )


def test_a_moved_stage_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        project = conn.execute(
            select(unit_projects).where(unit_projects.c.stage == "consultation")
        ).first()
    edit(
        engine,
        lambda c: c.execute(
            update(unit_projects)
            .where(unit_projects.c.unit_id == project.unit_id)
            .values(stage="construction")
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "unit_projects"
    assert (problem.ledger_says, problem.table_says) == ("consultation", "construction")


def test_a_tripled_area_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        flat = conn.execute(select(households).order_by(households.c.id.desc())).first()
    edit(
        engine,
        lambda c: c.execute(
            update(households).where(households.c.id == flat.id).values(area_cm2=flat.area_cm2 * 3)
        ),
    )
    problem = check(engine).problem
    assert problem is not None and problem.table == "households" and problem.row == f"id={flat.id}"
    assert (problem.ledger_says, problem.table_says) == (str(flat.area_cm2), str(flat.area_cm2 * 3))


def test_a_swapped_rule_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        target = conn.execute(select(vote_rounds).order_by(vote_rounds.c.id)).first()
    edit(
        engine,
        lambda c: c.execute(
            update(vote_rounds).where(vote_rounds.c.id == target.id).values(profile="beijing-2020")
        ),
    )
    problem = check(engine).problem
    assert (
        problem is not None and problem.table == "vote_rounds" and problem.row == f"id={target.id}"
    )
    assert (problem.ledger_says, problem.table_says) == (target.profile, "beijing-2020")


def _newest(conn: Connection, name: str, n: int) -> list[Any]:
    return list(
        conn.execute(
            select(ledger).where(ledger.c.chain == name).order_by(ledger.c.seq.desc()).limit(n)
        )
    )


def test_the_newest_20_entries_deleted_are_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        cut = _newest(conn, seeded.chain, 20)
    edit(
        engine,
        lambda c: c.execute(
            delete(ledger).where(ledger.c.chain == seeded.chain, ledger.c.seq >= cut[-1].seq)
        ),
    )
    report = check(engine)
    assert not report.ok and "the newest entries were deleted" in report.message
    assert report.problem is not None and report.problem.table == "ledger_heads"


def test_the_newest_20_entries_deleted_with_the_head_record_set_back_are_named_by_head(
    seeded: Seeded,
) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        cut = _newest(conn, seeded.chain, 21)
    keep = cut[-1]  # the entry that becomes the newest

    def truncate(c: Connection) -> None:
        c.execute(delete(ledger).where(ledger.c.chain == seeded.chain, ledger.c.seq > keep.seq))
        c.execute(
            update(ledger_heads)
            .where(ledger_heads.c.chain == seeded.chain)
            .values(seq=keep.seq, hash=keep.hash, at=keep.at, seal=keep.seal)
        )

    edit(engine, truncate)
    anchored = check(engine, [Anchor(seeded.head.hash, source="notice")])
    assert not anchored.ok and "is no longer in the ledger" in anchored.message
    assert seeded.head.hash in anchored.message
    # Without the head, what the deleted entries had recorded is still in the tables.
    assert not check(engine).ok


# The columns an editor copies as they were (the seal included: they cannot make a new one).
KEEP = ("chain", "seq", "at", "actor", "action", "subject", "unit_id", "seal")


def test_the_chain_rehashed_from_entry_25_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        entry = conn.execute(
            select(ledger).where(ledger.c.chain == seeded.chain, ledger.c.seq == 25)
        ).one()
    assert entry.action == "owner.add"
    owner = json.loads(entry.payload)["owner_id"]

    def rewrite(c: Connection) -> None:
        rows = list(
            c.execute(
                select(ledger)
                .where(ledger.c.chain == seeded.chain, ledger.c.seq >= 25)
                .order_by(ledger.c.seq)
            )
        )
        prev, rewritten = rows[0].prev_hash, []
        for row in rows:
            payload = json.loads(row.payload)
            if row.seq == 25:  # an owner made the developer: all its flats count as one
                payload["kind"] = "developer"
            digest = chain.link_hash(
                prev,
                chain.record_digest(
                    seeded.chain, row.seq, row.at, row.actor, row.action, row.subject,
                    row.unit_id, payload,
                ),
            )  # fmt: skip
            values = {k: getattr(row, k) for k in KEEP}
            rewritten.append(
                {
                    **values,
                    "payload": chain.canonical_json(payload),
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        # Deleted and written again: the new hashes must not meet the old under the unique index.
        c.execute(delete(ledger).where(ledger.c.chain == seeded.chain, ledger.c.seq >= 25))
        c.execute(insert(ledger), rewritten)
        newest = rewritten[-1]
        c.execute(
            update(ledger_heads)
            .where(ledger_heads.c.chain == seeded.chain)
            .values(seq=newest["seq"], hash=newest["hash"], at=newest["at"], seal=newest["seal"])
        )
        c.execute(update(owners).where(owners.c.id == owner).values(kind="developer"))

    edit(engine, rewrite)
    anchored = check(engine, [Anchor(seeded.head.hash, source="signature sheet")])
    assert not anchored.ok and "is no longer in the ledger" in anchored.message
    # The seals, made with a key the editor does not hold, name the first rewritten entry too.
    report = check(engine)
    assert not report.ok and report.first_bad_seq == 25 and "no valid seal" in report.message


def test_a_forged_entry_appended_is_named(seeded: Seeded) -> None:
    engine = seeded.make_copy()
    with engine.connect() as conn:
        target = _a_ballot(conn, "disagree")
        last = _newest(conn, seeded.chain, 1)[0]

    def forge(c: Connection) -> None:
        payload = {
            "round_id": target.round_id,
            "household_id": target.household_id,
            "vote": "agree",
            "previous": "disagree",
            "signed_on": None,
        }
        seq = last.seq + 1
        digest = chain.record_digest(
            seeded.chain, seq, last.at, "居委会", "ballot.set",
            f"round:{target.round_id}/household:{target.household_id}", None, payload,
        )  # fmt: skip
        forged = chain.link_hash(last.hash, digest)
        c.execute(
            insert(ledger).values(
                chain=seeded.chain,
                seq=seq,
                at=last.at,
                actor="居委会",
                action="ballot.set",
                subject=f"round:{target.round_id}/household:{target.household_id}",
                unit_id=None,
                payload=chain.canonical_json(payload),
                prev_hash=last.hash,
                hash=forged,
                seal=last.seal,  # the only seal at hand
            )
        )
        c.execute(
            update(ledger_heads)
            .where(ledger_heads.c.chain == seeded.chain)
            .values(seq=seq, hash=forged, seal=last.seal)
        )
        c.execute(
            update(ballots)
            .where(
                ballots.c.round_id == target.round_id, ballots.c.household_id == target.household_id
            )
            .values(vote="agree")
        )

    edit(engine, forge)
    report = check(engine)
    assert not report.ok and report.first_bad_seq == last.seq + 1
    assert "no valid seal" in report.message


# --- the five edits inside the ledger table the old verify caught -----------------------------


def _entry(conn: Connection, name: str, seq: int) -> Any:
    return conn.execute(select(ledger).where(ledger.c.chain == name, ledger.c.seq == seq)).one()


@pytest.mark.parametrize(
    ("edit_name", "expected"),
    [
        ("payload", "has a payload that was edited"),
        ("actor", "does not match its hash"),
        ("deleted", "entry 40 is missing"),
        ("hash", "entry 40 does not match its hash"),
        ("recomputed", "entry 40 has no valid seal"),
    ],
)
def test_edits_inside_the_ledger_are_named(seeded: Seeded, edit_name: str, expected: str) -> None:
    engine = seeded.make_copy()
    name = seeded.chain
    with engine.connect() as conn:
        row = _entry(conn, name, 40)

    def where(c: Connection, **values: Any) -> None:
        c.execute(update(ledger).where(ledger.c.chain == name, ledger.c.seq == 40).values(**values))

    if edit_name == "payload":
        edit(engine, lambda c: where(c, payload=row.payload.replace('"', ' "', 1)))
    elif edit_name == "actor":
        edit(engine, lambda c: where(c, actor="someone else"))
    elif edit_name == "deleted":
        edit(
            engine,
            lambda c: c.execute(delete(ledger).where(ledger.c.chain == name, ledger.c.seq == 40)),
        )
    elif edit_name == "hash":
        edit(engine, lambda c: where(c, hash="f" * 64))
    else:  # the entry rewritten with a hash recomputed by the public rule
        payload = {**json.loads(row.payload), "tampered": True}
        digest = chain.link_hash(
            row.prev_hash,
            chain.record_digest(
                name, 40, row.at, row.actor, row.action, row.subject, row.unit_id, payload
            ),
        )
        edit(engine, lambda c: where(c, payload=chain.canonical_json(payload), hash=digest))
    report = check(engine)
    assert not report.ok and expected in report.message
    assert report.first_bad_seq in (40, 41) and report.chain == name


# --- the command line says it, with the exit code a script can test ------------------------------


def test_verify_on_the_command_line_names_the_row_and_exits_1(
    seeded: Seeded, tmp_path: Path
) -> None:
    if seeded.backend != "sqlite":
        pytest.skip("the command line is the same on both databases")
    engine = seeded.make_copy()
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    ok = runner.invoke(app, ["ledger", "verify", "-d", url, "--head", seeded.head.hash])
    assert ok.exit_code == 0, ok.output
    assert "ledger intact" in ok.stdout and "1 anchored heads found" in ok.stdout
    with engine.connect() as conn:
        flat = conn.execute(select(households).order_by(households.c.id)).first()
    edit(
        engine,
        lambda c: c.execute(
            update(households).where(households.c.id == flat.id).values(area_cm2=flat.area_cm2 * 3)
        ),
    )
    broken = runner.invoke(app, ["ledger", "verify", "-d", url])
    assert broken.exit_code == 1
    assert "ledger BROKEN" in broken.stderr and "households" in broken.stderr
    assert f"row 行: id={flat.id}" in broken.stderr
    assert f"the table says 表中现为: {flat.area_cm2 * 3}" in broken.stderr
