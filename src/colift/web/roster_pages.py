"""Roster update pages: upload → preview table (what changes per flat) → confirm (PRG)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import UploadFile

from colift.errors import ColiftError, RowError
from colift.http.errors import status_for
from colift.http.uploads import read_upload
from colift.i18n import msg
from colift.model import Compound
from colift.services.access import Principal, UnitPlace, can_manage_unit
from colift.services.registry import export_roster, get_compound
from colift.services.roster_update import (
    confirm_roster_update,
    preview_roster_update,
    read_preview,
)
from colift.web.pages import Form, Refused, Who, back, engine_of
from colift.web.render import page_language, render

router = APIRouter(include_in_schema=False)


def _managed(request: Request, code: str, who: Principal) -> Compound:
    compound = get_compound(engine_of(request), code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise Refused("只有本小区的社区工作者可以更新名册 / only the compound's worker may update")
    return compound


@router.get("/compounds/{code}/import/update", response_class=HTMLResponse)
def update_page(request: Request, code: str, who: Who) -> Response:
    """Download the registered roster, upload it edited: the start of an update."""
    compound = _managed(request, code, who)
    return render(request, "roster_update.html", compound=compound, code=code)


@router.post("/compounds/{code}/import/preview", response_class=HTMLResponse)
def post_preview(request: Request, code: str, who: Who, form: Form) -> Response:
    """Check the file and keep it; then show what would change (303 to the preview page)."""
    compound = _managed(request, code, who)
    upload = form.get("roster")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return render(
            request,
            "roster_update.html",
            status=400,
            compound=compound,
            code=code,
            error="请选择名册文件（.xlsx 或 .csv） / choose a roster file (.xlsx or .csv)",
        )
    try:
        preview = preview_roster_update(
            engine_of(request), read_upload(upload.file), upload.filename, code, actor=who.name
        )
    except ColiftError as exc:
        return render(
            request,
            "roster_update.html",
            status=status_for(exc),
            compound=compound,
            code=code,
            error=exc,
            rows=exc.errors if isinstance(exc, RowError) else None,
            filename=upload.filename,
        )
    checked = msg("roster checked: review the changes below, then confirm")
    return back(
        request,
        f"/compounds/{code}/import/preview/{preview.preview_id}",
        checked.render(page_language(request)),
    )


@router.get("/compounds/{code}/import/preview/{preview_id}", response_class=HTMLResponse)
def preview_page(request: Request, code: str, preview_id: str, who: Who) -> Response:
    compound = _managed(request, code, who)
    preview = read_preview(preview_id, code)
    return render(request, "roster_preview.html", compound=compound, code=code, preview=preview)


@router.post("/compounds/{code}/import/preview/{preview_id}/confirm", response_class=HTMLResponse)
def post_confirm(request: Request, code: str, preview_id: str, who: Who, form: Form) -> Response:
    compound = _managed(request, code, who)
    try:
        confirm_roster_update(engine_of(request), preview_id, code, actor=who.name)
    except ColiftError as exc:
        return render(
            request,
            "roster_preview.html",
            status=status_for(exc),
            compound=compound,
            code=code,
            preview=read_preview(preview_id, code),
            error=exc,
            rows=exc.errors if isinstance(exc, RowError) else None,
        )
    done = msg("roster updated")
    return back(
        request,
        f"/compounds/{code}/import/preview/{preview_id}",
        done.render(page_language(request)),
    )


@router.get("/compounds/{code}/import/roster.xlsx")
def export_xlsx(request: Request, code: str, who: Who) -> Response:
    """The compound's roster in the import format, to edit and upload as an update."""
    _managed(request, code, who)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        export_roster(engine_of(request), code, path)
        data = path.read_bytes()
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{code}-roster.xlsx"'},
    )
