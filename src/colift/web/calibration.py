"""The calibration page (/calibration): street offices and admins run a bounded fit on their
street's record, see the posterior and the held-out check, and adopt a parameter set."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from colift.errors import BadInput
from colift.services.access import (
    can_adopt_parameters,
    can_calibrate,
    is_street_office,
    street_scope,
)
from colift.web.pages import Form, Refused, Who, back, engine_of
from colift.web.render import render

router = APIRouter(include_in_schema=False)  # pages, not API: outside the OpenAPI
PAGE_PARTICLES = 40  # a run from the page stays under a minute or two
PAGE_GENERATIONS = 3


def _allowed(who: Any) -> None:
    if not can_calibrate(who):
        raise Refused("校准只对街道办和管理员开放 / calibration is for street offices and admins")


def _int(form: Any, name: str, default: int, low: int, high: int) -> int:
    raw = str(form.get(name) or default).strip()
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadInput("{name} must be a whole number {low}–{high}", name=name, low=low, high=high)
    return int(raw)


@router.get("/calibration", response_class=HTMLResponse)
def calibration_page(request: Request, who: Who) -> Response:
    from colift.services.calibration import list_param_sets

    _allowed(who)
    sets = list_param_sets(engine_of(request))
    street = street_scope(who)
    return render(
        request,
        "calibration.html",
        sets=sets,
        street=street,
        most_particles=PAGE_PARTICLES,
        most_generations=PAGE_GENERATIONS,
        shown=None,
    )


@router.get("/calibration/sets/{name}", response_class=HTMLResponse)
def calibration_set(request: Request, name: str, who: Who) -> Response:
    from colift.services.calibration import list_param_sets, show_param_set

    _allowed(who)
    engine = engine_of(request)
    shown = show_param_set(engine, name)
    street = street_scope(who)
    return render(
        request,
        "calibration.html",
        sets=list_param_sets(engine),
        street=street,
        most_particles=PAGE_PARTICLES,
        most_generations=PAGE_GENERATIONS,
        shown=shown,
    )


@router.post("/calibration/run")
def calibration_run(request: Request, who: Who, form: Form) -> Response:
    from colift.services.calibration import calibrate

    _allowed(who)
    street = street_scope(who) if is_street_office(who) else str(form.get("street") or "")
    name = str(form.get("name") or "").strip()
    if not name:
        raise BadInput("a parameter set needs a name of 1 to 100 characters")
    calibrate(
        engine_of(request),
        street=street or None,
        everything=not street,
        name=name,
        actor=who.name,
        particles=_int(form, "particles", 30, 4, PAGE_PARTICLES),
        generations=_int(form, "generations", 2, 1, PAGE_GENERATIONS),
    )
    return back(request, f"/calibration/sets/{name}", "校准完成 / calibration done")


@router.post("/calibration/sets/{name}/adopt")
def calibration_adopt(request: Request, name: str, who: Who, form: Form) -> Response:
    from colift.services.calibration import adopt_param_set

    _allowed(who)
    if not can_adopt_parameters(who):
        raise Refused("只有管理员可以采用参数集 / only an admin adopts a parameter set")
    adopt_param_set(engine_of(request), name)
    return back(request, f"/calibration/sets/{name}", "已采用 / adopted")
