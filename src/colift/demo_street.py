"""A second demo street to learn from: compounds whose histories follow a known parameter set.

`build_street` draws fictional compounds (8 buildings × 3 units × 6 floors × 2 flats each,
Chinese names from the demo's name pool), simulates every unit from its start state under the
"true" values (`colift.calibrate.synthetic.TRUE_VALUES`), and writes each unit's history with the
demo's own event writer (`demo_history`): briefings, survey, consultation, vote round and
ballots, design, notice, objections, approval, works, acceptance. The dates are then moved so that
the project starts when the simulation says and the move into design (the owners' consent) falls
in the simulated week; events after consent are spread over the time left until today (only
the time to consent carries the true values; see docs/calibration.md). Stored through the real service steps and
gates by `services.demo_street.seed_demo_street`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from colift.calibrate.observe import Observations, simulate_observations
from colift.calibrate.priors import apply_params
from colift.calibrate.synthetic import TRUE_VALUES
from colift.demo import (
    PLANS,
    DemoCompound,
    DemoFlat,
    DemoUnit,
    _fits,
    _owner_votes,
    _People,
    _residents,
    _support,
)
from colift.demo_history import (
    DURATIONS,
    CompoundHistory,
    StageEvent,
    UnitHistory,
    _leaders,
    _unit_history,
)
from colift.model import Tenure, Vote
from colift.model.coproduction import Stage
from colift.rules.consent import area_to_cm2
from colift.sim.batch import HouseholdSpec, UnitBatch, UnitSpec
from colift.sim.params import Scenario

STREET = "滨河街道"
COMMUNITIES = ("柳岸社区", "石桥社区", "南苑社区", "北园社区", "新华社区", "东风社区")
NAMES = ("柳岸小区", "石桥新村", "南苑小区", "北园宿舍", "新华里", "东风家属院", "河畔小区")
POST_CONSENT: tuple[Stage, ...] = (Stage.DESIGN, Stage.NOTICE, Stage.APPROVAL)
POST_CONSENT += (Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.OPERATION)
SLACK_DAYS = 70  # the demo history leaves up to 70 days after the last stage change


@dataclass
class StreetUnit:
    compound: int
    unit: DemoUnit
    span_weeks: int
    consent_week: int  # -1: not within the span


def _spec(du: DemoUnit) -> UnitSpec:
    households = tuple(
        HouseholdSpec(
            room=f.room,
            floor=f.floor,
            area_cm2=area_to_cm2(f.area_m2, f.room),
            owner=f.owner,
            tenure=f.tenure,
            elderly=any(r.age >= 60 for r in f.residents),
            party=any(r.party_member for r in f.residents),
        )
        for f in du.flats
    )
    return UnitSpec(du.label, households, storeys=6)


def _flats(rng: random.Random, people: _People, building: str, unit: str) -> list[DemoFlat]:
    east, west = rng.choice(PLANS)
    flats = []
    for floor in range(1, 7):
        for door, area in ((1, east), (2, west)):
            tenure = rng.choices(
                (Tenure.OWNER_OCCUPIED, Tenure.RENTED, Tenure.ABSENTEE), (72, 15, 13)
            )[0]
            residents = _residents(rng, people, floor, tenure)
            owner = next((r.name for r in residents if r.is_owner), None) or people.name()
            flats.append(
                DemoFlat(
                    building,
                    unit,
                    floor,
                    f"{floor}0{door}",
                    Decimal(area),
                    owner,
                    people.phone(),
                    tenure,
                    residents,
                )
            )
    return flats


def _votes(rng: random.Random, story: str, flats: list[DemoFlat]) -> dict[str, Vote] | None:
    if story == "surveying":
        return None
    pending = 0.45 if story == "voting" else 0.0
    for _ in range(400):
        candidate = _owner_votes(flats, {f.room: _support(rng, f, pending) for f in flats})
        if _fits(story, flats, candidate):
            return candidate
    return None


def _stage_after_consent(rng: random.Random, days: int) -> Stage:
    """The furthest stage a consented unit can have reached `days` after consent."""
    reached = Stage.DESIGN
    need = 0
    for stage, nxt in itertools.pairwise(POST_CONSENT):
        need += DURATIONS[stage][1]
        if need + SLACK_DAYS <= days:
            reached = nxt
    return reached


def _retime(h: UnitHistory, anchors: list[tuple[date, date]]) -> None:
    """Move every event's day by the piecewise-linear map through `anchors` (old → new);
    after the last anchor, by the last anchor's shift. Order is kept (the map is monotone)."""
    old = np.array([a.toordinal() for a, _ in anchors], float)
    new = np.array([b.toordinal() for _, b in anchors], float)

    def move(day: date) -> date:
        x = day.toordinal()
        if x >= old[-1]:
            return date.fromordinal(int(x + new[-1] - old[-1]))
        return date.fromordinal(round(float(np.interp(x, old, new))))

    events = []
    for e in h.events:
        changes: dict[str, object] = {"on": move(e.on)}
        if isinstance(e, StageEvent) and e.acceptance_on is not None:
            changes["acceptance_on"] = move(e.acceptance_on)
        events.append(dataclasses.replace(e, **changes))  # type: ignore[arg-type]
    h.events = events


@dataclass
class Street:
    compounds: list[tuple[DemoCompound, CompoundHistory]]
    observations: Observations  # the simulated outcomes, in the order of the compounds' units


def build_street(compounds: int = 8, seed: int = 2026, today: date | None = None) -> Street:
    """`compounds` fictional compounds of 24 units with histories under the true values."""
    today = today or date.today()
    rng = random.Random(seed)
    people = _People(rng)
    raw: list[tuple[int, str, str, list[DemoFlat]]] = []
    for c in range(compounds):
        for bn in range(1, 9):
            for un in range(1, 4):
                raw.append((c, str(bn), str(un), _flats(rng, people, str(bn), str(un))))
    specs = [
        _spec(DemoUnit(b, u, "surveying", Stage.SURVEY, flats, None, [], 45_000_000))
        for _, b, u, flats in raw
    ]
    scenario = Scenario(subsidy_profile="jinan")
    batch = UnitBatch.from_specs(specs, scenario)
    nrng = np.random.default_rng(seed)
    span = nrng.integers(26, 157, len(specs)).astype(np.int32)
    obs = simulate_observations(batch, span, apply_params(scenario, TRUE_VALUES), seed + 1)
    out: list[tuple[DemoCompound, CompoundHistory]] = []
    for c in range(compounds):
        units: list[DemoUnit] = []
        plan: list[tuple[int, int]] = []
        for i, (cc, b, u, flats) in enumerate(raw):
            if cc != c:
                continue
            weeks, consent = int(span[i]), int(obs.consent[i])
            if consent >= 0:
                story, stage = "passed", _stage_after_consent(rng, (weeks - consent) * 7)
            elif weeks < 40:
                story, stage = "surveying", rng.choice((Stage.SURVEY, Stage.CONSULTATION))
            else:
                story, stage = "voting", Stage.VOTE
            votes = _votes(rng, story, flats)
            if story != "surveying" and votes is None:
                story, stage = "surveying", Stage.CONSULTATION
            total = rng.randrange(42_000_000, 48_000_001, 100_000)
            units.append(DemoUnit(b, u, story, stage, flats, votes, [], total))
            plan.append((weeks, consent))
        demo = DemoCompound(
            code=f"bh-{c + 1:02d}",
            name=NAMES[c % len(NAMES)] + ("" if c < len(NAMES) else f"{c // len(NAMES) + 1}区"),
            city="济南市",
            district="历下区",
            street=STREET,
            community=COMMUNITIES[c % len(COMMUNITIES)],
            built_year=1993,
            consent_profile="cn-civil-code-278",
            subsidy_profile="jinan",
            buildings=[(str(bn), 6, 1993) for bn in range(1, 9)],
            units=units,
        )
        leaders, by_unit = _leaders(demo, rng)
        histories = []
        for n, (du, (weeks, consent)) in enumerate(zip(units, plan, strict=True)):
            h = _unit_history(du, by_unit[f"{du.building}-{du.unit}"], today, rng, n, -1, n)
            first = min(e.on for e in h.events)
            start = today - timedelta(days=weeks * 7)
            design = next(
                (e.on for e in h.events if isinstance(e, StageEvent) and e.target is Stage.DESIGN),
                None,
            )
            if consent >= 0 and design is not None:
                at = start + timedelta(days=consent * 7)
                _retime(h, [(first, start), (design, at), (today, today)])
            else:
                _retime(h, [(first, start), (today, today)])
            histories.append(h)
        out.append((demo, CompoundHistory(leaders, histories)))
    return Street(out, obs)
