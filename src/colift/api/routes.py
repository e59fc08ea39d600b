"""The /api/v1 endpoints; each checks the caller's scope, then calls one service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from colift.coproduction.workflow import WorkStep
from colift.errors import BadInput, NotFound
from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.limits import Id, Name, Note, PastDay, bounded_ids
from colift.http.units import EngineDep, locate_unit
from colift.model import ObjectionStatus, parse_vote
from colift.model.coproduction import Stage
from colift.services.access import (
    Principal,
    Role,
    UnitPlace,
    can_act_for_room,
    can_manage_unit,
    can_read_compound,
    can_read_households,
    can_read_unit,
    is_admin,
    is_resident,
)
from colift.services.advice import unit_advice
from colift.services.consent import (
    EndedRound,
    UnitConsent,
    cast_vote,
    close_vote_round,
    objection_place,
    open_vote_round,
    raise_objection,
    round_place,
    set_objection_status,
    unit_consent,
    unit_rounds,
    void_vote_round,
)
from colift.services.registry import get_compound, list_compounds
from colift.services.reports import UnitReport, compound_report
from colift.services.views import consent_for
from colift.services.workflow import advance_stage, record_step, unit_stage, unit_steps
from colift.store import VoteRound

router = APIRouter(responses=ERROR_RESPONSES, dependencies=[Depends(bounded_ids)])


class VoteIn(BaseModel):
    unit_id: Id = Field(description="the unit (单元) whose open round takes the vote")
    room: Name = Field(min_length=1, description="the flat's room number, e.g. 502")
    vote: Name = Field(description="agree/同意, disagree/反对, abstain/弃权 or absent/未投票")
    on: PastDay | None = Field(None, description="the day the owner signed (default: none given)")


class RoundIn(BaseModel):
    unit_id: Id = Field(description="the unit the round is for")
    title: Name = Field("", description="e.g. 第二轮意愿征询")
    profile: Name | None = Field(
        None,
        max_length=100,
        description="a consent rule's name (beijing: the version in force on the opening day) "
        "or a dated id (beijing-2020), never a file path; default: the unit's own",
    )
    on: PastDay | None = Field(None, description="the day the round opens (default: today)")


class RoundCloseIn(BaseModel):
    on: PastDay | None = Field(None, description="the day the round closes (default: today)")


class RoundVoidIn(BaseModel):
    reason: Note = Field(
        min_length=1, max_length=2000, description="why the round is voided, e.g. 表决方案有误"
    )
    on: PastDay | None = Field(None, description="the day it is voided (default: today)")


class ObjectionIn(BaseModel):
    unit_id: Id = Field(description="the unit of the objecting flat")
    room: Name = Field(min_length=1, description="the objecting flat's room number")
    reasons: list[Name] = Field(
        description="reason codes or names: light/采光, noise/噪音, cost, ..."
    )
    notes: Note = Field("", description="what the household wrote")
    on: PastDay | None = Field(None, description="the day it was raised (default: today)")


class ObjectionStatusIn(BaseModel):
    status: ObjectionStatus = Field(description="the objection's new place in its lifecycle")
    notes: Note | None = Field(None, description="what was agreed or tried")
    on: PastDay | None = Field(None, description="the day of the move (default: today)")


class StepIn(BaseModel):
    step: WorkStep = Field(
        description="pipeline_survey, preliminary_design, structural_appraisal, "
        "installation_notice (特种设备安全法 art. 23) or supervision_inspection (art. 25)"
    )
    reference: Name = Field(
        "", max_length=200, description="the report, notice or certificate number"
    )
    on: PastDay | None = Field(None, description="the day it was done (default: today)")


class StageIn(BaseModel):
    target: Stage = Field(description="the stage to move to (forward, back, suspend or resume)")
    reason: Note = Field("", description="why; needed for moving back or suspending")
    reference: Name = Field(
        "",
        description="the permit number entering construction, the registration number "
        "entering operation",
    )
    on: PastDay | None = Field(None, description="the day of the move (default: today)")
    acceptance_on: PastDay | None = Field(
        None, description="the day the lift passed acceptance (moves into acceptance/operation)"
    )


def consent_json(consent: UnitConsent, who: Principal) -> dict[str, Any]:
    """The unit's consent as `who` may read it (`services.views.consent_for`): a resident's
    holds their own household and the counts, never another household's vote or room."""
    consent = consent_for(consent, who)
    result = consent.result.to_json()
    rows = consent.input.rows
    body: dict[str, Any] = {"unit_id": consent.unit.id, "label": consent.unit.label}
    if is_resident(who):
        # the objecting and occupied flats are counted, not named, in a resident's copy
        result["unresolved_objections"] = len(result["unresolved_objections"])
        result["occupied_not_agreeing"] = len(result["occupied_not_agreeing"])
        body["household"] = (
            {"room": rows[0].room, "floor": rows[0].floor, "vote": rows[0].vote.value}
            if rows
            else None
        )
    else:
        body["households"] = [
            {"room": r.room, "floor": r.floor, "vote": r.vote.value} for r in rows
        ]
    body["consent"] = result
    return body


def report_line(line: UnitReport) -> dict[str, Any]:
    counts = line.consent.result.to_json()
    advice = line.advice
    first = advice.recommendations[0].to_json() if advice.recommendations else None
    return {
        "unit_id": line.consent.unit.id,
        "label": line.consent.unit.label,
        "stage": advice.snapshot.stage.value,
        "passed": line.consent.result.passed,
        "counts": {
            k: counts[k]
            for k in (
                "total_heads",
                "participating_heads",
                "agree_heads",
                "total_area",
                "participating_area",
                "agree_area",
            )
        },
        "open_objections": line.open_objections,
        "cooperation_level": advice.cooperation.level,
        "heterogeneity_index": round(advice.heterogeneity.index, 3),
        "first_recommendation": first,
    }


@router.get("/me", tags=["accounts"], summary="Who the caller is")
def get_me(who: CurrentPrincipal) -> dict[str, Any]:
    """The caller's name, role and scope (compound, unit, room, street)."""
    return {
        "name": who.name,
        "role": who.role.value,
        "compound": who.compound,
        "unit_id": who.unit_id,
        "room": who.room,
        "street": who.street,
    }


@router.get("/compounds", tags=["compounds"], summary="The compounds the caller may see")
def get_compounds(engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Compounds the caller may see: a worker its own, a street office those of its street."""
    rows = [
        (code, c) for code, c in list_compounds(engine) if can_read_compound(who, code, c.street)
    ]
    return [
        {"code": code, "name": c.name, "city": c.city, "district": c.district, "street": c.street}
        for code, c in rows
    ]


@router.get("/compounds/{code}/report", tags=["compounds"], summary="A compound's report")
def get_report(code: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Every unit's stage, consent, cooperation level and first recommendation."""
    if not can_read_compound(who, code, get_compound(engine, code).street):
        raise forbidden("read this compound's report")
    report = compound_report(engine, code)
    return {
        "code": report.code,
        "name": report.compound.name,
        "units": [report_line(u) for u in report.units],
    }


@router.get("/units/{unit_id}", tags=["units"], summary="A unit's consent and stage")
def get_unit(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """The unit's consent tally with its checks and margin, and its stage.

    A resident sees the counts and its own household, never another household's vote or room.
    """
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit")
    body = consent_json(unit_consent(engine, unit_id), who)
    body["stage"] = unit_stage(engine, unit_id).stage.value
    return body


@router.get("/units/{unit_id}/advice", tags=["units"], summary="Advice for a unit")
def get_advice(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Heterogeneity, obstacles, cooperation level and ranked next actions."""
    place = locate_unit(engine, unit_id)
    # advice names households and people, so a resident gets the aggregates of GET /units only
    if not can_read_households(who, place):
        raise forbidden("read this unit's advice")
    return unit_advice(engine, unit_id).to_json()


@router.post("/votes", tags=["consent"], summary="Record a vote")
def post_vote(body: VoteIn, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Record a flat's vote in the unit's open round; returns the unit's consent.

    The vote counts for every flat of the same owner. The same vote again changes nothing; a
    different vote replaces the earlier one (each change is kept in the ledger). Without an
    open round: 409.
    """
    place = locate_unit(engine, body.unit_id)
    if not can_act_for_room(who, place, body.room):
        raise forbidden(f"vote for room {body.room}")
    try:
        vote = parse_vote(body.vote)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    consent = cast_vote(
        engine, body.unit_id, body.room.strip(), vote, actor=who.name, signed_on=body.on
    )
    return consent_json(consent, who)


@router.post("/rounds", tags=["consent"], status_code=201, summary="Open a vote round")
def post_round(body: RoundIn, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Open a vote round for a unit; while one is still open: 409."""
    place = locate_unit(engine, body.unit_id)
    if not can_manage_unit(who, place):
        raise forbidden("open a vote round")
    opened = open_vote_round(
        engine,
        body.unit_id,
        actor=who.name,
        title=body.title,
        profile=body.profile,
        opened_on=body.on,
    )
    made: dict[str, Any] = jsonable_encoder(opened)
    return made


@router.post(
    "/objections", tags=["objections"], status_code=201, summary="Record a written objection"
)
def post_objection(body: ObjectionIn, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Record a written objection by one flat."""
    place = locate_unit(engine, body.unit_id)
    if not can_act_for_room(who, place, body.room):
        raise forbidden(f"object for room {body.room}")
    made = raise_objection(
        engine,
        body.unit_id,
        body.room.strip(),
        body.reasons,
        actor=who.name,
        raised_on=body.on,
        notes=body.notes,
    )
    return {"id": made, "unit_id": body.unit_id, "room": body.room.strip()}


def _objection_unit(engine: Engine, objection_id: int, who: Principal) -> None:
    """404 unless the objection lies in a unit the caller manages (admins need no search)."""
    if is_admin(who):
        return
    if who.role is not Role.WORKER or who.compound is None:
        raise forbidden("handle objections")
    code, _ = objection_place(engine, objection_id)
    if code != who.compound:
        raise NotFound(
            "objection {objection_id} does not exist in compound {compound}",
            objection_id=objection_id,
            compound=who.compound,
        )


@router.post("/objections/{objection_id}/status", tags=["objections"], summary="Move an objection")
def post_objection_status(
    objection_id: int, body: ObjectionStatusIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Move an objection along its lifecycle (negotiation, mediation, resolved, ...)."""
    _objection_unit(engine, objection_id, who)
    set_objection_status(
        engine, objection_id, body.status, actor=who.name, on=body.on, notes=body.notes
    )
    return {"id": objection_id, "status": body.status.value}


@router.post("/units/{unit_id}/stage", tags=["stages"], summary="Move a unit's project")
def post_stage(
    unit_id: int, body: StageIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Move the unit's project to `target` through its gate; a closed gate answers 409."""
    place = locate_unit(engine, unit_id)
    if not can_manage_unit(who, place):
        raise forbidden("change the stage")
    made = advance_stage(
        engine,
        unit_id,
        body.target,
        actor=who.name,
        reason=body.reason,
        reference=body.reference,
        on=body.on,
        acceptance_on=body.acceptance_on,
    )
    moved: dict[str, Any] = jsonable_encoder(made)
    return moved


@router.get("/units/{unit_id}/steps", tags=["stages"], summary="A unit's recorded work steps")
def get_steps(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """The work steps the law requires that were recorded for the unit, oldest first."""
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit's work steps")
    found: list[dict[str, Any]] = jsonable_encoder(unit_steps(engine, unit_id))
    return found


@router.post("/units/{unit_id}/steps", tags=["stages"], summary="Record a work step")
def post_step(
    unit_id: int, body: StepIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Record a step the gates read (design and pipeline survey may come before the vote)."""
    place = locate_unit(engine, unit_id)
    if not can_manage_unit(who, place):
        raise forbidden("record a work step")
    made: dict[str, Any] = jsonable_encoder(
        record_step(
            engine, unit_id, body.step, actor=who.name, on=body.on, reference=body.reference
        )
    )
    return made


# --- the end of a vote round ---------------------------------------------------------------------


def round_json(r: VoteRound) -> dict[str, Any]:
    """A round as the API shows it: how it ended, with its final tally and the ledger head."""
    return {
        "id": r.id,
        "title": r.title,
        "scope": r.scope_kind.value,
        "scope_id": r.scope_id,
        "profile": r.profile,
        "status": r.status,
        "opened_on": r.opened_on,
        "closed_on": r.closed_on,
        "closed_by": r.closed_by,
        "tally": r.tally,
        "ledger_head": r.closed_head,
        "void_reason": r.void_reason if r.is_void else None,
    }


def _manage_round(engine: Engine, round_id: int, who: Principal, what: str) -> None:
    """404 for an unknown round, 403 unless the caller manages its unit (or its compound)."""
    place = round_place(engine, round_id)
    if place.unit_id is not None:
        allowed = can_manage_unit(who, locate_unit(engine, place.unit_id))
    else:
        allowed = can_manage_unit(who, UnitPlace(0, place.compound_code, place.street))
    if not allowed:
        raise forbidden(what)


def ended_json(ended: EndedRound) -> dict[str, Any]:
    body: dict[str, Any] = jsonable_encoder(round_json(ended.round))
    body["head"] = jsonable_encoder(ended.head.to_json())
    return body


@router.get("/units/{unit_id}/rounds", tags=["consent"], summary="A unit's vote rounds")
def get_rounds(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every round over the unit, newest first: open, closed (with its final tally and the
    ledger head at the close) or void (with why)."""
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit")
    rounds: list[dict[str, Any]] = jsonable_encoder(
        [round_json(r) for r in unit_rounds(engine, unit_id)]
    )
    return rounds


@router.post("/rounds/{round_id}/close", tags=["consent"], summary="Close a vote round")
def post_round_close(
    round_id: int, body: RoundCloseIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Close an open round: its final tally is counted under its lock and kept with the ledger
    head after the close (`head.hash`: print it on the result notice). Later votes answer 409;
    a round already ended: 409."""
    _manage_round(engine, round_id, who, "close a vote round")
    return ended_json(close_vote_round(engine, round_id, actor=who.name, closed_on=body.on))


@router.post("/rounds/{round_id}/void", tags=["consent"], summary="Void a vote round")
def post_round_void(
    round_id: int, body: RoundVoidIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Void an open round with the reason why: its votes decide nothing, and the next round
    may open."""
    _manage_round(engine, round_id, who, "void a vote round")
    return ended_json(
        void_vote_round(engine, round_id, actor=who.name, reason=body.reason, on=body.on)
    )
