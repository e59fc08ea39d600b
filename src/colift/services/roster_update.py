"""Roster update: re-import a roster (an export, corrected) as a preview of changes, then confirm.

One function per user action: `preview_roster_update` reads the file, compares it flat by flat
with the registry and keeps the file for `confirm_roster_update`, which applies exactly the
previewed changes in one transaction, or nothing (the registry changed since: preview again).

What an update changes, per flat (building, unit, room):

- added flats: created with their owner (and building and unit if new), as an import does;
- owner: another owner's name makes the flat pass to that owner (`household.update`), and the
  flat's ballot in every open vote round and its stance are withdrawn through the ledger
  (`ballot.set` to 未投票, `stance.set` to 未接触): the new owner has not voted;
- phone with the same owner name: the owner's phone is corrected (`owner.update`);
- area and tenure: corrected on the flat (`household.update`);
- flats registered but not in the file are listed and kept: an update never deletes a flat.

Votes, residents and the other columns of the file are not changed by an update (votes are
recorded in rounds; residents on the unit page). Every correction is a new ledger entry, so
`colift ledger verify` holds after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from colift.errors import BadInput, ColiftError, NotFound, RowError
from colift.io import RosterRow, read_roster
from colift.io.roster import MAX_ROSTER_BYTES, CodePatterns, tenure_word
from colift.model import OwnerKind, Vote
from colift.model.coproduction import Stance
from colift.model.order import natural_key
from colift.services.registry import (
    ROSTER_SUFFIXES,
    UNNAMED_DEVELOPER,
    ImportReport,
    _buildings_and_units,
    _id,
    add_owners_and_flats,
    roster_patterns,
)
from colift.store import UnitOfWork

PREVIEW_DIR_ENV = "COLIFT_ROSTER_PREVIEW_DIR"
PREVIEW_TTL_SECONDS = 3600

__all__ = [
    "FlatChange",
    "RosterPreview",
    "UpdateReport",
    "confirm_roster_update",
    "preview_roster_update",
    "read_preview",
]


@dataclass(frozen=True)
class FlatChange:
    """One flat in the preview: what the registry holds (`*_was`) and what the file says."""

    building: str
    unit: str
    room: str
    row: int  # the file's row; 0 for a registered flat missing from the file
    owner: str = ""
    owner_was: str = ""
    phone: str = ""
    phone_was: str = ""
    area_m2: str = ""
    area_was: str = ""
    tenure: str = ""
    tenure_was: str = ""
    withdraws_ballots: int = 0  # ballots in open rounds withdrawn because the owner changes
    withdraws_stance: bool = False

    @property
    def label(self) -> str:
        return f"{self.building}栋{self.unit}单元{self.room}"

    @property
    def tenure_zh(self) -> str:
        return tenure_word(self.tenure) if self.tenure else ""

    @property
    def tenure_was_zh(self) -> str:
        return tenure_word(self.tenure_was) if self.tenure_was else ""

    @property
    def owner_changes(self) -> bool:
        return self.owner != self.owner_was

    @property
    def fields(self) -> list[str]:
        """Which of owner, phone, area_m2, tenure change."""
        pairs = {
            "owner": (self.owner, self.owner_was),
            "phone": (self.phone, self.phone_was),
            "area_m2": (self.area_m2, self.area_was),
            "tenure": (self.tenure, self.tenure_was),
        }
        return [name for name, (new, old) in pairs.items() if new != old]


@dataclass(frozen=True)
class RosterPreview:
    """What confirming would change; `preview_id` names it for the confirmation."""

    preview_id: str
    compound_code: str
    filename: str
    sha256: str
    added: list[FlatChange]
    changed: list[FlatChange]
    missing: list[FlatChange]
    unchanged: int
    digest: str  # of the changes; the confirmation refuses if the registry changed meanwhile
    applied: dict[str, Any] | None = None  # the confirmation's report, once confirmed

    @property
    def has_changes(self) -> bool:
        return bool(self.added or self.changed)

    def to_json(self) -> dict[str, Any]:
        def flats(items: list[FlatChange]) -> list[dict[str, Any]]:
            return [{**asdict(c), "label": c.label, "fields": c.fields} for c in items]

        return {
            "preview_id": self.preview_id,
            "compound": self.compound_code,
            "filename": self.filename,
            "sha256": self.sha256,
            "added": flats(self.added),
            "changed": flats(self.changed),
            "missing": flats(self.missing),
            "unchanged": self.unchanged,
            "applied": self.applied,
        }


@dataclass
class UpdateReport:
    compound_code: str
    added: int = 0
    changed: int = 0
    owners_changed: int = 0
    ballots_withdrawn: int = 0
    stances_withdrawn: int = 0
    buildings_created: int = 0
    units_created: int = 0
    kept_missing: int = 0
    units: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the plan

_COLUMN_ZH = {"owner": "业主", "phone": "联系电话", "area_m2": "面积(㎡)", "tenure": "居住状态"}


def _area_text(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _plan(
    uow: UnitOfWork, compound_id: int, rows: list[RosterRow]
) -> tuple[list[FlatChange], list[FlatChange], list[FlatChange], int]:
    """(added, changed, missing, unchanged) comparing the file's rows with the registry."""
    owners = {o.id: o for o in uow.owners.list_by_compound(compound_id)}
    registered: dict[tuple[str, str, str], tuple[Any, Any]] = {}
    for info in uow.units.list_by_compound(compound_id):
        for flat in uow.households.list_by_unit(info.id):
            registered[(info.building_number, info.number, flat.room)] = (info, flat)
    added: list[FlatChange] = []
    changed: list[FlatChange] = []
    unchanged = 0
    seen: set[tuple[str, str, str]] = set()
    for r in rows:
        key = (r.building, r.unit, r.room)
        seen.add(key)
        owner = r.owner or UNNAMED_DEVELOPER
        new = FlatChange(
            *key,
            row=r.source_row or 0,
            owner=owner,
            phone=r.owner_phone,
            area_m2=_area_text(r.area_m2),
            tenure=r.tenure.value,
        )
        if key not in registered:
            added.append(new)
            continue
        info, flat = registered[key]
        was = owners[flat.owner_id]
        change = FlatChange(
            *key,
            row=new.row,
            owner=owner,
            owner_was=was.name,
            phone=r.owner_phone,
            phone_was=was.phone,
            area_m2=new.area_m2,
            area_was=_area_text(flat.area_m2),
            tenure=new.tenure,
            tenure_was=flat.tenure.value,
        )
        if not change.fields:
            unchanged += 1
            continue
        if change.owner_changes:
            ballots = 0
            for current in uow.votes.rounds_for_unit(info.id):
                if not current.is_open:
                    continue
                ballots += sum(
                    1
                    for b in uow.votes.list_ballots(_id(current.id))
                    if b.household_id == flat.id and b.vote is not Vote.ABSENT
                )
            stance = uow.stances.find(_id(flat.id))
            change = FlatChange(
                **{
                    **asdict(change),
                    "withdraws_ballots": ballots,
                    "withdraws_stance": stance is not None and stance.stance is not Stance.UNKNOWN,
                }
            )
        changed.append(change)
    missing = [
        FlatChange(building, unit, room, 0, owner_was=owners[flat.owner_id].name)
        for (building, unit, room), (_, flat) in registered.items()
        if (building, unit, room) not in seen
    ]

    def order(c: FlatChange) -> tuple[Any, ...]:
        return (natural_key(c.building), natural_key(c.unit), natural_key(c.room))

    return (
        sorted(added, key=order),
        sorted(changed, key=order),
        sorted(missing, key=order),
        unchanged,
    )


def _digest(sha256: str, added: list[FlatChange], changed: list[FlatChange]) -> str:
    body = json.dumps(
        [sha256, [asdict(c) for c in added], [asdict(c) for c in changed]],
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


# --------------------------------------------------------------------------- kept previews


def _preview_dir() -> Path:
    configured = os.environ.get(PREVIEW_DIR_ENV, "").strip()
    folder = (
        Path(configured) if configured else Path(tempfile.gettempdir()) / "colift-roster-previews"
    )
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def _forget_old(folder: Path) -> None:
    limit = time.time() - PREVIEW_TTL_SECONDS
    for path in folder.iterdir():
        try:
            if path.stat().st_mtime < limit:
                path.unlink()
        except OSError:
            continue


def _valid_id(preview_id: str) -> bool:
    return 10 <= len(preview_id) <= 64 and all(c.isalnum() or c in "-_" for c in preview_id)


def _load(preview_id: str, compound_code: str) -> dict[str, Any]:
    gone = NotFound(
        "roster preview {preview} does not exist or has expired (previews are kept for an "
        "hour): upload the file again",
        preview=preview_id[:64],
    )
    if not _valid_id(preview_id):
        raise gone
    path = _preview_dir() / f"{preview_id}.json"
    try:
        kept: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise gone from None
    # Another compound's preview is as good as absent: its id says nothing here.
    if kept.get("compound") != compound_code:
        raise gone
    return kept


def _preview_of(kept: dict[str, Any]) -> RosterPreview:
    def flats(items: list[dict[str, Any]]) -> list[FlatChange]:
        return [FlatChange(**item) for item in items]

    return RosterPreview(
        preview_id=kept["id"],
        compound_code=kept["compound"],
        filename=kept["filename"],
        sha256=kept["sha256"],
        added=flats(kept["added"]),
        changed=flats(kept["changed"]),
        missing=flats(kept["missing"]),
        unchanged=kept["unchanged"],
        digest=kept["digest"],
        applied=kept.get("applied"),
    )


def _read(path: Path, patterns: CodePatterns) -> list[RosterRow]:
    rows = read_roster(path, patterns=patterns)
    if not rows:
        raise BadInput("{file} has a header but no flats: nothing to import", file=path.name)
    return rows


def _suffix(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if suffix not in ROSTER_SUFFIXES:
        raise BadInput(
            "{file}: only .xlsx and .csv rosters are read", file=filename or "the upload"
        )
    return suffix


# --------------------------------------------------------------------------- use cases


def preview_roster_update(
    engine: Engine, data: bytes, filename: str, compound_code: str, *, actor: str
) -> RosterPreview:
    """Check the file and list what an update would change; nothing is written to the registry.

    A bad file raises `RowError` (every problem) or `BadInput`, as an import does.
    """
    suffix = _suffix(filename)
    if len(data) > MAX_ROSTER_BYTES:
        raise BadInput(
            "the roster file is {size} KB; at most {limit} KB is read: split it by building",
            size=len(data) // 1024,
            limit=MAX_ROSTER_BYTES // 1024,
        )
    folder = _preview_dir()
    _forget_old(folder)
    preview_id = secrets.token_urlsafe(18)
    kept_file = folder / f"{preview_id}{suffix}"
    kept_file.write_bytes(data)
    try:
        rows = _read(kept_file, roster_patterns())
        with UnitOfWork(engine) as uow:
            compound = uow.compounds.get_by_code(compound_code)
            added, changed, missing, unchanged = _plan(uow, _id(compound.id), rows)
    except BaseException:
        kept_file.unlink(missing_ok=True)
        raise
    sha256 = hashlib.sha256(data).hexdigest()
    kept = {
        "id": preview_id,
        "compound": compound_code,
        "filename": filename,
        "suffix": suffix,
        "sha256": sha256,
        "actor": actor,
        "added": [asdict(c) for c in added],
        "changed": [asdict(c) for c in changed],
        "missing": [asdict(c) for c in missing],
        "unchanged": unchanged,
        "digest": _digest(sha256, added, changed),
    }
    (folder / f"{preview_id}.json").write_text(json.dumps(kept, ensure_ascii=False), "utf-8")
    return _preview_of(kept)


def read_preview(preview_id: str, compound_code: str) -> RosterPreview:
    """A kept preview of this compound; NotFound when unknown, expired or another compound's."""
    return _preview_of(_load(preview_id, compound_code))


def confirm_roster_update(
    engine: Engine,
    preview_id: str,
    compound_code: str,
    *,
    actor: str,
    today: date | None = None,
) -> UpdateReport:
    """Apply a previewed update, all of it or nothing; refused if the registry changed since."""
    kept = _load(preview_id, compound_code)
    if kept.get("applied") is not None:
        raise BadInput(
            "roster preview {preview} was confirmed already: upload the file again for a new "
            "preview",
            preview=preview_id,
        )
    path = _preview_dir() / f"{preview_id}{kept['suffix']}"
    if not path.exists():
        raise NotFound(
            "roster preview {preview} does not exist or has expired (previews are kept for an "
            "hour): upload the file again",
            preview=preview_id,
        )
    rows = _read(path, roster_patterns())
    by_key = {(r.building, r.unit, r.room): r for r in rows}
    day = today or date.today()
    report = UpdateReport(compound_code)
    with UnitOfWork(engine) as uow:
        compound = uow.compounds.get_by_code(compound_code)
        cid = _id(compound.id)
        added, changed, missing, _ = _plan(uow, cid, rows)
        if _digest(kept["sha256"], added, changed) != kept["digest"]:
            raise BadInput(
                "the registry of {compound} changed after this preview: upload the file again "
                "to see the changes as they are now",
                compound=compound_code,
            )
        report.kept_missing = len(missing)
        errors: list[tuple[int, str, str]] = []
        units = {(u.building_number, u.number): u for u in uow.units.list_by_compound(cid)}
        for change in changed:
            try:
                _apply(
                    uow,
                    cid,
                    units,
                    change,
                    by_key[(change.building, change.unit, change.room)],
                    actor,
                    day,
                    report,
                )
            except ColiftError as exc:
                errors.append((change.row, _COLUMN_ZH[change.fields[0]], exc.message))
        if errors:
            raise RowError(
                "roster update rejected: {count} flats cannot be changed; nothing was changed",
                errors,
                count=len(errors),
            )
        # After the corrections: a new flat of a corrected owner finds them as corrected.
        if added:
            _add_flats(
                uow, cid, [by_key[(c.building, c.unit, c.room)] for c in added], report, actor
            )
        report.changed = len(changed)
        uow.ledger.append(
            actor,
            "roster.update",
            f"compound:{cid}",
            {
                "file": kept["filename"],
                "sha256": kept["sha256"],
                "added": report.added,
                "changed": report.changed,
                "owners_changed": report.owners_changed,
                "ballots_withdrawn": report.ballots_withdrawn,
                "stances_withdrawn": report.stances_withdrawn,
            },
            chain=f"compound:{cid}",
        )
        uow.commit()
    kept["applied"] = asdict(report)
    (_preview_dir() / f"{preview_id}.json").write_text(
        json.dumps(kept, ensure_ascii=False), "utf-8"
    )
    path.unlink(missing_ok=True)
    return report


def _add_flats(
    uow: UnitOfWork, cid: int, rows: list[RosterRow], report: UpdateReport, actor: str
) -> None:
    counts = ImportReport(report.compound_code, False)
    units = _buildings_and_units(uow, cid, rows, counts, actor)
    add_owners_and_flats(uow, cid, rows, units, actor)
    report.added = len(rows)
    report.buildings_created = counts.buildings_created
    report.units_created = counts.units_created
    report.units = sorted(set(counts.units), key=natural_key)


def _apply(
    uow: UnitOfWork,
    cid: int,
    units: dict[tuple[str, str], Any],
    change: FlatChange,
    row: RosterRow,
    actor: str,
    day: date,
    report: UpdateReport,
) -> None:
    unit = units[(change.building, change.unit)]
    flat = uow.households.get_by_room(unit.id, change.room)
    hid = _id(flat.id)
    owner_id: int | None = None
    if change.owner_changes:
        kind = OwnerKind.DEVELOPER if row.developer_held else OwnerKind.PERSON
        owner_id = _id(
            uow.owners.get_or_create(cid, change.owner, change.phone, kind, actor=actor).id
        )
        report.owners_changed += 1
    elif change.phone != change.phone_was:
        uow.owners.update(flat.owner_id, actor=actor, phone=change.phone)
    uow.households.update(
        hid,
        actor=actor,
        area_m2=row.area_m2 if change.area_m2 != change.area_was else None,
        tenure=row.tenure if change.tenure != change.tenure_was else None,
        owner_id=owner_id,
    )
    if not change.owner_changes:
        return
    # The new owner has not voted: the old owner's ballot and stance no longer speak for the flat.
    for current in uow.votes.rounds_for_unit(unit.id):
        if not current.is_open:
            continue
        rid = _id(current.id)
        if any(
            b.household_id == hid and b.vote is not Vote.ABSENT for b in uow.votes.list_ballots(rid)
        ):
            uow.votes.set_ballots(rid, {hid: Vote.ABSENT}, actor=actor, signed_on=day)
            report.ballots_withdrawn += 1
    stance = uow.stances.find(hid)
    if stance is not None and stance.stance is not Stance.UNKNOWN:
        uow.stances.set(hid, Stance.UNKNOWN, actor=actor, on=max(day, stance.recorded_on))
        report.stances_withdrawn += 1
