"""Seed the demo compound and report on it: what `make demo` and `colift demo` show."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from colift.demo import (
    DEMO_COMPENSATION,
    DEMO_RUNNING,
    DEMO_SCHEDULE,
    DEMO_SCHEME,
    DemoCompound,
    build_demo,
)
from colift.demo_history import (
    ActivityEvent,
    CompoundHistory,
    CostPlanEvent,
    ObjectionEvent,
    ObjectionMove,
    RoundEvent,
    StageEvent,
    StepEvent,
    TechnicalEvent,
    TechnicalResolved,
    UnitHistory,
    VotesEvent,
    build_history,
)
from colift.errors import NotFound
from colift.model import (
    Building,
    Compound,
    Household,
    Owner,
    OwnerKind,
    Person,
    RoleAssignment,
    ScopeKind,
    Unit,
)
from colift.model.coproduction import Activity, Outcome, StanceChange, TechnicalIssue
from colift.rules.costshare import parse_plan
from colift.services.activities import record_activity_in
from colift.services.consent import open_round_in
from colift.services.evidence import seed_evidence_demo
from colift.services.workflow import advance_in
from colift.store import UnitOfWork, migrate

DEMO_ACTOR = "演示数据"  # the actor of the demo's seeded records, shown on zh-CN pages


def _id(value: int | None) -> int:
    assert value is not None
    return value


def seed_demo(engine: Engine, *, seed: int = 1994, today: date | None = None) -> tuple[str, bool]:
    """Store the demo compound once; returns its code and whether it was created now."""
    migrate(engine)
    today = today or date.today()
    demo = build_demo(seed)
    with UnitOfWork(engine) as uow:
        try:
            uow.compounds.get_by_code(demo.code)
            return demo.code, False
        except NotFound:
            pass
        _store(uow, demo, build_history(demo, today, seed), today)
        uow.commit()
    seed_evidence_demo(engine, demo.code)
    return demo.code, True


def _store(uow: UnitOfWork, demo: DemoCompound, history: CompoundHistory, today: date) -> None:
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
        actor=DEMO_ACTOR,
    )
    cid = _id(compound.id)
    building_ids: dict[str, int] = {}
    for number, storeys, year in demo.buildings:
        b = uow.buildings.add(Building(cid, number, storeys, built_year=year), actor=DEMO_ACTOR)
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
        actor=DEMO_ACTOR,
    )
    owner_of = {(f.owner, f.owner_phone): o for f, o in zip(demo.flats, owners, strict=True)}
    unit_ids: dict[str, int] = {}
    flat_ids: dict[str, dict[str, int]] = {}
    person_ids: dict[str, int] = {}
    for du in demo.units:
        unit = uow.units.add(Unit(building_ids[du.building], du.unit), actor=DEMO_ACTOR)
        unit_id = _id(unit.id)
        unit_ids[du.label] = unit_id
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
            ],
            actor=DEMO_ACTOR,
        )
        flat_ids[du.label] = {f.room: _id(h.id) for f, h in zip(du.flats, flats, strict=True)}
        for f in du.flats:
            owner = owner_of[(f.owner, f.owner_phone)]
            for r in f.residents:
                person = uow.persons.add(
                    Person(
                        r.name,
                        household_id=flat_ids[du.label][f.room],
                        age_band=r.age_band,
                        mobility=r.mobility,
                        party_member=r.party_member,
                        phone=owner.phone if r.is_owner else "",
                        owner_id=owner.id if r.is_owner else None,
                    ),
                    compound_id=cid,
                )
                person_ids[r.name] = _id(person.id)
    since = today - timedelta(days=1200)
    for plan in history.leaders:
        if plan.name not in person_ids:
            outsider = uow.persons.add(Person(plan.name, party_member=True), compound_id=cid)
            person_ids[plan.name] = _id(outsider.id)
        kind, scope_id = _scope(plan.scope, cid, building_ids, unit_ids)
        for role in plan.roles:
            uow.roles.add(RoleAssignment(person_ids[plan.name], role, kind, scope_id, since))
    for uh in history.units:
        du = uh.unit
        _apply(
            uow, uh, unit_ids[du.label], flat_ids[du.label], person_ids, demo.subsidy_profile, today
        )


def _scope(
    scope: str, compound_id: int, buildings: dict[str, int], units: dict[str, int]
) -> tuple[ScopeKind, int]:
    kind, _, key = scope.partition(":")
    if kind == "building":
        return ScopeKind.BUILDING, buildings[key]
    if kind == "unit":
        building, _, unit = key.partition("-")
        return ScopeKind.UNIT, units[f"{building}栋{unit}单元"]
    return ScopeKind.COMPOUND, compound_id


def _apply(
    uow: UnitOfWork,
    uh: UnitHistory,
    unit_id: int,
    flat_id: dict[str, int],
    person_ids: dict[str, int],
    subsidy_profile: str,
    today: date,
) -> None:
    """Replay one unit's history through the same steps a worker's actions take."""
    events = uh.ordered()
    first = events[0].on if events else today
    uow.projects.get_or_create(unit_id, actor=DEMO_ACTOR, on=first)
    for room, fen in uh.ability_to_pay.items():
        uow.household_profiles.set_ability_to_pay(flat_id[room], fen)
    for a, b, kind in uh.ties:
        uow.ties.add(unit_id, flat_id[a], flat_id[b], kind)
    for room in uh.unit.occupied:
        uow.objections.mark_occupied(
            flat_id[room], actor=DEMO_ACTOR, note="电梯连廊占用北侧窗前空间"
        )
    objections: dict[str, int] = {}
    technical: dict[str, int] = {}
    round_id: int | None = None
    for e in events:
        if isinstance(e, StageEvent):
            advance_in(
                uow,
                unit_id,
                e.target,
                actor=e.actor,
                reason=e.reason,
                reference=e.reference,
                on=e.on,
                acceptance_on=e.acceptance_on,
            )
        elif isinstance(e, ActivityEvent):
            outcome = Outcome(
                stances_changed=tuple(StanceChange(r, b, a) for r, b, a in e.stance_changes),
                objections_resolved=tuple(objections[k] for k in e.resolves),
                money_fen=e.money_fen,
                labour_hours=e.labour_hours,
                participants=e.participants,
            )
            logged = record_activity_in(
                uow,
                Activity(
                    unit_id,
                    person_ids.get(e.person),
                    e.person,
                    e.role.value,
                    e.guidance,
                    e.tool,
                    e.on,
                    e.targets,
                    e.notes,
                    outcome,
                ),
                actor=e.person,
            )
            for room, stance in e.heard:  # heard again, unchanged: the stance's new date
                known = uow.stances.find(flat_id[room])
                reasons = known.reasons if known is not None else ()
                uow.stances.set(
                    flat_id[room], stance, reasons, actor=e.person, on=e.on, activity_id=logged.id
                )
        elif isinstance(e, RoundEvent):
            opened = open_round_in(uow, unit_id, actor=DEMO_ACTOR, title=e.title, opened_on=e.on)
            round_id = opened.id
        elif isinstance(e, VotesEvent):
            assert round_id is not None
            uow.votes.set_ballots(
                round_id,
                {flat_id[room]: v for room, v in e.votes.items()},
                actor=DEMO_ACTOR,
                signed_on=e.on,
            )
        elif isinstance(e, CostPlanEvent):
            plan = parse_plan(demo_plan(uh.unit.total_cost_fen, subsidy_profile))
            uow.cost_plans.set(unit_id, plan, actor=DEMO_ACTOR, on=e.on)
        elif isinstance(e, ObjectionEvent):
            made = uow.objections.add(
                flat_id[e.room],
                list(e.reasons),
                actor=f"{e.room}业主",
                raised_on=e.on,
                notes=e.notes,
            )
            objections[e.key] = made.id
        elif isinstance(e, ObjectionMove):
            uow.objections.set_status(objections[e.key], e.status, actor=e.handler, on=e.on)
        elif isinstance(e, TechnicalEvent):
            issue = uow.technical.add(
                unit_id,
                TechnicalIssue(e.kind, e.severity, note=e.note),
                actor=DEMO_ACTOR,
                found_on=e.on,
            )
            technical[e.key] = issue.id
        elif isinstance(e, TechnicalResolved):
            uow.technical.resolve(technical[e.key], actor=DEMO_ACTOR, on=e.on)
        elif isinstance(e, StepEvent):
            uow.steps.record(
                unit_id, e.step.value, done_on=e.on, reference=e.reference, actor=e.actor
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
