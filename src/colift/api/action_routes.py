"""The /api/v1 endpoints behind the web pages' other actions: activities and stances, objections,
cost plans, roster import, stages, overviews, simulations and accounts. (The printable
documents under /api/v1 are rendered by the web app's print templates: `colift.web.print_routes`.)

Each endpoint checks the caller's scope with the same functions the pages use, then calls one
service. What a resident gets back never names another household: no names, phones, votes,
stances, shares or objection reasons of other flats (as `consent_json` does for consent).
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Query, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from colift.errors import RuleViolation
from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.limits import Count, Fen, Name, Note, PastDay, bounded_ids
from colift.http.quota import spend
from colift.http.units import EngineDep, locate_unit
from colift.http.uploads import read_upload
from colift.model.accounts import Account, AccountRole
from colift.model.coproduction import Activity, GuidanceMode, Outcome
from colift.rules.costshare import CostShareResult, parse_plan, result_to_json
from colift.services.access import (
    Principal,
    UnitPlace,
    can_lead_unit,
    can_manage_accounts,
    can_manage_unit,
    can_read_compound,
    can_read_street,
    can_read_street_board,
    can_read_unit,
    is_resident,
    street_scope,
)
from colift.services.accounts import (
    MAX_TOKEN_DAYS,
    TOKEN_DAYS,
    create_account,
    issue_api_token,
    list_accounts,
)
from colift.services.activities import record_activity, set_stance, unit_activities
from colift.services.consent import unit_objections
from colift.services.costshare import set_cost_plan, unit_cost_shares
from colift.services.quota import Work
from colift.services.registry import get_compound, import_roster_upload
from colift.services.views import (
    STALLED_PAGE_MAX,
    STALLED_PAGE_SIZE,
    CompoundOverview,
    StreetBoard,
    UnitLine,
    compound_overview,
    objections_for,
    shares_for,
    street_stalled,
    transitions_for,
)
from colift.services.workflow import check_stage, stage_history, unit_stage

router = APIRouter(responses=ERROR_RESPONSES, dependencies=[Depends(bounded_ids)])

MAX_RUNS = 2000


def _resident(who: Principal) -> bool:
    return is_resident(who)


# --- activities and stances --------------------------------------------------------------------


class ActivityIn(BaseModel):
    tool: Name = Field(description="a governance tool of the catalogue, e.g. door_to_door")
    role: Name = Field(
        description="the role the one acting acted in: a leader role (unit_leader, "
        "opinion_leader, ...) or an actor (residents_committee, street_office, ...)"
    )
    guidance: GuidanceMode = Field(
        GuidanceMode.NONE, description="how the party organization guided it"
    )
    on: PastDay | None = Field(None, description="the day it happened (default: today; not later)")
    actor_name: str | None = Field(
        None, description="who acted (default: the caller's name)", max_length=200
    )
    targets: list[Name] = Field(
        default_factory=list, description="rooms of the households it aimed at; empty: all"
    )
    notes: Note = Field("", description="what happened")
    participants: Count = Field(0, description="households that took part")
    money_fen: Fen = Field(0, description="money residents contributed, in fen")
    labour_hours: Count = Field(0, description="hours residents volunteered")


class StanceIn(BaseModel):
    room: Name = Field(min_length=1, description="the flat's room number")
    stance: Name = Field(
        description="support/支持, lean_support, undecided, lean_oppose, oppose/反对 or unknown"
    )
    reasons: list[Name] = Field(
        default_factory=list, description="why it holds back: light/采光, noise, cost, ..."
    )
    on: PastDay | None = Field(None, description="the day it was heard (default: today)")


@router.get("/units/{unit_id}/activities", tags=["activities"], summary="A unit's activity log")
def get_activities(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every recorded co-production activity of the unit, in the order things happened.

    Activities name the households they aimed at, so residents are refused (as on the page).
    """
    place = locate_unit(engine, unit_id)
    if _resident(who) or not can_read_unit(who, place):
        raise forbidden("read this unit's activities")
    made: list[dict[str, Any]] = jsonable_encoder(unit_activities(engine, unit_id))
    return made


@router.post(
    "/units/{unit_id}/activities",
    tags=["activities"],
    status_code=201,
    summary="Record an activity",
)
def post_activity(
    unit_id: int, body: ActivityIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Log an activity checked against the tool catalogue; returns it with its id and the
    catalogue's warnings. An unknown tool or role, or a day in the future: 400."""
    place = locate_unit(engine, unit_id)
    if not can_lead_unit(who, place):
        raise forbidden("record activities in this unit")
    activity = Activity(
        unit_id=unit_id,
        person_id=None,
        actor_name=(body.actor_name or "").strip() or who.name,
        role=body.role.strip(),
        guidance=body.guidance,
        tool=body.tool.strip(),
        on=body.on or date.today(),
        targets=tuple(t.strip() for t in body.targets if t.strip()),
        notes=body.notes.strip(),
        outcome=Outcome(
            participants=body.participants,
            money_fen=body.money_fen,
            labour_hours=body.labour_hours,
        ),
    )
    made: dict[str, Any] = jsonable_encoder(record_activity(engine, activity, actor=who.name))
    return made


@router.post("/units/{unit_id}/stances", tags=["activities"], summary="Record a stance")
def post_stance(
    unit_id: int, body: StanceIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Record a household's stance as heard, with its reasons; returns the stored stance."""
    place = locate_unit(engine, unit_id)
    if not can_lead_unit(who, place):
        raise forbidden("record stances in this unit")
    made = set_stance(
        engine, unit_id, body.room.strip(), body.stance, body.reasons, actor=who.name, on=body.on
    )
    return {
        "room": made.room,
        "stance": made.stance.value,
        "reasons": list(made.reasons),
        "recorded_on": made.recorded_on.isoformat(),
        "activity_id": made.activity_id,
    }


# --- objections --------------------------------------------------------------------------------


@router.get("/units/{unit_id}/objections", tags=["objections"], summary="A unit's objections")
def get_objections(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every written objection of the unit with where it stands.

    A resident sees each objection's status and dates, but the room, reasons and notes only of
    its own household's objections (`own`: true).
    """
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit's objections")
    out: list[dict[str, Any]] = []
    for o in objections_for(unit_objections(engine, unit_id), who):
        line: dict[str, Any] = {
            "id": o.id,
            "status": o.status.value,
            "raised_on": o.raised_on.isoformat(),
            "updated_on": o.updated_on.isoformat(),
        }
        own = _resident(who) and bool(o.room)  # another household's objection has no room
        if own or not _resident(who):
            line.update(room=o.room, reasons=list(o.reasons), notes=o.notes)
        if _resident(who):
            line["own"] = own
        else:
            line["handled_by"] = o.handled_by
        out.append(line)
    return out


# --- cost plan ---------------------------------------------------------------------------------

PLAN_EXAMPLE: dict[str, Any] = {
    "total_fen": 42000000,
    "scheme": {
        "kind": "floor-coefficient",
        "coefficients": {"1": "0", "2": "0.4", "3": "0.7", "4": "0.85", "5": "1.0", "6": "1.1"},
        "area_weighted": True,
    },
    "subsidy_profile": "beijing",
    "compensation": [{"floors": [1], "fen_each": 300000}],
    "running": {"annual_fen": 540000, "scheme": {"kind": "equal", "exempt_floors": [1]}},
    "schedule": [
        {"name": "定金 deposit", "percent": "30"},
        {"name": "安装后 after installation", "percent": "50"},
        {"name": "验收后 after acceptance", "percent": "20"},
    ],
}


def shares_json(result: CostShareResult, who: Principal) -> dict[str, Any]:
    """The split as `who` may read it (`services.views.shares_for`); a resident's holds the
    totals and its own household's share only."""
    shares = result_to_json(shares_for(result, who))
    if not _resident(who):
        return shares
    own = shares.get("shares", [])
    return {
        **{
            key: shares[key]
            for key in ("total_fen", "subsidy_fen", "payable_fen", "compensation_fen", "schedule")
            if key in shares
        },
        "share": own[0] if own else None,
    }


@router.get("/units/{unit_id}/cost-plan", tags=["cost plan"], summary="A unit's cost shares")
def get_cost_plan(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """The shares under the unit's stored plan, in the `colift costshare --json` shape; 404
    without a plan. A resident gets the totals and its own share."""
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit's cost shares")
    return shares_json(unit_cost_shares(engine, unit_id).result, who)


@router.put("/units/{unit_id}/cost-plan", tags=["cost plan"], summary="Set a unit's cost plan")
def put_cost_plan(
    unit_id: int,
    plan: Annotated[
        dict[str, Any],
        Body(
            description="The plan as `colift costshare` reads it: total_fen, scheme, and "
            "optionally subsidy_profile or subsidy_fen, compensation, running, schedule. The "
            "unit's own flats are split; a `households` list in the file is ignored.",
            examples=[PLAN_EXAMPLE],
        ),
    ],
    engine: EngineDep,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Check that the plan splits cleanly over the unit's flats, store it, return the shares."""
    place = locate_unit(engine, unit_id)
    if not can_manage_unit(who, place):
        raise forbidden("set this unit's cost plan")
    stored = {k: v for k, v in plan.items() if k != "households"}
    return result_to_json(set_cost_plan(engine, unit_id, parse_plan(stored), actor=who.name).result)


# --- roster import -----------------------------------------------------------------------------


@router.post(
    "/compounds/{code}/roster",
    tags=["compounds"],
    status_code=201,
    summary="Import a household roster",
)
def post_roster(
    request: Request,
    code: str,
    roster: Annotated[UploadFile, File(description="the roster, .xlsx or .csv, at most 5 MB")],
    engine: EngineDep,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Import a roster (住户名册) into the compound, all of it or nothing.

    A file with bad rows answers 422 with every problem in `error.errors` as
    [{row, column, message}], and nothing is imported; flats already registered are problems too.
    """
    compound = get_compound(engine, code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise forbidden("import a roster into this compound")
    spend(request, who, Work.IMPORT)
    report = import_roster_upload(
        engine, read_upload(roster.file), roster.filename or "", code, actor=who.name
    )
    made: dict[str, Any] = jsonable_encoder(report)
    return made


# --- stages ------------------------------------------------------------------------------------


@router.get("/units/{unit_id}/stage", tags=["stages"], summary="Where a unit's project stands")
def get_stage(unit_id: int, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """The current stage, the next one, what its gate still lacks, and the history of moves.

    `gate` (what stands between the unit and its next stage) and the history's actors are
    left out for residents, as on the unit page.
    """
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise forbidden("read this unit's stage")
    project = unit_stage(engine, unit_id)
    try:
        report = check_stage(engine, unit_id)
    except RuleViolation:  # in operation: there is no next stage
        report = None
    gate = None
    if report is not None and not _resident(who):
        gate = {
            "target": report.target.value,
            "open": report.open,
            "failures": [{"zh": f.zh, "en": f.en} for f in report.failures],
            "warnings": list(report.warnings),
        }
    history = []
    for t in transitions_for(stage_history(engine, unit_id), who):
        move: dict[str, Any] = {
            "from_stage": t.from_stage.value if t.from_stage else None,
            "to_stage": t.to_stage.value,
            "on": t.on.isoformat(),
            "reason": t.reason,
            "reference": t.reference,
        }
        if t.actor:  # absent from a resident's copy (services.views.transitions_for)
            move["actor"] = t.actor
        history.append(move)
    body: dict[str, Any] = jsonable_encoder(project)
    body["next_stage"] = report.target.value if report is not None else None
    body["gate"] = gate
    body["history"] = history
    return body


# --- overviews ---------------------------------------------------------------------------------


def line_json(line: UnitLine) -> dict[str, Any]:
    """What `jsonable_encoder(line)` gives, built directly (a street lists thousands)."""
    made = {name: getattr(line, name) for name in _LINE_FIELDS}
    made["stage"] = line.stage.value
    made["since"] = None if line.since is None else line.since.isoformat()
    return made


_LINE_FIELDS = tuple(f.name for f in dataclasses.fields(UnitLine))


def overview_json(overview: CompoundOverview) -> dict[str, Any]:
    return {
        "code": overview.code,
        "name": overview.name,
        "city": overview.city,
        "district": overview.district,
        "street": overview.street,
        "stage_counts": {s.value: n for s, n in overview.stage_counts.items()},
        "stalled": [u.unit_id for u in overview.stalled],
        "units": [line_json(u) for u in overview.units],
    }


@router.get(
    "/compounds/{code}/overview", tags=["compounds"], summary="A compound's units at a glance"
)
def get_overview(code: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Every unit's stage, days in it, whether it stalled, consent shortfall, open objections,
    cooperation level and next action; and how many units are in each stage."""
    if not can_read_compound(who, code, get_compound(engine, code).street):
        raise forbidden("read this compound")
    return overview_json(compound_overview(engine, code))


def street_json(board: StreetBoard) -> dict[str, Any]:
    return {
        "street": board.street,
        "today": board.today.isoformat(),
        "funnel": [{"stage": s.value, "units": n} for s, n in board.funnel()],
        "days_in_stage": [
            {"stage": s.value, "units": n, "median": median, "max": longest}
            for s, (n, median, longest) in board.days.items()
        ],
        "stalled": [{"compound": c.code, **line_json(u)} for c, u in board.lines],
        "stalled_total": board.matching,
        "compounds": [
            {
                "code": c.code,
                "name": c.name,
                "street": c.street,
                "units": c.units,
                "stalled": c.stalled,
                "stage_counts": {s.value: n for s, n in c.stage_counts.items()},
            }
            for c in board.compounds
        ],
    }


@router.get("/street", tags=["compounds"], summary="The street office's view")
def get_street(
    engine: EngineDep,
    who: CurrentPrincipal,
    street: Annotated[
        str | None, Query(description="admins only: one street (default: every street)")
    ] = None,
    offset: Annotated[int, Query(ge=0, description="stalled units to skip")] = 0,
    limit: Annotated[
        int, Query(ge=1, le=STALLED_PAGE_MAX, description="stalled units in this answer")
    ] = STALLED_PAGE_SIZE,
) -> dict[str, Any]:
    """The funnel of stages reached, days units spend in each stage, and a page of the stalled
    units (`offset`, `limit`, default 200, at most 500; `stalled_total` over all pages,
    `has_more`) of the caller's street (a street office) or of every street (an admin)."""
    if not can_read_street_board(who):
        raise forbidden("read the street view (street offices and admins only)")
    if not can_read_street(who, street):
        raise forbidden("read another street")
    board = street_stalled(engine, street_scope(who) or street, offset=offset, limit=limit)
    body = street_json(board)
    body["offset"] = offset
    body["limit"] = limit
    body["has_more"] = offset + len(board.lines) < board.matching
    return body


# --- simulation --------------------------------------------------------------------------------


@router.get("/units/{unit_id}/whatif", tags=["units"], summary="Simulate strategies for a unit")
def get_whatif(
    request: Request,
    unit_id: int,
    engine: EngineDep,
    who: CurrentPrincipal,
    runs: Annotated[
        int, Query(ge=1, le=MAX_RUNS, description="simulated copies per strategy")
    ] = 200,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="random seed")] = 0,
) -> dict[str, Any]:
    """Compare strategies on simulated copies of the stairwell, from its registry, stances and
    history (the "what if" panel). Not for residents: the model reads every household."""
    place = locate_unit(engine, unit_id)
    if _resident(who) or not can_read_unit(who, place):
        raise forbidden("run simulations")
    spend(request, who, Work.WHATIF)
    from colift.services.simulation import simulate_stored_unit  # numpy, scipy: load on use

    made: dict[str, Any] = jsonable_encoder(
        simulate_stored_unit(engine, unit_id, runs=runs, seed=seed)
    )
    return made


# --- accounts ----------------------------------------------------------------------------------


class AccountIn(BaseModel):
    username: str = Field(min_length=1, max_length=64, description="sign-in name, no spaces")
    password: str = Field(
        min_length=8,
        max_length=256,
        description="at least 8 characters, not one of the commonest, not the username",
    )
    display_name: str = Field("", max_length=200, description="shown in the app and the ledger")
    role: AccountRole = Field(description="worker, unit_leader, resident, street_viewer, admin")
    compound_code: str | None = Field(
        None, description="the compound of a worker, unit leader or resident"
    )
    unit_id: int | None = Field(None, description="the unit of a unit leader or resident")
    room: str | None = Field(None, description="the household of a resident, e.g. 502")
    street: str | None = Field(
        None, description="the street of a street office (none: every street)"
    )


class TokenIn(BaseModel):
    label: str = Field("", max_length=128, description="what the token is for")
    days: int = Field(TOKEN_DAYS, ge=1, le=MAX_TOKEN_DAYS, description="how long it lives")


def account_json(account: Account) -> dict[str, Any]:
    made: dict[str, Any] = jsonable_encoder(account)
    return made


def _admin(who: Principal, what: str) -> None:
    if not can_manage_accounts(who):
        raise forbidden(what)


@router.get("/accounts", tags=["accounts"], summary="Every account (admins)")
def get_accounts(engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """Every account with its role and scope; never a password or token."""
    _admin(who, "list accounts")
    return [account_json(a) for a in list_accounts(engine)]


@router.post("/accounts", tags=["accounts"], status_code=201, summary="Create an account")
def post_account(body: AccountIn, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Add an account; its compound, unit and room must exist. A taken username: 400."""
    _admin(who, "create accounts")
    account = Account(
        id=0,
        username=body.username,
        display_name=body.display_name.strip() or body.username.strip(),
        role=body.role,
        compound_code=body.compound_code or None,
        unit_id=body.unit_id,
        room=body.room,
        street=body.street or None,
    )
    return account_json(create_account(engine, account, body.password, actor_id=who.account_id))


@router.post(
    "/accounts/{username}/tokens",
    tags=["accounts"],
    status_code=201,
    summary="Make an API token for an account",
)
def post_token(
    username: str,
    engine: EngineDep,
    who: CurrentPrincipal,
    body: TokenIn | None = None,
) -> dict[str, Any]:
    """A new bearer token acting as `username`: shown once here, stored only as a digest. It
    expires after `days` (default 90, at most 366); a disabled account gets none (400)."""
    _admin(who, "make tokens")
    label = body.label if body is not None else ""
    days = body.days if body is not None else TOKEN_DAYS
    made = issue_api_token(engine, username, label, days=days, actor_id=who.account_id)
    return {
        "username": username,
        "label": label,
        "id": made.info.id,
        "expires_at": None if made.info.expires_at is None else made.info.expires_at.isoformat(),
        "token": made.token,
    }
