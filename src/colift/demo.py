"""A fictional but true-to-life demo compound: a 1990s work-unit estate with 8 buildings.

Pure and deterministic (one seed gives one compound). `services.demo` stores it. The people,
phones and the factory are invented; the shapes follow the domain notes: six storeys, two flats
a landing, 45-90 m² flats, many elderly residents, some rented and absentee flats, one buyer
with two flats, the former work unit still holding unsold flats, low floors less keen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from colift.model import AgeBand, Mobility, Tenure, Vote
from colift.model.coproduction import LOW_FLOOR_MAX, Stage

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
OLD_GIVEN = [
    "桂兰",
    "秀英",
    "建国",
    "建华",
    "淑芬",
    "玉兰",
    "国强",
    "志刚",
    "凤英",
    "德明",
    "振华",
    "春梅",
    "立新",
    "卫东",
    "红梅",
    "桂芳",
    "秀珍",
    "文革",
    "援朝",
    "金凤",
    "淑珍",
    "玉珍",
    "树林",
    "福生",
    "长林",
    "明德",
    "素华",
    "惠英",
    "兰英",
    "宝山",
    "永庆",
    "广才",
    "翠花",
    "丽华",
    "国庆",
    "建军",
    "学军",
    "海燕",
]
YOUNG_GIVEN = [
    "浩然",
    "子涵",
    "思远",
    "雨桐",
    "一鸣",
    "佳怡",
    "俊杰",
    "欣怡",
    "宇航",
    "梓萱",
    "晨曦",
    "博文",
    "诗琪",
    "明轩",
    "若曦",
    "天佑",
    "嘉懿",
    "昊天",
    "文静",
    "晓峰",
    "磊",
    "婷",
    "鹏",
    "超",
    "丹",
    "静",
    "伟",
    "敏",
    "洋",
    "勇",
]
# (east, west) flat areas of one building's plan, m² as registered.
PLANS = (
    ("48.62", "63.15"),
    ("56.30", "71.84"),
    ("59.47", "76.20"),
    ("62.18", "84.05"),
    ("53.90", "68.72"),
    ("51.26", "66.40"),
)
WORK_UNIT = "红星机械厂（产权单位）"


@dataclass
class DemoResident:
    name: str
    age: int
    mobility: Mobility = Mobility.NONE
    party_member: bool = False
    is_owner: bool = False

    @property
    def age_band(self) -> AgeBand:
        return AgeBand.from_age(self.age)


@dataclass
class DemoFlat:
    building: str
    unit: str
    floor: int
    room: str
    area_m2: Decimal
    owner: str
    owner_phone: str
    tenure: Tenure
    residents: list[DemoResident] = field(default_factory=list)

    @property
    def developer_held(self) -> bool:
        return self.tenure.developer_held


@dataclass
class DemoUnit:
    building: str
    unit: str
    story: str  # surveying, voting, passed, short, contested
    stage: Stage  # the stage the unit has reached; `demo_history` writes how it got there
    flats: list[DemoFlat]
    votes: dict[str, Vote] | None  # None: no vote round opened yet
    occupied: list[str]
    total_cost_fen: int

    @property
    def label(self) -> str:
        return f"{self.building}栋{self.unit}单元"


@dataclass
class DemoCompound:
    code: str
    name: str
    city: str
    district: str
    street: str
    community: str
    built_year: int
    consent_profile: str
    subsidy_profile: str
    buildings: list[tuple[str, int, int]]  # number, storeys, built year
    units: list[DemoUnit]

    @property
    def flats(self) -> list[DemoFlat]:
        return [f for u in self.units for f in u.flats]


# The cost plan every demo unit uses: Guangzhou-style floor coefficients, 1F exempt and
# compensated for lost light, running costs shared by the floors that ride.
DEMO_SCHEME = {
    "kind": "floor-coefficient",
    "coefficients": {"1": "0", "2": "0.4", "3": "0.7", "4": "0.85", "5": "1.0", "6": "1.1"},
    "area_weighted": True,
}
DEMO_COMPENSATION = [{"floors": [1], "fen_each": 300_000}]
DEMO_RUNNING = {
    "annual_fen": 540_000,  # ¥3,600 maintenance + ¥1,800 electricity a year
    "scheme": {"kind": "equal", "exempt_floors": [1]},
}
DEMO_SCHEDULE = [
    {"name": "定金 deposit", "percent": "30"},
    {"name": "安装后 after installation", "percent": "50"},
    {"name": "验收后 after acceptance", "percent": "20"},
]

# Where each of the 24 units stands: a story for its votes and the stage it has reached.
UNIT_PLANS: tuple[tuple[str, Stage], ...] = (
    *[("surveying", Stage.SURVEY)] * 2,
    ("surveying", Stage.CONSULTATION),
    *[("voting", Stage.VOTE)] * 4,
    ("voting", Stage.SUSPENDED),
    *[("short", Stage.VOTE)] * 4,
    ("contested", Stage.DESIGN),
    *[("contested", Stage.NOTICE)] * 2,
    ("passed", Stage.NOTICE),
    *[("passed", Stage.APPROVAL)] * 2,
    *[("passed", Stage.CONSTRUCTION)] * 2,
    *[("passed", Stage.ACCEPTANCE)] * 2,
    *[("passed", Stage.OPERATION)] * 2,
)


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def name(self, young: bool = False) -> str:
        for _ in range(1000):
            given = self.rng.choice(YOUNG_GIVEN if young else OLD_GIVEN)
            candidate = self.rng.choice(SURNAMES) + given
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        raise RuntimeError("ran out of demo names")  # pragma: no cover

    def phone(self) -> str:
        # 1380000xxxx-style numbers are reserved-looking fakes, never a real subscriber.
        return (
            f"1{self.rng.choice('3589')}{self.rng.randint(0, 9)}0000{self.rng.randint(1000, 9999)}"
        )


def _residents(
    rng: random.Random, people: _People, floor: int, tenure: Tenure
) -> list[DemoResident]:
    if tenure.developer_held or tenure is Tenure.ABSENTEE:
        return []
    out: list[DemoResident] = []
    if tenure is Tenure.RENTED:
        out.append(DemoResident(people.name(young=True), rng.randint(22, 45)))
        if rng.random() < 0.4:
            out.append(DemoResident(people.name(young=True), rng.randint(22, 45)))
        return out
    if rng.random() < 0.55:  # retired workers who got the flat in the 1990s housing reform
        for _ in range(rng.choice((1, 2, 2))):
            age = rng.randint(62, 91)
            mobility = Mobility.NONE
            if age >= 75:
                mobility = rng.choices(
                    (Mobility.NONE, Mobility.REDUCED, Mobility.WHEELCHAIR, Mobility.BEDRIDDEN),
                    (50, 36, 10, 4),
                )[0]
            elif rng.random() < 0.15:
                mobility = Mobility.REDUCED
            out.append(DemoResident(people.name(), age, mobility, party_member=rng.random() < 0.3))
        if rng.random() < 0.25:
            out.append(DemoResident(people.name(young=True), rng.randint(30, 48)))
    else:
        out.append(
            DemoResident(
                people.name(young=True), rng.randint(28, 55), party_member=rng.random() < 0.15
            )
        )
        if rng.random() < 0.6:
            out.append(DemoResident(people.name(young=True), rng.randint(26, 52)))
        if rng.random() < 0.2:
            out.append(DemoResident(people.name(young=True), 1, Mobility.CARRIES_INFANT))
    out[0].is_owner = True
    return out


def _support(rng: random.Random, flat: DemoFlat, pending: float = 0.0) -> Vote:
    """A household's vote: keen above the 3rd floor, reluctant below, as the domain notes say."""
    if rng.random() < pending:  # the round is still open and this flat has not signed yet
        return Vote.ABSENT
    absent_p = {Tenure.ABSENTEE: 0.55, Tenure.RENTED: 0.2}.get(flat.tenure, 0.04)
    if flat.developer_held:
        absent_p = 0.7
    if rng.random() < absent_p:
        return Vote.ABSENT
    agree_p = {1: 0.22, 2: 0.55, 3: 0.8, 4: 0.9}.get(flat.floor, 0.94)
    if any(r.mobility.needs_lift or r.age >= 70 for r in flat.residents):
        agree_p = min(0.98, agree_p + 0.08)
    if rng.random() < agree_p:
        return Vote.AGREE
    return Vote.DISAGREE if flat.floor <= LOW_FLOOR_MAX or rng.random() < 0.6 else Vote.ABSTAIN


def _owner_votes(flats: list[DemoFlat], raw: dict[str, Vote]) -> dict[str, Vote]:
    """One owner votes once: an owner's first flat sets the vote of all their flats."""
    first: dict[str, Vote] = {}
    out = {}
    for f in flats:
        key = "developer" if f.developer_held else f.owner
        out[f.room] = first.setdefault(key, raw[f.room])
    return out


def _fits(story: str, flats: list[DemoFlat], votes: dict[str, Vote]) -> bool:
    from colift.rules.consent import CM2_PER_M2, Flat, count_votes, decide, load_profile

    counted = count_votes(
        [
            Flat(f.room, int(f.area_m2 * CM2_PER_M2), f.owner, votes[f.room], f.developer_held)
            for f in flats
        ]
    )
    result = decide(load_profile("cn-civil-code-278"), counted)
    if story in ("passed", "contested"):
        return result.passed
    if story == "voting":
        return result.quorum_met is False
    # "short": the quorum is there but approval misses by one or two owners.
    heads = [c for c in result.checks if c.step == "approval" and c.basis == "heads"]
    return bool(result.quorum_met) and bool(heads) and 1 <= heads[0].short_by <= 2


def build_demo(seed: int = 1994) -> DemoCompound:
    """The demo compound: 8 buildings × 3 units × 6 floors × 2 flats, stories in every state."""
    rng = random.Random(seed)
    people = _People(rng)
    plans = list(UNIT_PLANS)
    rng.shuffle(plans)
    buildings = [(str(b), 6, rng.choice((1992, 1993, 1994, 1995, 1996))) for b in range(1, 9)]
    units: list[DemoUnit] = []
    for b_number, storeys, _year in buildings:
        east, west = rng.choice(PLANS)
        for u in range(1, 4):
            story, stage = plans.pop()
            flats: list[DemoFlat] = []
            for floor in range(1, storeys + 1):
                for door, area in ((1, east), (2, west)):
                    tenure = rng.choices(
                        (Tenure.OWNER_OCCUPIED, Tenure.RENTED, Tenure.ABSENTEE), (72, 15, 13)
                    )[0]
                    residents = _residents(rng, people, floor, tenure)
                    owner = next((r.name for r in residents if r.is_owner), None) or people.name()
                    jitter = Decimal(rng.choice(("0", "0", "0.12", "-0.08", "0.35")))
                    flats.append(
                        DemoFlat(
                            b_number,
                            str(u),
                            floor,
                            f"{floor}0{door}",
                            Decimal(area) + jitter,
                            owner,
                            people.phone(),
                            tenure,
                            residents,
                        )
                    )
            if rng.random() < 0.2:  # a family bought both flats of one landing
                a, b = flats[-3], flats[-4]
                b.owner, b.owner_phone = a.owner, a.owner_phone
            if b_number == "8" and u == 3:  # the former work unit never sold two ground-floor flats
                for f in flats[:2]:
                    f.tenure, f.owner, f.owner_phone, f.residents = (
                        Tenure.DEVELOPER_UNSOLD,
                        WORK_UNIT,
                        "0531-8800000",
                        [],
                    )
            votes: dict[str, Vote] | None = None
            if story != "surveying":
                pending = 0.45 if story == "voting" else 0.0
                for _ in range(400):
                    raw = {f.room: _support(rng, f, pending) for f in flats}
                    candidate = _owner_votes(flats, raw)
                    if _fits(story, flats, candidate):
                        votes = candidate
                        break
                else:  # pragma: no cover - the priors make every story reachable
                    raise RuntimeError(f"demo story {story} not reached")
            occupied = ["101"] if rng.random() < 0.25 else []
            total = rng.randrange(42_000_000, 48_000_001, 100_000)
            units.append(DemoUnit(b_number, str(u), story, stage, flats, votes, occupied, total))
    return DemoCompound(
        code="hx-1994",
        name="红星机械厂家属院",
        city="济南市",
        district="历城区",
        street="洪家楼街道",
        community="红星社区",
        built_year=1994,
        consent_profile="cn-civil-code-278",
        subsidy_profile="jinan",
        buildings=buildings,
        units=units,
    )
