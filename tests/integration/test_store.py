"""Repositories and the unit of work on SQLite and PostgreSQL: round trips, dedup, atomicity."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, Table, func, select

from colift.errors import BadInput, NotFound, RuleViolation
from colift.model import (
    AgeBand,
    AreaSource,
    Building,
    Compound,
    Household,
    Mobility,
    ObjectionStatus,
    Owner,
    OwnerKind,
    Person,
    Role,
    RoleAssignment,
    ScopeKind,
    Tenure,
    Unit,
    Vote,
)
from colift.store import UnitOfWork, cm2_to_m2, m2_to_cm2, repository
from colift.store.tables import ballots, compounds, households, ledger, owners
from factories import make_compound, make_unit

ACTOR = "居委会"


def count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# --- areas -------------------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=10**12))
def test_area_conversion_round_trips_every_cm2(cm2: int) -> None:
    assert m2_to_cm2(cm2_to_m2(cm2)) == cm2


@pytest.mark.parametrize(
    ("text", "cm2", "shown"),
    [
        ("85.12", 851200, "85.12"),
        ("0.0001", 1, "0.0001"),
        ("100", 1000000, "100"),
        ("100.0000", 1000000, "100"),
        ("62.50", 625000, "62.5"),
    ],
)
def test_area_conversion_is_exact(text: str, cm2: int, shown: str) -> None:
    assert m2_to_cm2(Decimal(text)) == cm2
    assert str(cm2_to_m2(cm2)) == shown


@pytest.mark.parametrize("text", ["85.12345", "0.00001", "NaN", "Infinity"])
def test_area_with_more_than_four_decimals_is_bad_input(text: str) -> None:
    with pytest.raises(BadInput, match="at most 4 decimals"):
        m2_to_cm2(Decimal(text))


# --- registry round trips ----------------------------------------------------------------------


def test_compound_round_trip_by_id_and_code(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        added = make_compound(uow, "hyy")
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert added.id is not None
        assert uow.compounds.get(added.id) == added
        assert uow.compounds.get_by_code("hyy") == added
        assert uow.compounds.all() == [added]
        assert uow.compounds.code_of(added.id) == "hyy"
        assert uow.compounds.codes() == {added.id: "hyy"}
        with pytest.raises(NotFound, match="no compound has the code 'nope'"):
            uow.compounds.get_by_code("nope")
        with pytest.raises(NotFound, match="compound 999 does not exist"):
            uow.compounds.get(999)
        with pytest.raises(BadInput, match="already exists"):
            make_compound(uow, "hyy")


def test_too_long_text_is_bad_input_on_both_backends(engine: Engine) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(BadInput, match="longer than 200"):
        uow.compounds.add(Compound(name="长" * 201, city="成都"), code="long")


def test_buildings_and_units_with_labels(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        compound = make_compound(uow)
        assert compound.id is not None
        b10 = uow.buildings.add(Building(compound_id=compound.id, number="10", storeys=7))
        b3 = uow.buildings.add(Building(compound_id=compound.id, number="3", storeys=6))
        assert b3.id is not None and b10.id is not None
        u32 = uow.units.add(Unit(building_id=b3.id, number="2", consent_profile="cn-chengdu"))
        u31 = uow.units.add(Unit(building_id=b3.id, number="1"))
        u101 = uow.units.add(Unit(building_id=b10.id, number="1"))
        assert u31.id is not None and u32.id is not None and u101.id is not None
        uow.households.add(
            Household(
                unit_id=u31.id,
                room="101",
                floor=1,
                area_m2=Decimal("60"),
                owner_id=_owner(uow, compound.id),
            )
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.buildings.get(b3.id) == b3
        assert uow.buildings.get_by_number(compound.id, "10") == b10
        assert [b.number for b in uow.buildings.list_by_compound(compound.id)] == ["3", "10"]
        assert uow.units.get(u32.id) == u32
        assert uow.units.list_by_building(b3.id) == [u31, u32]
        listed = uow.units.list_by_compound(compound.id)
        assert [u.label for u in listed] == ["3栋1单元", "3栋2单元", "10栋1单元"]
        assert [u.households for u in listed] == [1, 0, 0]
        assert [u.effective_profile for u in listed] == [
            "cn-civil-code-278",
            "cn-chengdu",
            "cn-civil-code-278",
        ]
        assert listed[1].to_unit() == u32
        assert uow.units.find(compound.id, "3", "2").id == u32.id
        with pytest.raises(NotFound, match="has no unit 9栋9单元"):
            uow.units.find(compound.id, "9", "9")
        with pytest.raises(BadInput, match=r"3栋2单元 .* already exists"):
            uow.units.add(Unit(building_id=b3.id, number="2"))
        with pytest.raises(NotFound, match="building 999 does not exist"):
            uow.units.add(Unit(building_id=999, number="1"))


def _owner(uow: UnitOfWork, compound_id: int) -> int:
    owner_id = uow.owners.get_or_create(compound_id, "张三", "13900000000").id
    assert owner_id is not None
    return owner_id


def test_owner_get_or_create_is_one_owner_per_name_and_phone(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        compound = make_compound(uow)
        assert compound.id is not None
        first = uow.owners.get_or_create(compound.id, "李四", "13800000000")
        again = uow.owners.get_or_create(compound.id, " 李四 ", "13800000000 ")
        other_phone = uow.owners.get_or_create(compound.id, "李四", "13800000001")
        many = uow.owners.get_or_create_many(
            compound.id,
            [
                first,
                other_phone,
                first,
                Owner(name="开发商", kind=OwnerKind.DEVELOPER),
            ],
        )
        uow.commit()
    assert again == first
    assert other_phone.id != first.id
    assert [o.id for o in many[:3]] == [first.id, other_phone.id, first.id]
    assert many[3].kind is OwnerKind.DEVELOPER
    assert count(engine, owners) == 3
    with UnitOfWork(engine) as uow:
        assert uow.owners.list_by_compound(compound.id) == [first, other_phone, many[3]]
        assert uow.owners.compound_of(first.id or 0) == compound.id
        with pytest.raises(BadInput, match="needs a name"):
            uow.owners.get_or_create(compound.id, "  ")


def test_one_buyer_of_several_flats_is_one_owner(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        uow.commit()
    assert unit.by_room("601").owner_id == unit.by_room("602").owner_id
    with UnitOfWork(engine) as uow:
        owned = uow.households.list_by_owner(unit.by_room("601").owner_id)
        assert [h.room for h in owned] == ["601", "602"]
    assert count(engine, owners) == 11  # 12 flats, 601 and 602 share an owner


def test_households_round_trip_with_exact_decimal_areas(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        extra = uow.households.add(
            Household(
                unit_id=unit.unit.id,
                room="701",
                floor=7,
                area_m2=Decimal("123456.7891"),
                owner_id=unit.by_room("201").owner_id,
                tenure=Tenure.ABSENTEE,
                area_source=AreaSource.CONTRACT,
            )
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        stored = uow.households.list_by_unit(unit.unit.id)
        assert stored == [*unit.households, extra]
        assert [h.area_m2 for h in stored] == [h.area_m2 for h in [*unit.households, extra]]
        assert uow.households.get(extra.id or 0).area_m2 == Decimal("123456.7891")
        assert uow.households.get_by_room(unit.unit.id, "401").area_m2 == Decimal("62.5")
        assert uow.households.get_by_room(unit.unit.id, "202").area_m2 == Decimal("85.1234")
        with pytest.raises(NotFound, match=r"3栋2单元 \(unit \d+\) has no room 909"):
            uow.households.get_by_room(unit.unit.id, "909")
    with engine.connect() as conn:
        total = conn.execute(select(func.sum(households.c.area_cm2))).scalar_one()
    assert cm2_to_m2(int(total)) == sum((h.area_m2 for h in stored), Decimal(0))


def test_household_input_errors_name_the_flat(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=2)
        assert unit.unit.id is not None
        owner_id = unit.households[0].owner_id
        too_fine = Household(
            unit_id=unit.unit.id,
            room="301",
            floor=3,
            area_m2=Decimal("85.12345"),
            owner_id=owner_id,
        )
        with pytest.raises(BadInput, match=r"room '301' of 3栋2单元: .*at most 4 decimals"):
            uow.households.add(too_fine)
        twice = Household(
            unit_id=unit.unit.id, room="101", floor=1, area_m2=Decimal(60), owner_id=owner_id
        )
        with pytest.raises(BadInput, match="listed twice"):
            uow.households.add(twice)
        with pytest.raises(NotFound, match="owner 999 does not exist"):
            uow.households.add(
                Household(
                    unit_id=unit.unit.id, room="401", floor=4, area_m2=Decimal(60), owner_id=999
                )
            )
        other = make_compound(uow, "other")
        assert other.id is not None
        stranger = uow.owners.get_or_create(other.id, "王五")
        with pytest.raises(BadInput, match="belongs to another compound"):
            uow.households.add(
                Household(
                    unit_id=unit.unit.id,
                    room="401",
                    floor=4,
                    area_m2=Decimal(60),
                    owner_id=stranger.id or 0,
                )
            )


def test_long_id_lists_are_queried_in_chunks(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "IN_CHUNK", 5)
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow, flats=12)
        assert unit.unit.id is not None and unit.compound.id is not None
        again = uow.owners.get_or_create_many(unit.compound.id, unit.owners)
        rnd = uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor=ACTOR)
        votes = {h.id or 0: Vote.AGREE for h in unit.households}
        first = uow.votes.set_ballots(rnd.id, votes, actor=ACTOR)
        second = uow.votes.set_ballots(rnd.id, votes, actor=ACTOR)
        with pytest.raises(NotFound, match="household 99998, 99999 does not exist"):
            uow.votes.set_ballots(
                rnd.id, {**votes, 99999: Vote.AGREE, 99998: Vote.AGREE}, actor=ACTOR
            )
    assert [o.id for o in again] == [o.id for o in unit.owners]
    assert len(first) == 12 and second == []


def test_persons_and_role_assignments_round_trip(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.compound.id is not None and unit.unit.id is not None
        flat = unit.by_room("502")
        elder = uow.persons.add(
            Person(
                name="赵老师",
                household_id=flat.id,
                age_band=AgeBand.AGE_80_PLUS,
                mobility=Mobility.WHEELCHAIR,
                party_member=True,
                phone="13700000000",
                owner_id=flat.owner_id,
            )
        )
        official = uow.persons.add(Person(name="街道干部"), compound_id=unit.compound.id)
        outsider = uow.persons.add(Person(name="电梯公司"))
        leader = uow.roles.add(
            RoleAssignment(
                elder.id or 0,
                Role.UNIT_LEADER,
                ScopeKind.UNIT,
                unit.unit.id,
                since=date(2023, 3, 1),
            )
        )
        branch = uow.roles.add(
            RoleAssignment(
                elder.id or 0, Role.COMPOUND_PARTY_BRANCH, ScopeKind.COMPOUND, unit.compound.id
            )
        )
        street = uow.roles.add(
            RoleAssignment(
                official.id or 0,
                Role.STREET_OFFICE,
                ScopeKind.COMPOUND,
                unit.compound.id,
                since=date(2020, 1, 1),
                until=date(2022, 12, 31),
            )
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.persons.get(elder.id or 0) == elder
        assert uow.persons.get(outsider.id or 0) == outsider
        assert uow.persons.list_by_compound(unit.compound.id) == [elder, official]
        assert uow.persons.list_by_household(flat.id or 0) == [elder]
        assert uow.roles.get(leader.id or 0) == leader
        assert uow.roles.list_by_person(elder.id or 0) == [leader, branch]
        assert uow.roles.list_by_scope(ScopeKind.COMPOUND, unit.compound.id) == [branch, street]
        on = date(2024, 1, 1)
        assert uow.roles.list_by_scope(ScopeKind.COMPOUND, unit.compound.id, on=on) == [branch]
        ended = uow.roles.end(leader.id or 0, date(2024, 6, 30))
        assert uow.roles.get(leader.id or 0) == ended
        with pytest.raises(BadInput, match="cannot end"):
            uow.roles.end(leader.id or 0, date(2020, 1, 1))
        with pytest.raises(NotFound, match="person 999 does not exist"):
            uow.roles.add(RoleAssignment(999, Role.OPINION_LEADER, ScopeKind.UNIT, 1))


# --- rounds, ballots, objections, consent input ------------------------------------------------


def test_open_round_and_current_round_of_a_unit(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None and unit.building.id is not None
        assert uow.votes.current_round(unit.unit.id) is None
        building_round = uow.votes.open_round(
            ScopeKind.BUILDING, unit.building.id, actor=ACTOR, opened_on=date(2024, 1, 1)
        )
        assert building_round.profile == "cn-civil-code-278"
        unit_round = uow.votes.open_round(
            ScopeKind.UNIT,
            unit.unit.id,
            actor=ACTOR,
            profile="cn-chengdu-2018",
            title="加装电梯意见征询",
            opened_on=date(2024, 3, 1),
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.votes.get_round(unit_round.id) == unit_round
        assert uow.votes.current_round(unit.unit.id) == unit_round
        assert uow.votes.rounds_for_unit(unit.unit.id) == [unit_round, building_round]
        with pytest.raises(RuleViolation, match="still open"):
            uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor=ACTOR)
        closed = uow.votes.close_round(unit_round.id, actor=ACTOR, closed_on=date(2024, 4, 1))
        assert not closed.is_open
        assert uow.votes.current_round(unit.unit.id) == building_round
        with pytest.raises(RuleViolation, match="already closed"):
            uow.votes.close_round(unit_round.id, actor=ACTOR)
        with pytest.raises(NotFound, match="unit 999 does not exist"):
            uow.votes.open_round(ScopeKind.UNIT, 999, actor=ACTOR)
        with pytest.raises(BadInput, match="not a city"):
            uow.votes.open_round(ScopeKind.CITY, 1, actor=ACTOR)


def test_ballot_upsert_keeps_one_ballot_per_flat_and_logs_each_change(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        rnd = uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor=ACTOR)
        flat = unit.by_room("301").id or 0
        first = uow.votes.set_ballot(rnd.id, flat, Vote.DISAGREE, actor="楼栋长")
        uow.commit()
    with UnitOfWork(engine) as uow:
        second = uow.votes.set_ballot(
            rnd.id, flat, Vote.AGREE, actor=ACTOR, signed_on=date(2024, 5, 1)
        )
        same = uow.votes.set_ballots(
            rnd.id, {flat: Vote.AGREE}, actor=ACTOR, signed_on=date(2024, 5, 1)
        )
        uow.commit()
    assert first.vote is Vote.DISAGREE and first.recorded_by == "楼栋长"
    assert second.vote is Vote.AGREE and second.signed_on == date(2024, 5, 1)
    assert same == []  # no change, no ledger entry
    with UnitOfWork(engine) as uow:
        assert uow.votes.list_ballots(rnd.id) == [second]
        changes = uow.ledger.history(subject=f"round:{rnd.id}/household:{flat}")
        assert [(e.action, e.payload["vote"], e.payload["previous"]) for e in changes] == [
            ("ballot.set", "disagree", None),
            ("ballot.set", "agree", "disagree"),
        ]
        assert uow.ledger.verify().ok
    assert count(engine, ballots) == 1


def test_ballots_in_bulk_and_their_limits(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        other = make_unit(uow, compound=unit.compound, building_number="4", flats=2)
        assert unit.unit.id is not None
        rnd = uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor=ACTOR)
        votes = {h.id or 0: Vote.AGREE for h in unit.households[:8]}
        changed = uow.votes.set_ballots(rnd.id, votes, actor=ACTOR)
        assert len(changed) == 8
        stranger = other.households[0].id
        with pytest.raises(BadInput, match=f"household {stranger} is outside the unit"):
            uow.votes.set_ballot(rnd.id, stranger or 0, Vote.AGREE, actor=ACTOR)
        with pytest.raises(NotFound, match="household 99999 does not exist"):
            uow.votes.set_ballot(rnd.id, 99999, Vote.AGREE, actor=ACTOR)
        with pytest.raises(NotFound, match="vote round 999 does not exist"):
            uow.votes.set_ballot(999, stranger or 0, Vote.AGREE, actor=ACTOR)
        uow.votes.close_round(rnd.id, actor=ACTOR)
        with pytest.raises(RuleViolation, match="closed"):
            uow.votes.set_ballot(rnd.id, unit.households[9].id or 0, Vote.AGREE, actor=ACTOR)
        voting = [
            e.action for e in uow.ledger.history() if e.action.startswith(("round.", "ballot."))
        ]
        assert voting == ["round.open"] + ["ballot.set"] * 8 + ["round.close"]


def test_unit_consent_rows(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None and unit.building.id is not None
        uid = unit.unit.id
        before = uow.votes.unit_consent_rows(uid)
        rnd = uow.votes.open_round(ScopeKind.UNIT, uid, actor=ACTOR, profile="cn-wuxi-2022")
        uow.votes.set_ballots(
            rnd.id,
            {unit.by_room("601").id or 0: Vote.AGREE, unit.by_room("102").id or 0: Vote.DISAGREE},
            actor=ACTOR,
        )
        objection = uow.objections.add(
            unit.by_room("102").id or 0, ["light", "noise"], actor=ACTOR, raised_on=date(2024, 5, 2)
        )
        uow.objections.mark_occupied(unit.by_room("101").id or 0, actor=ACTOR, note="入口占用")
        uow.commit()
    with UnitOfWork(engine) as uow:
        got = uow.votes.unit_consent_rows(uid)
        by_round = uow.votes.unit_consent_rows(round_id=rnd.id)
        both = uow.votes.unit_consent_rows(uid, round_id=rnd.id)
    assert before.round is None and before.profile == "cn-civil-code-278"
    assert {r.vote for r in before.rows} == {Vote.ABSENT}
    assert got == by_round == both
    assert got.round == rnd and got.profile == "cn-wuxi-2022"
    assert got.scope_kind is ScopeKind.UNIT and got.scope_id == uid
    assert [r.room for r in got.rows] == [h.room for h in unit.households]
    expected = {h.room: (h.floor, h.area_m2, h.owner_id, h.tenure) for h in unit.households}
    assert {r.room: (r.floor, r.area_m2, r.owner_id, r.tenure) for r in got.rows} == expected
    assert all(r.area_cm2 == m2_to_cm2(r.area_m2) for r in got.rows)
    votes = {r.room: r.vote for r in got.rows}
    assert votes["601"] is Vote.AGREE and votes["102"] is Vote.DISAGREE
    assert votes["602"] is Vote.ABSENT
    assert next(r for r in got.rows if r.room == "101").owner_kind is OwnerKind.DEVELOPER
    assert got.objections == (objection,)
    assert objection.reasons == ("light", "noise") and objection.room == "102"
    assert [(o.room, o.note) for o in got.occupied] == [("101", "入口占用")]


def test_consent_rows_of_a_building_round(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        first = make_unit(uow, flats=4)
        assert first.building.id is not None and first.unit.id is not None
        sibling = uow.units.add(Unit(building_id=first.building.id, number="1"))
        assert sibling.id is not None
        uow.households.add(
            Household(
                unit_id=sibling.id,
                room="101",
                floor=1,
                area_m2=Decimal("55.5"),
                owner_id=first.households[1].owner_id,
            )
        )
        rnd = uow.votes.open_round(ScopeKind.BUILDING, first.building.id, actor=ACTOR)
        whole = uow.votes.unit_consent_rows(round_id=rnd.id)
        one = uow.votes.unit_consent_rows(sibling.id, round_id=rnd.id)
        elsewhere = make_unit(uow, compound=first.compound, building_number="9", flats=2)
        assert elsewhere.unit.id is not None
        with pytest.raises(BadInput, match="outside the building"):
            uow.votes.unit_consent_rows(elsewhere.unit.id, round_id=rnd.id)
        with pytest.raises(BadInput, match="name a unit or a vote round"):
            uow.votes.unit_consent_rows()
    assert len(whole.rows) == 5 and whole.scope_kind is ScopeKind.BUILDING
    assert [r.room for r in one.rows] == ["101"] and one.round == rnd


def test_objection_status_changes_are_logged(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        raised = uow.objections.add(
            unit.by_room("101").id or 0,
            ["sunlight"],
            actor=ACTOR,
            raised_on=date(2024, 5, 1),
            notes="一楼采光",
        )
        mediation = uow.objections.set_status(
            raised.id, ObjectionStatus.MEDIATION, actor="调解员", on=date(2024, 5, 10)
        )
        resolved = uow.objections.set_status(
            raised.id,
            ObjectionStatus.RESOLVED,
            actor="调解员",
            on=date(2024, 6, 1),
            notes="补偿协议",
        )
        uow.commit()
    with UnitOfWork(engine) as uow:
        assert uow.objections.get(raised.id) == resolved
        assert uow.objections.list_by_unit(unit.unit.id) == [resolved]
        log = uow.ledger.history(subject=f"objection:{raised.id}")
        with pytest.raises(NotFound, match="objection 999 does not exist"):
            uow.objections.set_status(999, ObjectionStatus.WITHDRAWN, actor=ACTOR)
        with pytest.raises(BadInput, match="at least one reason"):
            uow.objections.add(unit.by_room("101").id or 0, [" "], actor=ACTOR)
    assert raised.status is ObjectionStatus.OPEN
    assert mediation.status is ObjectionStatus.MEDIATION and mediation.notes == "一楼采光"
    assert resolved.handled_by == "调解员" and resolved.updated_on == date(2024, 6, 1)
    assert resolved.notes == "补偿协议"
    assert [(e.action, e.payload.get("from"), e.payload.get("to")) for e in log] == [
        ("objection.raise", None, None),
        ("objection.status", "open", "mediation"),
        ("objection.status", "mediation", "resolved"),
    ]


def test_occupied_households(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        unit = make_unit(uow)
        assert unit.unit.id is not None
        flat = unit.by_room("102").id or 0
        uow.objections.mark_occupied(flat, actor=ACTOR, note="连廊")
        uow.objections.mark_occupied(flat, actor=ACTOR, note="连廊")  # unchanged: not logged
        uow.objections.mark_occupied(unit.by_room("101").id or 0, actor=ACTOR)
        uow.objections.unmark_occupied(unit.by_room("101").id or 0, actor=ACTOR)
        listed = uow.objections.occupied_in_unit(unit.unit.id)
        with pytest.raises(NotFound, match="not marked as occupied"):
            uow.objections.unmark_occupied(unit.by_room("101").id or 0, actor=ACTOR)
        actions = [e.action for e in uow.ledger.history() if e.action.startswith("occupied.")]
    assert [(o.room, o.note) for o in listed] == [("102", "连廊")]
    assert actions == ["occupied.mark", "occupied.mark", "occupied.unmark"]


# --- the unit of work --------------------------------------------------------------------------


def test_exception_inside_a_unit_of_work_leaves_nothing(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        make_compound(uow, "kept")
        uow.commit()
    with UnitOfWork(engine) as uow:
        head_before = uow.ledger.heads()
    with pytest.raises(RuntimeError, match="boom"), UnitOfWork(engine) as uow:
        unit = make_unit(uow, code="lost")
        assert unit.unit.id is not None
        rnd = uow.votes.open_round(ScopeKind.UNIT, unit.unit.id, actor=ACTOR)
        uow.votes.set_ballots(rnd.id, {h.id or 0: Vote.AGREE for h in unit.households}, actor=ACTOR)
        raise RuntimeError("boom")
    with UnitOfWork(engine) as uow:
        assert [c.name for c in uow.compounds.all()] == ["和园一区"]
        assert uow.ledger.heads() == head_before
        with pytest.raises(NotFound):
            uow.compounds.get_by_code("lost")
    assert count(engine, households) == 0
    assert count(engine, ledger) == 1  # the compound kept, nothing of the one lost


def test_leaving_without_commit_rolls_back_and_commit_is_per_step(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        make_compound(uow, "first")
        uow.commit()
        make_compound(uow, "second")  # never committed
    with UnitOfWork(engine) as uow:
        make_compound(uow, "third")
        uow.rollback()
        make_compound(uow, "fourth")
        uow.commit()
    with engine.connect() as conn:
        codes = sorted(conn.execute(select(compounds.c.code)).scalars())
    assert codes == ["first", "fourth"]


def test_unit_of_work_must_be_entered(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with pytest.raises(RuntimeError, match="with"):
        uow.commit()


def test_a_unit_of_work_entered_again_reads_through_its_new_connection(engine: Engine) -> None:
    """Repositories are made on first use and kept for the block; a unit of work entered a
    second time must not keep those of the connection it closed."""
    uow = UnitOfWork(engine)
    with uow:
        first = uow.units
        assert uow.units is first
        made = make_compound(uow)
        uow.commit()
    with uow:
        assert uow.units is not first
        assert made.id is not None and uow.compounds.get(made.id).name == made.name
