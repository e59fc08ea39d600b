"""Cooperation level of a unit (path-model.md §6), read from its activity log with the evidence.

Levels, low to high (aligned with the IAP2 spectrum of public participation):

0 none           no organized activity that reached residents
1 informed       a tool that evidences level 1 or more reached residents (the whole unit, or
                 named households)
2 consulted      a consulting tool (evidences 2 or more) heard at least half of the households;
                 with fewer it only informed, and its evidence says so
3 collaborating  consent AND a plan: consent is the recorded tally (`consent_passed`) or a
                 vote/signature tool (counts_as consent) with at least 2/3 of households taking
                 part; the plan is the unit's cost plan or a written agreement (counts_as agreement)
4 co-producing   residents co-fund or co-manage: a level-4 tool with resident money or labour,
                 or a co-management tool (self-managed maintenance, joint acceptance)

Levels never skip evidence: the level is the highest L such that evidence for every level up to
L exists. Consent with high participation is itself evidence of levels 1 and 2; any activity
that reached residents is evidence of level 1. Level-4 evidence without consent and a plan
leaves the unit where its lower evidence puts it, and `missing` says what is lacking.
A recorded tally (`consent_passed=False`) outranks vote activities: they then count as
consultation only. The cost plan carries no date: it is taken as existing on every day assessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from fractions import Fraction
from typing import Any, NamedTuple

from colift.coproduction.catalogue import Catalogue, CountsAs, Tool
from colift.coproduction.snapshot import UnitSnapshot
from colift.model.coproduction import Activity

# Assumption: a consultation counts once the views of at least half the households are in.
CONSULTED_SHARE = Fraction(1, 2)
# Assumption: a vote or signature round shows consent when 2/3 of households take part, the
# participation most consent rules (Civil Code art. 278) ask for.
CONSENT_SHARE = Fraction(2, 3)
# How many tools `missing` suggests for the next level.
SUGGESTED_TOOLS = 3


class CooperationLevel(IntEnum):
    NONE = 0
    INFORMED = 1
    CONSULTED = 2
    COLLABORATING = 3
    CO_PRODUCING = 4

    @property
    def label(self) -> str:
        return LEVEL_NAMES[self]

    @property
    def label_zh(self) -> str:
        return LEVEL_NAMES_ZH[self]


LEVEL_NAMES: dict[int, str] = {
    0: "none",
    1: "informed",
    2: "consulted",
    3: "collaborating",
    4: "co-producing",
}
LEVEL_NAMES_ZH: dict[int, str] = {
    0: "未合作",
    1: "告知",
    2: "咨询",
    3: "协作决策",
    4: "合作生产",
}

# What one piece of evidence shows; level 3 needs both CONSENT and AGREEMENT.
_INFORMED = "informed"
_CONSULTED = "consulted"
_CONSENT = "consent"
_AGREEMENT = "agreement"
_CO_PRODUCING = "co_producing"
_LEVEL_MARKS: dict[int, tuple[str, ...]] = {
    1: (_INFORMED,),
    2: (_CONSULTED,),
    3: (_CONSENT, _AGREEMENT),
    4: (_CO_PRODUCING,),
}


@dataclass(frozen=True)
class Evidence:
    """One fact that supports a level: an activity, the consent tally or the cost plan."""

    on: date
    level: int  # the highest level this fact is evidence of, on its own
    tool: str | None  # tool id; None for the tally or the cost plan
    activity_id: int | None
    text: str


@dataclass(frozen=True)
class CooperationAssessment:
    level: int
    name: str
    name_zh: str
    evidence: list[Evidence]  # every fact found up to the day assessed, oldest first
    basis: list[Evidence]  # the facts that set each level reached, lowest level first
    missing: str  # what would raise the level by one
    notes: list[str] = field(default_factory=list)  # activities that could not be read
    missing_zh: str = ""  # the same in Chinese, for the web pages


class CooperationStep(NamedTuple):
    """The day the level changed, the new level, and the facts that moved it."""

    on: date
    level: int
    evidence: list[Evidence]


@dataclass(frozen=True)
class _Finding:
    evidence: Evidence
    marks: frozenset[str]


def cooperation_level(
    snapshot: UnitSnapshot,
    catalogue: Catalogue,
    on: date | None = None,
    consent_passed: bool | None = None,
) -> CooperationAssessment:
    """The level reached by `on` (default: every activity recorded), with its evidence.

    `consent_passed` is the vote tally's verdict when known; None leaves it to vote activities.
    """
    assessment, _ = _assess(snapshot, catalogue, on, consent_passed, on or snapshot.today)
    return assessment


def cooperation_timeline(
    snapshot: UnitSnapshot, catalogue: Catalogue, consent_passed_on: date | None = None
) -> list[CooperationStep]:
    """A step on each day the level changed, from the first activity on.

    `consent_passed_on` is the day the tally passed; before it consent counts as not passed.
    """
    days = {a.on for a in snapshot.activities}
    if consent_passed_on is not None:
        days.add(consent_passed_on)
    steps: list[CooperationStep] = []
    current = 0
    for day in sorted(days):
        passed = None if consent_passed_on is None else day >= consent_passed_on
        assessment, findings = _assess(snapshot, catalogue, day, passed, consent_passed_on or day)
        if assessment.level == current:
            continue
        moved = range(current + 1, assessment.level + 1)
        steps.append(CooperationStep(day, assessment.level, _basis(findings, moved, prefer=day)))
        current = assessment.level
    return steps


# ---------------------------------------------------------------- reading the facts


def _assess(
    snapshot: UnitSnapshot,
    catalogue: Catalogue,
    on: date | None,
    consent_passed: bool | None,
    consent_day: date,
) -> tuple[CooperationAssessment, list[_Finding]]:
    households = len(snapshot.households)
    findings: list[_Finding] = []
    notes: list[str] = []
    for activity in snapshot.activities:
        if on is not None and activity.on > on:
            continue
        tool = catalogue.tools.get(activity.tool)
        if tool is None:
            notes.append(
                f"{activity.on.isoformat()} {activity.tool}: not in the tool catalogue, not counted"
            )
            continue
        finding = _read_activity(activity, tool, households, consent_passed is False)
        if finding is not None:
            findings.append(finding)
    if consent_passed:
        findings.append(
            _fact(
                consent_day,
                f"consent passed under rule {snapshot.consent_profile}",
                _INFORMED,
                _CONSULTED,
                _CONSENT,
            )
        )
    if snapshot.has_cost_plan:
        findings.append(
            _fact(on or snapshot.today, "a cost-sharing plan is recorded for the unit", _AGREEMENT)
        )
    findings.sort(key=lambda f: (f.evidence.on, f.evidence.level, f.evidence.activity_id or 0))

    marks = frozenset().union(*(f.marks for f in findings))
    level = 0
    while level < 4 and all(m in marks for m in _LEVEL_MARKS[level + 1]):
        level += 1
    missing = _missing(level, marks, findings, households, catalogue)
    assessment = CooperationAssessment(
        level=CooperationLevel(level),
        name=LEVEL_NAMES[level],
        name_zh=LEVEL_NAMES_ZH[level],
        evidence=[f.evidence for f in findings],
        basis=_basis(findings, range(1, level + 1)),
        missing=missing[0],
        notes=notes,
        missing_zh=missing[1],
    )
    return assessment, findings


def _basis(findings: list[_Finding], levels: range, prefer: date | None = None) -> list[Evidence]:
    """For each mark of each level, the earliest fact showing it, or one dated `prefer`."""
    chosen = []
    for level in levels:
        for mark in _LEVEL_MARKS[level]:
            showing = [f.evidence for f in findings if mark in f.marks]
            dated = [e for e in showing if e.on == prefer]
            chosen.append((dated or showing)[0])
    return _unique(chosen)


def _read_activity(
    activity: Activity, tool: Tool, households: int, consent_refused: bool
) -> _Finding | None:
    if tool.evidences < 1:
        return None  # a tool among offices or firms: no resident took part
    took = _took_part(activity, households)
    marks = {_INFORMED}
    said = [_reach_text(activity, took, households)]
    shortfall = ""  # said only when the activity ends up evidence of informing alone
    if tool.evidences >= 2:
        need = _need(CONSULTED_SHARE, households)
        if took is None:
            shortfall = "participation not recorded, so it counts as informing only"
        elif took >= need:
            marks.add(_CONSULTED)
        else:
            shortfall = (
                f"fewer than the {need} needed to count as consulted, so it counts as informing"
            )
    if tool.counts(CountsAs.CONSENT):
        need = _need(CONSENT_SHARE, households)
        if consent_refused:
            said.append("the vote tally says consent has not passed")
        elif took is not None and took >= need:
            marks |= {_CONSULTED, _CONSENT}
            said.append("consent shown")
        else:
            said.append(f"consent needs {need} of {households} households")
    if tool.counts(CountsAs.AGREEMENT):
        marks.add(_AGREEMENT)
        said.append("a written agreement exists")
    money, labour = activity.outcome.money_fen, activity.outcome.labour_hours
    if tool.counts(CountsAs.CO_MANAGEMENT):
        marks.add(_CO_PRODUCING)
        said.append("residents co-manage")
    if tool.evidences >= 4 and (money > 0 or labour > 0):
        marks.add(_CO_PRODUCING)
        said.append(_contribution_text(money, labour))
    elif tool.evidences >= 4 and not tool.counts(CountsAs.CO_MANAGEMENT):
        said.append("no resident money or labour recorded yet")
    if shortfall and marks == {_INFORMED}:
        said.insert(1, shortfall)
    evidence = Evidence(
        on=activity.on,
        level=_level_of(marks),
        tool=tool.id,
        activity_id=activity.id,
        text=f"{activity.on.isoformat()} {tool.label}: {'; '.join(said)}",
    )
    return _Finding(evidence, frozenset(marks))


def _fact(day: date, text: str, *marks: str) -> _Finding:
    evidence = Evidence(day, _level_of(marks), None, None, f"{day.isoformat()} {text}")
    return _Finding(evidence, frozenset(marks))


def _level_of(marks: Iterable[str]) -> int:
    present = set(marks)
    return max((lv for lv, ms in _LEVEL_MARKS.items() if present & set(ms)), default=0)


def _took_part(activity: Activity, households: int) -> int | None:
    """Households that took part: the count recorded, else the targets; None when unknown."""
    if activity.outcome.participants > 0:
        return min(activity.outcome.participants, households)
    if activity.targets:
        return len(set(activity.targets))
    return None


def _need(share: Fraction, households: int) -> int:
    return -(-share.numerator * households // share.denominator)


def _reach_text(activity: Activity, took: int | None, households: int) -> str:
    if activity.outcome.participants > 0 and took is not None:
        return f"{took} of {households} households took part"
    if activity.targets:
        rooms = ", ".join(dict.fromkeys(activity.targets))
        return f"{took} of {households} households reached ({rooms})"
    return "aimed at the whole unit"


def _contribution_text(money_fen: int, labour_hours: int) -> str:
    parts = []
    if money_fen > 0:
        parts.append(f"residents contributed {money_fen // 100:,}.{money_fen % 100:02d} yuan")
    if labour_hours > 0:
        parts.append(f"residents gave {labour_hours} hours of work")
    return " and ".join(parts)


def _unique(items: Iterable[Evidence]) -> list[Evidence]:
    return list(dict.fromkeys(items))


# ---------------------------------------------------------------- what is missing


def _missing(
    level: int,
    marks: frozenset[str],
    findings: list[_Finding],
    households: int,
    catalogue: Catalogue,
) -> tuple[str, str]:
    """What would raise the level by one, in English and in Chinese, from the same facts."""
    if households == 0:
        return "record the unit's households first", "请先登记本单元的住户"
    if level == 4:
        return "nothing: co-producing is the highest level", "无：合作生产已是最高水平"

    def tools(wanted: Callable[[Tool], bool]) -> tuple[str, str]:
        return _suggest(catalogue, wanted), _suggest_zh(catalogue, wanted)

    if level == 0:
        en, zh = tools(lambda t: t.evidences == 1)
        text, text_zh = f"inform the residents, e.g. {en}", f"向居民告知情况，如{zh}"
    elif level == 1:
        need = _need(CONSULTED_SHARE, households)
        en, zh = tools(lambda t: t.evidences == 2)
        text = f"hear the views of at least {need} of {households} households, e.g. {en}"
        text_zh = f"听取至少{need}户（共{households}户）的意见，如{zh}"
    elif level == 2:
        wanted, wanted_zh = [], []
        if _CONSENT not in marks:
            need = _need(CONSENT_SHARE, households)
            en, zh = tools(lambda t: t.counts(CountsAs.CONSENT))
            wanted.append(
                "reach consent (the tally passes under the unit's rule, which counts owners and "
                f"area; or, as a sign of cooperation, a vote or signatures in which at least "
                f"{need} of {households} households take part: {en})"
            )
            wanted_zh.append(
                "达成同意（按本单元适用的表决规则计票通过，计票以业主人数和面积为准；"
                f"或作为合作的标志，至少{need}户（共{households}户）参与表决或签字：{zh}）"
            )
        if _AGREEMENT not in marks:
            en, zh = tools(lambda t: t.counts(CountsAs.AGREEMENT))
            wanted.append(f"agree the plan and cost sharing (record a cost plan, or {en})")
            wanted_zh.append(f"商定方案和费用分摊（录入费用分摊方案，或{zh}）")
        text, text_zh = " and ".join(wanted), "，并".join(wanted_zh)
    else:
        en, zh = tools(lambda t: t.evidences == 4)
        text = f"residents co-fund or co-manage, e.g. {en} with resident money or work"
        text_zh = f"居民出资或共同管理，如以居民的资金或劳动开展{zh}"
    higher = [f.evidence for f in findings if f.evidence.level > level + 1]
    if higher:
        top = max(e.level for e in higher)
        text += f"; evidence for level {top} is already recorded"
        text_zh += f"；已记录了{top}级合作的证据"
    return text, text_zh


def _suggest_zh(catalogue: Catalogue, wanted: Callable[[Tool], bool]) -> str:
    chosen = [f"「{t.name_zh}」" for t in catalogue if wanted(t)][:SUGGESTED_TOOLS]
    return "、".join(chosen) or "为此加入目录的工具"


def _suggest(catalogue: Catalogue, wanted: Callable[[Tool], bool]) -> str:
    chosen = [t.name_en for t in catalogue if wanted(t)][:SUGGESTED_TOOLS]
    return ", ".join(chosen) or "a tool added to the catalogue for it"


# ---------------------------------------------------------------- cooperation between actors

# The actors the study names (多元治理主体), and which recorded roles stand for each. Formal
# leader roles are held by staff of the residents' committee or the street; they are grouped
# as "formal leaders" because the log does not say whose staff they are.
ACTOR_OF_ROLE: Mapping[str, str] = {
    "community_party_committee": "party",
    "compound_party_branch": "party",
    "building_party_group": "party",
    "residents_committee": "residents_committee",
    "street_office": "street_office",
    "housing_bureau": "government",
    "utility": "utility",
    "owners_committee": "owners",
    "opinion_leader": "owners",
    "action_leader": "owners",
    "community_elite": "owners",
    "building_leader": "owners",
    "unit_leader": "owners",
    "property_manager": "property_manager",
    "elevator_vendor": "vendor",
    "coordinator": "formal_leaders",
    "consultation_organizer": "formal_leaders",
    "vision_promoter": "formal_leaders",
}
ACTOR_NAMES_ZH: Mapping[str, str] = {
    "party": "党组织",
    "residents_committee": "居委会",
    "street_office": "街道办",
    "government": "政府部门",
    "utility": "管线单位",
    "owners": "业主",
    "property_manager": "物业",
    "vendor": "电梯企业",
    "formal_leaders": "正式领导者",
}


@dataclass(frozen=True)
class ActorLink:
    """Two actors who worked together: the same tool on the same day, from the activity log."""

    a: str
    b: str
    tools: tuple[str, ...]
    times: int
    first: date
    last: date

    @property
    def text_zh(self) -> str:
        return f"{ACTOR_NAMES_ZH.get(self.a, self.a)}与{ACTOR_NAMES_ZH.get(self.b, self.b)}"

    @property
    def text_en(self) -> str:
        return f"{self.a.replace('_', ' ')} with {self.b.replace('_', ' ')}"

    def to_json(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "tools": list(self.tools),
            "times": self.times,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
        }


JOINT_WINDOW_DAYS = 14  # assumption: actors active on a unit within two weeks work on one push


def actor_cooperation(activities: Iterable[Activity]) -> list[ActorLink]:
    """Who worked with whom, on what, read from one unit's activity log.

    Two actors worked together when the log records them on the same tool the same day, or on
    the same unit within JOINT_WINDOW_DAYS of each other (one push: a briefing, the survey that
    follows, the visits after it). Each such pair of activities counts once; the tools are
    those of both; links are summed over the log, most frequent first.
    """
    log = sorted(
        ((a.on, actor, a.tool) for a in activities if (actor := ACTOR_OF_ROLE.get(a.role))),
        key=lambda item: (item[0], item[1], item[2]),
    )
    links: dict[tuple[str, str], list[tuple[date, str, str]]] = {}
    for i, (day, actor, tool) in enumerate(log):
        for later, other, other_tool in log[i + 1 :]:
            if (later - day).days > JOINT_WINDOW_DAYS:
                break
            if other == actor:
                continue
            a, b = sorted((actor, other))
            links.setdefault((a, b), []).append((day, tool, other_tool))
    out = []
    for (a, b), uses in links.items():
        tools = tuple(dict.fromkeys(t for _, x, y in sorted(uses) for t in (x, y)))
        days = [d for d, _, _ in uses]
        out.append(ActorLink(a, b, tools, len(uses), min(days), max(days)))
    return sorted(out, key=lambda link: (-link.times, link.a, link.b))
