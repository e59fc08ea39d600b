"""Heterogeneity and obstacles of one unit (path-model.md §3, domain.md §7).

`heterogeneity` measures how far a unit's households differ on six dimensions and folds them
into one index in [0, 1] whose breakdown says which dimension drives it. `obstacles` lists what
stands in the way now, each with the households concerned and a short bilingual message.
Both read a `UnitSnapshot` only; they never invent a figure that was not recorded: an unknown
measure is reported as unknown and adds nothing to the index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from colift.coproduction.snapshot import HouseholdView, ObjectionView, UnitSnapshot
from colift.errors import BadInput, ColiftError
from colift.model import ObjectionStatus, Tenure, Vote
from colift.model.coproduction import LOW_FLOOR_MAX, Obstacle, Stance
from colift.rules.consent import (
    ConsentResult,
    Flat,
    Objection,
    area_to_cm2,
    evaluate,
    format_area,
    load_profile,
)

DIMENSIONS: tuple[str, ...] = (
    "interest",
    "demographic",
    "economic",
    "tenure",
    "trust_information",
    "technical",
)

# Assumption: no study ranks the six dimensions, so each counts the same until calibrated.
DEFAULT_WEIGHTS: Mapping[str, float] = {name: 1.0 for name in DIMENSIONS}


# Substrings of a stance reason that signal distrust of the organizers or rumours.
DISTRUST_MARKERS: tuple[str, ...] = ("trust", "rumour", "rumor", "信任", "谣言", "传言")

# A supporter as the network and the stance gap read it: support or lean support.
SUPPORT_THRESHOLD = 0.75

REASON_ZH: Mapping[str, str] = {
    "light": "采光",
    "noise": "噪音",
    "privacy": "隐私",
    "value": "房屋价值",
    "ventilation": "通风",
    "cost": "费用",
    "safety": "安全",
    "access": "通行",
    "other": "其他",
    "unstated": "原因未记录",
}

TECHNICAL_ZH: Mapping[str, str] = {
    "pipes": "管线",
    "space": "空间",
    "fire_lane": "消防通道",
    "structure": "结构",
    "other": "其他",
}

STATUS_ZH: Mapping[ObjectionStatus, str] = {
    ObjectionStatus.OPEN: "已提出",
    ObjectionStatus.NEGOTIATION: "协商中",
    ObjectionStatus.MEDIATION: "调解中",
    ObjectionStatus.HEARING: "听证",
    ObjectionStatus.LITIGATION: "诉讼中",
}

# Assumption: the further an objection has escalated, the harder it blocks (hearing, court).
OBJECTION_SEVERITY: Mapping[ObjectionStatus, float] = {
    ObjectionStatus.OPEN: 0.6,
    ObjectionStatus.NEGOTIATION: 0.6,
    ObjectionStatus.MEDIATION: 0.7,
    ObjectionStatus.HEARING: 0.85,
    ObjectionStatus.LITIGATION: 0.95,
}

# Assumption: (base, slope) of severity = base + slope × affected share, per obstacle kind.
SEVERITY_SCALE: Mapping[Obstacle, tuple[float, float]] = {
    Obstacle.INTEREST: (0.4, 0.6),
    Obstacle.TENURE: (0.3, 0.7),
    Obstacle.COST: (0.3, 0.7),
    Obstacle.INFORMATION: (0.2, 0.8),
    Obstacle.TRUST: (0.3, 0.7),
    Obstacle.LEGITIMACY: (0.6, 0.4),
}
NEED_FLOOR_MIN = 4  # from floor 4 the climb is what a lift is for; floor 3 is break-even
WEAK_NEED_SEVERITY = 0.4  # weak need blocks no rule; it removes the push upstairs


# ---------------------------------------------------------------- shared readings


def reached_rooms(snapshot: UnitSnapshot) -> frozenset[str]:
    """Rooms some activity up to today has reached: named targets, or everyone living there."""
    known = set(snapshot.rooms)
    living = {h.room for h in snapshot.households if h.lives_here}
    # an owner who cast a ballot (in person, by proxy or on the web) has been reached
    reached: set[str] = {
        h.room for h in snapshot.households if h.vote is not None and h.vote.participates
    }
    for activity in snapshot.activities:
        if activity.on > snapshot.today:
            continue  # a planned activity has reached nobody yet
        if activity.targets:
            reached.update(r for r in activity.targets if r in known)
        else:
            reached.update(living)  # a notice or a meeting reaches those who live there only
    return frozenset(reached)


def distrustful(household: HouseholdView) -> bool:
    """A stance reason mentions distrust or rumours."""
    return any(
        marker in reason.lower()
        for reason in household.stance_reasons
        for marker in DISTRUST_MARKERS
    )


def has_need(household: HouseholdView) -> bool:
    """A resident aged 60+ or with a mobility need (wheelchair, frail, carrying an infant)."""
    return household.elderly or household.needs_lift


def _or(*parts: float) -> float:
    """1 − Π(1 − p): each figure raises the score, none lowers it, and it stays in [0, 1]."""
    rest = 1.0
    for p in parts:
        rest *= 1.0 - _clip(p)
    return _clip(1.0 - rest)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def _split(p: float) -> float:
    """4p(1 − p): 0 when everyone or nobody is in the group, 1 for an even binary split."""
    return _clip(4.0 * p * (1.0 - p))


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.0f}"


# ---------------------------------------------------------------- heterogeneity


@dataclass(frozen=True)
class DimensionScore:
    """One dimension: its score in [0, 1], its share of the index, and the figures behind it."""

    name: str
    score: float
    weight: float
    contribution: float
    explanation: str
    measured: dict[str, Any] = field(default_factory=dict)

    @property
    def known(self) -> bool:
        """False when nothing was recorded to measure: show "unknown", never a 0.00."""
        return bool(self.measured.get("known", True))

    @property
    def explanation_zh(self) -> str:
        return explanation_zh(self.name, self.measured)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 3),
            "known": self.known,
            "explanation_zh": self.explanation_zh,
            "weight": self.weight,
            "contribution": round(self.contribution, 3),
            "explanation": self.explanation,
            "measured": self.measured,
        }


@dataclass(frozen=True)
class HeterogeneityProfile:
    """The unit's heterogeneity: index = Σ contributions, each = weight × score / Σ weights."""

    index: float
    dimensions: dict[str, DimensionScore]

    def drivers(self) -> list[str]:
        """Dimension names by contribution, largest first (ties in the order of DIMENSIONS)."""
        order = {name: i for i, name in enumerate(self.dimensions)}
        return sorted(self.dimensions, key=lambda n: (-self.dimensions[n].contribution, order[n]))

    @property
    def driver(self) -> str | None:
        """The dimension contributing most, or None when the households are alike on all."""
        ranked = self.drivers()
        if not ranked or self.dimensions[ranked[0]].contribution <= 0:
            return None
        return ranked[0]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": round(self.index, 3),
            "dimensions": {name: d.to_json() for name, d in self.dimensions.items()},
            "driver": self.driver,
        }


def _count(m: Mapping[str, Any], key: str) -> int:
    value = m.get(key, 0)
    return len(value) if isinstance(value, list) else int(value or 0)


def explanation_zh(name: str, m: Mapping[str, Any]) -> str:
    """A dimension's explanation in Chinese, written from its figures; unknown said as unknown."""
    if name == "interest":
        if not m.get("households"):
            return "尚未登记住户"
        text = f"{m['low_floor']}户在1–{m['low_floor_max']}层"
        if m.get("stance_gap") is None:
            return text + "，高低层的态度尚未都问到：利益分化未知"
        text += (
            f"，其中{_count(m, 'low_opposing')}户反对或倾向反对；{m['upper_floor']}户高层中"
            f"{_count(m, 'upper_supporting')}户支持"
        )
        unknown = _count(m, "upper_unknown") + _count(m, "low_unknown")
        if unknown:
            text += f"，{unknown}户尚未问过态度（未知，不算反对也不算支持）"
        return text
    if name == "demographic":
        if not m.get("known"):
            return "住户年龄与行动能力未登记：人口差异未知"
        text = f"已登记的{m['residents_recorded']}户常住家庭中，{m['with_need']}户有60岁以上老人或行动不便者"
        if m.get("residents_unknown"):
            text += f"（{m['residents_unknown']}户未登记）"
        return text
    if name == "economic":
        if not m.get("known"):
            return "尚未登记住户的承受能力：经济差异未知"
        if not m.get("compared"):
            return f"{m['ability_known']}户登记了承受能力，尚无分摊方案可比：是否出得起未知"
        text = (
            f"已知承受能力且有分摊的{m['compared']}户中，{m['cannot_afford']}户的分摊超出承受能力"
        )
        if m["cannot_afford"] and m["cannot_afford"] == m["compared"]:
            text += "（全部如此：这是费用障碍，见障碍清单，不是住户之间的差异）"
        if m.get("ability_unknown"):
            text += f"；{m['ability_unknown']}户承受能力未登记"
        return text
    if name == "tenure":
        return (
            f"自住{m.get('owner_occupied', 0)}户、出租{m.get('rented', 0)}户、外住或空置"
            f"{m.get('absentee', 0)}户、开发商持有{m.get('developer_held', 0)}户，共{m.get('households', 0)}户"
        )
    if name == "trust_information":
        return (
            f"{m['households']}户中{m['affected']}户不了解情况或不信任：{m['stance_unknown']}户"
            f"尚未问过态度，{m['never_reached']}户未被任何工作覆盖，{m['distrust']}户不信任组织者或听信传言"
        )
    if name == "technical":
        if not m.get("survey_recorded") and not m.get("issues"):
            return "尚无技术踏勘记录：技术条件未知，并非没有问题"
        if m.get("unresolved"):
            return f"{m['unresolved']}项技术问题未解决（最重{m.get('max_severity', 0)}级）"
        return "踏勘发现的技术问题均已解决"
    return name


@dataclass(frozen=True)
class _Measure:
    score: float
    explanation: str
    measured: dict[str, Any]


def _interest(snapshot: UnitSnapshot) -> _Measure:
    hs = snapshot.households
    n = len(hs)
    low = [h for h in hs if h.floor <= LOW_FLOOR_MAX]
    upper = [h for h in hs if h.floor > LOW_FLOOR_MAX]
    structural = _split(len(low) / n) if n else 0.0
    low_known = [s for h in low if (s := h.stance.score) is not None]
    upper_known = [s for h in upper if (s := h.stance.score) is not None]
    low_mean = fmean(low_known) if low_known else None
    upper_mean = fmean(upper_known) if upper_known else None
    gap = None if low_mean is None or upper_mean is None else _clip(upper_mean - low_mean)
    score = _or(structural, gap or 0.0)
    opposing = [h.room for h in low if h.stance in (Stance.OPPOSE, Stance.LEAN_OPPOSE)]
    supporting = [
        h.room for h in upper if (s := h.stance.score) is not None and s >= SUPPORT_THRESHOLD
    ]
    upper_unknown = [h.room for h in upper if h.stance is Stance.UNKNOWN]
    low_unknown = [h.room for h in low if h.stance is Stance.UNKNOWN]
    floors = f"floors 1–{LOW_FLOOR_MAX}"
    if not n:
        text = "no households recorded"
    elif not low:
        text = f"no flat is on {floors}: no low-floor interest split"
    elif not upper:
        text = f"all {n} flats are on {floors}: no upper floors to benefit"
    else:
        text = f"{len(low)} of {n} flats are on {floors}"
        if gap is None:
            text += ", stances not yet known on both sides"
        else:
            text += (
                f" and {len(opposing)} of them oppose or lean against, while "
                f"{len(supporting)} of {len(upper)} upper flats support "
                f"(mean support {low_mean:.2f} low, {upper_mean:.2f} upper)"
            )
        asked_not = len(upper_unknown) + len(low_unknown)
        if asked_not:
            text += f"; {asked_not} not yet asked, so unknown"
    return _Measure(
        score,
        text,
        {
            "households": n,
            "low_floor_max": LOW_FLOOR_MAX,
            "low_floor": len(low),
            "upper_floor": len(upper),
            "low_share": _r(len(low) / n) if n else None,
            "structural_split": _r(structural),
            "low_mean_support": _r(low_mean),
            "upper_mean_support": _r(upper_mean),
            "stance_gap": _r(gap),
            "low_opposing": opposing,
            "upper_supporting": supporting,
            "low_unknown": low_unknown,
            "upper_unknown": upper_unknown,
        },
    )


def _demographic(snapshot: UnitSnapshot) -> _Measure:
    living = [h for h in snapshot.households if h.lives_here]
    recorded = [h for h in living if h.residents]
    need = [h.room for h in recorded if has_need(h)]
    elderly = sum(1 for h in recorded if h.elderly)
    mobility = sum(1 for h in recorded if h.needs_lift)
    unknown = len(living) - len(recorded)
    p = len(need) / len(recorded) if recorded else None
    score = _split(p) if p is not None else 0.0
    if not recorded:
        text = "no residents recorded: need for the lift unknown"
    else:
        text = (
            f"{len(need)} of {len(recorded)} households living here have a resident aged 60+ "
            "or a mobility need"
        )
        if unknown:
            text += f" ({unknown} not recorded)"
    return _Measure(
        score,
        text,
        {
            "known": bool(recorded),
            "households_living": len(living),
            "residents_recorded": len(recorded),
            "residents_unknown": unknown,
            "with_need": len(need),
            "elderly": elderly,
            "mobility_need": mobility,
            "need_share": _r(p),
            "need_rooms": need,
        },
    )


def _gini(values: list[int]) -> float:
    """Gini of ability to pay, scaled by n/(n − 1) so one household holding all of it gives 1."""
    n = len(values)
    total = sum(values)
    if n < 2 or total <= 0:
        return 0.0
    diffs = sum(abs(a - b) for a in values for b in values)
    return _clip(diffs / (2.0 * n * (n - 1) * (total / n)))


def _economic(snapshot: UnitSnapshot) -> _Measure:
    hs = snapshot.households
    abilities = [h.ability_to_pay_fen for h in hs if h.ability_to_pay_fen is not None]
    both = [h for h in hs if h.ability_to_pay_fen is not None and h.share_fen is not None]
    short = [h.room for h in both if h.cannot_afford]
    p = len(short) / len(both) if both else None
    split = _split(p) if p is not None else 0.0
    gini = _gini(abilities)
    coverage = len(abilities) / len(hs) if hs else 0.0
    # A split seen in 2 of 12 flats is weak evidence: scale by how many abilities are known.
    score = _or(split, gini) * coverage
    unknown = len(hs) - len(abilities)
    if not abilities:
        text = "ability to pay not recorded for any household: economic split unknown"
    else:
        text = (
            f"ability to pay known for {len(abilities)} of {len(hs)} households (spread {gini:.2f})"
        )
        if both:
            text += f"; {len(short)} of {len(both)} with a share cannot afford it"
            if short and len(short) == len(both):
                text += " (all of them: a cost obstacle, not a split between households)"
        else:
            text += "; no cost shares to compare yet"
    return _Measure(
        score,
        text,
        {
            "known": bool(abilities),
            "ability_known": len(abilities),
            "ability_unknown": unknown,
            "coverage": _r(coverage),
            "share_known": sum(1 for h in hs if h.share_fen is not None),
            "compared": len(both),
            "cannot_afford": len(short),
            "cannot_afford_rooms": short,
            "afford_split": _r(split),
            "ability_gini": _r(gini),
        },
    )


TENURE_GROUPS: Mapping[str, tuple[Tenure, ...]] = {
    "owner_occupied": (Tenure.OWNER_OCCUPIED,),
    "rented": (Tenure.RENTED,),
    "absentee": (Tenure.ABSENTEE,),
    "developer_held": (Tenure.DEVELOPER_UNSOLD, Tenure.DEVELOPER_UNDELIVERED),
}


def _tenure(snapshot: UnitSnapshot) -> _Measure:
    hs = snapshot.households
    n = len(hs)
    counts = {g: sum(1 for h in hs if h.tenure in ts) for g, ts in TENURE_GROUPS.items()}
    entropy = -sum((c / n) * math.log(c / n) for c in counts.values() if c) if n else 0.0
    # Normalized by the most groups n flats can fill, so 12 flats split 3/3/3/3 give 1.
    cap = math.log(min(len(TENURE_GROUPS), n)) if n > 1 else 0.0
    score = _clip(entropy / cap) if cap else 0.0
    parts = [f"{c} {g.replace('_', '-')}" for g, c in counts.items() if c]
    text = f"{', '.join(parts)} of {n} flats" if n else "no households recorded"
    return _Measure(
        score,
        text,
        {**counts, "households": n, "entropy": _r(entropy), "normalized_entropy": _r(score)},
    )


def _trust_information(snapshot: UnitSnapshot) -> _Measure:
    hs = snapshot.households
    reached = reached_rooms(snapshot)
    # a ballot is the owner's answer: a voter with no recorded stance was asked
    unknown = [
        h.room
        for h in hs
        if h.stance is Stance.UNKNOWN and not (h.vote is not None and h.vote.participates)
    ]
    unreached = [h.room for h in hs if h.room not in reached]
    distrust = [h.room for h in hs if distrustful(h)]
    affected = set(unknown) | set(unreached) | set(distrust)
    n = len(hs)
    score = len(affected) / n if n else 0.0
    text = (
        f"{len(affected)} of {n} households are uninformed or distrustful: "
        f"{len(unknown)} never asked, {len(unreached)} never reached by any activity, "
        f"{len(distrust)} distrust organizers or heard rumours"
    )
    return _Measure(
        score,
        text,
        {
            "households": n,
            "affected": len(affected),
            "stance_unknown": len(unknown),
            "stance_unknown_rooms": unknown,
            "never_reached": len(unreached),
            "never_reached_rooms": unreached,
            "distrust": len(distrust),
            "distrust_rooms": distrust,
            "activities": sum(1 for a in snapshot.activities if a.on <= snapshot.today),
        },
    )


def _technical(snapshot: UnitSnapshot) -> _Measure:
    issues = snapshot.technical
    open_issues = [i for i in issues if not i.resolved]
    worst = max((i.severity for i in open_issues), default=0)
    score = _clip(worst / 3.0)
    if not issues:
        text = "no technical survey recorded: constraints unknown, not absent"
    elif not open_issues:
        text = f"all {_plural(len(issues), 'recorded technical issue')} resolved"
    else:
        kinds = ", ".join(sorted({i.kind for i in open_issues}))
        text = (
            f"{_plural(len(open_issues), 'unresolved technical issue')} ({kinds}), "
            f"worst severity {worst} of 3"
        )
    return _Measure(
        score,
        text,
        {
            "known": bool(issues),
            "survey_recorded": bool(issues),
            "issues": len(issues),
            "unresolved": len(open_issues),
            "max_severity": worst,
            "unresolved_kinds": sorted({i.kind for i in open_issues}),
        },
    )


_MEASURES = {
    "interest": _interest,
    "demographic": _demographic,
    "economic": _economic,
    "tenure": _tenure,
    "trust_information": _trust_information,
    "technical": _technical,
}


def _weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    merged = dict(DEFAULT_WEIGHTS)
    for name, w in (weights or {}).items():
        if name not in merged:
            raise BadInput(
                "unknown heterogeneity dimension {name}: use {DIMENSIONS}",
                name=repr(name),
                DIMENSIONS=", ".join(DIMENSIONS),
            )
        if not (isinstance(w, int | float) and math.isfinite(w) and w >= 0):
            raise BadInput("weight of {name} must be a number ≥ 0, got {w}", name=name, w=repr(w))
        merged[name] = float(w)
    if sum(merged.values()) <= 0:
        raise BadInput("at least one heterogeneity weight must be above 0")
    return merged


def heterogeneity(
    snapshot: UnitSnapshot, weights: Mapping[str, float] | None = None
) -> HeterogeneityProfile:
    """Measure the six dimensions of path-model.md §3 and fold them into one explainable index."""
    w = _weights(weights)
    total = sum(w.values())
    dims: dict[str, DimensionScore] = {}
    for name in DIMENSIONS:
        m = _MEASURES[name](snapshot)
        score = _clip(m.score)
        dims[name] = DimensionScore(
            name=name,
            score=score,
            weight=w[name],
            contribution=w[name] * score / total,
            explanation=m.explanation,
            measured=m.measured,
        )
    index = _clip(sum(d.contribution for d in dims.values()))
    return HeterogeneityProfile(index=index, dimensions=dims)


# ---------------------------------------------------------------- obstacles


@dataclass(frozen=True)
class Finding:
    """One current obstacle: its kind, how hard it blocks (0-1), whom it concerns, and why."""

    kind: Obstacle
    severity: float
    households: tuple[str, ...]
    message: str
    reasons: tuple[str, ...] = ()  # the household's reasons (interest, objection, cost)
    status: ObjectionStatus | None = None  # the worst live objection status, if written

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "severity": round(self.severity, 3),
            "households": list(self.households),
            "message": self.message,
            "reasons": list(self.reasons),
            "status": None if self.status is None else self.status.value,
        }


def _severity(kind: Obstacle, share: float) -> float:
    base, slope = SEVERITY_SCALE[kind]
    return _clip(base + slope * _clip(share))


class _Rooms:
    """Orders rooms by floor then name, so findings list households the same way every time."""

    def __init__(self, snapshot: UnitSnapshot) -> None:
        self.floor = {h.room: h.floor for h in snapshot.households}

    def __call__(self, rooms: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(set(rooms), key=lambda r: (self.floor.get(r, 10**6), r)))


# Stance reasons that are distrust, not a cause of their own: the trust finding carries them.
_DISTRUST_REASONS = frozenset({"trust", "rumour"})


def _reasons_zh(reasons: Iterable[str]) -> str:
    return "、".join(REASON_ZH.get(r, r) for r in reasons)


def _opposing(h: HouseholdView) -> bool:
    return h.stance in (Stance.OPPOSE, Stance.LEAN_OPPOSE)


def _own_reasons(h: HouseholdView) -> list[str]:
    return [r for r in h.stance_reasons if r not in _DISTRUST_REASONS and not distrustful_text(r)]


def distrustful_text(reason: str) -> bool:
    """A free-text stance reason that mentions distrust or rumours."""
    return any(marker in reason.lower() for marker in DISTRUST_MARKERS)


def _merge(*groups: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for g in groups for r in g))


def _worst(statuses: Iterable[ObjectionStatus]) -> ObjectionStatus:
    """The most escalated status: the order an objection escalates in (objections.py)."""
    return max(statuses, key=lambda s: (OBJECTION_SEVERITY.get(s, 0.6), _ESCALATION.index(s)))


_ESCALATION = tuple(ObjectionStatus)  # open, negotiation, mediation, hearing, litigation, …


def _objection_findings(snapshot: UnitSnapshot, order: _Rooms) -> list[Finding]:
    """One finding per household with a live written objection, all its reasons merged.

    The household's opposing stance reasons join the objection's: one household, one cause,
    one line a worker reads (and one answer to find).
    """
    live: dict[str, list[ObjectionView]] = {}
    for o in snapshot.objections:
        if o.status.unresolved:
            live.setdefault(o.room, []).append(o)
    stance = {h.room: h for h in snapshot.households}
    out = []
    for room in order(live):
        items = live[room]
        h = stance.get(room)
        extra = _own_reasons(h) if h is not None and _opposing(h) else []
        reasons = _merge(*(o.reasons for o in items), extra) or ("unstated",)
        worst = _worst(o.status for o in items)
        k = len(items)
        count_zh = f"有{k}份" if k > 1 else ""
        count_en = f"{k} written objections" if k > 1 else "written objection"
        message = (
            f"{room}{count_zh}书面异议未解决（{_reasons_zh(reasons)}；"
            f"{STATUS_ZH.get(worst, worst.value)}） / "
            f"{room}: {count_en} unresolved: {', '.join(reasons)} ({worst.value})"
        )
        out.append(
            Finding(
                Obstacle.OBJECTION,
                OBJECTION_SEVERITY.get(worst, 0.6),
                (room,),
                message,
                reasons,
                worst,
            )
        )
    return out


def _interest_findings(snapshot: UnitSnapshot, order: _Rooms) -> list[Finding]:
    """One finding per opposing low-floor household without a live written objection.

    Severity grows with the share of low floors opposed, as before the merge; the reasons are
    all the household gave, or "unstated" when nobody asked why.
    """
    low = [h for h in snapshot.households if h.floor <= LOW_FLOOR_MAX]
    if not low:
        return []
    objecting = {o.room for o in snapshot.objections if o.status.unresolved}
    opposing = [h for h in low if _opposing(h) and h.room not in objecting]
    # an opposing low floor whose only reason is distrust is the trust finding's, not this one
    opposing = [h for h in opposing if _own_reasons(h) or not h.stance_reasons]
    if not opposing:
        return []
    severity = _severity(Obstacle.INTEREST, len(opposing) / len(low))
    out = []
    for room in order(h.room for h in opposing):
        h = snapshot.household(room)
        reasons = tuple(_own_reasons(h)) or ("unstated",)
        if reasons == ("unstated",):
            message = (
                f"{room}（{h.floor}层）反对，原因未记录 / "
                f"{room} (floor {h.floor}) opposes, reason not recorded"
            )
        else:
            message = (
                f"{room}（{h.floor}层）因{_reasons_zh(reasons)}反对 / "
                f"{room} (floor {h.floor}) opposes: {', '.join(reasons)}"
            )
        out.append(Finding(Obstacle.INTEREST, severity, (room,), message, reasons))
    return out


def _tenure_findings(
    snapshot: UnitSnapshot, order: _Rooms, reached: frozenset[str]
) -> list[Finding]:
    hs = snapshot.households
    n = len(hs)
    out = []
    # Only an activity naming the flat reaches an absentee owner: a stairwell notice does not.
    absent = [h.room for h in hs if h.absentee and h.room not in reached]
    if absent:
        k = len(absent)
        out.append(
            Finding(
                Obstacle.TENURE,
                _severity(Obstacle.TENURE, k / n),
                order(absent),
                f"{k}户外地业主未联系上 / {_plural(k, 'absentee owner')} unreached",
            )
        )
    dev = [h for h in hs if h.tenure.developer_held and h.vote in (None, Vote.ABSENT)]
    if dev:
        area = sum(h.area_m2 for h in dev)
        total = sum(h.area_m2 for h in hs)
        k = len(dev)
        out.append(
            Finding(
                Obstacle.TENURE,
                _severity(Obstacle.TENURE, float(area / total) if total else 0.0),
                order(h.room for h in dev),
                f"{k}套开发商持有房屋未表决（{area}㎡） / "
                f"{_plural(k, 'developer-held flat')} without a vote ({area} m²)",
            )
        )
    return out


def _cost_findings(snapshot: UnitSnapshot, order: _Rooms) -> list[Finding]:
    """One finding per household whose share exceeds what it says it can pay.

    An opposing household that gives cost as its reason, with no figures recorded, is a cost
    finding too: the gap is then unknown and the message says so.
    """
    compared = [
        h
        for h in snapshot.households
        if h.ability_to_pay_fen is not None and h.share_fen is not None
    ]
    short = [h for h in compared if h.cannot_afford]
    objecting = {o.room for o in snapshot.objections if o.status.unresolved}
    worried = [
        h
        for h in snapshot.households
        if _opposing(h)
        and "cost" in h.stance_reasons
        and h not in short
        and h.room not in objecting
        and h.floor > LOW_FLOOR_MAX
    ]
    out = []
    if short:
        severity = _severity(Obstacle.COST, len(short) / len(compared))
        for room in order(h.room for h in short):
            h = snapshot.household(room)
            gap = (h.share_fen or 0) - (h.ability_to_pay_fen or 0)
            out.append(
                Finding(
                    Obstacle.COST,
                    severity,
                    (room,),
                    f"{room}分摊{_yuan(h.share_fen or 0)}，超出其承受能力{_yuan(h.ability_to_pay_fen or 0)}"
                    f"（缺口{_yuan(gap)}） / {room}: cost share above ability to pay (gap {_yuan(gap)})",
                    ("cost",),
                )
            )
    for room in order(h.room for h in worried):
        out.append(
            Finding(
                Obstacle.COST,
                _severity(Obstacle.COST, 1 / len(snapshot.households)),
                (room,),
                f"{room}因费用反对，承受能力未登记（缺口未知） / "
                f"{room} opposes over cost; ability to pay not recorded (gap unknown)",
                ("cost",),
            )
        )
    return out


def _information_findings(
    snapshot: UnitSnapshot, order: _Rooms, reached: frozenset[str]
) -> list[Finding]:
    hs = snapshot.households
    never = [h.room for h in hs if h.stance is Stance.UNKNOWN and h.room not in reached]
    if not never:
        return []
    k = len(never)
    return [
        Finding(
            Obstacle.INFORMATION,
            _severity(Obstacle.INFORMATION, k / len(hs)),
            order(never),
            f"{k}户从未被告知 / {_plural(k, 'household')} never informed",
        )
    ]


def _trust_findings(snapshot: UnitSnapshot, order: _Rooms) -> list[Finding]:
    hs = snapshot.households
    rooms = [h.room for h in hs if distrustful(h)]
    if not rooms:
        return []
    k = len(rooms)
    return [
        Finding(
            Obstacle.TRUST,
            _severity(Obstacle.TRUST, k / len(hs)),
            order(rooms),
            f"{k}户不信任组织者或听信传言 / "
            f"{_plural(k, 'household')} {'distrusts' if k == 1 else 'distrust'} "
            "the organizers or heard rumours",
        )
    ]


def _technical_findings(snapshot: UnitSnapshot) -> list[Finding]:
    out = []
    for issue in snapshot.technical:
        if issue.resolved:
            continue
        note = f": {issue.note}" if issue.note else ""
        out.append(
            Finding(
                Obstacle.TECHNICAL,
                _clip(issue.severity / 3.0),
                (),
                f"技术问题未解决：{TECHNICAL_ZH.get(issue.kind, issue.kind)}（严重度{issue.severity}/3） / "
                f"unresolved technical issue: {issue.kind} (severity {issue.severity}/3){note}",
            )
        )
    return out


def _need_findings(snapshot: UnitSnapshot, order: _Rooms) -> list[Finding]:
    # Claim weak need only when someone recorded residents: silence is not evidence.
    if not any(h.residents for h in snapshot.households):
        return []
    upper = [h for h in snapshot.households if h.floor >= NEED_FLOOR_MIN and h.lives_here]
    recorded = [h for h in upper if h.residents]
    if (upper and not recorded) or any(has_need(h) for h in recorded):
        return []
    missing = len(upper) - len(recorded)
    note_zh = f"（{missing}户未登记）" if missing else ""
    note_en = f" ({missing} not recorded)" if missing else ""
    message = (
        f"{NEED_FLOOR_MIN}层及以上无老人或行动不便住户，需求偏弱{note_zh} / "
        f"no household on floor {NEED_FLOOR_MIN} or above has a resident aged 60+ "
        f"or a mobility need: weak need{note_en}"
    )
    return [Finding(Obstacle.NEED, WEAK_NEED_SEVERITY, order(h.room for h in upper), message)]


def consent_for(snapshot: UnitSnapshot) -> ConsentResult:
    """The unit's consent tally under its rule; a flat with no vote yet counts as absent."""
    rooms = set(snapshot.rooms)
    flats = [
        Flat(
            id=h.room,
            area_cm2=area_to_cm2(h.area_m2),
            owner=h.owner,
            vote=h.vote or Vote.ABSENT,
            developer_held=h.tenure.developer_held,
            floor=h.floor,
        )
        for h in snapshot.households
    ]
    objections = [Objection(o.room, o.status) for o in snapshot.objections if o.room in rooms]
    occupied = [r for r in snapshot.occupied if r in rooms]
    return evaluate(load_profile(snapshot.consent_profile), flats, objections, occupied)


def _legitimacy_findings(
    snapshot: UnitSnapshot, order: _Rooms, consent: ConsentResult | None
) -> list[Finding]:
    if consent is None:
        if not any(h.vote is not None for h in snapshot.households):
            return []  # no vote round yet: nothing to fall short of
        try:
            consent = consent_for(snapshot)
        except ColiftError as exc:
            return [
                Finding(
                    Obstacle.LEGITIMACY,
                    SEVERITY_SCALE[Obstacle.LEGITIMACY][0],
                    (),
                    f"表决无法计票 / votes cannot be counted: {exc.message}",
                )
            ]
    if consent.passed:
        return []
    # How far the worst unmet check is, as a share of its base: more missing, more severe.
    worst = max(
        (c.short_by / c.denominator for c in consent.checks if not c.met and c.denominator),
        default=0.0,
    )
    margin = consent.margin()
    heads, area = margin["heads"], margin["area_m2"]
    if heads or area != format_area(0, round_up=True):
        zh = f"尚差{heads}位业主、{area}㎡"
    else:
        zh = "有未解决异议或被占用业主未同意"
    waiting = [h.room for h in snapshot.households if h.vote is not Vote.AGREE]
    message = (
        f"同意未达{consent.profile.name_zh}要求，{zh} / consent not reached under "
        f"{consent.profile.name_en}: {'; '.join(consent.reasons)}"
    )
    return [
        Finding(
            Obstacle.LEGITIMACY,
            _severity(Obstacle.LEGITIMACY, worst),
            order(waiting),
            message,
        )
    ]


_KIND_ORDER = {kind: i for i, kind in enumerate(Obstacle)}


def obstacles(snapshot: UnitSnapshot, consent: ConsentResult | None = None) -> list[Finding]:
    """What stands in the way now, most severe first; `consent` may be a tally already made."""
    order = _Rooms(snapshot)
    reached = reached_rooms(snapshot)
    found = [
        *_objection_findings(snapshot, order),
        *_interest_findings(snapshot, order),
        *_tenure_findings(snapshot, order, reached),
        *_cost_findings(snapshot, order),
        *_information_findings(snapshot, order, reached),
        *_trust_findings(snapshot, order),
        *_technical_findings(snapshot),
        *_need_findings(snapshot, order),
        *_legitimacy_findings(snapshot, order, consent),
    ]
    return sorted(found, key=lambda f: (-f.severity, _KIND_ORDER[f.kind], f.households))
