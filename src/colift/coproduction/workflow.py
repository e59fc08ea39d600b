"""The stages of one unit's retrofit (domain.md §5) as a state machine with gates.

A unit's project moves forward one stage at a time, and only through an open gate: each gate is
a pure check over `GateFacts`, the few facts a service reads from the store. A project may go
back to any earlier stage (a redesign, a new vote) and may be suspended from any stage; both
need a reason, and a suspended project resumes at the stage it left. Nothing here reads the
database or the clock: `today` is a fact like the others.

The public notice (公示) rule, domain.md §2: the notice is over once `notice_days` full days have
been posted, counting the day it went up (so a 20-day notice opened on 1 May can be passed on
21 May). It cannot be passed while an objection blocks it: under a rule requiring that no owner
objects, every unresolved objection blocks; under the other rules, an objection raised during the
notice blocks until it is resolved, withdrawn or overruled, and one in court blocks whenever it
was raised.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from colift.errors import RuleViolation
from colift.model.coproduction import STAGE_NAMES_ZH, STAGE_ORDER, Stage
from colift.model.voting import ObjectionStatus
from colift.rules.consent import ConsentProfile, ConsentResult

# The governance tool whose recorded use means the written agreement (加装协议) was signed.
WRITTEN_AGREEMENT_TOOL = "written_agreement"
# A technical issue of this severity blocks any plan until solved (model.TechnicalIssue).
BLOCKING_SEVERITY = 3
# Special-equipment use registration is due within this many days of starting use (domain.md §5).
REGISTRATION_DAYS = 30

# What a refused move into each stage says, after "不能进入<stage>" in Chinese.
_CANNOT_EN: Mapping[Stage, str] = {
    Stage.SURVEY: "cannot start the willingness survey",
    Stage.CONSULTATION: "cannot start the consultation",
    Stage.VOTE: "cannot open the vote",
    Stage.DESIGN: "cannot start the design",
    Stage.NOTICE: "cannot open the public notice",
    Stage.APPROVAL: "cannot close the public notice and go to approval",
    Stage.CONSTRUCTION: "cannot start construction",
    Stage.ACCEPTANCE: "cannot go to completion acceptance",
    Stage.OPERATION: "cannot put the lift into operation",
    Stage.SUSPENDED: "cannot suspend the project",
}


class MoveKind(StrEnum):
    FORWARD = "forward"  # to the next stage, through its gate
    BACK = "back"  # to an earlier stage: redesign, a new vote (reason required)
    SUSPEND = "suspend"  # stalled: waiting for a decision or a court (reason required)
    RESUME = "resume"  # back to the stage it was suspended from (reason required)


@dataclass(frozen=True)
class ObjectionFact:
    """An objection as the notice gate reads it."""

    room: str
    status: ObjectionStatus
    raised_on: date


@dataclass(frozen=True)
class GateFacts:
    """What the gates read about one unit, gathered by the service in one transaction."""

    profile: ConsentProfile
    today: date
    consent: ConsentResult | None = None  # None: no vote could be counted
    has_cost_plan: bool = False
    written_agreement_signed: bool = False
    notice_opened_on: date | None = None
    unresolved_blocking_objections: tuple[str, ...] = ()  # rooms; see `blocking_objections`
    approval_reference: str | None = None
    acceptance_on: date | None = None
    registration_reference: str | None = None
    unresolved_technical_severity: int = 0  # the highest severity still unresolved; 0 if none


@dataclass(frozen=True)
class GateFailure:
    """One closed gate condition, in Chinese and English."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


class GateClosed(RuleViolation):
    """A forward move refused because one or more gate conditions fail; lists every one."""

    def __init__(self, target: Stage, failures: Iterable[GateFailure]) -> None:
        self.target = target
        self.failures = tuple(failures)
        zh = "；".join(f.zh for f in self.failures)
        en = "; ".join(f.en for f in self.failures)
        super().__init__(f"不能进入{STAGE_NAMES_ZH[target]}：{zh} / {_CANNOT_EN[target]}: {en}")


def stage_label(stage: Stage) -> str:
    """Chinese then English name, e.g. "公示 notice"."""
    return f"{STAGE_NAMES_ZH[stage]} {stage.value}"


# ---------------------------------------------------------------- moves


def next_stage(current: Stage) -> Stage | None:
    """The stage after `current` in the order of a retrofit, or None after the last."""
    if current is Stage.SUSPENDED:
        return None
    i = STAGE_ORDER.index(current)
    return STAGE_ORDER[i + 1] if i + 1 < len(STAGE_ORDER) else None


def next_stages(current: Stage, *, suspended_from: Stage | None = None) -> tuple[Stage, ...]:
    """Every stage `current` may move to, gates aside: forward, suspend, then back (nearest first).

    A suspended project can only resume at the stage it left, which only the caller knows.
    """
    current = Stage(current)
    if current is Stage.SUSPENDED:
        return () if suspended_from is None else (suspended_from,)
    forward = next_stage(current)
    back = tuple(reversed(STAGE_ORDER[: STAGE_ORDER.index(current)]))
    return ((forward,) if forward else ()) + (Stage.SUSPENDED,) + back


def classify_move(
    current: Stage, target: Stage, *, suspended_from: Stage | None = None
) -> MoveKind:
    """What kind of move `current` → `target` is; RuleViolation if the machine has no such move."""
    current, target = Stage(current), Stage(target)
    if current is target:
        raise RuleViolation(
            f"项目已处于{STAGE_NAMES_ZH[current]}阶段 / the project is already at {current.value}"
        )
    if current is Stage.SUSPENDED:
        if suspended_from is None:
            raise RuleViolation(
                "暂停前所处阶段未记录，无法恢复 / the stage the project was suspended from is not "
                "on record, so it cannot resume"
            )
        if target is not suspended_from:
            raise RuleViolation(
                f"暂停的项目只能恢复到暂停前的{STAGE_NAMES_ZH[suspended_from]}阶段 / a suspended "
                f"project resumes at the stage it left ({suspended_from.value}), not at "
                f"{target.value}; go back from there if needed"
            )
        return MoveKind.RESUME
    if target is Stage.SUSPENDED:
        return MoveKind.SUSPEND
    if target.order < current.order:
        return MoveKind.BACK
    forward = next_stage(current)
    if target is not forward:
        assert forward is not None  # a later stage exists, so does the next one
        raise RuleViolation(
            f"不能从{STAGE_NAMES_ZH[current]}直接进入{STAGE_NAMES_ZH[target]}：每次只能前进一个阶段 / "
            f"cannot go from {current.value} to {target.value}: advance one stage at a time; "
            f"the next stage is {stage_label(forward)}"
        )
    return MoveKind.FORWARD


# ---------------------------------------------------------------- the notice


def notice_elapsed_on(opened_on: date, notice_days: int) -> date:
    """The first day a notice opened on `opened_on` counts as elapsed.

    The day the notice goes up is its first day, as posted notices count it ("公示期自5月1日至
    5月20日" is 20 days), and the last day is included (Civil Code art. 1259: 届满 includes
    the number): the notice runs through opened_on + days − 1 and has elapsed the day after.
    A city that counts from the next day (Civil Code art. 201) sets one more day in its profile.
    """
    return opened_on + timedelta(days=notice_days)


def notice_elapsed(opened_on: date, notice_days: int, today: date) -> bool:
    return today >= notice_elapsed_on(opened_on, notice_days)


def blocking_objections(
    objections: Iterable[ObjectionFact],
    profile: ConsentProfile,
    notice_opened_on: date | None,
) -> tuple[str, ...]:
    """Rooms whose objections keep the notice from being passed (module docstring), in order.

    An objection raised before the notice under a majority rule was answered by the vote; the
    owner must object again during the notice for it to hold up the filing. One raised after
    the notice elapsed is late (courts have refused such late obstruction, domain.md §2).
    """
    rooms: dict[str, None] = {}
    window_end = (
        None
        if notice_opened_on is None
        else notice_elapsed_on(notice_opened_on, profile.notice_days)
    )
    for o in objections:
        status = ObjectionStatus(o.status)
        if not status.unresolved:
            continue
        during_notice = (
            notice_opened_on is not None
            and window_end is not None
            and notice_opened_on <= o.raised_on < window_end
        )
        if profile.no_unresolved_objection or status is ObjectionStatus.LITIGATION or during_notice:
            rooms.setdefault(o.room, None)
    return tuple(rooms)


# ---------------------------------------------------------------- gates


def _consent_failures(facts: GateFacts) -> list[GateFailure]:
    consent = facts.consent
    if consent is None:
        return [
            GateFailure(
                "尚无表决结果",
                "no vote has been counted for this unit: open a vote round and record votes",
            )
        ]
    if consent.passed:
        return []
    reasons = "; ".join(consent.reasons)
    detail = f": {reasons}" if reasons else ""
    return [GateFailure("表决未通过", f"consent has not passed under {consent.profile.id}{detail}")]


def _technical_failures(facts: GateFacts) -> list[GateFailure]:
    if facts.unresolved_technical_severity < BLOCKING_SEVERITY:
        return []
    return [
        GateFailure(
            "存在未解决的严重技术问题",
            f"an unresolved severity-{BLOCKING_SEVERITY} technical issue blocks any plan until "
            "it is solved",
        )
    ]


def _notice_failures(facts: GateFacts) -> list[GateFailure]:
    failures: list[GateFailure] = []
    days = facts.profile.notice_days
    opened = facts.notice_opened_on
    if opened is None:
        failures.append(
            GateFailure("公示开始日期未记录", "the day the notice was opened is not on record")
        )
    elif not notice_elapsed(opened, days, facts.today):
        until = notice_elapsed_on(opened, days)
        failures.append(
            GateFailure(
                f"公示期未满（{opened.isoformat()}起公示{days}天，{until.isoformat()}起方可结束）",
                f"the {days}-day notice opened on {opened.isoformat()} has not elapsed: it can "
                f"be passed from {until.isoformat()}",
            )
        )
    rooms = facts.unresolved_blocking_objections
    if rooms:
        listed = ", ".join(rooms)
        if facts.profile.no_unresolved_objection:
            why = f"{facts.profile.id} requires that no owner objects"
        else:
            why = "objections raised during the notice, and any in court, must be handled first"
        failures.append(
            GateFailure(
                f"异议尚未处理完毕（{listed}）",
                f"unresolved objection by {listed}: {why}",
            )
        )
    return failures


def _operation_failures(facts: GateFacts) -> list[GateFailure]:
    failures: list[GateFailure] = []
    if facts.acceptance_on is None:
        failures.append(
            GateFailure(
                "缺少竣工验收日期", "no acceptance date: give the day the lift passed acceptance"
            )
        )
    elif facts.acceptance_on > facts.today:
        failures.append(
            GateFailure(
                "竣工验收日期晚于今天",
                f"the acceptance date {facts.acceptance_on.isoformat()} is after "
                f"{facts.today.isoformat()}",
            )
        )
    if not (facts.registration_reference or "").strip():
        failures.append(
            GateFailure(
                "缺少特种设备使用登记编号",
                "no special-equipment use registration number (特种设备使用登记)",
            )
        )
    return failures


def gate_failures(current: Stage, target: Stage, facts: GateFacts) -> list[GateFailure]:
    """Every failing condition of the gate from `current` forward into `target` ([] if open)."""
    current, target = Stage(current), Stage(target)
    if next_stage(current) is not target:
        return []
    if target is Stage.VOTE and not facts.has_cost_plan:
        return [
            GateFailure(
                "没有费用分摊方案",
                "there is no cost plan: what the owners vote on must be priced",
            )
        ]
    if target is Stage.DESIGN:
        return _consent_failures(facts)
    if target is Stage.NOTICE:
        return _consent_failures(facts) + _technical_failures(facts)
    if target is Stage.APPROVAL:
        return _notice_failures(facts)
    if target is Stage.CONSTRUCTION and not (facts.approval_reference or "").strip():
        return [
            GateFailure(
                "缺少审批或备案编号",
                "no approval reference: give the construction permit or planning filing number",
            )
        ]
    if target is Stage.OPERATION:
        return _operation_failures(facts)
    return []


def gate_warnings(current: Stage, target: Stage, facts: GateFacts) -> list[str]:
    """What an open gate lets through but a worker should know, in Chinese and English."""
    current, target = Stage(current), Stage(target)
    if next_stage(current) is not target:
        return []
    warnings: list[str] = []
    if target is Stage.VOTE and not facts.written_agreement_signed:
        warnings.append(
            "尚未记录签订加装协议 / no signed written agreement (加装协议) is on record yet"
        )
    if target is Stage.OPERATION and facts.acceptance_on is not None:
        late = (facts.today - facts.acceptance_on).days - REGISTRATION_DAYS
        if late > 0:
            warnings.append(
                f"使用登记应在投入使用后{REGISTRATION_DAYS}日内办理，已超过{late}天 / the "
                f"special-equipment use registration is due within {REGISTRATION_DAYS} days of "
                f"starting use: {late} days late counted from acceptance on "
                f"{facts.acceptance_on.isoformat()}"
            )
    return warnings


def check_transition(
    current: Stage,
    target: Stage,
    facts: GateFacts,
    reason: str = "",
    *,
    suspended_from: Stage | None = None,
) -> list[str]:
    """Check the move `current` → `target`; returns warnings, raises RuleViolation if refused.

    A closed gate raises `GateClosed`, listing every failing condition at once.
    """
    kind = classify_move(current, target, suspended_from=suspended_from)
    current, target = Stage(current), Stage(target)
    if kind is not MoveKind.FORWARD and not reason.strip():
        raise RuleViolation(_reason_needed(kind, current, target))
    if kind is not MoveKind.FORWARD:
        return []
    failures = gate_failures(current, target, facts)
    if failures:
        raise GateClosed(target, failures)
    return gate_warnings(current, target, facts)


def _reason_needed(kind: MoveKind, current: Stage, target: Stage) -> str:
    if kind is MoveKind.BACK:
        return (
            f"退回{STAGE_NAMES_ZH[target]}阶段需要说明理由 / going back from {current.value} to "
            f"{target.value} needs a reason, e.g. a redesign or a new vote"
        )
    if kind is MoveKind.SUSPEND:
        return "暂停项目需要说明理由 / suspending the project needs a reason"
    return f"恢复到{STAGE_NAMES_ZH[target]}阶段需要说明理由 / resuming at {target.value} needs a reason"
