"""The housing bureau's city view: every street's units by stage, and a page of units at a time.

It reads the maintained summary (services/summary.py) through the read engine, like the API's
`GET /api/v1/city`; the street office's own page stays at /street.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from colift.http.units import get_read_engine
from colift.model.coproduction import STAGE_ORDER, Stage
from colift.services.access import can_read_city
from colift.services.summary import PAGE_SIZE, city_overview
from colift.web.pages import Refused, Who
from colift.web.render import render

router = APIRouter(include_in_schema=False)  # pages, not API: outside the OpenAPI
STAGES = [s.value for s in (*STAGE_ORDER, Stage.SUSPENDED)]


@router.get("/city", response_class=HTMLResponse)
def city_page(
    request: Request,
    who: Who,
    offset: Annotated[int, Query(ge=0)] = 0,
    stage: Annotated[str | None, Query()] = None,
) -> Response:
    if not can_read_city(who):
        raise Refused("城市总览只对住建局和管理员开放 / the city view is for housing bureaus")
    chosen = stage if stage in STAGES else None
    page = city_overview(get_read_engine(request), offset=offset, limit=PAGE_SIZE, stage=chosen)
    return render(
        request,
        "city.html",
        page=page,
        stage=chosen,
        stages=STAGES,
        previous=max(0, offset - PAGE_SIZE) if offset > 0 else None,
        next=offset + PAGE_SIZE if page.has_more else None,
    )
