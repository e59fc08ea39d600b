"""Stage use cases: move a unit's project through its gates, see where it stands and how it got there.

Each function is one transaction. `advance_stage` reads every fact the gates need from the store,
asks `colift.coproduction.workflow` whether the move is allowed, and records it with who and why;
a refused move writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.coproduction.workflow import (
    WRITTEN_AGREEMENT_TOOL,
    GateFacts,
    GateFailure,
    ObjectionFact,
    WorkStep,
    blocking_objections,
    check_transition,
    classify_move,
    gate_failures,
    gate_warnings,
    next_stage,
)
from colift.errors import BadInput, RuleViolation
from colift.model.coproduction import Stage, StageTransition
from colift.rules.consent import ConsentResult, load_profile
from colift.services.consent import UnitConsent, unit_consent_in
from colift.store import UnitOfWork
from colift.store.coproduction import UnitProject
from colift.store.steps import StepRecord


@dataclass(frozen=True)
class StageAdvance(StageTransition):
    """A transition just recorded, with what the open gate let through but a worker should know."""

    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateReport:
    """Whether the unit could move to `target` today, and what stops it or deserves a look."""

    unit_id: int
    current: Stage
    target: Stage
    failures: tuple[GateFailure, ...]
    warnings: tuple[str, ...]

    @property
    def open(self) -> bool:
        return not self.failures


def _consent(uow: UnitOfWork, unit_id: int) -> ConsentResult | None:
    try:
        return unit_consent_in(uow, unit_id).result
    except BadInput:
        return None  # nothing to count (a unit without flats): the gates say no vote was counted


def _facts(
    uow: UnitOfWork,
    project: UnitProject,
    today: date,
    *,
    approval_reference: str | None = None,
    acceptance_on: date | None = None,
    registration_reference: str | None = None,
    counted: UnitConsent | None = None,
) -> GateFacts:
    unit_id = project.unit_id
    profile = load_profile(uow.units.info(unit_id).effective_profile, today)
    objections = [
        ObjectionFact(o.room, o.status, o.raised_on) for o in uow.objections.list_by_unit(unit_id)
    ]
    return GateFacts(
        profile=profile,
        today=today,
        consent=counted.result if counted is not None else _consent(uow, unit_id),
        has_cost_plan=uow.cost_plans.find(unit_id) is not None,
        written_agreement_signed=uow.activities.has_tool(unit_id, WRITTEN_AGREEMENT_TOOL),
        notice_opened_on=project.notice_opened_on,
        unresolved_blocking_objections=blocking_objections(
            objections, profile, project.notice_opened_on
        ),
        approval_reference=approval_reference or project.approval_reference,
        acceptance_on=acceptance_on or project.acceptance_on,
        registration_reference=registration_reference or project.registration_reference,
        unresolved_technical_severity=uow.technical.max_unresolved_severity(unit_id),
        steps={WorkStep(r.step): r.done_on for r in uow.steps.for_unit(unit_id)},
    )


def _references(
    target: Stage, reference: str, acceptance_on: date | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """What the move's `reference` and `acceptance_on` mean for `target`: (facts, project fields)."""
    ref = reference.strip() or None
    if target is Stage.CONSTRUCTION:
        return {"approval_reference": ref}, ({"approval_reference": ref} if ref else {})
    if target is Stage.OPERATION:
        stored: dict[str, Any] = {}
        if ref:
            stored["registration_reference"] = ref
        if acceptance_on is not None:
            stored["acceptance_on"] = acceptance_on
        return {"registration_reference": ref, "acceptance_on": acceptance_on}, stored
    if target is Stage.ACCEPTANCE and acceptance_on is not None:
        return {"acceptance_on": acceptance_on}, {"acceptance_on": acceptance_on}
    return {}, {}


def advance_stage(
    engine: Engine,
    unit_id: int,
    target: Stage,
    *,
    actor: str,
    reason: str = "",
    reference: str = "",
    on: date | None = None,
    acceptance_on: date | None = None,
) -> StageAdvance:
    """Move the unit's project to `target`: forward through its gate, back, suspend or resume.

    `reference` is the number that opened the gate: the permit or filing number entering
    construction, the special-equipment use registration number entering operation (with
    `acceptance_on`, the day the lift passed acceptance, unless already recorded). Entering the
    public notice records `on` as the day it opened. Refusals raise RuleViolation and write
    nothing; the returned transition carries the gate's warnings.
    """
    with UnitOfWork(engine) as uow:
        made = advance_in(
            uow,
            unit_id,
            target,
            actor=actor,
            reason=reason,
            reference=reference,
            on=on,
            acceptance_on=acceptance_on,
        )
        uow.commit()
        return made


def advance_in(
    uow: UnitOfWork,
    unit_id: int,
    target: Stage,
    *,
    actor: str,
    reason: str = "",
    reference: str = "",
    on: date | None = None,
    acceptance_on: date | None = None,
) -> StageAdvance:
    """`advance_stage` inside a caller's unit of work (the caller commits)."""
    target = Stage(target)
    if acceptance_on is not None and target not in (Stage.ACCEPTANCE, Stage.OPERATION):
        raise BadInput(
            "an acceptance date belongs to a move into acceptance or operation, not {value}",
            value=target.value,
        )
    today = on or date.today()
    project = uow.projects.get_or_create(unit_id, actor=actor, on=today)
    if project.stage_since is not None and today < project.stage_since:
        raise BadInput(
            "a stage change on {today} cannot come before the current stage began ({stage_since})",
            today=today,
            stage_since=project.stage_since,
        )
    given, updates = _references(target, reference, acceptance_on)
    facts = _facts(uow, project, today, **given)
    warnings = check_transition(
        project.stage, target, facts, reason, suspended_from=project.suspended_from
    )
    if target is Stage.NOTICE and project.stage is not Stage.SUSPENDED:
        updates["notice_opened_on"] = today  # a resumed notice keeps its first day
    made = uow.projects.record_transition(
        unit_id,
        target,
        actor=actor,
        on=today,
        reason=reason,
        reference=reference,
        expected_from=project.stage,
        updates=updates,
    )
    kept = {f.name: getattr(made, f.name) for f in fields(made)}
    return StageAdvance(**kept, warnings=tuple(warnings))


def check_stage(
    engine: Engine,
    unit_id: int,
    target: Stage | None = None,
    *,
    on: date | None = None,
    reference: str = "",
    acceptance_on: date | None = None,
    consent: UnitConsent | None = None,
) -> GateReport:
    """What stands between the unit and `target` (default: the next stage), writing nothing.

    Moves the machine does not have (skipping a stage) raise RuleViolation as `advance_stage` would.
    `consent`: the unit's consent as the caller has just counted it (the unit page), so it is not
    counted a second time; another unit's count is ignored.
    """
    today = on or date.today()
    with UnitOfWork(engine, read_only=True) as uow:
        project = uow.projects.get(unit_id)
        if target is None:
            target = project.suspended_from or next_stage(project.stage)
        if target is None:
            raise RuleViolation("the project is in operation, the last stage")
        target = Stage(target)
        classify_move(project.stage, target, suspended_from=project.suspended_from)
        given, _ = _references(target, reference, acceptance_on)
        counted = consent if consent is not None and consent.unit.id == unit_id else None
        facts = _facts(uow, project, today, **given, counted=counted)
        return GateReport(
            unit_id,
            project.stage,
            target,
            tuple(gate_failures(project.stage, target, facts)),
            tuple(gate_warnings(project.stage, target, facts)),
        )


def record_step(
    engine: Engine,
    unit_id: int,
    step: WorkStep | str,
    *,
    actor: str,
    on: date | None = None,
    reference: str = "",
) -> StepRecord:
    """Record that a required step was done on `on` (default today), with its reference.

    Any step may be recorded at any stage (a design and a pipeline survey before the vote);
    the gates read them as the unit's consent profile says. Recording it again corrects it."""
    try:
        kind = WorkStep(step)
    except ValueError:
        raise BadInput(
            "{step} is not a work step: use one of {steps}",
            step=repr(step),
            steps=", ".join(s.value for s in WorkStep),
        ) from None
    day = on or date.today()
    with UnitOfWork(engine) as uow:
        uow.units.info(unit_id)
        made = uow.steps.record(
            unit_id, kind.value, done_on=day, reference=reference.strip(), actor=actor
        )
        uow.commit()
        return made


def unit_steps(engine: Engine, unit_id: int) -> list[StepRecord]:
    """The unit's recorded work steps, oldest first."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)
        return uow.steps.for_unit(unit_id)


def unit_stage(engine: Engine, unit_id: int) -> UnitProject:
    """Where the unit's project stands (the survey stage if nothing was recorded yet)."""
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.projects.get(unit_id)


def stage_history(engine: Engine, unit_id: int) -> list[StageTransition]:
    """Every recorded move of the unit's project, oldest first, with who, when and why."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)  # NotFound for an unknown unit rather than an empty history
        return uow.projects.transitions(unit_id)


def compound_stages(engine: Engine, compound_id: int) -> dict[int, Stage]:
    """The stage of every unit of a compound, by unit id."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.compounds.get(compound_id)
        return uow.projects.stages_by_compound(compound_id)
