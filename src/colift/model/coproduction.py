"""Records of co-production (path-model.md §4-§6): stances, activities, stages, ties, obstacles.

Plain data; the logic that reads them lives in `colift.coproduction`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from colift.i18n import Label

# Floors 1-2 lose light, quiet and privacy and gain little; floor 3 is the reported break-even
# floor (Shanghai hedonic data), above which households should pay rather than be compensated.
LOW_FLOOR_MAX = 2

# What a low floor loses (domain.md §7), as recorded on stances and objections: met by
# lowering the loss (design changes) or compensating it, not by procedure alone.
LOSS_REASONS: tuple[str, ...] = ("light", "noise", "privacy", "value", "ventilation")


class GuidanceMode(StrEnum):
    """How Party organization guides an activity (基层党建引领)."""

    DIRECT = "direct"  # 直接引领: a Party organization itself initiates, convenes, vouches
    EMBEDDED = "embedded"  # 嵌入式引领: Party members act from inside residents' networks
    NONE = "none"  # no Party guidance


class Stance(StrEnum):
    """A household's view of the lift as last heard (before or beside any formal vote)."""

    SUPPORT = "support"  # 支持
    LEAN_SUPPORT = "lean_support"  # 倾向支持
    UNDECIDED = "undecided"  # 观望
    LEAN_OPPOSE = "lean_oppose"  # 倾向反对
    OPPOSE = "oppose"  # 反对
    UNKNOWN = "unknown"  # 未接触: nobody has asked yet

    @property
    def score(self) -> float | None:
        """Support in [0, 1]; None when nobody knows."""
        return STANCE_SCORES.get(self)


STANCE_SCORES: dict[Stance, float] = {
    Stance.SUPPORT: 1.0,
    Stance.LEAN_SUPPORT: 0.75,
    Stance.UNDECIDED: 0.5,
    Stance.LEAN_OPPOSE: 0.25,
    Stance.OPPOSE: 0.0,
}

STANCE_ALIASES: dict[str, Stance] = {
    **{s.value: s for s in Stance},
    "支持": Stance.SUPPORT,
    "倾向支持": Stance.LEAN_SUPPORT,
    "观望": Stance.UNDECIDED,
    "中立": Stance.UNDECIDED,
    "倾向反对": Stance.LEAN_OPPOSE,
    "反对": Stance.OPPOSE,
    "未接触": Stance.UNKNOWN,
    "未知": Stance.UNKNOWN,
}


def parse_stance(text: str) -> Stance:
    stance = STANCE_ALIASES.get(text.strip().lower())
    if stance is None:
        accepted = ", ".join(s.value for s in Stance)
        raise ValueError(f"unknown stance {text!r}: use one of {accepted}")
    return stance


class Stage(StrEnum):
    """The stages of a retrofit (domain.md §5), in order."""

    SURVEY = "survey"  # 意愿征询
    CONSULTATION = "consultation"  # 协商、签订协议
    VOTE = "vote"  # 表决
    DESIGN = "design"  # 初步设计、管线踏勘
    NOTICE = "notice"  # 公示
    APPROVAL = "approval"  # 审查审批
    CONSTRUCTION = "construction"  # 施工
    ACCEPTANCE = "acceptance"  # 竣工验收、使用登记
    OPERATION = "operation"  # 运行维护
    SUSPENDED = "suspended"  # 暂停: stalled, waiting for a decision or a court

    @property
    def order(self) -> int:
        return STAGE_ORDER.index(self) if self in STAGE_ORDER else -1


STAGE_ORDER: tuple[Stage, ...] = (
    Stage.SURVEY,
    Stage.CONSULTATION,
    Stage.VOTE,
    Stage.DESIGN,
    Stage.NOTICE,
    Stage.APPROVAL,
    Stage.CONSTRUCTION,
    Stage.ACCEPTANCE,
    Stage.OPERATION,
)

STAGE_NAMES_ZH: dict[Stage, str] = {
    Stage.SURVEY: "意愿征询",
    Stage.CONSULTATION: "协商签约",
    Stage.VOTE: "表决",
    Stage.DESIGN: "设计与管线踏勘",
    Stage.NOTICE: "公示",
    Stage.APPROVAL: "审查审批",
    Stage.CONSTRUCTION: "施工",
    Stage.ACCEPTANCE: "竣工验收",
    Stage.OPERATION: "运行维护",
    Stage.SUSPENDED: "暂停",
}


@dataclass(frozen=True)
class StageTransition:
    """One recorded move of a unit's project from one stage to another."""

    unit_id: int
    from_stage: Stage | None
    to_stage: Stage
    on: date
    actor: str
    reason: str = ""
    reference: str = ""  # e.g. the approval or registration number that opened the gate
    id: int | None = None


@dataclass(frozen=True)
class StanceChange:
    household: str  # room within the unit
    before: Stance
    after: Stance


@dataclass(frozen=True)
class Outcome:
    """What came of an activity: the evidence the cooperation level and the advisor read."""

    stances_changed: tuple[StanceChange, ...] = ()
    objections_resolved: tuple[int, ...] = ()
    money_fen: int = 0  # contributed by residents (escrow, co-funding)
    labour_hours: int = 0  # volunteered by residents
    participants: int = 0  # households that took part (a meeting's attendance, survey returns)
    note: str = ""


@dataclass(frozen=True)
class Activity:
    """One co-production activity: who, in which role, under which guidance, with which tool."""

    unit_id: int
    person_id: int | None  # None for an organization acting as such
    actor_name: str
    role: str  # a Role value (one of the six leader roles, or a government/market actor)
    guidance: GuidanceMode
    tool: str  # a tool id from the governance-tool catalogue
    on: date
    targets: tuple[str, ...] = ()  # rooms of the households it was aimed at; () = the whole unit
    notes: str = ""
    outcome: Outcome = field(default_factory=Outcome)
    id: int | None = None


class Obstacle(StrEnum):
    """What stands in the way in a unit (path-model.md §3, §5); tools name those they address."""

    INTEREST = "interest"  # low floors lose light, quiet, privacy, value
    NEED = "need"  # nobody upstairs needs the lift enough to push (weak demand)
    COST = "cost"  # a share above a household's ability to pay; funding gap
    TENURE = "tenure"  # absentee owners unreached, developer-held flats
    INFORMATION = "information"  # households never told of the policy
    TRUST = "trust"  # distrust of organizers, rumours, past disputes
    TECHNICAL = "technical"  # pipes, space, fire lane, structure
    APPROVAL = "approval"  # review and permits
    LEGITIMACY = "legitimacy"  # consent not (yet) reached under the rule
    COORDINATION = "coordination"  # nobody follows up: signatures, money, progress
    OBJECTION = "objection"  # an open written objection


@dataclass(frozen=True)
class TechnicalIssue:
    """A physical constraint of the unit found by a survey (管线踏勘, structure check)."""

    kind: str  # pipes, space, fire_lane, structure, other
    severity: int  # 1 minor … 3 blocks any plan until solved
    resolved: bool = False
    note: str = ""


@dataclass(frozen=True)
class Tie:
    """A recorded social tie between two households of a unit (kin, friends, Party)."""

    a: str  # room
    b: str  # room
    kind: str  # kin, friend, party, conversation
    weight: float = 1.0


# Stance reasons: every objection reason, plus what lies behind a wary or hostile stance.
EXTRA_STANCE_REASONS: dict[str, str] = {
    "trust": "trust",  # distrust of the organizers or the vendor
    "不信任": "trust",
    "rumour": "rumour",  # heard a rumour (e.g. "the shaft cracks the wall")
    "rumor": "rumour",
    "谣言": "rumour",
    "ventilation": "ventilation",  # 通风
    "通风": "ventilation",
}


def parse_stance_reason(text: str) -> str:
    """A stance reason code: an objection reason, or trust, rumour or ventilation."""
    from colift.model.voting import parse_objection_reason

    key = text.strip().lower()
    if key in EXTRA_STANCE_REASONS:
        return EXTRA_STANCE_REASONS[key]
    try:
        return parse_objection_reason(key).value
    except ValueError:
        raise ValueError(
            f"unknown reason {text!r}: use light, noise, privacy, value, cost, safety, access, "
            "ventilation, trust, rumour or other"
        ) from None


STANCE_NAMES: dict[Stance, Label] = {
    Stance.SUPPORT: Label("支持", "support"),
    Stance.LEAN_SUPPORT: Label("倾向支持", "leaning to support"),
    Stance.UNDECIDED: Label("观望", "undecided"),
    Stance.LEAN_OPPOSE: Label("倾向反对", "leaning to oppose"),
    Stance.OPPOSE: Label("反对", "oppose"),
    Stance.UNKNOWN: Label("未接触", "not yet asked"),
}

GUIDANCE_NAMES: dict[GuidanceMode, Label] = {
    GuidanceMode.DIRECT: Label("直接引领", "direct"),
    GuidanceMode.EMBEDDED: Label("嵌入式引领", "embedded"),
    GuidanceMode.NONE: Label("无党建引领", "no Party"),
}
