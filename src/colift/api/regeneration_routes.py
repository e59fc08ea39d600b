"""Community regeneration over the API: a compound's record after its lift runs (collective
actions, conflicts, complaints), read by whoever may read the compound and written by its
worker or an admin. Each record goes to the compound's ledger chain."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from colift.coproduction.regeneration import RegenerationEvent
from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.units import EngineDep
from colift.services.access import UnitPlace, can_manage_unit, can_read_compound
from colift.services.regeneration import (
    MAX_HOUSEHOLDS,
    compound_regeneration,
    parse_kind,
    record_regeneration,
)
from colift.services.registry import get_compound

router = APIRouter(responses=ERROR_RESPONSES, tags=["compounds"])


class RegenerationIn(BaseModel):
    kind: str = Field(
        min_length=1,
        max_length=32,
        description="stairwell_renovation/楼道改造, second_lift/再装电梯, shared_fund/共同基金, "
        "volunteer_duty/志愿服务, other_action/其他集体行动, conflict/邻里纠纷 or complaint/投诉",
    )
    title: str = Field(min_length=1, max_length=200, description="e.g. 3栋楼道改造")
    on: date | None = Field(
        None, description="the day it happened, not in the future (default: today)"
    )
    households: int = Field(0, ge=0, le=MAX_HOUSEHOLDS, description="households taking part")
    of_households: int = Field(
        0, ge=0, le=MAX_HOUSEHOLDS, description="households asked or concerned (0: not recorded)"
    )
    unit: str | None = Field(None, max_length=40, description="the unit concerned, e.g. 3-2")


@router.get(
    "/compounds/{code}/regeneration",
    summary="A compound's regeneration record and its outcome",
)
def get_regeneration(code: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    if not can_read_compound(who, code, get_compound(engine, code).street):
        raise forbidden("read this compound's regeneration record")
    return compound_regeneration(engine, code).to_json()


@router.post(
    "/compounds/{code}/regeneration",
    status_code=201,
    summary="Record a collective action, conflict or complaint in a compound",
)
def post_regeneration(
    code: str, body: RegenerationIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    compound = get_compound(engine, code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise forbidden("record this compound's regeneration")
    event = RegenerationEvent(
        parse_kind(body.kind),
        body.on or date.today(),
        body.households,
        body.of_households,
        body.title.strip(),
    )
    saved = record_regeneration(engine, code, event, actor=who.name, unit_label=body.unit)
    return saved.to_json()
