"""Seed the demo compound and report on it: what `make demo` and `colift demo` show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from colift.coproduction.objections import route
from colift.demo import (
    DEMO_COMPENSATION,
    DEMO_RUNNING,
    DEMO_SCHEDULE,
    DEMO_SCHEME,
    DemoCompound,
    build_demo,
)
from colift.errors import NotFound
from colift.model import (
    Building,
    Compound,
    Household,
    ObjectionStatus,
    Owner,
    OwnerKind,
    Person,
    Role,
    RoleAssignment,
    ScopeKind,
    Unit,
)
from colift.services.consent import UnitConsent, _unit_consent
from colift.services.costshare import _flats, _request
from colift.store import UnitOfWork, migrate

DEMO_ACTOR = "colift demo"


def _id(value: int | None) -> int:
    assert value is not None
    return value


def seed_demo(engine: Engine, *, seed: int = 1994, today: date | None = None) -> tuple[str, bool]:
    """Store the demo compound once; returns its code and whether it was created now."""
    migrate(engine)
    today = today or date.today()
    demo = build_demo(seed, today)
    with UnitOfWork(engine) as uow:
        try:
            uow.compounds.get_by_code(demo.code)
            return demo.code, False
        except NotFound:
            pass
        _store(uow, demo, today)
        uow.commit()
    return demo.code, True


def _store(uow: UnitOfWork, demo: DemoCompound, today: date) -> None:
    compound = uow.compounds.add(
        Compound(
            name=demo.name,
            city=demo.city,
            district=demo.district,
            street=demo.street,
            community=demo.community,
            built_year=demo.built_year,
            consent_profile=demo.consent_profile,
            subsidy_profile=demo.subsidy_profile,
        ),
        code=demo.code,
    )
    cid = _id(compound.id)
    building_ids: dict[str, int] = {}
    for number, storeys, year in demo.buildings:
        b = uow.buildings.add(Building(cid, number, storeys, built_year=year))
        building_ids[number] = _id(b.id)
    owners = uow.owners.get_or_create_many(
        cid,
        [
            Owner(
                f.owner,
                OwnerKind.DEVELOPER if f.developer_held else OwnerKind.PERSON,
                f.owner_phone,
            )
            for f in demo.flats
        ],
    )
    owner_of = {(f.owner, f.owner_phone): o for f, o in zip(demo.flats, owners, strict=True)}
    secretary = uow.persons.add(Person("刘红英", party_member=True), compound_id=cid)
    director = uow.persons.add(Person("孙立平", party_member=True), compound_id=cid)
    since = today - timedelta(days=900)
    for person, role in (
        (secretary, Role.COMMUNITY_PARTY_COMMITTEE),
        (secretary, Role.VISION_PROMOTER),
        (director, Role.RESIDENTS_COMMITTEE),
        (director, Role.CONSULTATION_ORGANIZER),
    ):
        uow.roles.add(RoleAssignment(_id(person.id), role, ScopeKind.COMPOUND, cid, since))
    leaders: set[str] = set()
    for du in demo.units:
        unit = uow.units.add(Unit(building_ids[du.building], du.unit))
        unit_id = _id(unit.id)
        flats = uow.households.add_many(
            [
                Household(
                    unit_id,
                    f.room,
                    f.floor,
                    f.area_m2,
                    _id(owner_of[(f.owner, f.owner_phone)].id),
                    f.tenure,
                )
                for f in du.flats
            ]
        )
        flat_id = {f.room: _id(h.id) for f, h in zip(du.flats, flats, strict=True)}
        for f in du.flats:
            owner = owner_of[(f.owner, f.owner_phone)]
            for r in f.residents:
                person = uow.persons.add(
                    Person(
                        r.name,
                        household_id=flat_id[f.room],
                        age_band=r.age_band,
                        mobility=r.mobility,
                        party_member=r.party_member,
                        owner_id=owner.id if r.is_owner else None,
                    ),
                    compound_id=cid,
                )
                # The first Party member of each building leads it (楼栋长), as is common.
                if r.party_member and du.building not in leaders and r.age < 80:
                    leaders.add(du.building)
                    for role in (
                        Role.BUILDING_LEADER,
                        Role.BUILDING_PARTY_GROUP,
                        Role.ACTION_LEADER,
                    ):
                        uow.roles.add(
                            RoleAssignment(
                                _id(person.id),
                                role,
                                ScopeKind.BUILDING,
                                building_ids[du.building],
                                since,
                            )
                        )
        if du.votes is not None and du.round_opened is not None:
            current = uow.votes.open_round(
                ScopeKind.UNIT,
                unit_id,
                actor=DEMO_ACTOR,
                title=f"{du.label}加装电梯表决",
                opened_on=du.round_opened,
            )
            uow.votes.set_ballots(
                current.id,
                {flat_id[room]: v for room, v in du.votes.items()},
                actor=DEMO_ACTOR,
                signed_on=du.round_opened + timedelta(days=7),
            )
        for o in du.objections:
            made = uow.objections.add(
                flat_id[o.room],
                list(o.reasons),
                actor=o.handled_by,
                raised_on=o.raised_on,
                notes=o.notes,
            )
            # Each step of the lifecycle on the way to the story's status goes to the ledger.
            for status in route(ObjectionStatus.OPEN, o.status):
                uow.objections.set_status(made.id, status, actor=o.handled_by, on=o.updated_on)
        for room in du.occupied:
            uow.objections.mark_occupied(
                flat_id[room], actor=DEMO_ACTOR, note="电梯连廊占用北侧窗前空间"
            )
        uow.cost_plans.set(
            unit_id, demo_plan(du.total_cost_fen, demo.subsidy_profile), actor=DEMO_ACTOR, on=today
        )


def demo_plan(total_fen: int, subsidy_profile: str) -> dict[str, Any]:
    return {
        "total_fen": total_fen,
        "subsidy_profile": subsidy_profile,
        "scheme": DEMO_SCHEME,
        "compensation": DEMO_COMPENSATION,
        "running": DEMO_RUNNING,
        "schedule": DEMO_SCHEDULE,
    }


@dataclass(frozen=True)
class UnitReport:
    consent: UnitConsent
    shares: dict[str, Any] | None
    open_objections: int


@dataclass(frozen=True)
class CompoundReport:
    code: str
    compound: Compound
    units: list[UnitReport]


def compound_report(engine: Engine, code: str) -> CompoundReport:
    """Every unit's consent and cost shares, read back from the store."""
    from colift.rules.costshare import evaluate_request

    with UnitOfWork(engine) as uow:
        compound = uow.compounds.get_by_code(code)
        reports = []
        for info in uow.units.list_by_compound(_id(compound.id)):
            consent = _unit_consent(uow, info.id)
            plan = uow.cost_plans.find(info.id)
            shares = evaluate_request(_request(plan.plan, *_flats(uow, info.id))) if plan else None
            unresolved = sum(1 for o in consent.input.objections if o.status.unresolved)
            reports.append(UnitReport(consent, shares, unresolved))
        return CompoundReport(code, compound, reports)
