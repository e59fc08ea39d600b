"""Long lists for street offices and housing bureaus, paginated and filtered, from the summary.

They read the maintained per-unit summary (services/summary.py), through the read engine:
`COLIFT_READ_DATABASE_URL` (a streaming replica) when set, else the main database.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.units import ReadEngineDep
from colift.services.access import (
    Principal,
    can_read_city,
    can_read_street,
    can_read_street_board,
    street_scope,
)
from colift.services.summary import (
    MAX_PAGE_SIZE,
    PAGE_SIZE,
    OverviewPage,
    city_overview,
    street_page,
)

router = APIRouter(responses=ERROR_RESPONSES)


Offset = Annotated[int, Query(ge=0, description="lines to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="lines per page")]
StageFilter = Annotated[str | None, Query(description="only units in this stage, e.g. vote")]


def page_json(page: OverviewPage) -> dict[str, Any]:
    return {
        "today": page.today.isoformat(),
        "offset": page.offset,
        "limit": page.limit,
        "units": page.units,
        "has_more": page.has_more,
        "by_stage": [asdict(g) for g in page.by_stage],
        "by_street": [asdict(g) for g in page.by_street],
        "lines": [
            {
                **{k: v for k, v in asdict(line).items() if k != "version"},
                "stage_since": None if line.stage_since is None else line.stage_since.isoformat(),
                "heterogeneity": line.heterogeneity_milli / 1000,
                "days_in_stage": None
                if line.stage_since is None
                else (page.today - line.stage_since).days,
            }
            for line in page.lines
        ],
    }


def _street_of(who: Principal, street: str | None) -> str | None:
    if not can_read_street_board(who):
        raise forbidden("read the street view (street offices and admins only)")
    if not can_read_street(who, street):
        raise forbidden("read another street")
    return street_scope(who) or street


@router.get("/street/units", tags=["compounds"], summary="A street's units, a page at a time")
def get_street_units(
    engine: ReadEngineDep,
    who: CurrentPrincipal,
    street: Annotated[str | None, Query(description="admins: one street (default: all)")] = None,
    offset: Offset = 0,
    limit: Limit = PAGE_SIZE,
    stage: StageFilter = None,
    passed: Annotated[bool | None, Query(description="only units whose consent passed")] = None,
    objections: Annotated[bool, Query(description="only units with open objections")] = False,
    compound: Annotated[
        str | None, Query(max_length=64, description="only the units of this compound (its code)")
    ] = None,
) -> dict[str, Any]:
    """Each unit's stage, stage since, consent counts and shortfall, open objections,
    cooperation level and next action, from the maintained summary; `stale` > 0 marks a line
    whose advice columns the background refresher has not yet caught up with."""
    chosen = _street_of(who, street)
    return page_json(
        street_page(
            engine,
            chosen,
            offset=offset,
            limit=limit,
            stage=stage,
            passed=passed,
            with_objections=objections,
            compound=compound,
        )
    )


@router.get("/city", tags=["compounds"], summary="The housing bureau's view of every street")
def get_city(
    engine: ReadEngineDep,
    who: CurrentPrincipal,
    offset: Offset = 0,
    limit: Limit = PAGE_SIZE,
    stage: StageFilter = None,
) -> dict[str, Any]:
    """Units, passed consents and open objections per street and per stage over the whole
    database, and a page of units; for admins and street-office accounts without a street."""
    if not can_read_city(who):
        raise forbidden("read the city view (a housing bureau's or an admin's account)")
    return page_json(city_overview(engine, offset=offset, limit=limit, stage=stage))
