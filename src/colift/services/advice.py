"""Diagnosis and advice for a stored unit: the snapshot the path model reads, built from the store."""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.coproduction.advisor import Advice, advise
from colift.coproduction.catalogue import Catalogue, load_catalogue
from colift.coproduction.snapshot import (
    HouseholdView,
    Leader,
    ObjectionView,
    Resident,
    UnitSnapshot,
)
from colift.coproduction.stalls import stall_limit_days
from colift.model import Person, ScopeKind
from colift.model.coproduction import Stage, Stance
from colift.services.consent import UnitConsent, unit_consent_in
from colift.services.costshare import UnitSplit, unit_shares_in
from colift.store import UnitOfWork


def build_snapshot(
    uow: UnitOfWork,
    unit_id: int,
    today: date | None = None,
    *,
    consent: UnitConsent | None = None,
    shares: UnitSplit | None = None,
) -> UnitSnapshot:
    """Everything the path model needs about one unit, read in one transaction.

    A caller that already counted the unit's consent or split its costs passes them in.
    """
    today = today or date.today()
    consent = consent or unit_consent_in(uow, unit_id)
    info = consent.unit
    building = uow.buildings.get(info.building_id)
    rooms_by_id = {row.household_id: row.room for row in consent.input.rows}
    people = uow.persons.list_by_households(rooms_by_id)
    residents: dict[str, list[Resident]] = {}
    for p in people:
        if p.household_id in rooms_by_id:
            residents.setdefault(rooms_by_id[p.household_id], []).append(_resident(p))
    stances = uow.stances.for_unit(unit_id)
    ability = uow.household_profiles.for_unit(unit_id)
    split = shares if shares is not None else unit_shares_in(uow, unit_id)
    fen: dict[str, int] = {}
    if split is not None:
        fen = {line.id: line.fen for line in split.result.lines}
    voted = consent.input.round is not None
    households = tuple(
        HouseholdView(
            room=row.room,
            floor=row.floor,
            area_m2=row.area_m2,
            owner=f"owner:{row.owner_id}",
            tenure=row.tenure,
            residents=tuple(residents.get(row.room, ())),
            stance=stances[row.room].stance if row.room in stances else Stance.UNKNOWN,
            stance_reasons=stances[row.room].reasons if row.room in stances else (),
            vote=row.vote if voted else None,
            ability_to_pay_fen=ability.get(row.room),
            share_fen=fen.get(row.room),
        )
        for row in consent.input.rows
    )
    by_id = {p.id: p for p in people}
    leaders: list[Leader] = []
    for kind, scope_id in (
        (ScopeKind.UNIT, unit_id),
        (ScopeKind.BUILDING, info.building_id),
        (ScopeKind.COMPOUND, info.compound_id),
    ):
        for a in uow.roles.list_by_scope(kind, scope_id, on=today):
            person = by_id.get(a.person_id)
            if person is None:  # a leader living elsewhere: a worker, a Party secretary
                person = by_id[a.person_id] = uow.persons.get(a.person_id)
            room = rooms_by_id.get(person.household_id) if person.household_id else None
            leaders.append(
                Leader(person.name, a.role, kind.value, person.party_member, room, person.id)
            )
    project = uow.projects.find(unit_id)
    stage = project.stage if project else Stage.SURVEY
    since = project.stage_since if project else None
    return UnitSnapshot(
        label=info.label,
        households=households,
        today=today,
        unit_id=unit_id,
        storeys=building.storeys,
        stage=stage,
        consent_profile=consent.input.profile,
        objections=tuple(
            ObjectionView(o.room, o.reasons, o.status, o.raised_on, o.id)
            for o in consent.input.objections
        ),
        activities=tuple(a for a in uow.activities.list_by_unit(unit_id) if a.on <= today),
        leaders=tuple(leaders),
        technical=tuple(t.to_issue() for t in uow.technical.list_by_unit(unit_id)),
        ties=tuple(t.to_tie() for t in uow.ties.list_by_unit(unit_id)),
        occupied=tuple(o.room for o in consent.input.occupied),
        has_cost_plan=split is not None,
        days_in_stage=(today - since).days if since is not None else None,
        stall_limit_days=stall_limit_days(stage),
    )


def _resident(p: Person) -> Resident:
    return Resident(p.name, p.age_band, p.mobility, p.party_member, p.id)


ADVICE_CACHE_SIZE = 512
_advice: OrderedDict[tuple[UnitSnapshot, Catalogue], Advice] = OrderedDict()
_advice_lock = threading.Lock()


def advice_of(snapshot: UnitSnapshot, catalogue: Catalogue) -> Advice:
    """`advise(snapshot, catalogue)`, kept for the last `ADVICE_CACHE_SIZE` snapshots.

    `advise` is a pure function of its arguments and a snapshot is everything the store says
    about the unit that day (a frozen value), so a cached answer is exactly the fresh one: a
    unit page viewed again, with nothing changed in the unit, skips the computation (its
    network centrality alone takes tens of milliseconds). Callers only read the answer."""
    key = (snapshot, catalogue)
    with _advice_lock:
        found = _advice.get(key)
        if found is not None:
            _advice.move_to_end(key)
            return found
    made = advise(snapshot, catalogue)
    with _advice_lock:
        _advice[key] = made
        while len(_advice) > ADVICE_CACHE_SIZE:
            _advice.popitem(last=False)
    return made


def unit_snapshot(engine: Engine, unit_id: int, today: date | None = None) -> UnitSnapshot:
    with UnitOfWork(engine, read_only=True) as uow:
        return build_snapshot(uow, unit_id, today)


def unit_advice(
    engine: Engine, unit_id: int, *, today: date | None = None, catalogue: Catalogue | None = None
) -> Advice:
    """Heterogeneity, obstacles, cooperation level and ranked next actions for a stored unit."""
    return advice_of(unit_snapshot(engine, unit_id, today), catalogue or load_catalogue())


FORECAST_KEYS = ("success_rate", "success_ci95", "weeks_to_consent", "weeks_to_service")


def advice_forecast(
    engine: Engine,
    unit_id: int | None,
    params: str | None,
    *,
    snapshot: UnitSnapshot | None = None,
    runs: int = 200,
    seed: int = 0,
    weeks: int = 104,
) -> dict[str, Any]:
    """What following the advice is expected to give: the unit simulated with the advisor's
    weekly replanning (strategy `advisor`) under a stored parameter set (the named one, else
    the adopted one) and under the defaults, on the same copies and seed, with the set's
    provenance. A stored unit keeps its own rule and cost plan; a unit file (`snapshot`)
    runs under the default scenario."""
    from colift.services.calibration import param_set_used
    from colift.services.simulation import simulate_snapshot, simulate_stored_unit

    used = param_set_used(engine, params)
    values = used["values"] if used is not None else {}

    def run(with_values: dict[str, float]) -> dict[str, Any]:
        if snapshot is not None:
            from colift.sim.params import Scenario

            result = simulate_snapshot(
                snapshot,
                Scenario(weeks=weeks),
                ["advisor"],
                runs,
                seed,
                params=with_values,
            )
        else:
            assert unit_id is not None
            result = simulate_stored_unit(
                engine, unit_id, None, ["advisor"], runs, seed, weeks=weeks, params=with_values
            )
        summary = result["strategies"]["advisor"]
        return {k: summary[k] for k in FORECAST_KEYS}

    return {
        "strategy": "advisor",
        "runs": runs,
        "seed": seed,
        "weeks": weeks,
        "param_set": used,
        "with_params": run(values),
        "defaults": run({}),
    }
