"""Use cases end to end on both databases: import, export, votes, objections, cost plans, demo."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from colift.errors import BadInput, NotFound, RowError, RuleViolation
from colift.io import read_roster
from colift.model import LEADER_ROLES, ObjectionStatus, Vote
from colift.model.coproduction import Stage
from colift.rules.costshare import parse_plan
from colift.services.consent import (
    cast_vote,
    open_vote_round,
    raise_objection,
    set_objection_status,
    unit_by_label,
    unit_consent,
)
from colift.services.costshare import set_cost_plan, unit_cost_shares
from colift.services.demo import seed_demo
from colift.services.ledger import verify_ledger
from colift.services.registry import (
    UNNAMED_DEVELOPER,
    CompoundDetails,
    export_roster,
    import_roster,
)
from colift.services.reports import compound_report
from colift.store import tables

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "roster.csv"
BAD = ROOT / "tests" / "data" / "bad.csv"
NEW = CompoundDetails(name="建设里小区", city="大连市", district="沙河口区")


def count(engine: Engine, table: tables.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_import_creates_the_compound_with_every_flat_and_vote(engine: Engine) -> None:
    rows = read_roster(EXAMPLE)
    report = import_roster(engine, EXAMPLE, "jsl", actor="社区 王老师", create=NEW)
    assert report.compound_created
    assert report.households == len(rows) == count(engine, tables.households)
    assert report.units_created == len({(r.building, r.unit) for r in rows})
    assert report.ballots == sum(1 for r in rows if r.vote is not None)
    # One owner of several flats is one owner row.
    assert report.owners == len({(r.owner, r.owner_phone) for r in rows})
    assert verify_ledger(engine).ok


def test_a_bad_file_imports_nothing(engine: Engine) -> None:
    with pytest.raises(RowError) as caught:
        import_roster(engine, BAD, "jsl", actor="w", create=NEW)
    assert len(caught.value.errors) >= 3
    for table in (tables.compounds, tables.households, tables.owners, tables.ledger):
        assert count(engine, table) == 0


def test_importing_the_same_flats_twice_is_refused_whole(engine: Engine) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="w", create=NEW)
    before = count(engine, tables.households), count(engine, tables.ledger)
    with pytest.raises(RowError, match="already registered") as caught:
        import_roster(engine, EXAMPLE, "jsl", actor="w")
    assert caught.value.errors[0][0] == 2  # the first data row of the file
    assert (count(engine, tables.households), count(engine, tables.ledger)) == before


def test_import_into_an_unknown_compound_without_details_is_a_clear_error(engine: Engine) -> None:
    with pytest.raises(NotFound, match="give its name and city"):
        import_roster(engine, EXAMPLE, "nowhere", actor="w")


def test_export_reads_back_as_the_same_roster(engine: Engine, tmp_path: Path) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="w", create=NEW)
    for suffix in ("csv", "xlsx"):
        out = tmp_path / f"out.{suffix}"
        assert export_roster(engine, "jsl", out) == len(read_roster(EXAMPLE))
        again = {(r.building, r.unit, r.room): r for r in read_roster(out)}
        for r in read_roster(EXAMPLE):
            got = again[(r.building, r.unit, r.room)]
            assert (got.area_m2, got.owner, got.tenure, got.vote, got.floor) == (
                r.area_m2,
                r.owner or UNNAMED_DEVELOPER,
                r.tenure,
                r.vote,
                r.floor,
            )


def test_one_owner_votes_once_for_all_their_flats(engine: Engine, tmp_path: Path) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="w", create=NEW)
    unit = unit_by_label(engine, "jsl", "3-1")
    state = unit_consent(engine, unit.id)
    rows = {r.room: r for r in state.input.rows}
    # 102 and 202 of 3-1 belong to one buyer (李建国) in the example roster.
    assert rows["102"].owner_id == rows["202"].owner_id
    after = cast_vote(engine, unit.id, "102", Vote.ABSTAIN, actor="楼栋长")
    votes = {r.room: r.vote for r in after.input.rows}
    assert votes["102"] is votes["202"] is Vote.ABSTAIN
    assert after.result.counts.total_heads == state.result.counts.total_heads


def test_votes_need_an_open_round_and_change_the_tally(engine: Engine) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="w", create=NEW)
    unit = unit_by_label(engine, "jsl", "5栋2单元")
    state = unit_consent(engine, unit.id)
    if state.input.round is None:
        with pytest.raises(RuleViolation, match="no open vote round"):
            cast_vote(engine, unit.id, "601", Vote.AGREE, actor="w")
        open_vote_round(engine, unit.id, actor="w", opened_on=date(2026, 11, 1))
    for row in state.input.rows:
        if not row.tenure.developer_held:
            cast_vote(engine, unit.id, row.room, Vote.AGREE, actor="w")
    done = unit_consent(engine, unit.id)
    assert done.result.approval_met
    with pytest.raises(NotFound):
        cast_vote(engine, unit.id, "909", Vote.AGREE, actor="w")


def test_objection_lifecycle_blocks_a_no_objection_rule(engine: Engine) -> None:
    import_roster(
        engine,
        EXAMPLE,
        "cd",
        actor="w",
        create=CompoundDetails(name="玉林小区", city="成都市", consent_profile="chengdu-2018"),
    )
    unit = unit_by_label(engine, "cd", "3-1")
    if unit_consent(engine, unit.id).input.round is None:
        open_vote_round(engine, unit.id, actor="w")
    for row in unit_consent(engine, unit.id).input.rows:
        cast_vote(engine, unit.id, row.room, Vote.AGREE, actor="w")
    assert unit_consent(engine, unit.id).result.passed
    oid = raise_objection(engine, unit.id, "101", ["采光", "noise"], actor="101业主")
    blocked = unit_consent(engine, unit.id).result
    assert not blocked.passed and blocked.approval_met
    set_objection_status(engine, oid, ObjectionStatus.MEDIATION, actor="街道调解委员会")
    assert not unit_consent(engine, unit.id).result.passed
    set_objection_status(engine, oid, ObjectionStatus.RESOLVED, actor="街道调解委员会")
    assert unit_consent(engine, unit.id).result.passed
    with pytest.raises(BadInput, match="unknown objection reason"):
        raise_objection(engine, unit.id, "101", ["feng shui"], actor="w")


def test_cost_plan_is_checked_stored_and_split_to_the_fen(engine: Engine) -> None:
    import_roster(engine, EXAMPLE, "jsl", actor="w", create=NEW)
    unit = unit_by_label(engine, "jsl", "3-1")
    plan = {
        "total_fen": 45_000_000,
        "subsidy_profile": "jinan",
        "scheme": {
            "kind": "floor-coefficient",
            "coefficients": {"1": "0", "2": "0", "3": "0.7", "4": "0.8", "5": "0.9", "6": "1.0"},
        },
    }
    set_cost_plan(engine, unit.id, parse_plan(plan), actor="w")
    shares = unit_cost_shares(engine, unit.id).result
    assert shares.payable_fen == 45_000_000 - 20_000_000  # Jinan: 6 storeys, ¥200,000
    assert sum(line.fen for line in shares.lines) == shares.payable_fen
    with pytest.raises(BadInput):
        parse_plan({**plan, "scheme": {"kind": "magic"}})  # refused at the edge
    # A plan that parses but does not split over this unit's flats is refused and not stored.
    partial = {**plan, "scheme": {"kind": "floor-coefficient", "coefficients": {"3": "1"}}}
    with pytest.raises(BadInput, match="no coefficient for floor"):
        set_cost_plan(engine, unit.id, parse_plan(partial), actor="w")
    assert unit_cost_shares(engine, unit.id).result == shares  # the bad plan stored nothing


def test_demo_seeds_once_and_reports_every_unit(engine: Engine) -> None:
    code, created = seed_demo(engine, today=date(2026, 11, 1))
    assert created
    assert seed_demo(engine, today=date(2026, 11, 1)) == (code, False)
    report = compound_report(engine, code, today=date(2026, 11, 1))
    assert len(report.units) == 24
    assert sum(len(u.consent.input.rows) for u in report.units) == 288
    passed = [u for u in report.units if u.consent.result.passed]
    assert 0 < len(passed) < 24
    for u in report.units:
        if u.shares is not None:
            result = u.shares.result
            assert sum(line.fen for line in result.lines) == result.payable_fen
        assert 0 <= u.advice.heterogeneity.index <= 1
    # The history reaches every stage, every objection state and every cooperation level.
    assert {u.advice.snapshot.stage for u in report.units} == set(Stage)
    statuses = {o.status for u in report.units for o in u.consent.input.objections}
    assert statuses == set(ObjectionStatus)
    assert {u.advice.cooperation.level for u in report.units} == {0, 1, 2, 3, 4}
    roles = {ld.role for u in report.units for ld in u.advice.snapshot.leaders}
    assert roles >= LEADER_ROLES
    assert all(
        u.advice.recommendations or u.advice.snapshot.stage is not Stage.VOTE for u in report.units
    )
    assert verify_ledger(engine).ok


def test_example_file_is_untouched(tmp_path: Path) -> None:
    # The services read the example in place; make sure a copy is byte-identical after use.
    copy = tmp_path / "roster.csv"
    shutil.copy(EXAMPLE, copy)
    assert copy.read_bytes() == EXAMPLE.read_bytes()
