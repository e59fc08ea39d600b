"""The stages of one unit's retrofit (domain.md §5) as a state machine with gates.

A unit's project moves forward one stage at a time, and only through an open gate: each gate is
a pure check over `GateFacts`, the few facts a service reads from the store. A project may go
back to any earlier stage (a redesign, a new vote) and may be suspended from any stage; both
need a reason, and a suspended project resumes at the stage it left. Nothing here reads the
database or the clock: `today` is a fact like the others.

The public notice (公示) rule, domain.md §2: its days are the profile's `[notice]`, counted as
the Civil Code counts periods (`rules.periods`: from the day after posting, a last day on a rest
day moved to the next working day, working days where the city counts them). It cannot be passed
while an objection blocks it; which ones block is the profile's `objections_block` (every
unresolved one, those raised during the notice, or none by itself) and `litigation_blocks_notice`
(whether one in court blocks whenever it was raised).

Steps the law or the city requires (`WorkStep`) are recorded with their day and read by the
gates as the profile says: design and pipeline survey before the vote, a structural safety
appraisal before the notice, the written installation notice to market supervision before works
(特种设备安全法 art. 23), the supervision inspection before acceptance (art. 25). Any step may be
recorded at any stage, so a unit may survey its pipes and draw its plan before the vote.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from colift.errors import RuleViolation
from colift.i18n import Label, msg
from colift.model.coproduction import STAGE_NAMES_ZH, STAGE_ORDER, Stage
from colift.model.voting import ObjectionStatus
from colift.rules.consent import ConsentProfile, ConsentResult, ObjectionsBlock
from colift.rules.periods import Period, notice_period

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


class WorkStep(StrEnum):
    """A step of the works the law or the city requires, recorded with its day."""

    PIPELINE_SURVEY = "pipeline_survey"
    PRELIMINARY_DESIGN = "preliminary_design"
    STRUCTURAL_APPRAISAL = "structural_appraisal"
    INSTALLATION_NOTICE = "installation_notice"
    SUPERVISION_INSPECTION = "supervision_inspection"


WORK_STEP_NAMES: Mapping[WorkStep, Label] = MappingProxyType(
    {
        WorkStep.PIPELINE_SURVEY: Label("管线踏勘", "pipeline survey"),
        WorkStep.PRELIMINARY_DESIGN: Label("初步设计方案", "preliminary design"),
        WorkStep.STRUCTURAL_APPRAISAL: Label("房屋结构安全鉴定", "structural safety appraisal"),
        WorkStep.INSTALLATION_NOTICE: Label(
            "特种设备安装书面告知", "written installation notice to market supervision"
        ),
        WorkStep.SUPERVISION_INSPECTION: Label(
            "电梯监督检验", "supervision inspection of the lift"
        ),
    }
)


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
    steps: Mapping[WorkStep, date] = field(default_factory=dict)  # recorded steps and their day


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
        super().__init__(
            msg(
                "{cannot}: {failures}",
                cannot=Label(f"不能进入{STAGE_NAMES_ZH[target]}", _CANNOT_EN[target]),
                failures=Label(zh, en),
            )
        )
        # the English says why in the rule's terms: a Chinese page shows it behind 详情
        self.detail = en


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
            "the project is already at {value}",
            STAGE_NAMES_ZH=STAGE_NAMES_ZH[current],
            value=current.value,
        )
    if current is Stage.SUSPENDED:
        if suspended_from is None:
            raise RuleViolation(
                "the stage the project was suspended from is not on record, so it cannot resume"
            )
        if target is not suspended_from:
            raise RuleViolation(
                "a suspended project resumes at the stage it left ({value}), not at {value2}; go back from there if needed",
                STAGE_NAMES_ZH=STAGE_NAMES_ZH[suspended_from],
                value=suspended_from.value,
                value2=target.value,
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
            "cannot go from {value} to {value2}: advance one stage at a time; the next stage is {stage_label}",
            STAGE_NAMES_ZH=STAGE_NAMES_ZH[current],
            STAGE_NAMES_ZH2=STAGE_NAMES_ZH[target],
            value=current.value,
            value2=target.value,
            stage_label=stage_label(forward),
        )
    return MoveKind.FORWARD


# ---------------------------------------------------------------- the notice


def notice_window(profile: ConsentProfile, opened_on: date) -> Period:
    """The notice's days under the profile: first, last (inclusive) and when it has elapsed."""
    return notice_period(opened_on, profile.notice)


def blocking_objections(
    objections: Iterable[ObjectionFact],
    profile: ConsentProfile,
    notice_opened_on: date | None,
) -> tuple[str, ...]:
    """Rooms whose objections keep the notice from being passed (module docstring), in order.

    Under `during-notice`, an objection raised before the notice was answered by the vote: the
    owner must object again during the notice for it to hold up the filing; one raised after
    the notice's last day is late (courts have refused such late obstruction, domain.md §2).
    """
    rooms: dict[str, None] = {}
    window = None if notice_opened_on is None else notice_window(profile, notice_opened_on)
    for o in objections:
        status = ObjectionStatus(o.status)
        if not status.unresolved:
            continue
        if profile.objections_block is ObjectionsBlock.ANY:
            blocks = True
        elif profile.objections_block is ObjectionsBlock.DURING_NOTICE:
            blocks = window is not None and window.contains(o.raised_on)
        else:
            blocks = False
        if profile.litigation_blocks_notice and status is ObjectionStatus.LITIGATION:
            blocks = True
        if blocks:
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
    return [
        GateFailure("表决未通过", f"consent has not passed under {consent.profile.name_en}{detail}")
    ]


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
    rule = facts.profile.notice
    opened = facts.notice_opened_on
    if opened is None:
        failures.append(
            GateFailure("公示开始日期未记录", "the day the notice was opened is not on record")
        )
    else:
        window = notice_window(facts.profile, opened)
        if not window.elapsed(facts.today):
            last, until = window.last_day.isoformat(), window.elapsed_on.isoformat()
            failures.append(
                GateFailure(
                    f"公示期未满（{opened.isoformat()}张贴，公示{rule.describe_zh()}，"
                    f"至{last}止，{until}起方可结束）",
                    f"the notice posted on {opened.isoformat()} ({rule.describe_en()}) runs "
                    f"through {last}: it can be passed from {until}",
                )
            )
    rooms = facts.unresolved_blocking_objections
    if rooms:
        listed = ", ".join(rooms)
        block = facts.profile.objections_block
        if block is ObjectionsBlock.ANY:
            why = f"{facts.profile.id} requires that no owner objects"
        elif facts.profile.litigation_blocks_notice:
            why = "objections raised during the notice, and any in court, must be handled first"
        else:
            why = "objections raised during the notice must be handled first"
        failures.append(
            GateFailure(
                f"异议尚未处理完毕（{listed}）",
                f"unresolved objection by {listed}: {why}",
            )
        )
    return failures


def _missing_steps(facts: GateFacts, wanted: Iterable[WorkStep]) -> list[GateFailure]:
    failures = []
    for step in wanted:
        done = facts.steps.get(step)
        name = WORK_STEP_NAMES[step]
        if done is None:
            failures.append(
                GateFailure(f"尚未记录{name.zh}", f"no {name.en} is on record: record it first")
            )
        elif done > facts.today:
            failures.append(
                GateFailure(
                    f"{name.zh}日期{done.isoformat()}晚于今天",
                    f"the {name.en} is dated {done.isoformat()}, after {facts.today.isoformat()}",
                )
            )
    return failures


def _vote_failures(facts: GateFacts) -> list[GateFailure]:
    failures = []
    if not facts.has_cost_plan:
        failures.append(
            GateFailure(
                "没有费用分摊方案",
                "there is no cost plan: what the owners vote on must be priced",
            )
        )
    if facts.profile.workflow.plan_before_vote:
        failures += _missing_steps(facts, (WorkStep.PIPELINE_SURVEY, WorkStep.PRELIMINARY_DESIGN))
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
    workflow = facts.profile.workflow
    if target is Stage.VOTE:
        return _vote_failures(facts)
    if target is Stage.DESIGN:
        return _consent_failures(facts)
    if target is Stage.NOTICE:
        appraisal = (WorkStep.STRUCTURAL_APPRAISAL,) if workflow.structural_appraisal else ()
        return (
            _consent_failures(facts) + _technical_failures(facts) + _missing_steps(facts, appraisal)
        )
    if target is Stage.APPROVAL:
        return _notice_failures(facts)
    if target is Stage.CONSTRUCTION:
        failures = []
        if not (facts.approval_reference or "").strip():
            failures.append(
                GateFailure(
                    "缺少审批或备案编号",
                    "no approval reference: give the construction permit or planning filing number",
                )
            )
        if workflow.installation_notice:
            failures += _missing_steps(facts, (WorkStep.INSTALLATION_NOTICE,))
        return failures
    if target is Stage.ACCEPTANCE and workflow.supervision_inspection:
        return _missing_steps(facts, (WorkStep.SUPERVISION_INSPECTION,))
    if target is Stage.OPERATION:
        return _operation_failures(facts)
    return []


def gate_warnings(current: Stage, target: Stage, facts: GateFacts) -> list[str]:
    """What an open gate lets through but a worker should know, in Chinese and English."""
    current, target = Stage(current), Stage(target)
    if next_stage(current) is not target:
        return []
    warnings: list[str] = []
    if target in (Stage.DESIGN, Stage.NOTICE) and facts.consent is not None:
        warnings += [
            f"{w.render('zh-CN')} / {w.render('en')}" for w in facts.consent.all_warnings()
        ]
    if target is Stage.APPROVAL and facts.notice_opened_on is not None:
        window = notice_window(facts.profile, facts.notice_opened_on)
        warnings += [f"{w.render('zh-CN')} / {w.render('en')}" for w in window.assumptions]
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
