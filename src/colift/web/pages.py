"""The server-rendered pages: each GET renders one service's view, each form POST calls one
service and answers 303 to the page it came from (or re-renders it with the rule's message).

Every form carries the session's CSRF token; a form without it is refused before any service
runs. Roles are checked with the same functions the REST API uses (`colift.services.access`).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import Engine
from starlette.datastructures import FormData, UploadFile

from colift.coproduction.catalogue import load_catalogue
from colift.coproduction.workflow import WORK_STEP_NAMES, WorkStep
from colift.errors import BadInput, ColiftError, NotFound, RowError, RuleViolation
from colift.http.auth import CSRF_FIELD, SESSION_COOKIE, session_of
from colift.http.errors import status_for
from colift.http.limits import (
    EARLIEST_DAY,
    MAX_FEN,
    MAX_ID,
    MAX_NOTE_CHARS,
    bounded_ids,
    check_text,
)
from colift.http.quota import spend
from colift.http.units import locate_unit
from colift.http.uploads import MAX_UPLOAD_BYTES, read_upload
from colift.i18n import Message, msg
from colift.i18n import render as render_in
from colift.model import ObjectionStatus, parse_vote
from colift.model.coproduction import STAGE_ORDER, Activity, GuidanceMode, Outcome, Stage, Stance
from colift.rules.costshare import parse_plan
from colift.rules.subsidy import all_subsidy_profiles
from colift.services.access import (
    Principal,
    Role,
    UnitPlace,
    can_act_for_room,
    can_export_ledger,
    can_lead_unit,
    can_manage_unit,
    can_read_compound,
    can_read_document,
    can_read_evidence,
    can_read_households,
    can_read_street_board,
    can_read_unit,
    document_room,
    is_resident,
    street_scope,
)
from colift.services.accounts import LoginRefused, TooManyAttempts, sign_in, sign_out
from colift.services.activities import record_activity, set_stance
from colift.services.consent import (
    cast_vote,
    close_vote_round,
    objection_place,
    open_vote_round,
    raise_objection,
    set_objection_status,
    unit_rounds,
    void_vote_round,
)
from colift.services.costshare import set_cost_plan, unit_cost_shares
from colift.services.documents import DOCUMENTS, document_pdf, unit_document
from colift.services.ledger import export_unit
from colift.services.quota import Work
from colift.services.registry import get_compound, import_roster_upload
from colift.services.views import compound_overview, street_board, unit_page_for
from colift.services.workflow import advance_stage, check_stage, record_step
from colift.web import i18n
from colift.web.glossary import TERMS
from colift.web.present import (
    activity_chart,
    board_days_chart,
    funnel_chart,
    gauge,
    heterogeneity_chart,
    plan_form,
    whatif_view,
)
from colift.web.render import FLASH_COOKIE, page_language, render, render_print

MAX_NUMBER_CHARS = 32  # a number or a day typed in a form, refused longer before parsing
router = APIRouter(include_in_schema=False, dependencies=[Depends(bounded_ids)])
LOGIN_CSRF_COOKIE = "colift_login_csrf"


class SignInRequired(Exception):
    """A page needs a signed-in user; the app answers with a redirect to /login."""


class Refused(Exception):
    """The signed-in user's role may not do this; rendered as a 403 page."""

    def __init__(self, message: str | Message) -> None:
        super().__init__(message)
        self.message = message


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def signed_in(request: Request) -> Principal:
    session = session_of(request)
    if session is None:
        raise SignInRequired()
    return session[0]


Who = Annotated[Principal, Depends(signed_in)]


async def checked_form(request: Request) -> FormData:
    """The posted form after its CSRF token matched the session's (403 page otherwise)."""
    session = session_of(request)
    if session is None:
        raise SignInRequired()
    form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
    given = request.headers.get("X-CSRF-Token") or str(form.get(CSRF_FIELD) or "")
    if not given or not hmac.compare_digest(given.encode(), session[1].encode()):
        raise Refused(
            "表单已过期或缺少安全校验，请刷新页面后重试 / the form's security token is missing or stale: reload the page"
        )
    return form


Form = Annotated[FormData, Depends(checked_form)]


def _text(form: FormData, name: str, default: str = "", most: int = MAX_NOTE_CHARS) -> str:
    """A typed field, stripped; refused when longer than `most` or holding NUL or a lone
    surrogate (docs/security.md)."""
    value = form.get(name)
    if not isinstance(value, str):
        return default
    return check_text(value, name, most).strip()


def _date(form: FormData, name: str) -> date | None:
    """A day something happened: refused when not a date, in the future, or before 1950."""
    raw = _text(form, name, most=MAX_NUMBER_CHARS)
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadInput(
            "{name}: {raw} is not a date (YYYY-MM-DD)", name=name, raw=repr(raw)
        ) from None
    if day > date.today() + timedelta(days=1):
        raise BadInput(
            "{field}: {day} is in the future: give the day it happened", field=name, day=raw
        )
    if day < EARLIEST_DAY:
        raise BadInput("{field}: {day} is before 1950: check the year", field=name, day=raw)
    return day


def _int(form: FormData, name: str, default: int = 0) -> int:
    raw = _text(form, name, most=MAX_NUMBER_CHARS)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadInput("{name}: {raw} is not a whole number", name=name, raw=repr(raw)) from None
    if abs(value) > MAX_ID:
        raise BadInput("{field}: {value} is too large", field=name, value=raw)
    return value


def _fen(form: FormData, name: str) -> int:
    """Yuan typed in a form (e.g. 3000 or 3000.50) as integer fen, without floats; at most
    ¥100 million."""
    raw = _text(form, name, most=MAX_NUMBER_CHARS).replace(",", "").replace("¥", "")
    if not raw:
        return 0
    whole, _, cents = raw.partition(".")
    if not whole.lstrip("-").isdigit() or (cents and (not cents.isdigit() or len(cents) > 2)):
        raise BadInput(
            "{name}: {raw} is not an amount in yuan, e.g. 3000 or 3000.50", name=name, raw=repr(raw)
        )
    sign = -1 if whole.startswith("-") else 1
    fen = sign * (abs(int(whole)) * 100 + int((cents + "00")[:2]))
    if abs(fen) > MAX_FEN:
        raise BadInput("{field}: more than ¥100,000,000 is not the cost of a lift", field=name)
    return fen


def back(request: Request, to: str, message: str) -> RedirectResponse:
    response = RedirectResponse(to, status_code=303)
    response.set_cookie(FLASH_COOKIE, quote(message), path="/", httponly=True, samesite="lax")
    return response


# --- sign in and out, language -----------------------------------------------------------------


def _secure(request: Request) -> bool:
    """Secure cookies except over plain http on this machine (the demo on 127.0.0.1)."""
    forced: bool | None = request.app.state.secure_cookies
    if forced is not None:
        return forced
    host = request.url.hostname or ""
    return request.url.scheme == "https" or host not in ("127.0.0.1", "localhost", "::1")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    request.state.login_csrf = token
    response = render(request, "login.html", next=_safe_next(next))
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return response


def _safe_next(target: str) -> str:
    """Only paths of this site, never another host."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request) -> Response:
    form = await request.form()
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    given = str(form.get(CSRF_FIELD) or "")
    target = _safe_next(str(form.get("next") or "/"))
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Refused("登录表单已过期，请刷新页面 / the sign-in form expired: reload the page")
    client = request.client.host if request.client else "unknown"
    try:
        done = sign_in(
            engine_of(request),
            str(form.get("username") or ""),
            str(form.get("password") or ""),
            client=client,
        )
    except (LoginRefused, TooManyAttempts) as exc:
        request.state.login_csrf = expected
        status = 429 if isinstance(exc, TooManyAttempts) else 401
        response = render(
            request,
            "login.html",
            status=status,
            error=exc,
            next=target,
            username=str(form.get("username") or ""),
        )
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response
    done_response = RedirectResponse(target, status_code=303)
    done_response.set_cookie(
        SESSION_COOKIE,
        done.token,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=14 * 24 * 3600,
    )
    done_response.delete_cookie(LOGIN_CSRF_COOKIE)
    return done_response


@router.post("/logout")
def logout(request: Request, form: Form) -> Response:
    sign_out(engine_of(request), request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/lang/{lang}")
def set_language(request: Request, lang: str, next: str = "/") -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        i18n.LANG_COOKIE, i18n.normalize(lang), max_age=365 * 24 * 3600, samesite="lax"
    )
    return response


@router.get("/")
def home(request: Request, who: Who) -> Response:
    """Each role starts where its work is."""
    if who.role in (Role.UNIT_LEADER, Role.RESIDENT) and who.unit_id is not None:
        return RedirectResponse(f"/units/{who.unit_id}", status_code=303)
    if who.role is Role.WORKER and who.compound:
        return RedirectResponse(f"/compounds/{who.compound}", status_code=303)
    return RedirectResponse("/street", status_code=303)


# --- compound and street ----------------------------------------------------------------------


@router.get("/compounds/{code}", response_class=HTMLResponse)
def compound_page(request: Request, code: str, who: Who) -> Response:
    return _compound_page(request, code, who)


def _compound_page(
    request: Request,
    code: str,
    who: Principal,
    *,
    status: int = 200,
    error: str | ColiftError | None = None,
    form: FormData | None = None,
) -> Response:
    from colift.coproduction.regeneration import KIND_NAMES_ZH
    from colift.services.regeneration import compound_regeneration

    engine = engine_of(request)
    compound = get_compound(engine, code)
    if not can_read_compound(who, code, compound.street):
        raise Refused("你的角色不能查看这个小区 / your role may not read this compound")
    overview = compound_overview(engine, code)
    response = render(
        request,
        "compound.html",
        status=status,
        overview=overview,
        regeneration=compound_regeneration(engine, code),
        manage=can_manage_unit(who, UnitPlace(0, code, compound.street)),
        regeneration_kinds=KIND_NAMES_ZH,
        regeneration_error=error,
        regeneration_form={k: _text(form, k) for k in REGENERATION_FIELDS} if form else {},
        latest_day=date.today().isoformat(),
    )
    if error is not None:
        response.headers["HX-Replace-Url"] = f"/compounds/{code}#regeneration"
    return response


def _day_field(form: FormData, name: str) -> date | None:
    raw = _text(form, name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise BadInput("{value} is not a date: write it as YYYY-MM-DD", value=raw) from None


def _count_field(form: FormData, name: str) -> int:
    from colift.services.regeneration import MAX_HOUSEHOLDS

    raw = _text(form, name)
    if not raw:
        return 0
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise BadInput(
            "households must be a whole number from 0 to {most}, not {value}",
            most=MAX_HOUSEHOLDS,
            value=raw,
        )
    return int(raw)


REGENERATION_FIELDS = ("kind", "on", "title", "households", "of_households")


@router.post("/compounds/{code}/regeneration")
def post_regeneration(request: Request, code: str, who: Who, form: Form) -> Response:
    """Record a collective action, conflict or complaint from the compound page's form."""
    from colift.coproduction.regeneration import RegenerationEvent
    from colift.services.regeneration import parse_kind, record_regeneration

    engine = engine_of(request)
    compound = get_compound(engine, code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise Refused(
            "只有本小区的社区工作者可以记录社区更新 / only the compound's worker may record this"
        )
    try:
        event = RegenerationEvent(
            parse_kind(_text(form, "kind")),
            _day_field(form, "on") or date.today(),
            _count_field(form, "households"),
            _count_field(form, "of_households"),
            _text(form, "title"),
        )
        saved = record_regeneration(engine, code, event, actor=who.name)
    except ColiftError as exc:
        return _compound_page(
            request,
            code,
            who,
            status=status_for(exc),
            error=exc,
            form=form,
        )
    done = msg(
        "recorded: {kind} {title} on {day}",
        kind=saved.kind_zh,
        title=saved.title,
        day=saved.on.isoformat(),
    ).render(page_language(request))
    return back(request, f"/compounds/{code}#regeneration", done)


@router.get("/compounds/{code}/regeneration")
def get_regeneration_form(code: str) -> Response:
    """The form's POST address opened with GET leads to the form on the compound page."""
    return RedirectResponse(f"/compounds/{code}#regeneration", status_code=303)


@router.get("/street", response_class=HTMLResponse)
def street_page(
    request: Request,
    who: Who,
    page: str | None = None,
    compound: str | None = None,
    stage: str | None = None,
    show: str | None = None,
) -> Response:
    """Totals over the whole street and one page (50 lines) of its unit list, filtered by
    compound, stage and stalled-or-all; a page number that is not a number or out of range
    shows the first or last page with a notice, never an error."""
    if not can_read_street_board(who):
        raise Refused("街道总览只对街道办和管理员开放 / the street view is for street offices")
    number = int(page) if page is not None and page.strip().isdigit() else None
    chosen_stage = next((s for s in Stage if s.value == stage), None)
    board = street_board(
        engine_of(request),
        street_scope(who),
        page=number or 1,
        compound=compound or None,
        stage=chosen_stage,
        stalled_only=show != "all",
    )
    page_note = page is not None and (number is None or number != board.page)
    lang = page_language(request)
    days = board_days_chart(board, lang)
    days["median_name"] = "中位数" if lang != "en" else "median"
    days["max_name"] = "最长" if lang != "en" else "longest"
    from colift.services.regeneration import compounds_regeneration

    outcomes = compounds_regeneration(engine_of(request), [c.code for c in board.compounds])
    regeneration = list(zip(board.compounds, outcomes, strict=True))
    query = {
        k: v
        for k, v in (
            ("compound", board.compound),
            ("stage", board.stage.value if board.stage else None),
            ("show", None if board.stalled_only else "all"),
        )
        if v
    }
    return render(
        request,
        "street.html",
        overview=board,
        funnel=funnel_chart(board, lang),
        days=days,
        regeneration=regeneration,
        stages=[*STAGE_ORDER, Stage.SUSPENDED],
        page_note=page_note,
        page_query=urlencode(query),
    )


# --- the unit page and its forms -------------------------------------------------------------


def _unit_page(
    request: Request, unit_id: int, who: Principal, status: int = 200, **extra: Any
) -> Response:
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    if not can_read_unit(who, place):
        raise Refused("你的角色不能查看这个单元 / your role may not read this unit")
    page = unit_page_for(engine, unit_id, who)  # a resident's own view: other flats' data absent
    catalogue = load_catalogue()
    lang = page_language(request)
    gate = None
    if can_manage_unit(who, place) and page.next_stage is not None:
        try:
            gate = check_stage(engine, unit_id, page.next_stage, consent=page.consent)
        except RuleViolation:
            gate = None
    return render(
        request,
        "unit.html",
        status=status,
        page=page,
        place=place,
        gate=gate,
        manage=can_manage_unit(who, place),
        lead=can_lead_unit(who, place),
        resident=is_resident(who),
        evidence=_advice_evidence(engine, page, who) if can_read_evidence(who) else {},
        tools=list(catalogue.tools.values()),
        subsidy_profiles=_subsidy_names(lang),
        plan_form=_plan_form(engine, unit_id, page.subsidy_profile, lang)
        if can_manage_unit(who, place)
        else None,
        stages=[s for s in Stage],
        objection_moves=[s for s in ObjectionStatus],
        documents=DOCUMENTS,
        gauge=gauge(page.consent.result, lang),
        activity_chart=activity_chart(page, lang),
        heterogeneity_chart=heterogeneity_chart(page, lang) if page.advice else {},
        **extra,
    )


def _advice_evidence(engine: Engine, page: Any, who: Any) -> dict[str, list[dict[str, Any]]]:
    """What the coded interviews say about each advised tool, computed once per page.

    Only for readers of research records (access.can_read_evidence), and only from the
    projects this reader may read (access.can_read_project): a resident sees none."""
    advice = getattr(page, "advice", None)
    tools = {r.tool for r in getattr(advice, "recommendations", ())}
    if not tools:
        return {}
    from colift.calibrate.evidence import for_tool
    from colift.services.access import can_read_project
    from colift.services.calibration import evidence_links
    from colift.services.evidence import project_scope

    found = evidence_links(engine, lambda name: can_read_project(who, project_scope(engine, name)))
    shown = {tool: for_tool(found, tool) for tool in tools}
    return {tool: [link.to_json()] for tool, link in shown.items() if link is not None}


def _subsidy_names(lang: str) -> list[tuple[str, str]]:
    """(id, name) of every packaged subsidy rule, named in the page's language."""
    return [(p.id, p.name_en if lang == "en" else p.name_zh) for p in _subsidy_profiles()]


@cache
def _subsidy_profiles() -> list[Any]:
    return all_subsidy_profiles()


def _plan_form(engine: Engine, unit_id: int, compound_subsidy: str | None, lang: str) -> Any:
    """The cost-plan form filled from the unit's stored plan (defaults without one)."""
    try:
        stored = unit_cost_shares(engine, unit_id).plan
    except NotFound:
        stored = None
    return plan_form(stored, compound_subsidy, lang)


@router.get("/units/{unit_id}", response_class=HTMLResponse)
def unit_view(request: Request, unit_id: int, who: Who) -> Response:
    return _unit_page(request, unit_id, who)


def _act(
    request: Request,
    unit_id: int,
    who: Principal,
    allowed: Callable[[Principal, UnitPlace], bool],
    what: str,
    action: Callable[[Engine], str],
    anchor: str,
) -> Response:
    """Run one service for a unit form; on a domain error re-render the page with its message."""
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    if not allowed(who, place):
        raise Refused(f"你的角色不能{what} / your role may not do this")
    try:
        message = action(engine)
    except ColiftError as exc:
        refused = _unit_page(
            request,
            unit_id,
            who,
            status=status_for(exc),
            error=exc,
            anchor=anchor,
        )
        # the address bar shows the unit page, not the form's POST address: a refresh reloads
        # the page instead of "Method Not Allowed" (htmx replaces the pushed URL with this)
        refused.headers["HX-Replace-Url"] = f"/units/{unit_id}#{anchor}"
        return refused
    return back(request, f"/units/{unit_id}#{anchor}", message)


@router.post("/units/{unit_id}/activities")
def post_activity(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        tool = _text(form, "tool")
        if tool not in load_catalogue().tools:
            raise BadInput("choose a governance tool")
        targets = tuple(str(v).strip() for v in form.getlist("targets") if str(v).strip())
        activity = Activity(
            unit_id=unit_id,
            person_id=None,
            actor_name=_text(form, "actor_name") or who.name,
            role=_text(form, "role"),
            guidance=GuidanceMode(_text(form, "guidance") or "none"),
            tool=tool,
            on=_date(form, "on") or date.today(),
            targets=targets,
            notes=_text(form, "notes"),
            outcome=Outcome(
                participants=_int(form, "participants"),
                money_fen=_fen(form, "money"),
                labour_hours=_int(form, "labour_hours"),
            ),
        )
        made = record_activity(engine, activity, actor=who.name)
        lang = page_language(request)
        said = [msg("activity recorded"), *made.warnings]
        return ("；" if lang != "en" else "; ").join(m.render(lang) for m in said)

    return _act(request, unit_id, who, can_lead_unit, "记录活动", run, "activities")


@router.post("/units/{unit_id}/stances")
def post_stance(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        try:
            stance = Stance(_text(form, "stance"))
        except ValueError:
            raise BadInput("choose a stance") from None
        reasons = [str(r) for r in form.getlist("reasons")]
        set_stance(
            engine,
            unit_id,
            _text(form, "room"),
            stance,
            reasons,
            actor=who.name,
            on=_date(form, "on"),
        )
        return f"已记录{_text(form, 'room')}的态度 / stance recorded"

    return _act(request, unit_id, who, can_lead_unit, "记录态度", run, "stairwell")


@router.post("/units/{unit_id}/rounds")
def post_round(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        open_vote_round(
            engine,
            unit_id,
            actor=who.name,
            title=_text(form, "title"),
            opened_on=_date(form, "on"),
        )
        return "已开始新一轮表决 / vote round opened"

    return _act(request, unit_id, who, can_manage_unit, "开始表决", run, "consent")


def _round_of_unit(engine: Engine, unit_id: int, round_id: int) -> None:
    """NotFound unless the round covers the unit (its own, its building's or its compound's)."""
    if round_id not in {r.id for r in unit_rounds(engine, unit_id)}:
        raise NotFound("vote round {round} does not exist", round=round_id)


@router.post("/units/{unit_id}/rounds/{round_id}/close")
def post_round_close(
    request: Request, unit_id: int, round_id: int, who: Who, form: Form
) -> Response:
    def run(engine: Engine) -> str:
        _round_of_unit(engine, unit_id, round_id)
        if _text(form, "confirm") != "yes":
            raise BadInput("tick that the count is final before closing the round")
        ended = close_vote_round(engine, round_id, actor=who.name, closed_on=_date(form, "on"))
        tally = ended.round.tally or {}
        return msg(
            "vote round closed: {agree} of {total} owners agree; ledger head {hash}",
            agree=tally.get("agree_heads"),
            total=tally.get("total_heads"),
            hash=ended.head.hash,
        ).render(page_language(request))

    return _act(request, unit_id, who, can_manage_unit, "结束表决", run, "rounds")


@router.post("/units/{unit_id}/rounds/{round_id}/void")
def post_round_void(
    request: Request, unit_id: int, round_id: int, who: Who, form: Form
) -> Response:
    def run(engine: Engine) -> str:
        _round_of_unit(engine, unit_id, round_id)
        ended = void_vote_round(engine, round_id, actor=who.name, reason=_text(form, "reason"))
        return msg("vote round voided; ledger head {hash}", hash=ended.head.hash).render(
            page_language(request)
        )

    return _act(request, unit_id, who, can_manage_unit, "宣布表决作废", run, "rounds")


@router.get("/units/{unit_id}/vote", response_class=HTMLResponse)
def vote_confirm(request: Request, unit_id: int, who: Who, vote: str = "") -> Response:
    """Step 2 of a resident's vote: the choice spelled out in words, recorded only on confirm."""
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    room = who.room or ""
    if not is_resident(who) or not can_act_for_room(who, place, room):
        return RedirectResponse(f"/units/{unit_id}#consent", status_code=303)
    try:
        chosen = parse_vote(vote)
    except ValueError:
        return RedirectResponse(f"/units/{unit_id}#consent", status_code=303)
    if chosen.value == "absent":
        return RedirectResponse(f"/units/{unit_id}#consent", status_code=303)
    page = unit_page_for(engine, unit_id, who)
    return render(request, "vote_confirm.html", page=page, room=room, vote=chosen)


@router.post("/units/{unit_id}/votes")
def post_vote(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    room = _text(form, "room") or (who.room or "")
    if is_resident(who) and _text(form, "confirmed") != "yes":
        # a legal vote is never recorded by one tap: show the confirmation step first
        if not can_act_for_room(who, locate_unit(engine_of(request), unit_id), room):
            raise Refused("你的角色不能为这一户表决 / your role may not do this")
        return RedirectResponse(
            f"/units/{unit_id}/vote?vote={quote(_text(form, 'vote'))}", status_code=303
        )

    def allowed(p: Principal, place: UnitPlace) -> bool:
        return can_act_for_room(p, place, room)

    def run(engine: Engine) -> str:
        try:
            vote = parse_vote(_text(form, "vote"))
        except ValueError:
            raise BadInput(
                "{value} is not a vote: choose agree, disagree, abstain or absent",
                value=_text(form, "vote"),
            ) from None
        cast_vote(engine, unit_id, room, vote, actor=who.name, signed_on=_date(form, "on"))
        return f"已记录{room}的表决 / vote recorded"

    return _act(request, unit_id, who, allowed, "为这一户表决", run, "consent")


@router.post("/units/{unit_id}/objections")
def post_objection(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    room = _text(form, "room") or (who.room or "")

    def allowed(p: Principal, place: UnitPlace) -> bool:
        return can_act_for_room(p, place, room)

    def run(engine: Engine) -> str:
        reasons = [str(r) for r in form.getlist("reasons")]
        if not reasons:
            raise BadInput("choose at least one reason")
        raise_objection(
            engine,
            unit_id,
            room,
            reasons,
            actor=who.name,
            raised_on=_date(form, "on"),
            notes=_text(form, "notes"),
        )
        return "已登记书面异议 / objection recorded"

    return _act(request, unit_id, who, allowed, "为这一户提出异议", run, "objections")


@router.post("/objections/{objection_id}/status")
def post_objection_status(request: Request, objection_id: int, who: Who, form: Form) -> Response:
    engine = engine_of(request)
    _, unit_id = objection_place(engine, objection_id)

    def run(engine: Engine) -> str:
        try:
            status = ObjectionStatus(_text(form, "status"))
        except ValueError:
            raise BadInput("choose the objection's new status") from None
        set_objection_status(
            engine,
            objection_id,
            status,
            actor=who.name,
            on=_date(form, "on"),
            notes=_text(form, "notes") or None,
        )
        return "异议状态已更新 / objection updated"

    return _act(request, unit_id, who, can_manage_unit, "处理异议", run, "objections")


@router.post("/units/{unit_id}/stage")
def post_stage(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        try:
            target = Stage(_text(form, "target"))
        except ValueError:
            raise BadInput("choose the stage to move to") from None
        made = advance_stage(
            engine,
            unit_id,
            target,
            actor=who.name,
            reason=_text(form, "reason"),
            reference=_text(form, "reference"),
            on=_date(form, "on"),
            acceptance_on=_date(form, "acceptance_on"),
        )
        lang = page_language(request)
        said = [msg("stage changed").render(lang), *(render_in(w, lang) for w in made.warnings)]
        return ("；" if lang != "en" else "; ").join(said)

    return _act(request, unit_id, who, can_manage_unit, "变更阶段", run, "stage")


@router.post("/units/{unit_id}/steps")
def post_step(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        made = record_step(
            engine,
            unit_id,
            _text(form, "step"),
            actor=who.name,
            on=_date(form, "on"),
            reference=_text(form, "reference"),
        )
        return msg(
            "recorded: {step} on {day}",
            step=WORK_STEP_NAMES[WorkStep(made.step)],
            day=made.done_on.isoformat(),
        ).render(page_language(request))

    return _act(request, unit_id, who, can_manage_unit, "记录工程步骤", run, "steps")


@router.post("/units/{unit_id}/plan")
def post_plan(request: Request, unit_id: int, who: Who, form: Form) -> Response:
    def run(engine: Engine) -> str:
        coefficients: dict[str, str] = {}
        for part in _text(form, "coefficients").replace("，", ",").split(","):
            if not part.strip():
                continue
            floor, sep, value = part.replace("：", ":").partition(":")
            if not sep:
                raise BadInput(
                    "floor coefficient {part} should be written floor:coefficient, e.g. 3:0.7",
                    part=part.strip(),
                )
            coefficients[floor.strip()] = value.strip()
        if not coefficients:
            raise BadInput("give the floor coefficients, e.g. 3:0.7, 4:0.9, 5:1.1")
        plan: dict[str, Any] = {
            "total_fen": _fen(form, "total"),
            "scheme": {
                "kind": "floor-coefficient",
                "coefficients": coefficients,
                "area_weighted": _text(form, "area_weighted") == "on",
            },
            "schedule": [
                {"name": "定金 deposit", "percent": "30"},
                {"name": "安装后 after installation", "percent": "50"},
                {"name": "验收后 after acceptance", "percent": "20"},
            ],
        }
        if _text(form, "subsidy_profile"):
            plan["subsidy_profile"] = _text(form, "subsidy_profile")
        compensation = _fen(form, "compensation")
        if compensation:
            plan["compensation"] = [{"floors": [1], "fen_each": compensation}]
        running = _fen(form, "running")
        if running:
            plan["running"] = {
                "annual_fen": running,
                "scheme": {"kind": "equal", "exempt_floors": [1]},
            }
        set_cost_plan(engine, unit_id, parse_plan(plan), actor=who.name)
        return "费用分摊方案已保存 / cost plan saved"

    return _act(request, unit_id, who, can_manage_unit, "制定分摊方案", run, "shares")


@router.get("/units/{unit_id}/whatif", response_class=HTMLResponse)
def whatif(
    request: Request,
    unit_id: int,
    who: Who,
    runs: int = 200,
    seed: int = 0,
    params: str | None = None,
) -> Response:
    """The "what if" panel: strategies compared on simulated copies of this stairwell."""
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    if not can_read_households(who, place):
        raise Refused("你的角色不能运行模拟 / your role may not run simulations")
    if not 1 <= runs <= 2000:
        raise BadInput("runs must be between 1 and 2000")
    from colift.services.calibration import param_set_used, param_values

    spend(request, who, Work.WHATIF)
    from colift.services.simulation import simulate_stored_unit  # numpy, scipy: load on use

    # A named parameter set (?params=NAME), else the adopted one, else the defaults.
    values = param_values(engine, params)
    result = simulate_stored_unit(engine, unit_id, runs=runs, seed=seed, params=values)
    lang = page_language(request)
    used = param_set_used(engine, params)  # the panel says which figures it rests on
    return render(request, "whatif.html", view=whatif_view(result, lang), param_set=used)


# --- printable documents -----------------------------------------------------------------------


@router.get("/units/{unit_id}/print/{kind}", response_class=HTMLResponse)
def print_document(request: Request, unit_id: int, kind: str, who: Who) -> Response:
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    if kind.endswith(".pdf"):
        kind = kind.removesuffix(".pdf")
        if not can_read_document(who, place, kind):
            raise Refused("你的角色不能打印这份文件 / your role may not print this document")
        spend(request, who, Work.PDF)
        html = _document_html(request, unit_id, kind, who)
        pdf = document_pdf(html, base_url=str(request.base_url))
        name = f"{kind}-{unit_id}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    if not can_read_document(who, place, kind):
        raise Refused("你的角色不能打印这份文件 / your role may not print this document")
    return HTMLResponse(_document_html(request, unit_id, kind, who))


@router.get("/units/{unit_id}/ledger.{fmt}")
def ledger_evidence(request: Request, unit_id: int, fmt: str, who: Who) -> Response:
    """The unit's ledger evidence file (docs/reliability.md): JSON for the standalone verifier,
    or its printable PDF. It names owners, so it goes to those who may print signature sheets."""
    engine = engine_of(request)
    place = locate_unit(engine, unit_id)
    if fmt not in ("json", "pdf"):
        raise NotFound("no evidence file .{fmt}: choose json or pdf", fmt=fmt)
    if not can_export_ledger(who, place):
        raise Refused(
            msg("your role may not export this unit's ledger").render(page_language(request))
        )
    evidence = export_unit(engine, place.compound, unit_id)
    name = f"{place.compound}-unit{unit_id}-ledger.{fmt}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        body = json.dumps(evidence.data, ensure_ascii=False, indent=1)
        return Response(body, media_type="application/json", headers=disposition)
    spend(request, who, Work.PDF)
    html = render_print("print/ledger_export.html", ev=evidence)
    pdf = document_pdf(html, base_url=str(request.base_url))
    return Response(pdf, media_type="application/pdf", headers=disposition)


def _document_html(request: Request, unit_id: int, kind: str, who: Principal) -> str:
    doc = unit_document(engine_of(request), unit_id, kind, only_room=document_room(who, kind))
    response = render(request, f"print/{kind}.html", doc=doc)
    return bytes(response.body).decode()


# --- roster import -----------------------------------------------------------------------------


@router.get("/compounds/{code}/import", response_class=HTMLResponse)
def import_page(request: Request, code: str, who: Who) -> Response:
    compound = get_compound(engine_of(request), code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise Refused("只有社区工作者可以导入名册 / only the compound's worker may import")
    return render(request, "import.html", compound=compound, code=code)


@router.post("/compounds/{code}/import", response_class=HTMLResponse)
def import_upload(request: Request, code: str, who: Who, form: Form) -> Response:
    engine = engine_of(request)
    compound = get_compound(engine, code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise Refused("只有社区工作者可以导入名册 / only the compound's worker may import")
    upload = form.get("roster")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "import.html",
            status=400,
            compound=compound,
            code=code,
            error="请选择名册文件（.xlsx 或 .csv） / choose a roster file (.xlsx or .csv)",
        )
    spend(request, who, Work.IMPORT)
    try:
        report = import_roster_upload(
            engine, read_upload(upload.file), upload.filename, code, actor=who.name
        )
    except ColiftError as exc:
        return render(
            request,
            "import.html",
            status=status_for(exc),
            compound=compound,
            code=code,
            error=exc,
            rows=exc.errors if isinstance(exc, RowError) else None,
            filename=upload.filename,
        )
    return render(
        request,
        "import.html",
        compound=compound,
        code=code,
        report=report,
        filename=upload.filename,
    )


# --- help -------------------------------------------------------------------------------------


@router.get("/help", response_class=HTMLResponse)
def help_page(request: Request) -> Response:
    """The glossary: 合作水平, 异质性, 直接/嵌入式引领 and the six leader roles in plain words."""
    return render(request, "help.html", terms=TERMS)


# --- form addresses opened with GET (a refresh, a bookmark, a shared link) ---------------------

_FORM_ANCHORS = {
    "activities": "activities",
    "stances": "stairwell",
    "rounds": "rounds",
    "votes": "consent",
    "objections": "objections",
    "stage": "stage",
    "steps": "stage",
    "plan": "shares",
}


@router.get("/units/{unit_id}/rounds/{round_id}/{action}")
def round_form_address(unit_id: int, round_id: int, action: str, who: Who) -> Response:
    """GET on a round's close/void address leads back to the rounds on the unit page."""
    if action not in ("close", "void"):
        raise NotFound("no page {path}", path=f"/units/{unit_id}/rounds/{round_id}/{action}")
    return RedirectResponse(f"/units/{unit_id}#rounds", status_code=303)


@router.get("/units/{unit_id}/{form_name}")
def form_address(unit_id: int, form_name: str, who: Who) -> Response:
    """A form's POST address opened with GET leads to the form on the unit page (303), so a
    refresh or a copied address never shows "Method Not Allowed"."""
    anchor = _FORM_ANCHORS.get(form_name)
    if anchor is None:
        raise NotFound("no page {path}", path=f"/units/{unit_id}/{form_name}")
    return RedirectResponse(f"/units/{unit_id}#{anchor}", status_code=303)
