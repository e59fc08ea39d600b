"""Co-production repositories on both databases: projects, activities, stances, profiles,
technical issues, ties, and the objection lifecycle enforced by the objection repository."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, Table, event, func, select

from colift.errors import BadInput, NotFound, RuleViolation
from colift.model import ObjectionStatus, Person
from colift.model.coproduction import (
    Activity,
    GuidanceMode,
    Outcome,
    Stage,
    StageTransition,
    Stance,
    StanceChange,
    TechnicalIssue,
    Tie,
)
from colift.store import UnitOfWork, tables
from colift.store.ledger import LedgerEntry, resolve_texts
from factories import UnitFixture, make_unit

ACTOR = "玉林社区 陈书记"
DAY = date(2025, 3, 1)


def hid(unit: UnitFixture, room: str) -> int:
    found = unit.by_room(room).id
    assert found is not None
    return found


def uid(unit: UnitFixture) -> int:
    assert unit.unit.id is not None
    return unit.unit.id


@pytest.fixture
def unit(engine: Engine) -> UnitFixture:
    with UnitOfWork(engine) as uow:
        made = make_unit(uow)
        uow.commit()
    return made


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@contextmanager
def counting_queries(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


# --- projects ----------------------------------------------------------------------------------


def moves(uow: UnitOfWork, unit_id: int) -> list[LedgerEntry]:
    """The unit's stage transitions in the ledger (its subject also names the unit's registry
    entry and cost plans)."""
    return [
        e for e in uow.ledger.history(subject=f"unit:{unit_id}") if e.action == "stage.transition"
    ]


def test_a_project_starts_at_the_survey_and_logs_every_move(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        unrecorded = uow.projects.get(u)
        assert (unrecorded.stage, unrecorded.recorded) == (Stage.SURVEY, False)
        with pytest.raises(NotFound, match="unit 999 does not exist"):
            uow.projects.get(999)
        with pytest.raises(NotFound, match="no recorded project"):
            uow.projects.record_transition(u, Stage.CONSULTATION, actor=ACTOR)
        started = uow.projects.get_or_create(u, actor=ACTOR, on=DAY)
        assert uow.projects.get_or_create(u, actor="someone else", on=date(2026, 1, 1)) == started
        moved = uow.projects.record_transition(
            u, Stage.CONSULTATION, actor=ACTOR, on=date(2025, 3, 5), reason="意愿征询过半"
        )
        paused = uow.projects.record_transition(
            u, Stage.SUSPENDED, actor=ACTOR, on=date(2025, 4, 1), reason="等待补贴政策"
        )
        uow.commit()
    assert started.stage is Stage.SURVEY and started.stage_since == DAY
    assert moved == StageTransition(
        u, Stage.SURVEY, Stage.CONSULTATION, date(2025, 3, 5), ACTOR, "意愿征询过半", "", moved.id
    )
    with UnitOfWork(engine) as uow:
        project = uow.projects.get(u)
        assert project.stage is Stage.SUSPENDED and project.suspended_from is Stage.CONSULTATION
        history = uow.projects.transitions(u)
        log = moves(uow, u)
    assert [(t.from_stage, t.to_stage) for t in history] == [
        (None, Stage.SURVEY),
        (Stage.SURVEY, Stage.CONSULTATION),
        (Stage.CONSULTATION, Stage.SUSPENDED),
    ]
    assert history[-1] == paused
    assert [(e.action, e.payload["from"], e.payload["to"]) for e in log] == [
        ("stage.transition", None, "survey"),
        ("stage.transition", "survey", "consultation"),
        ("stage.transition", "consultation", "suspended"),
    ]
    with UnitOfWork(engine) as uow:  # the reason is kept text: the chain holds its digest
        reason = resolve_texts(uow.connection, log[1].payload)["reason"]
    assert reason == "意愿征询过半" and log[1].actor == ACTOR


def test_a_transition_keeps_the_books_and_refuses_what_cannot_be(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        uow.projects.get_or_create(u, actor=ACTOR, on=DAY)
        with pytest.raises(BadInput, match="cannot come before the current stage began"):
            uow.projects.record_transition(u, Stage.CONSULTATION, actor=ACTOR, on=date(2025, 2, 1))
        with pytest.raises(RuleViolation, match="someone changed its stage meanwhile"):
            uow.projects.record_transition(
                u, Stage.CONSULTATION, actor=ACTOR, on=DAY, expected_from=Stage.VOTE
            )
        with pytest.raises(BadInput, match="no field colour"):
            uow.projects.record_transition(
                u, Stage.VOTE, actor=ACTOR, on=DAY, updates={"colour": 1}
            )
        uow.projects.record_transition(
            u,
            Stage.NOTICE,
            actor=ACTOR,
            on=date(2025, 5, 1),
            reference="公示编号 7",
            updates={"notice_opened_on": date(2025, 5, 1)},
        )
        uow.projects.record_transition(u, Stage.SUSPENDED, actor=ACTOR, on=date(2025, 5, 3))
        uow.projects.record_transition(u, Stage.NOTICE, actor=ACTOR, on=date(2025, 6, 3))
        project = uow.projects.get(u)
        log = moves(uow, u)
    assert project.stage is Stage.NOTICE and project.suspended_from is None
    assert project.notice_opened_on == date(2025, 5, 1) and project.stage_since == date(2025, 6, 3)
    assert log[1].payload["notice_opened_on"] == "2025-05-01"
    assert log[1].payload["reference"] == "公示编号 7"


def test_stages_by_compound_is_one_query(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        one = make_unit(uow)
        two = make_unit(uow, compound=one.compound, building_number="4")
        other = make_unit(uow, code="other")
        uow.projects.get_or_create(uid(two), actor=ACTOR, on=DAY)
        uow.projects.record_transition(uid(two), Stage.VOTE, actor=ACTOR, on=DAY)
        uow.projects.get_or_create(uid(other), actor=ACTOR, on=DAY)
        uow.projects.record_transition(uid(other), Stage.NOTICE, actor=ACTOR, on=DAY)
        uow.commit()
    assert one.compound.id is not None
    with UnitOfWork(engine) as uow:
        uow.connection.execute(select(1))  # begin first: the BEGIN is not the query counted
        with counting_queries(engine) as seen:
            stages = uow.projects.stages_by_compound(one.compound.id)
    assert len(seen) == 1
    assert stages == {uid(one): Stage.SURVEY, uid(two): Stage.VOTE}


# --- activities --------------------------------------------------------------------------------


def door_to_door(unit_id: int, **changes: Any) -> Activity:
    base = Activity(
        unit_id=unit_id,
        person_id=None,
        actor_name="王阿姨",
        role="opinion_leader",
        guidance=GuidanceMode.EMBEDDED,
        tool="door_to_door",
        on=date(2025, 4, 2),
        notes="晚饭后上门",
        outcome=Outcome(
            stances_changed=(StanceChange("101", Stance.OPPOSE, Stance.UNDECIDED),),
            objections_resolved=(3,),
            money_fen=120_000,
            labour_hours=2,
            participants=2,
            note="一楼愿意再谈",
        ),
    )
    return replace(base, **changes)


def test_an_activity_reads_back_with_its_targets_and_outcome(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        person = uow.persons.add(Person(name="王阿姨"), compound_id=unit.compound.id)
        made = uow.activities.add(
            door_to_door(u, person_id=person.id),
            [hid(unit, "201"), hid(unit, "101"), hid(unit, "102")],
            actor=ACTOR,
        )
        whole = uow.activities.add(
            door_to_door(u, tool="policy_briefing", on=date(2025, 4, 1), outcome=Outcome()),
            actor=ACTOR,
        )
        uow.commit()
    assert made.id is not None and made.targets == ("101", "102", "201")
    with UnitOfWork(engine) as uow:
        listed = uow.activities.list_by_unit(u)
        assert unit.compound.id is not None
        assert uow.activities.list_by_compound(unit.compound.id) == listed
        assert uow.activities.get(made.id) == made
        assert uow.activities.has_tool(u, "policy_briefing")
        assert not uow.activities.has_tool(u, "written_agreement")
        (entry,) = uow.ledger.history(subject=f"unit:{u}/activity:{made.id}")
    assert listed == [whole, made]  # in the order they happened
    assert whole.targets == () and whole.outcome == Outcome()
    assert entry.action == "activity.record" and entry.actor == ACTOR
    assert entry.payload["targets"] == ["101", "102", "201"]
    assert entry.payload["outcome"]["stances_changed"] == [
        {"household": "101", "before": "oppose", "after": "undecided"}
    ]
    assert entry.payload["money_fen"] == 120_000


def test_bad_activities_are_refused(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        elsewhere = make_unit(uow, compound=unit.compound, building_number="9", flats=2)
        with pytest.raises(BadInput, match=r"household \d+ is not in 3栋2单元"):
            uow.activities.add(door_to_door(u), [hid(elsewhere, "101")], actor=ACTOR)
        with pytest.raises(NotFound, match="household 99999 does not exist"):
            uow.activities.add(door_to_door(u), [99999], actor=ACTOR)
        with pytest.raises(BadInput, match="guidance 'party' must be one of"):
            uow.activities.add(door_to_door(u, guidance="party"), actor=ACTOR)
        with pytest.raises(BadInput, match="money_fen must be a whole number"):
            uow.activities.add(door_to_door(u, outcome=Outcome(money_fen=-1)), actor=ACTOR)
        with pytest.raises(BadInput, match="needs its tool"):
            uow.activities.add(door_to_door(u, tool=" "), actor=ACTOR)
        with pytest.raises(NotFound, match="person 77 does not exist"):
            uow.activities.add(door_to_door(u, person_id=77), actor=ACTOR)
        with pytest.raises(NotFound, match="activity 5 does not exist"):
            uow.activities.get(5)


# --- stances and household profiles ------------------------------------------------------------


def test_stances_keep_the_latest_and_the_ledger_keeps_the_history(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        first = uow.stances.set(
            hid(unit, "101"), Stance.OPPOSE, ["light", " noise "], actor=ACTOR, on=DAY
        )
        uow.stances.set(hid(unit, "601"), Stance.SUPPORT, actor=ACTOR, on=DAY)
        later = uow.stances.set(
            hid(unit, "101"), Stance.LEAN_OPPOSE, ["light"], actor="王阿姨", on=date(2025, 3, 9)
        )
        with pytest.raises(BadInput, match="older and cannot replace it"):
            uow.stances.set(hid(unit, "101"), Stance.SUPPORT, actor=ACTOR, on=DAY)
        with pytest.raises(BadInput, match="codes without commas"):
            uow.stances.set(hid(unit, "102"), Stance.OPPOSE, ["light,noise"], actor=ACTOR)
        uow.commit()
    assert first.reasons == ("light", "noise") and first.room == "101"
    with UnitOfWork(engine) as uow:
        current = uow.stances.for_unit(u)
        log = [
            e
            for e in uow.ledger.history(subject=f"household:{hid(unit, '101')}")
            if e.action == "stance.set"
        ]
        assert uow.stances.find(hid(unit, "102")) is None
    assert list(current) == ["101", "601"]
    assert current["101"] == later and later.stance is Stance.LEAN_OPPOSE
    assert [(e.payload["previous"], e.payload["stance"]) for e in log] == [
        (None, "oppose"),
        ("oppose", "lean_oppose"),
    ]


def test_ability_to_pay_is_stored_privately(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        before = uow.ledger.count()
        uow.household_profiles.set_ability_to_pay(hid(unit, "201"), 1_500_000)
        uow.household_profiles.set_ability_to_pay(hid(unit, "101"), 0)
        uow.household_profiles.set_ability_to_pay(hid(unit, "102"), 800_000)
        uow.household_profiles.set_ability_to_pay(hid(unit, "102"), None)
        with pytest.raises(BadInput, match="whole number"):
            uow.household_profiles.set_ability_to_pay(hid(unit, "301"), -5)
        assert uow.ledger.count() == before
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.household_profiles.for_unit(u) == {"101": 0, "201": 1_500_000}
        assert uow.household_profiles.ability_to_pay(hid(unit, "102")) is None


# --- technical issues and ties -----------------------------------------------------------------


def test_technical_issues_are_found_and_resolved(engine: Engine, unit: UnitFixture) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        gas = uow.technical.add(
            u, TechnicalIssue("pipes", 3, note="燃气立管在井道位置"), actor=ACTOR, found_on=DAY
        )
        uow.technical.add(u, TechnicalIssue("space", 2), actor=ACTOR, found_on=DAY)
        assert uow.technical.max_unresolved_severity(u) == 3
        with pytest.raises(BadInput, match="severity must be 1"):
            uow.technical.add(u, TechnicalIssue("pipes", 4), actor=ACTOR)
        with pytest.raises(BadInput, match="before it was found"):
            uow.technical.resolve(gas.id, actor=ACTOR, on=date(2025, 1, 1))
        done = uow.technical.resolve(gas.id, actor="燃气公司", on=date(2025, 4, 1), note="改线")
        with pytest.raises(RuleViolation, match="already resolved"):
            uow.technical.resolve(gas.id, actor=ACTOR)
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.technical.max_unresolved_severity(u) == 2
        assert [t.kind for t in uow.technical.list_by_unit(u, unresolved_only=True)] == ["space"]
        assert uow.technical.get(gas.id) == done
        log = uow.ledger.history(subject=f"unit:{u}/technical:{gas.id}")
    assert done.to_issue() == TechnicalIssue("pipes", 3, True, "改线")
    assert done.resolved_on == date(2025, 4, 1)
    assert [e.action for e in log] == ["technical.record", "technical.resolve"]


def test_ties_are_stored_once_per_pair_with_an_exact_weight(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        kin = uow.ties.add(u, hid(unit, "502"), hid(unit, "101"), "kin", 1500)
        again = uow.ties.add(u, hid(unit, "101"), hid(unit, "502"), "kin", 750)
        uow.ties.add(u, hid(unit, "101"), hid(unit, "502"), "friend")
        elsewhere = make_unit(uow, compound=unit.compound, building_number="9", flats=2)
        with pytest.raises(BadInput, match="two different households"):
            uow.ties.add(u, hid(unit, "101"), hid(unit, "101"), "kin")
        with pytest.raises(BadInput, match="is not in 3栋2单元"):
            uow.ties.add(u, hid(unit, "101"), hid(elsewhere, "101"), "kin")
        with pytest.raises(BadInput, match="must be positive"):
            uow.ties.add(u, hid(unit, "101"), hid(unit, "201"), "kin", 0)
        uow.commit()
    assert again.id == kin.id and (again.room_a, again.room_b) == ("101", "502")
    with UnitOfWork(engine) as uow:
        stored = uow.ties.list_by_unit(u)
        uow.ties.remove(kin.id)
        with pytest.raises(NotFound):
            uow.ties.remove(kin.id)
    assert [t.to_tie() for t in stored] == [
        Tie("101", "502", "kin", 0.75),
        Tie("101", "502", "friend", 1.0),
    ]


def test_deleting_a_unit_takes_its_coproduction_records_along(
    engine: Engine, unit: UnitFixture
) -> None:
    u = uid(unit)
    with UnitOfWork(engine) as uow:
        uow.projects.get_or_create(u, actor=ACTOR, on=DAY)
        made = uow.activities.add(door_to_door(u), [hid(unit, "101")], actor=ACTOR)
        uow.stances.set(hid(unit, "101"), Stance.OPPOSE, actor=ACTOR, activity_id=made.id)
        uow.technical.add(u, TechnicalIssue("space", 1), actor=ACTOR)
        uow.ties.add(u, hid(unit, "101"), hid(unit, "102"), "friend")
        uow.connection.execute(tables.units.delete().where(tables.units.c.id == u))
        uow.commit()
    for table in (
        tables.unit_projects,
        tables.stage_transitions,
        tables.activities,
        tables.activity_targets,
        tables.stances,
        tables.technical_issues,
        tables.ties,
    ):
        assert count(engine, table) == 0, table.name


# --- the objection lifecycle in the repository -------------------------------------------------


def test_the_objection_repository_enforces_the_lifecycle(engine: Engine, unit: UnitFixture) -> None:
    with UnitOfWork(engine) as uow:
        raised = uow.objections.add(hid(unit, "101"), ["light"], actor=ACTOR, raised_on=DAY)
        uow.objections.set_status(raised.id, ObjectionStatus.HEARING, actor="规划科", on=DAY)
        uow.objections.set_status(raised.id, ObjectionStatus.OVERRULED, actor="规划科", on=DAY)
        uow.objections.set_status(raised.id, ObjectionStatus.LITIGATION, actor="法院", on=DAY)
        uow.commit()
    with UnitOfWork(engine) as uow:
        entries = uow.ledger.count()
        with pytest.raises(RuleViolation) as caught:
            uow.objections.set_status(raised.id, ObjectionStatus.MEDIATION, actor=ACTOR)
        assert uow.ledger.count() == entries
        uow.objections.set_status(raised.id, ObjectionStatus.RESOLVED, actor="法院", on=DAY)
        with pytest.raises(RuleViolation, match="final"):
            uow.objections.set_status(raised.id, ObjectionStatus.OPEN, actor=ACTOR)
        uow.commit()
    assert caught.value.message.startswith(f"异议 {raised.id}（101）：异议不能从诉讼中改为调解中")
    assert (
        "it may go to 已撤回 withdrawn, 已化解 resolved, 已驳回 overruled" in caught.value.message
    )
    with UnitOfWork(engine) as uow:
        assert uow.objections.get(raised.id).status is ObjectionStatus.RESOLVED
