"""How each demo unit got where it stands: leaders, activities, stances, votes, objections, stages.

Pure and deterministic. Every unit's history is a list of dated events that `services.demo`
applies in order through the same code paths a worker's actions take, so each stage change
passes its real gate (consent, notice period, objections, approval number, the required work
steps) on its real day.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from colift.coproduction.workflow import WorkStep
from colift.demo import DemoCompound, DemoFlat, DemoUnit
from colift.model import ObjectionStatus, Role, Tenure, Vote
from colift.model.coproduction import LOW_FLOOR_MAX, STAGE_ORDER, GuidanceMode, Stage, Stance

# The formal leaders of the compound: people of the community and the street office.
SECRETARY = "刘红英"  # 社区党委书记
DIRECTOR = "孙立平"  # 居委会主任
STREET_CADRE = "王建设"  # 街道城建科
MEDIATOR = "街道人民调解委员会"
FORMAL_LEADERS: tuple[tuple[str, tuple[Role, ...]], ...] = (
    (SECRETARY, (Role.COMMUNITY_PARTY_COMMITTEE, Role.VISION_PROMOTER)),
    (DIRECTOR, (Role.RESIDENTS_COMMITTEE, Role.CONSULTATION_ORGANIZER)),
    (STREET_CADRE, (Role.STREET_OFFICE, Role.COORDINATOR)),
)

OBJECTION_TEXTS: dict[str, tuple[tuple[str, ...], str]] = {
    "light": (("light",), "一楼采光本来就差，电梯井挡在窗前，冬天屋里见不到太阳。"),
    "noise": (("noise", "privacy"), "电梯停靠平台正对卧室窗户，担心噪音和隐私。"),
    "value": (("value",), "当初买一楼就是图没有电梯的价格，加装后房子更难卖。"),
    "light_value": (("light", "value"), "北侧窗户被遮挡，要求补偿或者改用玻璃井道。"),
    "safety": (("safety",), "担心施工影响楼体结构和燃气管道。"),
}
LOW_FLOOR_REASONS = (("light",), ("noise", "privacy"), ("value",), ("light", "value"))


@dataclass(frozen=True)
class LeaderPlan:
    """A person and the roles they hold: scope is compound, or a building number, or a unit label."""

    name: str
    roles: tuple[Role, ...]
    scope: str  # "compound", "building:3" or "unit:3-2"
    lives_in: tuple[str, str, str] | None = None  # (building, unit, room) for residents


@dataclass(frozen=True)
class StageEvent:
    on: date
    target: Stage
    actor: str
    reason: str = ""
    reference: str = ""
    acceptance_on: date | None = None


@dataclass(frozen=True)
class StepEvent:
    """A step of the works the law requires, done on its day (workflow.WorkStep)."""

    on: date
    step: WorkStep
    actor: str
    reference: str = ""


@dataclass(frozen=True)
class ActivityEvent:
    on: date
    person: str
    role: Role
    guidance: GuidanceMode
    tool: str
    targets: tuple[str, ...] = ()
    notes: str = ""
    participants: int = 0
    stance_changes: tuple[tuple[str, Stance, Stance], ...] = ()
    money_fen: int = 0
    labour_hours: int = 0
    resolves: tuple[str, ...] = ()  # keys of objections this activity settled
    # households heard again whose stance had not changed: recorded as heard on the day
    heard: tuple[tuple[str, Stance], ...] = ()


@dataclass(frozen=True)
class RoundEvent:
    on: date
    title: str


@dataclass(frozen=True)
class VotesEvent:
    on: date
    votes: dict[str, Vote]


@dataclass(frozen=True)
class CostPlanEvent:
    on: date


@dataclass(frozen=True)
class ObjectionEvent:
    on: date
    key: str
    room: str
    reasons: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class ObjectionMove:
    on: date
    key: str
    status: ObjectionStatus
    handler: str


@dataclass(frozen=True)
class TechnicalEvent:
    on: date
    key: str
    kind: str
    severity: int
    note: str


@dataclass(frozen=True)
class TechnicalResolved:
    on: date
    key: str


Event = (
    StageEvent
    | ActivityEvent
    | RoundEvent
    | VotesEvent
    | CostPlanEvent
    | ObjectionEvent
    | ObjectionMove
    | TechnicalEvent
    | TechnicalResolved
    | StepEvent
)


@dataclass
class UnitHistory:
    unit: DemoUnit
    events: list[Event] = field(default_factory=list)
    ability_to_pay: dict[str, int] = field(default_factory=dict)
    ties: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, event: Event) -> None:
        self.events.append(event)

    def ordered(self) -> list[Event]:
        """Events by day; on one day, in the order they were written (stable sort)."""
        return sorted(self.events, key=lambda e: e.on)


@dataclass
class CompoundHistory:
    leaders: list[LeaderPlan]
    units: list[UnitHistory]


def _stance_of(
    flat: DemoFlat, vote: Vote | None, rng: random.Random
) -> tuple[Stance, tuple[str, ...]]:
    """What a household says when asked, consistent with how it votes later."""
    if vote is Vote.AGREE:
        return (Stance.SUPPORT if rng.random() < 0.7 else Stance.LEAN_SUPPORT), ()
    if vote is Vote.DISAGREE:
        reasons = rng.choice(LOW_FLOOR_REASONS) if flat.floor <= LOW_FLOOR_MAX else ("cost",)
        return Stance.OPPOSE, reasons
    if vote is Vote.ABSTAIN:
        return Stance.UNDECIDED, ("cost",) if flat.floor >= 3 and rng.random() < 0.5 else ()
    if vote is Vote.ABSENT:
        return Stance.UNKNOWN, ()
    # No vote yet: keen upstairs, wary downstairs.
    if flat.floor <= LOW_FLOOR_MAX:
        choice = rng.choice(
            (Stance.OPPOSE, Stance.LEAN_OPPOSE, Stance.UNDECIDED, Stance.LEAN_SUPPORT)
        )
        wary = choice in (Stance.OPPOSE, Stance.LEAN_OPPOSE)
        return choice, (rng.choice(LOW_FLOOR_REASONS) if wary else ())
    return rng.choice((Stance.SUPPORT, Stance.SUPPORT, Stance.LEAN_SUPPORT, Stance.UNDECIDED)), ()


def _leaders(
    demo: DemoCompound, rng: random.Random
) -> tuple[list[LeaderPlan], dict[str, dict[Role, str]]]:
    """Formal leaders for the compound; building leaders, opinion leaders and elites from residents."""
    plans = [LeaderPlan(name, roles, "compound") for name, roles in FORMAL_LEADERS]
    by_unit: dict[str, dict[Role, str]] = {}
    building_leader: dict[str, str] = {}
    elite: dict[str, str] = {}
    for du in demo.units:
        label = f"{du.building}-{du.unit}"
        roles = by_unit.setdefault(label, {})
        residents = [(f, r) for f in du.flats for r in f.residents]
        if du.building not in building_leader:
            party = [(f, r) for f, r in residents if r.party_member and r.age < 80]
            if party:
                f, r = party[0]
                building_leader[du.building] = r.name
                plans.append(
                    LeaderPlan(
                        r.name,
                        (Role.BUILDING_LEADER, Role.BUILDING_PARTY_GROUP, Role.ACTION_LEADER),
                        f"building:{du.building}",
                        (du.building, du.unit, f.room),
                    )
                )
        if du.building in building_leader:
            roles[Role.ACTION_LEADER] = building_leader[du.building]
        # A retired engineer or teacher in odd-numbered buildings reviews designs and prices.
        if int(du.building) % 2 == 1 and du.building not in elite:
            engineers = [
                (f, r)
                for f, r in residents
                if 60 <= r.age <= 75 and r.name not in building_leader.values()
            ]
            if engineers:
                f, r = engineers[-1]
                elite[du.building] = r.name
                plans.append(
                    LeaderPlan(
                        r.name,
                        (Role.COMMUNITY_ELITE,),
                        f"building:{du.building}",
                        (du.building, du.unit, f.room),
                    )
                )
        if du.building in elite:
            roles[Role.COMMUNITY_ELITE] = elite[du.building]
        # An elderly upstairs resident everyone knows talks to the neighbours (not in every unit).
        upstairs = [
            (f, r)
            for f, r in residents
            if f.floor >= 3
            and r.age >= 65
            and r.name not in building_leader.values()
            and r.name not in elite.values()
        ]
        if upstairs and rng.random() < 0.7:
            f, r = rng.choice(upstairs)
            roles[Role.OPINION_LEADER] = r.name
            plans.append(
                LeaderPlan(
                    r.name, (Role.OPINION_LEADER,), f"unit:{label}", (du.building, du.unit, f.room)
                )
            )
    return plans, by_unit


DURATIONS: dict[Stage, tuple[int, int]] = {
    Stage.SURVEY: (25, 60),  # briefing and survey to consultation
    Stage.CONSULTATION: (40, 150),  # agreeing a plan and its cost sharing: the long part
    Stage.VOTE: (25, 60),  # signatures to a passed vote
    Stage.DESIGN: (30, 45),  # design and pipeline survey
    Stage.NOTICE: (22, 35),  # the notice (10 days from the day after posting) and its objections
    Stage.APPROVAL: (25, 40),  # review, joint review, permit
    Stage.CONSTRUCTION: (50, 75),  # building the shaft and installing the car
    Stage.ACCEPTANCE: (15, 25),  # acceptance, filing, use registration
}


def build_history(demo: DemoCompound, today: date, seed: int = 1994) -> CompoundHistory:
    rng = random.Random(seed * 7 + 1)
    leaders, by_unit = _leaders(demo, rng)
    quiet = next(n for n, du in enumerate(demo.units) if du.stage is Stage.SURVEY)
    histories = []
    seen: dict[tuple[str, Stage], int] = {}
    for n, du in enumerate(demo.units):
        roles = by_unit[f"{du.building}-{du.unit}"]
        # k: how many units with the same story and stage came before, so their variants alternate.
        k = seen.get((du.story, du.stage), 0)
        seen[(du.story, du.stage)] = k + 1
        histories.append(_unit_history(du, roles, today, rng, n, quiet, k))
    return CompoundHistory(leaders, histories)


def _unit_history(
    du: DemoUnit,
    roles: dict[Role, str],
    today: date,
    rng: random.Random,
    n: int,
    quiet_unit: int,
    k: int,
) -> UnitHistory:
    h = UnitHistory(du)
    reached = du.stage if du.stage is not Stage.SUSPENDED else Stage.VOTE
    path = STAGE_ORDER[: STAGE_ORDER.index(reached) + 1]
    spans = [rng.randint(*DURATIONS[s]) for s in path[:-1]]
    # A unit still in its notice is inside its 10 days unless an objection holds it there; the
    # rest have been in their stage long enough for the events that stage brings.
    if reached is Stage.NOTICE:
        slack = rng.randint(19, 40) if du.story == "contested" else rng.randint(4, 9)
    else:
        slack = rng.randint(40, 70)
    start = today - timedelta(days=sum(spans) + slack)
    days = [start]
    for span in spans:
        days.append(days[-1] + timedelta(days=span))
    when = dict(zip(path, days, strict=True))
    living = [f.room for f in du.flats if f.tenure in (Tenure.OWNER_OCCUPIED, Tenure.RENTED)]
    everyone = [f.room for f in du.flats]
    action = roles.get(Role.ACTION_LEADER)
    opinion = roles.get(Role.OPINION_LEADER)
    elite = roles.get(Role.COMMUNITY_ELITE)
    stances = {f.room: _stance_of(f, du.votes[f.room] if du.votes else None, rng) for f in du.flats}

    # A household that could not afford its share says so (retired, small pension, top floors).
    for f in du.flats:
        if (
            f.floor >= 5
            and f.residents
            and min(r.age for r in f.residents) >= 75
            and rng.random() < 0.5
        ):
            h.ability_to_pay[f.room] = rng.choice((1_500_000, 2_000_000, 2_500_000))
    for left, right in zip(du.flats, du.flats[1:], strict=False):
        if left.owner == right.owner:
            h.ties.append((left.room, right.room, "kin"))
    if len(living) >= 2:
        for _ in range(2):
            a, b = rng.sample(living, 2)
            h.ties.append((a, b, "friend"))

    survey_day = when[Stage.SURVEY]
    quiet = n == quiet_unit  # one unit where nothing is organized yet
    if not quiet:
        h.add(
            ActivityEvent(
                survey_day,
                SECRETARY,
                Role.VISION_PROMOTER,
                GuidanceMode.DIRECT,
                "policy_briefing",
                notes="在小区广场宣讲既有住宅加装电梯政策和济南补贴标准",
                participants=max(1, len(living) * 2 // 3),
            )
        )
        # A unit still in its survey has only been told; the survey forms are not back yet.
        if reached is not Stage.SURVEY:
            asked = [r for r in everyone if r in living or rng.random() < 0.4]
            changes = tuple(
                (r, Stance.UNKNOWN, stances[r][0])
                for r in asked
                if stances[r][0] is not Stance.UNKNOWN
            )
            h.add(
                ActivityEvent(
                    survey_day + timedelta(days=7),
                    DIRECTOR,
                    Role.CONSULTATION_ORGANIZER,
                    GuidanceMode.DIRECT,
                    "willingness_survey",
                    tuple(everyone),
                    "逐户发放意愿征询表，外地业主电话征询",
                    participants=len(changes),
                    stance_changes=changes,
                )
            )
        low = [
            f.room
            for f in du.flats
            if f.floor <= LOW_FLOOR_MAX
            and stances[f.room][0] in (Stance.OPPOSE, Stance.LEAN_OPPOSE)
        ]
        visitor = opinion or action
        if low and visitor:
            room = low[0]
            before = stances[room][0]
            after = Stance.UNDECIDED if before is Stance.LEAN_OPPOSE else before
            h.add(
                ActivityEvent(
                    survey_day + timedelta(days=12),
                    visitor,
                    Role.OPINION_LEADER if visitor == opinion else Role.ACTION_LEADER,
                    GuidanceMode.EMBEDDED,
                    "door_to_door",
                    tuple(low),
                    "上门听取低层住户的顾虑",
                    participants=len(low),
                    stance_changes=((room, before, after),) if after is not before else (),
                )
            )
    if Stage.CONSULTATION in when:
        c0 = when[Stage.CONSULTATION]
        h.add(StageEvent(c0, Stage.CONSULTATION, DIRECTOR, "意愿征询完成，进入协商"))
        h.add(CostPlanEvent(c0))
        h.add(
            ActivityEvent(
                c0 + timedelta(days=10),
                DIRECTOR,
                Role.CONSULTATION_ORGANIZER,
                GuidanceMode.DIRECT,
                "deliberation_meeting",
                tuple(living),
                "议事协商会：讨论电梯位置、分摊系数和一楼补偿",
                participants=max(1, len(living) * 3 // 4),
            )
        )
        if elite:
            h.add(
                ActivityEvent(
                    c0 + timedelta(days=18),
                    elite,
                    Role.COMMUNITY_ELITE,
                    GuidanceMode.EMBEDDED,
                    "price_negotiation",
                    (),
                    "与三家电梯企业比价，争取到设备让利",
                    participants=0,
                )
            )
    if Stage.VOTE in when:
        v0 = when[Stage.VOTE]
        agreeing = sum(1 for v in (du.votes or {}).values() if v is Vote.AGREE)
        h.add(
            ActivityEvent(
                v0 - timedelta(days=3),
                DIRECTOR,
                Role.CONSULTATION_ORGANIZER,
                GuidanceMode.DIRECT,
                "written_agreement",
                tuple(everyone),
                "加装协议（含分摊方案、运维费用）发放签署",
                participants=agreeing,
            )
        )
        h.add(StageEvent(v0, Stage.VOTE, DIRECTOR, "加装协议文本确定，组织表决"))
        h.add(RoundEvent(v0, f"{du.label}加装电梯表决"))
        if action:
            h.add(
                ActivityEvent(
                    v0 + timedelta(days=2),
                    action,
                    Role.ACTION_LEADER,
                    GuidanceMode.EMBEDDED,
                    "signature_collection",
                    tuple(everyone),
                    "逐户征集签名",
                    participants=agreeing,
                )
            )
            absent = [f.room for f in du.flats if f.tenure is Tenure.ABSENTEE]
            if absent:
                h.add(
                    ActivityEvent(
                        v0 + timedelta(days=4),
                        action,
                        Role.ACTION_LEADER,
                        GuidanceMode.EMBEDDED,
                        "absentee_tracing",
                        tuple(absent[:2]),
                        "通过老同事联系外地业主",
                        participants=min(2, len(absent)),
                    )
                )
        if du.votes is not None:
            h.add(VotesEvent(v0 + timedelta(days=7), du.votes))
        if du.stage is Stage.SUSPENDED:
            h.add(
                StageEvent(
                    v0 + timedelta(days=30),
                    Stage.SUSPENDED,
                    DIRECTOR,
                    "唯一的发起人因病搬去子女家，签字停滞 / the only initiator moved away; signatures stalled",
                )
            )
    low_rooms = [f.room for f in du.flats if f.floor == 1 and not f.tenure.developer_held]
    objector = next(
        (r for r in low_rooms if du.votes and du.votes[r] is not Vote.AGREE),
        low_rooms[0] if low_rooms else du.flats[2].room,
    )
    if du.story == "short" and du.votes:
        d = when[Stage.VOTE] + timedelta(days=10)
        reasons, note = OBJECTION_TEXTS["light" if k % 2 else "value"]
        h.add(ObjectionEvent(d, "o1", objector, reasons, note))
        if k % 2 == 0:
            h.add(ObjectionMove(d + timedelta(days=6), "o1", ObjectionStatus.NEGOTIATION, DIRECTOR))
    if Stage.DESIGN in when:
        d0 = when[Stage.DESIGN]
        h.add(StageEvent(d0, Stage.DESIGN, DIRECTOR, "表决通过，委托设计"))
        h.add(TechnicalEvent(d0 + timedelta(days=5), "t1", "pipes", 2, "单元门口燃气立管需迁改"))
        h.add(StepEvent(d0 + timedelta(days=5), WorkStep.PIPELINE_SURVEY, "燃气公司、自来水公司"))
        h.add(
            StepEvent(
                d0 + timedelta(days=20),
                WorkStep.PRELIMINARY_DESIGN,
                "设计单位",
                f"设计方案第{n + 1}号",
            )
        )
        if elite:
            h.add(
                ActivityEvent(
                    d0 + timedelta(days=8),
                    elite,
                    Role.COMMUNITY_ELITE,
                    GuidanceMode.EMBEDDED,
                    "design_review",
                    (),
                    "审查施工图，建议采用玻璃井道减少遮光",
                )
            )
        if reached is Stage.DESIGN:
            reasons, note = OBJECTION_TEXTS["light_value"]
            h.add(ObjectionEvent(d0 + timedelta(days=10), "o1", objector, reasons, note))
            h.add(
                ObjectionMove(d0 + timedelta(days=14), "o1", ObjectionStatus.NEGOTIATION, DIRECTOR)
            )
            h.add(ObjectionMove(d0 + timedelta(days=25), "o1", ObjectionStatus.MEDIATION, MEDIATOR))
        else:
            h.add(
                ActivityEvent(
                    d0 + timedelta(days=15),
                    STREET_CADRE,
                    Role.COORDINATOR,
                    GuidanceMode.DIRECT,
                    "pipeline_coordination",
                    (),
                    "协调燃气公司现场踏勘、制定迁改方案",
                )
            )
            h.add(TechnicalResolved(d0 + timedelta(days=25), "t1"))
    if Stage.NOTICE in when:
        n0 = when[Stage.NOTICE]
        h.add(
            StageEvent(n0, Stage.NOTICE, DIRECTOR, "设计方案和加装协议在单元门口、公示栏公示10日")
        )
        h.add(
            ActivityEvent(
                n0,
                DIRECTOR,
                Role.CONSULTATION_ORGANIZER,
                GuidanceMode.DIRECT,
                "public_notice",
                notes="公示加装协议和设计方案",
                participants=0,
            )
        )
        _notice_objections(h, du, n0, objector, reached, k)
    if Stage.APPROVAL in when:
        a0 = when[Stage.APPROVAL]
        h.add(StageEvent(a0, Stage.APPROVAL, DIRECTOR, "公示期满，无未处理异议，报联合审查"))
        h.add(
            ActivityEvent(
                a0 + timedelta(days=3),
                STREET_CADRE,
                Role.COORDINATOR,
                GuidanceMode.DIRECT,
                "one_stop_approval",
                (),
                "街道帮办联合审查和规划备案",
            )
        )
    if Stage.CONSTRUCTION in when:
        k0 = when[Stage.CONSTRUCTION]
        # 特种设备安全法 art. 23: the installer tells market supervision in writing before works.
        h.add(
            StepEvent(
                k0 - timedelta(days=3),
                WorkStep.INSTALLATION_NOTICE,
                "电梯安装单位",
                f"历城市监特告〔{k0.year}〕{300 + n:03d}号",
            )
        )
        h.add(
            StageEvent(
                k0,
                Stage.CONSTRUCTION,
                DIRECTOR,
                "取得施工许可",
                reference=f"历城建审〔{k0.year}〕{100 + n:03d}号",
            )
        )
        payers = [f.room for f in du.flats if f.floor >= 2]
        if action:
            h.add(
                ActivityEvent(
                    k0 + timedelta(days=2),
                    action,
                    Role.ACTION_LEADER,
                    GuidanceMode.EMBEDDED,
                    "fund_escrow",
                    tuple(payers),
                    "按协议归集首期30%分摊款，存入共管账户",
                    participants=len(payers),
                    money_fen=len(payers) * 900_000,
                )
            )
            h.add(
                ActivityEvent(
                    k0 + timedelta(days=20),
                    action,
                    Role.ACTION_LEADER,
                    GuidanceMode.EMBEDDED,
                    "progress_followup",
                    (),
                    "每周在业主群通报施工进度",
                    labour_hours=12,
                )
            )
        if reached is Stage.CONSTRUCTION and k % 2 == 0:
            reasons, note = OBJECTION_TEXTS["safety"]
            d = k0 + timedelta(days=5)
            h.add(ObjectionEvent(d, "o2", objector, reasons, note))
            for step, status, who in (
                (4, ObjectionStatus.NEGOTIATION, DIRECTOR),
                (12, ObjectionStatus.MEDIATION, MEDIATOR),
                (30, ObjectionStatus.LITIGATION, f"{objector}业主"),
            ):
                h.add(ObjectionMove(d + timedelta(days=step), "o2", status, who))
    if Stage.ACCEPTANCE in when:
        e0 = when[Stage.ACCEPTANCE]
        # art. 25: the inspection body's supervision inspection before the lift is handed over.
        h.add(
            StepEvent(
                e0 - timedelta(days=2),
                WorkStep.SUPERVISION_INSPECTION,
                "山东省特种设备检验研究院",
                f"监检〔{e0.year}〕鲁A{700 + n:03d}",
            )
        )
        h.add(StageEvent(e0, Stage.ACCEPTANCE, DIRECTOR, "竣工，组织验收"))
        h.add(
            ActivityEvent(
                e0 + timedelta(days=3),
                DIRECTOR,
                Role.CONSULTATION_ORGANIZER,
                GuidanceMode.DIRECT,
                "joint_acceptance",
                tuple(living),
                "业主代表、监理、电梯企业联合验收",
                participants=max(1, len(living) // 2),
            )
        )
    if Stage.OPERATION in when:
        o0 = when[Stage.OPERATION]
        h.add(
            StageEvent(
                o0,
                Stage.OPERATION,
                DIRECTOR,
                "取得特种设备使用登记，投入使用",
                reference=f"梯11鲁A{20000 + n:05d}(26)",
                acceptance_on=when[Stage.ACCEPTANCE] + timedelta(days=3),
            )
        )
        if action:
            h.add(
                ActivityEvent(
                    o0 + timedelta(days=10),
                    action,
                    Role.ACTION_LEADER,
                    GuidanceMode.EMBEDDED,
                    "self_managed_maintenance",
                    tuple(f.room for f in du.flats if f.floor >= 2),
                    "成立电梯自管小组，收取第一年维保和电费",
                    participants=10,
                    money_fen=540_000,
                    labour_hours=20,
                )
            )
    return h


def _notice_objections(
    h: UnitHistory, du: DemoUnit, n0: date, objector: str, reached: Stage, k: int
) -> None:
    """Objections during the notice: blocking ones where the unit waits, settled ones where it moved on."""
    if reached is Stage.NOTICE and du.story == "contested":
        reasons, note = OBJECTION_TEXTS["light"]
        h.add(ObjectionEvent(n0 + timedelta(days=4), "o1", objector, reasons, note))
        if k % 2:
            h.add(
                ObjectionMove(n0 + timedelta(days=8), "o1", ObjectionStatus.NEGOTIATION, DIRECTOR)
            )
            h.add(
                ObjectionMove(
                    n0 + timedelta(days=18), "o1", ObjectionStatus.HEARING, "区住建局规划科"
                )
            )
        return
    if reached is Stage.NOTICE:
        reasons, note = OBJECTION_TEXTS["noise"]
        h.add(ObjectionEvent(n0 + timedelta(days=2), "o1", objector, reasons, note))
        h.add(
            ObjectionMove(
                n0 + timedelta(days=5), "o1", ObjectionStatus.WITHDRAWN, f"{objector}业主"
            )
        )
        return
    if reached is Stage.APPROVAL:
        if k % 2:
            reasons, note = OBJECTION_TEXTS["light_value"]
            h.add(ObjectionEvent(n0 + timedelta(days=3), "o1", objector, reasons, note))
            h.add(
                ObjectionMove(n0 + timedelta(days=5), "o1", ObjectionStatus.NEGOTIATION, DIRECTOR)
            )
            h.add(ObjectionMove(n0 + timedelta(days=8), "o1", ObjectionStatus.MEDIATION, MEDIATOR))
            h.add(
                ActivityEvent(
                    n0 + timedelta(days=15),
                    DIRECTOR,
                    Role.CONSULTATION_ORGANIZER,
                    GuidanceMode.DIRECT,
                    "compensation_agreement",
                    (objector,),
                    "调解达成：改用玻璃井道，一楼每户补偿3000元",
                    participants=1,
                    stance_changes=((objector, Stance.OPPOSE, Stance.UNDECIDED),),
                    resolves=("o1",),
                )
            )
        else:
            reasons, note = OBJECTION_TEXTS["value"]
            h.add(ObjectionEvent(n0 + timedelta(days=2), "o1", objector, reasons, note))
            h.add(
                ObjectionMove(
                    n0 + timedelta(days=10), "o1", ObjectionStatus.HEARING, "区住建局规划科"
                )
            )
            h.add(
                ObjectionMove(
                    n0 + timedelta(days=16), "o1", ObjectionStatus.OVERRULED, "区住建局规划科"
                )
            )
        return
    if reached in (Stage.ACCEPTANCE, Stage.OPERATION) and k % 2:
        reasons, note = OBJECTION_TEXTS["noise"]
        h.add(ObjectionEvent(n0 + timedelta(days=3), "o1", objector, reasons, note))
        h.add(ObjectionMove(n0 + timedelta(days=9), "o1", ObjectionStatus.RESOLVED, DIRECTOR))
