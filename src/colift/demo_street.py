"""A second demo street to learn from: compounds whose histories follow a known parameter set.

`build_street` draws fictional compounds (8 buildings × 3 units × 6 floors × 2 flats each,
Chinese names from the demo's name pool) and their start state (flats, residents, leaders, ties,
what households can pay), and leads each unit in one of three ways, as on a street whose
compounds differ: under guidance, by an action leader alone, or by formal leaders under direct
guidance without informal ones (`GROUP_SHARES`). Every unit is then simulated from that start
state under the "true" values (`colift.calibrate.synthetic.TRUE_VALUES`), and its record is
written from the simulation (`calibrate.observe.simulate_histories`):

- the stage dates: the project starts when the simulation says, the move into design (the
  owners' consent) falls in the simulated week and the move into operation in the week the
  simulation's lift went into service; the stages between keep the demo's order (`demo_history`:
  vote round and ballots, design, notice, approval, works, acceptance, each through its real
  gate), spread over the time between;
- the activities: each tool of the unit's strategy (`sim.strategies`) at its first use in the
  negotiation's first 13 weeks, and the tools each later stage opens with, by the person holding
  the tool's role and under the strategy's guidance, so `led_as` reads the group back;
- the stances its households were heard at: at the first survey (week 0), in week 4 and in week
  12 (a survey of every household living there; a stance that did not change is recorded as
  heard again on that day);
- the objections its households filed and when they were settled, and a blocking technical
  issue where the simulation drew one.

Ballots stay the demo's (consistent with the unit's story, not drawn by the model). Stored
through the real service steps and gates by `services.demo_street.seed_demo_street`.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from colift.calibrate.observe import (
    GROUP_STRATEGIES,
    STANCE_WEEKS,
    Histories,
    Observations,
    simulate_histories,
)
from colift.calibrate.priors import apply_params
from colift.calibrate.synthetic import TRUE_VALUES
from colift.coproduction.catalogue import Catalogue, load_catalogue
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
    DIRECTOR,
    DURATIONS,
    FORMAL_LEADERS,
    OBJECTION_TEXTS,
    ActivityEvent,
    CompoundHistory,
    LeaderPlan,
    ObjectionEvent,
    ObjectionMove,
    StageEvent,
    TechnicalEvent,
    TechnicalResolved,
    UnitHistory,
    _leaders,
    _unit_history,
)
from colift.model import INFORMAL_ROLES, LEADER_ROLES, AgeBand, ObjectionStatus, Role, Tenure, Vote
from colift.model.coproduction import LOW_FLOOR_MAX, GuidanceMode, Stage, Stance
from colift.rules.consent import area_to_cm2
from colift.sim.batch import HouseholdSpec, UnitBatch, UnitSpec
from colift.sim.params import Scenario
from colift.sim.strategies import (
    ACCEPTANCE,
    APPROVAL,
    CONSTRUCTION,
    NEGOTIATION,
    NOTICE,
    STRATEGIES,
    PlanItem,
    StrategySpec,
)

STREET = "滨河街道"
COMMUNITIES = ("柳岸社区", "石桥社区", "南苑社区", "北园社区", "新华社区", "东风社区")
NAMES = ("柳岸小区", "石桥新村", "南苑小区", "北园宿舍", "新华里", "东风家属院", "河畔小区")
POST_CONSENT: tuple[Stage, ...] = (Stage.DESIGN, Stage.NOTICE, Stage.APPROVAL)
POST_CONSENT += (Stage.CONSTRUCTION, Stage.ACCEPTANCE, Stage.OPERATION)
SLACK_DAYS = 70  # the demo history leaves up to 70 days after the last stage change


# How the units are led (observe.GROUPS): under guidance, an action leader alone, formal alone.
GROUP_SHARES: tuple[float, float, float] = (0.4, 0.3, 0.3)
# The negotiation's first weeks whose tools are written (through the week-12 survey).
PLAN_WEEKS = 13
# How long before today the projects began, in weeks: within the last year and a half, so
# that the time to consent still shows in who has consented (with spans of up to three years
# nearly every unit has, and the record says little about how long it took).
SPAN_WEEKS = (20, 78)
FORMAL_PERSON: dict[Role, str] = {roles[1]: name for name, roles in FORMAL_LEADERS}
# The stage a later phase of the model opens with, for the tools that phase starts with.
PHASE_STAGE: tuple[tuple[int, Stage], ...] = (
    (NOTICE, Stage.NOTICE),
    (APPROVAL, Stage.APPROVAL),
    (CONSTRUCTION, Stage.CONSTRUCTION),
    (ACCEPTANCE, Stage.ACCEPTANCE),
)
LEVEL_STANCE: tuple[Stance, ...] = (
    Stance.OPPOSE,
    Stance.LEAN_OPPOSE,
    Stance.UNDECIDED,
    Stance.LEAN_SUPPORT,
    Stance.SUPPORT,
)
# What a worker writes in the log for a tool; a tool not named here gets its catalogue name.
NOTES: dict[str, str] = {
    "policy_briefing": "在小区广场宣讲既有住宅加装电梯政策和济南补贴标准",
    "willingness_survey": "逐户征询加装意愿，外地业主电话征询",
    "door_to_door": "逐户上门，听取各户对加装电梯的想法",
    "chat_group": "建立单元业主群，发布政策解读和进展",
    "deliberation_meeting": "议事协商会：讨论电梯位置、分摊系数和一楼补偿",
    "signature_collection": "逐户征集签名",
    "party_member_pledge": "党员户带头表态支持加装",
    "neighbourly_persuasion": "请关系好的邻居帮忙做工作",
    "emotional_appeal": "和老住户拉家常，讲楼上老人下楼难",
    "site_visit": "组织居民参观邻近小区已建成的电梯",
    "subsidy_application": "向区住建局申报加装电梯补贴",
    "success_stories": "在业主群和宣传栏介绍附近小区的加装案例",
    "written_agreement": "加装协议（含分摊方案、运维费用）发放签署",
    "vendor_introduction": "街道推荐三家有资质的电梯企业",
    "formal_vote": "组织书面表决",
    "public_notice": "公示加装协议和设计方案",
    "one_stop_approval": "街道帮办联合审查和规划备案",
    "joint_acceptance": "业主代表、监理、电梯企业联合验收",
}
SURVEY_NOTES = (
    "首次逐户征询意愿，记录各户态度",
    "第4周回访，逐户核实态度变化",
    "第12周回访，逐户核实态度",
)
TECHNICAL_NOTE = "管线踏勘发现燃气立管正在拟建井道位置，须整体迁改后方可出图"


@dataclass
class Street:
    compounds: list[tuple[DemoCompound, CompoundHistory]]
    observations: Observations  # the simulated outcomes, in the order of the compounds' units
    histories: Histories  # what each household's record holds, in the same order
    specs: list[UnitSpec]  # each unit's start state as the calibration reads it back


def _age_band(age: int) -> AgeBand:
    return AgeBand.from_age(age)


def _spec(
    du: DemoUnit,
    ties: Sequence[tuple[str, str, str]],
    ability: dict[str, int],
    leader_rooms: set[str],
    roles: frozenset[Role],
) -> UnitSpec:
    """The unit's start state as `services.calibration.start_state` reads it from the store."""
    households = tuple(
        HouseholdSpec(
            room=f.room,
            floor=f.floor,
            area_cm2=area_to_cm2(f.area_m2, f.room),
            owner=f.owner,
            tenure=f.tenure,
            elderly=any(_age_band(r.age).elderly for r in f.residents),
            need=any(
                r.mobility.needs_lift or _age_band(r.age) is AgeBand.AGE_80_PLUS
                for r in f.residents
            ),
            party=any(r.party_member for r in f.residents),
            ability_fen=ability.get(f.room),
            leader=f.room in leader_rooms,
        )
        for f in du.flats
    )
    return UnitSpec(
        du.label,
        households,
        storeys=6,
        leaders=roles,
        ties=tuple((a, b, 1.0) for a, b, _ in ties),
    )


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


def _living(du: DemoUnit) -> list[str]:
    return [f.room for f in du.flats if f.tenure in (Tenure.OWNER_OCCUPIED, Tenure.RENTED)]


def _extras(du: DemoUnit, rng: random.Random) -> tuple[list[tuple[str, str, str]], dict[str, int]]:
    """Ties between households and what the oldest top-floor households can pay (the demo's)."""
    ability: dict[str, int] = {}
    for f in du.flats:
        if (
            f.floor >= 5
            and f.residents
            and min(r.age for r in f.residents) >= 75
            and rng.random() < 0.5
        ):
            ability[f.room] = rng.choice((1_500_000, 2_000_000, 2_500_000))
    ties: list[tuple[str, str, str]] = []
    for left, right in itertools.pairwise(du.flats):
        if left.owner == right.owner:
            ties.append((left.room, right.room, "kin"))
    living = _living(du)
    if len(living) >= 2:
        pairs = {tuple(sorted(rng.sample(living, 2))) for _ in range(2)}
        ties += [(a, b, "friend") for a, b in sorted(pairs)]
    return ties, ability


def _action_leader(du: DemoUnit, rng: random.Random, taken: set[str]) -> LeaderPlan | None:
    """A resident who starts the lift alone: upstairs, not yet too old, no other role."""
    found = [
        (f, r)
        for f in du.flats
        for r in f.residents
        if f.floor >= 3 and 35 <= r.age < 78 and r.name not in taken
    ]
    if not found:
        return None
    f, r = rng.choice(found)
    label = f"{du.building}-{du.unit}"
    return LeaderPlan(
        r.name, (Role.ACTION_LEADER,), f"unit:{label}", (du.building, du.unit, f.room)
    )


def _votes(rng: random.Random, story: str, flats: list[DemoFlat]) -> dict[str, Vote] | None:
    if story == "surveying":
        return None
    pending = 0.45 if story == "voting" else 0.0
    for _ in range(400):
        candidate = _owner_votes(flats, {f.room: _support(rng, f, pending) for f in flats})
        if _fits(story, flats, candidate):
            return candidate
    return None


def _stage_after_consent(days: int) -> Stage:
    """The furthest stage before operation a consented unit can have reached `days` after
    consent (one in service has its own date: the simulation's)."""
    reached = Stage.DESIGN
    need = 0
    for stage, nxt in itertools.pairwise(POST_CONSENT[:-1]):
        need += DURATIONS[stage][1]
        if need + SLACK_DAYS <= days:
            reached = nxt
    return reached


def _stage_day(h: UnitHistory, stage: Stage) -> date | None:
    return next((e.on for e in h.events if isinstance(e, StageEvent) and e.target is stage), None)


def _keep_notice(
    h: UnitHistory, consented: date, design: date, operation: date, served: date
) -> list[tuple[date, date]]:
    """Where the time from consent to service is shorter than the demo laid out, the notice
    keeps its own length (its 10 days are a gate); the rest is shortened."""
    notice, approval = _stage_day(h, Stage.NOTICE), _stage_day(h, Stage.APPROVAL)
    if notice is None or approval is None or served - consented >= operation - design:
        return []
    rate = (served - consented) / (operation - design)
    opened = consented + (notice - design) * rate
    return [(notice, opened), (approval, opened + (approval - notice))]


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


# ---------------------------------------------------------------- the record, from the simulation


@dataclass(frozen=True)
class _Unit:
    """What the record of one unit is written from."""

    group: int
    start: date
    span: int
    consent: int
    technical: bool
    levels: np.ndarray  # (1 + surveys, flats) heard stance levels, -1 not heard
    filed: np.ndarray  # (flats,) week an objection was filed, -1 none
    settled: np.ndarray  # (flats,) week it was settled, -1 not


def _person(role: Role, roles: dict[Role, str]) -> str | None:
    if role in FORMAL_PERSON:
        return FORMAL_PERSON[role]
    return roles.get(role)


def _actor(
    tool_id: str, strategy: StrategySpec, roles: dict[Role, str], catalogue: Catalogue
) -> tuple[str, Role, GuidanceMode] | None:
    """Who uses the tool under the strategy (a role it holds with someone in it), and how."""
    tool = catalogue.get(tool_id)
    for role in tool.leader_roles:
        if role not in strategy.roles:
            continue
        person = _person(role, roles)
        if person is None:
            continue
        if role in INFORMAL_ROLES:
            mode = GuidanceMode.EMBEDDED if strategy.embedded else GuidanceMode.NONE
        else:
            mode = GuidanceMode.DIRECT
        return person, role, mode
    return None


def _due(item: PlanItem, u: _Unit, flats: list[DemoFlat]) -> bool:
    """Whether the plan item's condition holds for the unit at the start of its project."""
    if item.when == "always":
        return True
    if item.when == "technical":
        return u.technical
    if item.when == "absentee":
        return any(f.tenure is Tenure.ABSENTEE for f in flats)
    if item.when == "low_floor":
        return any(
            f.floor <= LOW_FLOOR_MAX and 0 <= u.levels[0, i] <= 1 for i, f in enumerate(flats)
        )
    return False  # objections and cost come later than the negotiation's first weeks


def _activity(
    on: date,
    tool_id: str,
    actor: tuple[str, Role, GuidanceMode],
    catalogue: Catalogue,
    targets: tuple[str, ...] = (),
    participants: int = 0,
    **more: object,
) -> ActivityEvent:
    person, role, mode = actor
    notes = NOTES.get(tool_id) or catalogue.get(tool_id).name_zh
    return ActivityEvent(
        on,
        person,
        role,
        mode,
        tool_id,
        targets,
        notes,
        participants,
        **more,  # type: ignore[arg-type]
    )


def _plan_uses(
    h: UnitHistory,
    u: _Unit,
    strategy: StrategySpec,
    roles: dict[Role, str],
    catalogue: Catalogue,
    today: date,
) -> None:
    """Each tool of the plan at its first use: in the negotiation's first weeks, and in the
    later stages the unit reached, the tools each opens with."""
    flats = h.unit.flats
    living = tuple(_living(h.unit))
    end = u.consent if u.consent >= 0 else u.span
    seen: set[str] = set()
    for item in strategy.plan:
        if NEGOTIATION not in item.phases or item.tool in seen or not _due(item, u, flats):
            continue
        if item.start >= min(end, PLAN_WEEKS):
            continue
        actor = _actor(item.tool, strategy, roles, catalogue)
        if actor is None:
            continue
        seen.add(item.tool)
        on = u.start + timedelta(days=7 * item.start + 1)
        h.add(_activity(on, item.tool, actor, catalogue, (), len(living) // 2))
    stages = {e.target: e.on for e in h.events if isinstance(e, StageEvent)}
    for phase, stage in PHASE_STAGE:
        if stage not in stages:
            continue
        for item in strategy.plan:
            if phase not in item.phases or item.when != "always" or item.start > 0:
                continue
            actor = _actor(item.tool, strategy, roles, catalogue)
            on = stages[stage] + timedelta(days=1)
            if actor is None or on > today:
                continue
            h.add(_activity(on, item.tool, actor, catalogue))


def _surveys(
    h: UnitHistory,
    u: _Unit,
    strategy: StrategySpec,
    roles: dict[Role, str],
    catalogue: Catalogue,
) -> None:
    """The households' stances heard at the start and in each of STANCE_WEEKS."""
    rooms = [f.room for f in h.unit.flats]
    tool = "willingness_survey" if strategy.direct or strategy.embedded else "door_to_door"
    actor = _actor(tool, strategy, roles, catalogue)
    if actor is None:
        return
    last: dict[str, int] = {}
    for k, week in enumerate((0, *STANCE_WEEKS)):
        heard = [(rooms[i], int(x)) for i, x in enumerate(u.levels[k]) if x >= 0]
        if not heard:
            continue
        changes = tuple(
            (r, LEVEL_STANCE[last[r]] if r in last else Stance.UNKNOWN, LEVEL_STANCE[x])
            for r, x in heard
            if last.get(r) != x
        )
        again = tuple((r, LEVEL_STANCE[x]) for r, x in heard if last.get(r) == x)
        h.add(
            _activity(
                u.start + timedelta(days=7 * week),
                tool,
                actor,
                catalogue,
                tuple(r for r, _ in heard),
                len(heard),
                stance_changes=changes,
                heard=again,
            )
        )
        last.update(heard)


def _objections(h: UnitHistory, u: _Unit, rng: random.Random, today: date) -> None:
    """The objections the simulation's households filed, dated into the recorded stages: after
    consent, and settled before the notice is passed where the unit went on."""
    stages = {e.target: e.on for e in h.events if isinstance(e, StageEvent)}
    design = stages.get(Stage.DESIGN)
    if u.consent < 0 or design is None:
        return
    passed = stages.get(Stage.APPROVAL)
    rooms = [f.room for f in h.unit.flats]
    for n, i in enumerate(np.flatnonzero(u.filed >= 0)):
        key = f"s{n + 1}"
        raised = max(u.start + timedelta(days=7 * int(u.filed[i])), design + timedelta(days=3))
        raised = min(raised, today - timedelta(days=1))
        settled = u.start + timedelta(days=7 * int(u.settled[i])) if u.settled[i] >= 0 else None
        if passed is not None:
            raised = min(raised, passed - timedelta(days=4))
            settled = min(settled or passed, passed - timedelta(days=2))
        kind = rng.choice(("light", "noise", "value", "light_value"))
        reasons, note = OBJECTION_TEXTS[kind]
        h.add(ObjectionEvent(raised, key, rooms[i], reasons, note))
        if settled is not None and raised < settled < today:
            h.add(ObjectionMove(settled, key, ObjectionStatus.RESOLVED, DIRECTOR))


def _technical(h: UnitHistory, u: _Unit, rng: random.Random) -> None:
    """A blocking technical issue where the simulation drew one, found in the first weeks and
    solved before the notice where the unit got there."""
    if not u.technical:
        return
    found = u.start + timedelta(days=rng.randint(8, 20))
    h.add(TechnicalEvent(found, "s1", "pipes", 3, TECHNICAL_NOTE))
    notice = next(
        (e.on for e in h.events if isinstance(e, StageEvent) and e.target is Stage.NOTICE), None
    )
    if notice is not None:
        h.add(TechnicalResolved(max(found + timedelta(days=1), notice - timedelta(days=3)), "s1"))


def _simulated_history(
    h: UnitHistory,
    u: _Unit,
    roles: dict[Role, str],
    catalogue: Catalogue,
    rng: random.Random,
    today: date,
) -> None:
    """Replace the demo's template of activities, objections and technical issues with what
    the simulation says happened to this unit."""
    template = (ActivityEvent, ObjectionEvent, ObjectionMove, TechnicalEvent, TechnicalResolved)
    h.events = [e for e in h.events if not isinstance(e, template)]
    name = GROUP_STRATEGIES[u.group] or Scenario().strategy
    strategy = STRATEGIES[str(name)]
    _surveys(h, u, strategy, roles, catalogue)
    _plan_uses(h, u, strategy, roles, catalogue, today)
    _objections(h, u, rng, today)
    _technical(h, u, rng)


def build_street(compounds: int = 8, seed: int = 2026, today: date | None = None) -> Street:
    """`compounds` fictional compounds of 24 units with histories under the true values."""
    today = today or date.today()
    rng = random.Random(seed)
    people = _People(rng)
    catalogue = load_catalogue()
    nrng = np.random.default_rng(seed)
    shells: list[DemoCompound] = []
    plans: list[tuple[list[LeaderPlan], dict[str, dict[Role, str]]]] = []
    extras: list[tuple[list[tuple[str, str, str]], dict[str, int]]] = []
    specs: list[UnitSpec] = []
    group_of: list[int] = []
    cum = np.cumsum(GROUP_SHARES) / sum(GROUP_SHARES)
    for c in range(compounds):
        units = [
            DemoUnit(str(bn), str(un), "surveying", Stage.SURVEY, [], None, [], 45_000_000)
            for bn in range(1, 9)
            for un in range(1, 4)
        ]
        for du in units:
            du.flats = _flats(rng, people, du.building, du.unit)
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
        taken = {p.name for p in leaders}
        for du in units:
            label = f"{du.building}-{du.unit}"
            group = int(np.searchsorted(cum, nrng.random(), side="right"))
            if group == 1 and Role.ACTION_LEADER not in by_unit[label]:
                found = _action_leader(du, rng, taken)
                if found is None:
                    group = 0
                else:
                    leaders.append(found)
                    taken.add(found.name)
                    by_unit[label][Role.ACTION_LEADER] = found.name
            group_of.append(group)
            ties, ability = _extras(du, rng)
            extras.append((ties, ability))
            here = [
                p
                for p in leaders
                if p.scope in ("compound", f"building:{du.building}", f"unit:{label}")
            ]
            rooms = {
                p.lives_in[2]
                for p in here
                if p.lives_in is not None
                and p.lives_in[:2] == (du.building, du.unit)
                and any(r in INFORMAL_ROLES for r in p.roles)
            }
            roles = frozenset(r for p in here for r in p.roles if r in LEADER_ROLES)
            specs.append(_spec(du, ties, ability, rooms, roles))
        shells.append(demo)
        plans.append((leaders, by_unit))
    scenario = Scenario(subsidy_profile="jinan")
    batch = UnitBatch.from_specs(specs, scenario)
    span = nrng.integers(SPAN_WEEKS[0], SPAN_WEEKS[1] + 1, len(specs)).astype(np.int32)
    groups = np.asarray(group_of, np.int8)
    obs, kept = simulate_histories(
        batch, span, apply_params(scenario, TRUE_VALUES), seed + 1, groups
    )
    blocked = obs.technical
    assert blocked is not None
    out: list[tuple[DemoCompound, CompoundHistory]] = []
    i = 0
    for demo, (leaders, by_unit) in zip(shells, plans, strict=True):
        placed: list[DemoUnit] = []
        plan: list[int] = []
        for du in demo.units:
            weeks, consent = int(span[i + len(plan)]), int(obs.consent[i + len(plan)])
            if obs.service[i + len(plan)] >= 0:
                story, stage = "passed", Stage.OPERATION
            elif consent >= 0:
                story, stage = "passed", _stage_after_consent((weeks - consent) * 7)
            elif weeks < 40:
                story, stage = "surveying", rng.choice((Stage.SURVEY, Stage.CONSULTATION))
            else:
                story, stage = "voting", Stage.VOTE
            votes = _votes(rng, story, du.flats)
            if story != "surveying" and votes is None:
                story, stage = "surveying", Stage.CONSULTATION
            total = rng.randrange(42_000_000, 48_000_001, 100_000)
            placed.append(DemoUnit(du.building, du.unit, story, stage, du.flats, votes, [], total))
            plan.append(i + len(plan))
        demo = dataclasses.replace(demo, units=placed)
        histories = []
        for n, (du, j) in enumerate(zip(placed, plan, strict=True)):
            held = by_unit[f"{du.building}-{du.unit}"]
            h = _unit_history(du, held, today, rng, n, -1, n)
            h.ties, h.ability_to_pay = extras[j]
            weeks, consent = int(span[j]), int(obs.consent[j])
            start = today - timedelta(days=weeks * 7)
            h.events = [e for e in h.events if not isinstance(e, ActivityEvent)]
            if h.events:
                # the project starts, consents and goes into service when the simulation says
                anchors = [(min(e.on for e in h.events), start)]
                design, operation = _stage_day(h, Stage.DESIGN), _stage_day(h, Stage.OPERATION)
                if consent >= 0 and design is not None:
                    anchors.append((design, start + timedelta(days=consent * 7)))
                if operation is not None and design is not None:
                    served = start + timedelta(days=int(obs.service[j]) * 7)
                    anchors += _keep_notice(h, anchors[-1][1], design, operation, served)
                    anchors.append((operation, served))
                _retime(h, [*anchors, (today, today)])
            u = _Unit(
                int(groups[j]),
                start,
                weeks,
                consent,
                bool(blocked[j] == 1),
                kept.levels[j, :, : len(du.flats)],
                kept.filed_week[j, : len(du.flats)],
                kept.settled_week[j, : len(du.flats)],
            )
            _simulated_history(h, u, held, catalogue, rng, today)
            histories.append(h)
        out.append((demo, CompoundHistory(leaders, histories)))
        i += len(plan)
    return Street(out, obs, kept, specs)
