"""Roster update over the API: upload a roster for a preview of changes per flat, then confirm.

Only the compound's worker or an admin may preview or confirm; a preview belongs to its
compound (another compound's id answers 404).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, UploadFile
from fastapi.encoders import jsonable_encoder

from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.units import EngineDep
from colift.http.uploads import read_upload
from colift.services.access import UnitPlace, can_manage_unit
from colift.services.registry import get_compound
from colift.services.roster_update import (
    confirm_roster_update,
    preview_roster_update,
    read_preview,
)

router = APIRouter(responses=ERROR_RESPONSES, tags=["compounds"])


def _may_manage(engine: Any, code: str, who: Any) -> None:
    compound = get_compound(engine, code)
    if not can_manage_unit(who, UnitPlace(0, code, compound.street)):
        raise forbidden("update this compound's roster")


@router.post(
    "/compounds/{code}/roster/previews",
    status_code=201,
    summary="Preview a roster update (per flat: added, changed, missing)",
)
def post_roster_preview(
    code: str,
    roster: Annotated[UploadFile, File(description="the roster, .xlsx or .csv, at most 5 MB")],
    engine: EngineDep,
    who: CurrentPrincipal,
) -> dict[str, Any]:
    """Compare the file (typically an export, corrected) with the registry; change nothing.

    Answers the `preview_id` to confirm, and per flat what would change: `added` flats,
    `changed` ones (owner, phone, area, tenure; an owner change withdraws the flat's ballots
    in open rounds and its stance), and `missing` ones (registered, not in the file: kept).
    A bad file answers 422 with every problem in `error.errors`, as an import does.
    """
    _may_manage(engine, code, who)
    preview = preview_roster_update(
        engine, read_upload(roster.file), roster.filename or "", code, actor=who.name
    )
    return preview.to_json()


@router.get("/compounds/{code}/roster/previews/{preview_id}", summary="A roster update preview")
def get_roster_preview(
    code: str, preview_id: str, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """The kept preview (an hour), with `applied` filled in once confirmed."""
    _may_manage(engine, code, who)
    return read_preview(preview_id, code).to_json()


@router.post(
    "/compounds/{code}/roster/previews/{preview_id}/confirm",
    summary="Apply a previewed roster update, all of it or nothing",
)
def post_roster_confirm(
    code: str, preview_id: str, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Apply exactly the previewed changes in one transaction; 400 if the registry changed
    since the preview (preview again) or if it was confirmed already."""
    _may_manage(engine, code, who)
    report = confirm_roster_update(engine, preview_id, code, actor=who.name)
    made: dict[str, Any] = jsonable_encoder(report)
    return made
