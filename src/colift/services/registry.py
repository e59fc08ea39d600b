"""Registry use cases: set up the database, import and export household rosters."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Engine

from colift.errors import BadInput, NotFound, RowError
from colift.i18n import Label
from colift.io import RosterRow, read_roster, write_roster
from colift.io.roster import CodePatterns
from colift.model import (
    Building,
    Compound,
    Household,
    Mobility,
    Owner,
    OwnerKind,
    Person,
    ScopeKind,
    Unit,
    Vote,
)
from colift.store import UnitInfo, UnitOfWork, current_revision, head_revision, migrate

# Unsold flats whose roster row leaves the owner blank belong to the developer (SPC art. 9).
UNNAMED_DEVELOPER = "建设单位（未售房屋）"

BUILDING_PATTERN_ENV = "COLIFT_ROSTER_BUILDING_PATTERN"
UNIT_PATTERN_ENV = "COLIFT_ROSTER_UNIT_PATTERN"


def roster_patterns() -> CodePatterns:
    """How building and unit numbers may look: the defaults, or this installation's patterns."""
    default = CodePatterns()
    building = os.environ.get(BUILDING_PATTERN_ENV, "").strip() or default.building
    unit = os.environ.get(UNIT_PATTERN_ENV, "").strip() or default.unit
    return CodePatterns(building=building, unit=unit)


def init_database(engine: Engine) -> str:
    """Create or upgrade the schema; returns the revision the database is now at."""
    migrate(engine)
    return current_revision(engine) or head_revision()


@dataclass(frozen=True)
class CompoundDetails:
    """What a new compound needs besides its code; used when an import creates one."""

    name: str
    city: str
    district: str = ""
    street: str = ""
    community: str = ""
    built_year: int | None = None
    consent_profile: str = "cn-civil-code-278"
    subsidy_profile: str | None = None


def create_compound(engine: Engine, code: str, details: CompoundDetails) -> Compound:
    with UnitOfWork(engine) as uow:
        compound = _add_compound(uow, code, details)
        uow.commit()
        return compound


def _add_compound(
    uow: UnitOfWork, code: str, details: CompoundDetails, actor: str = "colift"
) -> Compound:
    from colift.rules.consent import load_profile

    load_profile(details.consent_profile)  # an unknown rule is refused before anything is stored
    if details.subsidy_profile:
        from colift.rules.subsidy import load_subsidy_profile

        load_subsidy_profile(details.subsidy_profile)
    return uow.compounds.add(
        Compound(
            name=details.name,
            city=details.city,
            district=details.district,
            street=details.street,
            community=details.community,
            built_year=details.built_year,
            consent_profile=details.consent_profile,
            subsidy_profile=details.subsidy_profile,
        ),
        code=code,
        actor=actor,
    )


@dataclass
class ImportReport:
    compound_code: str
    compound_created: bool
    buildings_created: int = 0
    units_created: int = 0
    households: int = 0
    owners: int = 0
    persons: int = 0
    ballots: int = 0
    units: list[str] = field(default_factory=list)


def import_roster(
    engine: Engine,
    path: Path,
    compound_code: str,
    *,
    actor: str,
    create: CompoundDetails | None = None,
    today: date | None = None,
) -> ImportReport:
    """Import a roster file into a compound, all of it or nothing.

    A file with any bad row raises `RowError` listing every problem; flats already registered
    are problems too. Votes in the file go into each unit's open vote round (opened if needed).
    """
    rows = read_roster(path, patterns=roster_patterns())
    if not rows:
        raise BadInput("{name} has a header but no flats: nothing to import", name=path.name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with UnitOfWork(engine) as uow:
        try:
            compound = uow.compounds.get_by_code(compound_code)
            created = False
        except NotFound:
            if create is None:
                raise NotFound(
                    "compound {compound_code} does not exist: give its name and city to create it",
                    compound_code=repr(compound_code),
                ) from None
            compound = _add_compound(uow, compound_code, create, actor)
            created = True
        assert compound.id is not None
        report = ImportReport(compound_code, created)
        units = _buildings_and_units(uow, compound.id, rows, report, actor)
        _refuse_registered(uow, rows, units)
        owners, flats = add_owners_and_flats(uow, compound.id, rows, units, actor)
        report.owners = len({o.id for o in owners})
        report.households = len(flats)
        for r, flat, owner in zip(rows, flats, owners, strict=True):
            if r.resident:
                uow.persons.add(
                    Person(
                        name=r.resident,
                        household_id=flat.id,
                        age_band=r.age_band,
                        mobility=r.mobility or Mobility.NONE,
                        party_member=bool(r.party_member),
                        owner_id=owner.id if r.resident == r.owner else None,
                    ),
                    compound_id=compound.id,
                )
                report.persons += 1
        report.ballots = _import_votes(uow, rows, flats, units, actor, today)
        uow.ledger.append(
            actor,
            "roster.import",
            f"compound:{compound.id}",
            {
                "file": path.name,
                "sha256": digest,
                "households": report.households,
                "units": sorted(report.units),
            },
            chain=f"compound:{compound.id}",
        )
        uow.commit()
    return report


def _id(value: int | None) -> int:
    assert value is not None
    return value


def add_owners_and_flats(
    uow: UnitOfWork,
    compound_id: int,
    rows: list[RosterRow],
    units: dict[tuple[str, str], int],
    actor: str,
) -> tuple[list[Owner], list[Household]]:
    """The owners of record (found or made) and the flats of `rows`, one per row: the one place
    a roster row becomes an owner and a flat, for an import and for an update alike."""
    owners = uow.owners.get_or_create_many(
        compound_id,
        [
            Owner(
                name=r.owner or UNNAMED_DEVELOPER,
                phone=r.owner_phone,
                id_number=r.owner_id_number,
                kind=OwnerKind.DEVELOPER if r.developer_held else OwnerKind.PERSON,
            )
            for r in rows
        ],
        actor=actor,
    )
    flats = uow.households.add_many(
        [
            Household(
                unit_id=units[(r.building, r.unit)],
                room=r.room,
                floor=r.floor,
                area_m2=r.area_m2,
                owner_id=_id(o.id),
                tenure=r.tenure,
                area_source=r.area_source,
            )
            for r, o in zip(rows, owners, strict=True)
        ],
        actor=actor,
    )
    return owners, flats


def _buildings_and_units(
    uow: UnitOfWork,
    compound_id: int,
    rows: list[RosterRow],
    report: ImportReport,
    actor: str,
) -> dict[tuple[str, str], int]:
    storeys: dict[str, int] = defaultdict(int)
    for r in rows:
        storeys[r.building] = max(storeys[r.building], r.storeys or 0, r.floor)
    known = {b.number: b for b in uow.buildings.list_by_compound(compound_id)}
    out: dict[tuple[str, str], int] = {}
    for r in rows:
        key = (r.building, r.unit)
        if key in out:
            continue
        building = known.get(r.building)
        if building is None:
            building = uow.buildings.add(
                Building(compound_id=compound_id, number=r.building, storeys=storeys[r.building]),
                actor=actor,
            )
            known[r.building] = building
            report.buildings_created += 1
        building_id = _id(building.id)
        existing = {u.number: u for u in uow.units.list_by_building(building_id)}
        unit = existing.get(r.unit)
        if unit is None:
            unit = uow.units.add(Unit(building_id=building_id, number=r.unit), actor=actor)
            report.units_created += 1
        out[key] = _id(unit.id)
        report.units.append(f"{r.building}栋{r.unit}单元")
    return out


def _refuse_registered(
    uow: UnitOfWork, rows: list[RosterRow], units: dict[tuple[str, str], int]
) -> None:
    taken: dict[int, set[str]] = {}
    for unit_id in set(units.values()):
        taken[unit_id] = {h.room for h in uow.households.list_by_unit(unit_id)}
    errors = [
        (
            r.source_row or 0,
            "房号",
            f"{r.building}栋{r.unit}单元{r.room}已登记，不能重复导入 / "
            f"flat {r.room} of {r.building}-{r.unit} is already registered",
        )
        for r in rows
        if r.room in taken[units[(r.building, r.unit)]]
    ]
    if errors:
        raise RowError(
            "roster rejected: {count} flats are already registered; nothing was imported. To "
            "correct registered flats from this file (an export, edited), update the roster: "
            "you see every change before it is made",
            errors,
            count=len(errors),
        )


def _import_votes(
    uow: UnitOfWork,
    rows: list[RosterRow],
    flats: list[Household],
    units: dict[tuple[str, str], int],
    actor: str,
    today: date | None,
) -> int:
    by_unit: dict[int, dict[int, Vote]] = defaultdict(dict)
    for r, flat in zip(rows, flats, strict=True):
        if r.vote is not None:
            by_unit[units[(r.building, r.unit)]][_id(flat.id)] = r.vote
    count = 0
    for unit_id, votes in by_unit.items():
        current = uow.votes.current_round(unit_id)
        if current is None:
            current = uow.votes.open_round(
                ScopeKind.UNIT, unit_id, actor=actor, title="名册导入的表决", opened_on=today
            )
        count += len(uow.votes.set_ballots(current.id, votes, actor=actor, signed_on=today))
    return count


ROSTER_SUFFIXES = (".xlsx", ".csv")


def import_roster_upload(
    engine: Engine,
    data: bytes,
    filename: str,
    compound_code: str,
    *,
    actor: str,
    today: date | None = None,
) -> ImportReport:
    """`import_roster` for the bytes of an uploaded file named `filename` (.xlsx or .csv)."""
    suffix = Path(filename).suffix.lower()
    if suffix not in ROSTER_SUFFIXES:
        raise BadInput(
            "{filename}: only .xlsx and .csv rosters are read",
            filename=filename or Label("上传的文件", "the upload"),
        )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"roster{suffix}"
        path.write_bytes(data)
        return import_roster(engine, path, compound_code, actor=actor, today=today)


def export_roster(engine: Engine, compound_code: str, path: Path) -> int:
    """Write the compound's roster (with current votes) in the import format; returns flats."""
    with engine.connect() as conn:
        from colift.store.repository import (
            BuildingRepository,
            CompoundRepository,
            HouseholdRepository,
            OwnerRepository,
            PersonRepository,
            UnitRepository,
        )
        from colift.store.voting import VotingRepository

        compound = CompoundRepository(conn).get_by_code(compound_code)
        cid = _id(compound.id)
        buildings = {b.id: b for b in BuildingRepository(conn).list_by_compound(cid)}
        owners = {o.id: o for o in OwnerRepository(conn).list_by_compound(cid)}
        residents: dict[int, Person] = {}
        for p in PersonRepository(conn).list_by_compound(cid):
            if p.household_id is not None:
                residents.setdefault(p.household_id, p)
        votes_repo = VotingRepository(conn)
        out: list[RosterRow] = []
        for info in UnitRepository(conn).list_by_compound(cid):
            building = buildings[info.building_id]
            current = votes_repo.current_round(info.id)
            votes = (
                {b.household_id: b.vote for b in votes_repo.list_ballots(current.id)}
                if current
                else {}
            )
            for h in HouseholdRepository(conn).list_by_unit(info.id):
                owner = owners[h.owner_id]
                person = residents.get(_id(h.id))
                out.append(
                    RosterRow(
                        building=building.number,
                        unit=info.number,
                        floor=h.floor,
                        room=h.room,
                        area_m2=h.area_m2,
                        owner=owner.name,
                        owner_phone=owner.phone,
                        owner_id_number=owner.id_number,
                        tenure=h.tenure,
                        area_source=h.area_source,
                        storeys=building.storeys,
                        resident=person.name if person else "",
                        age_band=person.age_band if person else None,
                        mobility=person.mobility if person else None,
                        party_member=person.party_member if person else None,
                        vote=votes.get(_id(h.id)),
                    )
                )
    write_roster(out, path)
    return len(out)


def list_units(engine: Engine, compound_code: str) -> list[UnitInfo]:
    with UnitOfWork(engine, read_only=True) as uow:
        compound = uow.compounds.get_by_code(compound_code)
        return uow.units.list_by_compound(_id(compound.id))


def get_compound(engine: Engine, code: str) -> Compound:
    """The compound with `code`; NotFound names the code."""
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.compounds.get_by_code(code)


def list_compounds(engine: Engine) -> list[tuple[str, Compound]]:
    with UnitOfWork(engine, read_only=True) as uow:
        codes = uow.compounds.codes()
        return [(codes[_id(c.id)], c) for c in uow.compounds.all()]


__all__ = [
    "CompoundDetails",
    "ImportReport",
    "create_compound",
    "export_roster",
    "get_compound",
    "import_roster",
    "import_roster_upload",
    "init_database",
    "list_compounds",
    "list_units",
    "roster_patterns",
]
