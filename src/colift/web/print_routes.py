"""The printable documents of a unit under /api/v1 (survey form, signature sheet, notice,
agreement): the web app's print templates, as HTML or printed to PDF by Chromium.

They live beside the pages because the templates do; the route keeps its /api/v1 path, its
error shape and its place in the OpenAPI description.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.limits import bounded_ids
from colift.http.quota import spend
from colift.http.units import EngineDep, locate_unit
from colift.services.access import can_read_document, document_room
from colift.services.documents import document_pdf, unit_document
from colift.services.quota import Work
from colift.web.render import render

router = APIRouter(responses=ERROR_RESPONSES, dependencies=[Depends(bounded_ids)])


class DocumentKind(StrEnum):
    SURVEY = "survey"  # 意愿征询表
    SIGNATURES = "signatures"  # 业主表决签字表
    NOTICE = "notice"  # 加装电梯公示
    AGREEMENT = "agreement"  # 加装电梯协议


class DocumentFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


@router.get(
    "/units/{unit_id}/documents/{kind}",
    tags=["documents"],
    summary="A printable document of a unit",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}, "application/pdf": {}}},
        503: {"description": "no Chromium on the server to print a PDF"},
    },
)
def get_document(
    request: Request,
    unit_id: int,
    kind: DocumentKind,
    engine: EngineDep,
    who: CurrentPrincipal,
    format: Annotated[
        DocumentFormat, Query(description="html (default) or pdf (printed by Chromium)")
    ] = DocumentFormat.HTML,
) -> Response:
    """The survey form, signature sheet, public notice or cost-sharing agreement, as the page
    prints it. Survey forms and notices go to anyone who may read the unit; the signature sheet
    and the agreement carry owners' names and go to its leader, managers and the street office.
    Without Chromium on the server a PDF answers 503.
    """
    place = locate_unit(engine, unit_id)
    if not can_read_document(who, place, kind.value):
        raise forbidden(f"print the {kind.value} of this unit")
    doc = unit_document(engine, unit_id, kind.value, only_room=document_room(who, kind.value))
    html = bytes(render(request, f"print/{kind.value}.html", doc=doc).body).decode()
    if format is DocumentFormat.PDF:
        spend(request, who, Work.PDF)
        pdf = document_pdf(html, base_url=str(request.base_url))
        name = f"{kind.value}-{unit_id}.pdf"
        return Response(
            pdf,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return HTMLResponse(html)
