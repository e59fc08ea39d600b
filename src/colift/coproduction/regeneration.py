"""Community regeneration (社区更新), the end of the study's path, tracked after a lift runs.

The seed study's path ends in community regeneration: a compound whose residents co-produced a
lift goes on to act together again. colift measures it from what the compound records after
its first lift entered operation (path-model.md §7):

- later collective actions: 楼道改造, a second lift, a shared fund, volunteer duty, others;
- conflicts and complaints over time: how many a year before the lift ran and after;
- participation in the next project: the share of households taking part in the first
  collective action recorded after the lift.

The evidence code `outcome.regeneration` names the same outcome in coded interviews.
Every figure is a count of records; nothing is inferred that was not recorded, and before any
lift runs the outcome says "not yet" rather than zero.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any

EVIDENCE_CODE = "outcome.regeneration"
DAYS_PER_YEAR = 365


class RegenerationKind(StrEnum):
    """What was recorded in the compound after (or before) a lift ran."""

    STAIRWELL_RENOVATION = "stairwell_renovation"  # 楼道改造
    SECOND_LIFT = "second_lift"  # 再装一部电梯
    SHARED_FUND = "shared_fund"  # 共同基金
    VOLUNTEER_DUTY = "volunteer_duty"  # 志愿值守、志愿服务
    OTHER_ACTION = "other_action"  # 其他集体行动
    CONFLICT = "conflict"  # 邻里纠纷
    COMPLAINT = "complaint"  # 投诉

    @property
    def collective(self) -> bool:
        return self not in (RegenerationKind.CONFLICT, RegenerationKind.COMPLAINT)


KIND_NAMES_ZH: dict[RegenerationKind, str] = {
    RegenerationKind.STAIRWELL_RENOVATION: "楼道改造",
    RegenerationKind.SECOND_LIFT: "再装电梯",
    RegenerationKind.SHARED_FUND: "共同基金",
    RegenerationKind.VOLUNTEER_DUTY: "志愿服务",
    RegenerationKind.OTHER_ACTION: "其他集体行动",
    RegenerationKind.CONFLICT: "邻里纠纷",
    RegenerationKind.COMPLAINT: "投诉",
}


@dataclass(frozen=True)
class RegenerationEvent:
    """One record: a collective action, a conflict or a complaint in a compound."""

    kind: RegenerationKind
    on: date
    households: int = 0  # households that took part (actions) or were involved (conflicts)
    of_households: int = 0  # households asked or concerned; 0 when not recorded
    title: str = ""
    unit_id: int | None = None
    id: int | None = None

    @property
    def kind_zh(self) -> str:
        return KIND_NAMES_ZH[self.kind]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind.value,
            "on": self.on.isoformat(),
            "households": self.households,
            "of_households": self.of_households,
            "title": self.title,
            "unit_id": self.unit_id,
        }


@dataclass(frozen=True)
class RegenerationOutcome:
    lift_since: date | None  # the day the compound's first lift entered operation
    actions_after: int
    action_kinds: dict[str, int]
    conflicts_per_year_before: Fraction | None  # None: no time before (or after) to count over
    conflicts_per_year_after: Fraction | None
    next_participation: Fraction | None  # share taking part in the first action after the lift
    events: tuple[RegenerationEvent, ...]

    @property
    def started(self) -> bool:
        return self.lift_since is not None

    def summary_zh(self) -> str:
        """One line for the compound page and the report; unknown said as unknown."""
        if self.lift_since is None:
            return "小区尚无电梯投入运行：社区更新尚无从谈起"
        parts = [f"首部电梯自{self.lift_since.isoformat()}运行以来，集体行动{self.actions_after}项"]
        if self.action_kinds:
            kinds = "、".join(
                f"{KIND_NAMES_ZH[RegenerationKind(k)]}{n}" for k, n in self.action_kinds.items()
            )
            parts[0] += f"（{kinds}）"
        before, after = self.conflicts_per_year_before, self.conflicts_per_year_after
        if before is None or after is None:
            parts.append("纠纷与投诉的前后变化：记录时间不足，未知")
        else:
            parts.append(f"纠纷与投诉每年{float(before):.1f}起→{float(after):.1f}起")
        if self.next_participation is None:
            parts.append("下一项目参与率：未知")
        else:
            parts.append(f"下一项目参与率{float(self.next_participation):.0%}")
        return "；".join(parts)

    def summary_en(self) -> str:
        if self.lift_since is None:
            return "no lift runs in the compound yet: regeneration cannot be read"
        before, after = self.conflicts_per_year_before, self.conflicts_per_year_after
        conflicts = (
            "conflicts a year before and after: unknown (too little recorded time)"
            if before is None or after is None
            else f"conflicts a year {float(before):.1f} before, {float(after):.1f} after"
        )
        share = (
            "participation in the next action unknown"
            if self.next_participation is None
            else f"{float(self.next_participation):.0%} took part in the next action"
        )
        return (
            f"since the first lift ran on {self.lift_since.isoformat()}: "
            f"{self.actions_after} collective actions; {conflicts}; {share}"
        )

    def to_json(self) -> dict[str, Any]:
        def frac(x: Fraction | None) -> float | None:
            return None if x is None else round(float(x), 3)

        return {
            "evidence_code": EVIDENCE_CODE,
            "lift_since": None if self.lift_since is None else self.lift_since.isoformat(),
            "actions_after": self.actions_after,
            "action_kinds": self.action_kinds,
            "conflicts_per_year_before": frac(self.conflicts_per_year_before),
            "conflicts_per_year_after": frac(self.conflicts_per_year_after),
            "next_participation": frac(self.next_participation),
            "events": [e.to_json() for e in self.events],
            "summary_zh": self.summary_zh(),
        }


def _per_year(count: int, days: int) -> Fraction | None:
    return Fraction(count * DAYS_PER_YEAR, days) if days > 0 else None


def regeneration_outcome(
    events: Iterable[RegenerationEvent],
    lift_since: date | None,
    today: date,
    *,
    recorded_since: date | None = None,
) -> RegenerationOutcome:
    """The compound's regeneration outcome on `today`, from its records.

    Conflicts a year are counted from `recorded_since` (the first record, when not given) to the
    lift, and from the lift to `today`.
    """
    ordered = tuple(sorted(events, key=lambda e: (e.on, e.id or 0)))
    if lift_since is None:
        return RegenerationOutcome(None, 0, {}, None, None, None, ordered)
    after = [e for e in ordered if e.on >= lift_since and e.on <= today]
    actions = [e for e in after if e.kind.collective]
    kinds: dict[str, int] = {}
    for e in actions:
        kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
    start = recorded_since or (ordered[0].on if ordered else lift_since)
    conflicts_before = sum(1 for e in ordered if not e.kind.collective and e.on < lift_since)
    conflicts_after = sum(1 for e in after if not e.kind.collective)
    first = next((e for e in actions if e.of_households > 0), None)
    participation = (
        None
        if first is None
        else Fraction(min(first.households, first.of_households), first.of_households)
    )
    return RegenerationOutcome(
        lift_since,
        len(actions),
        kinds,
        _per_year(conflicts_before, (lift_since - start).days),
        _per_year(conflicts_after, (today - lift_since).days),
        participation,
        ordered,
    )
