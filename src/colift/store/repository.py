"""Repositories of the registry: compounds, buildings, units, owners, households, people, roles.

Each repository works on the one `Connection` it is given (a unit of work's), translating rows
to and from the dataclasses of `colift.model`. Adding returns a copy carrying the new id.
Unknown ids raise `NotFound`; input the schema cannot hold raises `BadInput`.

The registry facts a consent tally reads (compounds and their rules, buildings, units, owners,
flats with their areas, tenure and owner) are written to the compound's ledger chain in the
same transaction (`compound.add`, `building.add`, `unit.add`, `owner.add`, `owner.update`,
`household.add`, `household.update`), so `colift ledger verify` can compare them. Owner names
go to the ledger as kept text (erasable); phone numbers and people (`persons`) are not ledger
facts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Insert,
    Row,
    Select,
    String,
    Table,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from colift.errors import BadInput, NotFound
from colift.i18n import Label
from colift.model import (
    AgeBand,
    AreaSource,
    Building,
    Compound,
    Household,
    Mobility,
    Owner,
    OwnerKind,
    Person,
    Role,
    RoleAssignment,
    ScopeKind,
    Tenure,
    Unit,
)
from colift.model.order import natural_key
from colift.store import ledger, summary
from colift.store.personal import PREFIX as CIPHER_PREFIX
from colift.store.personal import decrypt, encrypt
from colift.store.tables import (
    buildings,
    compounds,
    households,
    owners,
    persons,
    role_assignments,
    units,
)

CM2_PER_M2 = 10_000
AREA_DECIMALS = 4  # 1 cm² = 0.0001 m²
# Values per IN list: a city-wide import must stay under SQLite's limit of bound parameters.
IN_CHUNK = 5_000

K = TypeVar("K", bound=Hashable)


# --- conversions and checks shared by the repositories ---------------------------------------


def m2_to_cm2(area_m2: Decimal) -> int:
    """Square metres to whole square centimetres, exactly; more than 4 decimals is BadInput."""
    try:
        cm2 = Decimal(area_m2).scaleb(AREA_DECIMALS)
        exact = cm2.is_finite() and cm2 == cm2.to_integral_value()
    except (InvalidOperation, TypeError, ValueError):
        exact = False
    if not exact:
        raise BadInput(
            "area {area_m2} m² cannot be stored: give at most {AREA_DECIMALS} decimals (1 cm² = 0.0001 m²)",
            area_m2=area_m2,
            AREA_DECIMALS=AREA_DECIMALS,
        )
    return int(cm2)


def cm2_to_m2(area_cm2: int) -> Decimal:
    """Whole square centimetres to square metres, exactly and without trailing zeros."""
    area = Decimal(area_cm2).scaleb(-AREA_DECIMALS)
    # normalize() alone would print 100 m² as 1E+2.
    return area.quantize(Decimal(1)) if area == area.to_integral_value() else area.normalize()


def unit_label(building_number: str, unit_number: str) -> str:
    """The way residents name a stairwell: building 3, unit 2 is "3栋2单元"."""
    return f"{building_number}栋{unit_number}单元"


def _plain_checked(table: Table, column: str, value: str) -> str:
    """The stored (encrypted) form of a phone number, after its plain length was checked."""
    check_lengths(table, {column: value})
    return encrypt(value)


def _check_id_number(value: str) -> None:
    """An ID number (身份证号): 15 or 18 characters of digits and a final X, or empty."""
    text = value.strip()
    if text and not (len(text) in (15, 18) and text[:-1].isdigit() and text[-1] in "0123456789Xx"):
        raise BadInput("an ID number has 15 or 18 digits (the last may be X)")


def check_lengths(table: Table, values: Mapping[str, Any]) -> None:
    """Reject text longer than its column: PostgreSQL would refuse it and SQLite would not."""
    for name, value in values.items():
        column_type = table.c[name].type
        limit = column_type.length if isinstance(column_type, String) else None
        if isinstance(value, str) and value.startswith(CIPHER_PREFIX):
            continue  # a ciphertext (store/personal.py): its plain number was checked
        if isinstance(value, str) and limit and len(value) > limit:
            raise BadInput(
                "{name}.{name2} is longer than {limit} characters: {value}…",
                name=table.name,
                name2=name,
                limit=limit,
                value=value[:40],
            )


def insert_ignoring_duplicates(conn: Connection, table: Table, keys: Sequence[str]) -> Insert:
    """An INSERT that skips rows colliding on the unique `keys` (both supported dialects)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(keys))
    raise NotImplementedError(f"colift supports SQLite and PostgreSQL, not {conn.dialect.name}")


def chunked(values: Iterable[K], size: int | None = None) -> Iterator[list[K]]:
    """The distinct `values` in lists of at most `size` (IN_CHUNK), for IN lists of any length."""
    distinct = list(dict.fromkeys(values))
    size = size or IN_CHUNK
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def require(conn: Connection, table: Table, ids: Iterable[int], what: str) -> None:
    """Raise NotFound naming every id of `ids` that `table` does not hold."""
    wanted = set(ids)
    found: set[int] = set()
    for chunk in chunked(wanted):
        found.update(conn.execute(select(table.c.id).where(table.c.id.in_(chunk))).scalars())
    missing = sorted(wanted - found)
    if missing:
        raise NotFound(
            "{what} {ids} does not exist",
            what=RECORD_NAMES.get(what, Label(what, what)),
            ids=", ".join(map(str, missing)),
        )


# What `require` names, for a message in the reader's language.
RECORD_NAMES = {
    "compound": Label("小区", "compound"),
    "building": Label("楼栋", "building"),
    "unit": Label("单元", "unit"),
    "household": Label("住户", "household"),
    "owner": Label("业主", "owner"),
    "person": Label("人员", "person"),
}


def describe_unit(conn: Connection, unit_id: int) -> str:
    """Name a unit for messages, as 3栋2单元 (unit 7), or unit 7 if it does not exist."""
    row = conn.execute(
        select(buildings.c.number.label("building"), units.c.number)
        .join_from(units, buildings)
        .where(units.c.id == unit_id)
    ).first()
    return (
        f"unit {unit_id}"
        if row is None
        else f"{unit_label(row.building, row.number)} (unit {unit_id})"
    )


@dataclass(frozen=True)
class FlatPlace:
    """Where a flat lies: its unit and compound (the ledger chain of what is written about it)."""

    household_id: int
    unit_id: int
    compound_id: int
    room: str


def place_of_household(conn: Connection, household_id: int) -> FlatPlace:
    """The unit and compound of a flat, in one query; NotFound if there is no such flat."""
    row = conn.execute(
        select(households.c.unit_id, households.c.room, buildings.c.compound_id)
        .join(units, units.c.id == households.c.unit_id)
        .join(buildings, buildings.c.id == units.c.building_id)
        .where(households.c.id == household_id)
    ).first()
    if row is None:
        raise NotFound("household {id} does not exist", id=household_id)
    return FlatPlace(household_id, row.unit_id, row.compound_id, row.room)


def compound_of_unit(conn: Connection, unit_id: int) -> int:
    """The compound a unit belongs to; NotFound if there is no such unit."""
    found = conn.execute(
        select(buildings.c.compound_id)
        .join(units, units.c.building_id == buildings.c.id)
        .where(units.c.id == unit_id)
    ).scalar()
    if found is None:
        raise NotFound("unit {id} does not exist", id=unit_id)
    return int(found)


class _Repository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _insert(self, table: Table, values: Mapping[str, Any]) -> int:
        check_lengths(table, values)
        result = self.conn.execute(insert(table).values(**values))
        new_id = result.inserted_primary_key
        assert new_id is not None  # every registry table has an integer id
        return int(new_id[0])

    def _one(self, table: Table, row_id: int, what: str) -> Row[Any]:
        row = self.conn.execute(select(table).where(table.c.id == row_id)).first()
        if row is None:
            raise NotFound("{what} {row_id} does not exist", what=what, row_id=row_id)
        return row


# --- compounds ---------------------------------------------------------------------------------


def _compound(row: Row[Any]) -> Compound:
    return Compound(
        id=row.id,
        name=row.name,
        city=row.city,
        district=row.district,
        street=row.street,
        community=row.community,
        built_year=row.built_year,
        consent_profile=row.consent_profile,
        subsidy_profile=row.subsidy_profile,
    )


class CompoundRepository(_Repository):
    """Compounds (小区), each known by a short unique `code` used in URLs and files."""

    def add(self, compound: Compound, code: str, *, actor: str = ledger.SYSTEM_ACTOR) -> Compound:
        code = code.strip()
        if not code:
            raise BadInput("a compound needs a code, e.g. its short name in pinyin")
        if self.conn.execute(select(compounds.c.id).where(compounds.c.code == code)).first():
            raise BadInput("a compound with code {code} already exists", code=repr(code))
        if not compound.name.strip() or not compound.city.strip():
            raise BadInput("a compound needs a name and a city")
        values = {
            "code": code,
            "name": compound.name,
            "city": compound.city,
            "district": compound.district,
            "street": compound.street,
            "community": compound.community,
            "built_year": compound.built_year,
            "consent_profile": compound.consent_profile,
            "subsidy_profile": compound.subsidy_profile,
        }
        new_id = self._insert(compounds, values)
        ledger.append(
            self.conn,
            actor,
            "compound.add",
            f"compound:{new_id}",
            {"compound_id": new_id, **values},
            chain=ledger.compound_chain(new_id),
        )
        return replace(compound, id=new_id)

    def get(self, compound_id: int) -> Compound:
        return _compound(self._one(compounds, compound_id, "compound"))

    def get_by_code(self, code: str) -> Compound:
        row = self.conn.execute(select(compounds).where(compounds.c.code == code.strip())).first()
        if row is None:
            raise NotFound("no compound has the code {code}", code=repr(code))
        return _compound(row)

    def ids_by_code(self, codes: Iterable[str]) -> dict[str, int]:
        """The ids of the compounds `codes` in one query; an unknown code is NotFound."""
        wanted = sorted({code.strip() for code in codes})
        found: dict[str, int] = {}
        for chunk in range(0, len(wanted), 500):  # SQLite's bound parameters are limited
            part = wanted[chunk : chunk + 500]
            found.update(
                (r.code, int(r.id))
                for r in self.conn.execute(
                    select(compounds.c.code, compounds.c.id).where(compounds.c.code.in_(part))
                )
            )
        missing = next((code for code in wanted if code not in found), None)
        if missing is not None:
            raise NotFound("no compound has the code {code}", code=repr(missing))
        return found

    def all(self) -> list[Compound]:
        return [_compound(r) for r in self.conn.execute(select(compounds).order_by(compounds.c.id))]

    def code_of(self, compound_id: int) -> str:
        return str(self._one(compounds, compound_id, "compound").code)

    def codes(self) -> dict[int, str]:
        """Every compound's code by id: the model's `Compound` does not carry it."""
        return {r.id: r.code for r in self.conn.execute(select(compounds.c.id, compounds.c.code))}


# --- buildings and units -----------------------------------------------------------------------


def _building(row: Row[Any]) -> Building:
    return Building(
        id=row.id,
        compound_id=row.compound_id,
        number=row.number,
        storeys=row.storeys,
        built_year=row.built_year,
    )


class BuildingRepository(_Repository):
    def add(self, building: Building, *, actor: str = ledger.SYSTEM_ACTOR) -> Building:
        require(self.conn, compounds, [building.compound_id], "compound")
        number = building.number.strip()
        if not number:
            raise BadInput("a building needs a number")
        if building.storeys < 1:
            raise BadInput("building {number} must have at least one storey", number=number)
        clash = self.conn.execute(
            select(buildings.c.id).where(
                buildings.c.compound_id == building.compound_id, buildings.c.number == number
            )
        ).first()
        if clash:
            raise BadInput("building {number} already exists in this compound", number=number)
        values = {
            "compound_id": building.compound_id,
            "number": number,
            "storeys": building.storeys,
            "built_year": building.built_year,
        }
        new_id = self._insert(buildings, values)
        ledger.append(
            self.conn,
            actor,
            "building.add",
            f"building:{new_id}",
            {"building_id": new_id, **values},
            chain=ledger.compound_chain(building.compound_id),
        )
        return replace(building, id=new_id, number=number)

    def get(self, building_id: int) -> Building:
        return _building(self._one(buildings, building_id, "building"))

    def get_by_number(self, compound_id: int, number: str) -> Building:
        row = self.conn.execute(
            select(buildings).where(
                buildings.c.compound_id == compound_id, buildings.c.number == number.strip()
            )
        ).first()
        if row is None:
            raise NotFound(
                "compound {compound_id} has no building {number}",
                compound_id=compound_id,
                number=number,
            )
        return _building(row)

    def list_by_compound(self, compound_id: int) -> list[Building]:
        rows = self.conn.execute(select(buildings).where(buildings.c.compound_id == compound_id))
        return sorted((_building(r) for r in rows), key=lambda b: natural_key(b.number))


@dataclass(frozen=True)
class UnitInfo:
    """A unit with what lists and reports show beside it."""

    id: int
    building_id: int
    compound_id: int
    building_number: str
    number: str
    consent_profile: str | None  # the unit's own profile, None if the compound's applies
    effective_profile: str
    households: int

    @property
    def label(self) -> str:
        return unit_label(self.building_number, self.number)

    def to_unit(self) -> Unit:
        return Unit(
            id=self.id,
            building_id=self.building_id,
            number=self.number,
            consent_profile=self.consent_profile,
        )


def _unit(row: Row[Any]) -> Unit:
    return Unit(
        id=row.id,
        building_id=row.building_id,
        number=row.number,
        consent_profile=row.consent_profile,
    )


_PLACE = (
    select(compounds.c.code, compounds.c.street)
    .select_from(units)
    .join(buildings, buildings.c.id == units.c.building_id)
    .join(compounds, compounds.c.id == buildings.c.compound_id)
    .where(units.c.id == bindparam("unit_id"))
)


class UnitRepository(_Repository):
    """Units (单元): one stairwell, the scope of one lift."""

    def add(self, unit: Unit, *, actor: str = ledger.SYSTEM_ACTOR) -> Unit:
        compound_id = self.conn.execute(
            select(buildings.c.compound_id).where(buildings.c.id == unit.building_id)
        ).scalar()
        if compound_id is None:
            raise NotFound("building {id} does not exist", id=unit.building_id)
        number = unit.number.strip()
        if not number:
            raise BadInput("a unit needs a number")
        clash = self.conn.execute(
            select(units.c.id).where(
                units.c.building_id == unit.building_id, units.c.number == number
            )
        ).first()
        if clash:
            raise BadInput("{unit} already exists", unit=describe_unit(self.conn, clash.id))
        values = {
            "building_id": unit.building_id,
            "number": number,
            "consent_profile": unit.consent_profile,
        }
        new_id = self._insert(units, values)
        ledger.append(
            self.conn,
            actor,
            "unit.add",
            f"unit:{new_id}",
            {"unit_id": new_id, **values},
            chain=ledger.compound_chain(compound_id),
            unit_id=new_id,
        )
        return replace(unit, id=new_id, number=number)

    def get(self, unit_id: int) -> Unit:
        return _unit(self._one(units, unit_id, "unit"))

    def place(self, unit_id: int) -> tuple[str, str]:
        """The code and street of the unit's compound, in one indexed query (authorization
        asks this on every request naming a unit); NotFound if there is no such unit."""
        row = self.conn.execute(_PLACE, {"unit_id": unit_id}).first()
        if row is None:
            raise NotFound("unit {id} does not exist", id=unit_id)
        return str(row.code), str(row.street or "")

    def list_by_building(self, building_id: int) -> list[Unit]:
        rows = self.conn.execute(select(units).where(units.c.building_id == building_id))
        return sorted((_unit(r) for r in rows), key=lambda u: natural_key(u.number))

    def _info_query(self) -> Select[Any]:
        # A correlated count per unit, read from the (unit_id, room) index: a grouped derived
        # table here was materialized over every flat of the database on each call (SQLite).
        flats = (
            select(func.count())
            .where(households.c.unit_id == units.c.id)
            .correlate(units)
            .scalar_subquery()
        )
        return (
            select(
                units.c.id,
                units.c.building_id,
                buildings.c.compound_id,
                buildings.c.number.label("building_number"),
                units.c.number,
                units.c.consent_profile,
                func.coalesce(units.c.consent_profile, compounds.c.consent_profile).label(
                    "effective_profile"
                ),
                flats.label("households"),
            )
            .select_from(units)
            .join(buildings, buildings.c.id == units.c.building_id)
            .join(compounds, compounds.c.id == buildings.c.compound_id)
        )

    @staticmethod
    def _info(row: Row[Any]) -> UnitInfo:
        return UnitInfo(
            id=row.id,
            building_id=row.building_id,
            compound_id=row.compound_id,
            building_number=row.building_number,
            number=row.number,
            consent_profile=row.consent_profile,
            effective_profile=row.effective_profile,
            households=int(row.households),
        )

    def info(self, unit_id: int) -> UnitInfo:
        row = self.conn.execute(self._info_query().where(units.c.id == unit_id)).first()
        if row is None:
            raise NotFound("unit {id} does not exist", id=unit_id)
        return self._info(row)

    def list_by_compound(self, compound_id: int) -> list[UnitInfo]:
        """Every unit of the compound, labelled, in building then unit order (one query)."""
        rows = self.conn.execute(self._info_query().where(buildings.c.compound_id == compound_id))
        infos = [self._info(r) for r in rows]
        return sorted(infos, key=lambda u: (natural_key(u.building_number), natural_key(u.number)))

    def find(self, compound_id: int, building_number: str, unit_number: str) -> UnitInfo:
        """The unit a resident calls e.g. 3栋2单元."""
        row = self.conn.execute(
            self._info_query().where(
                buildings.c.compound_id == compound_id,
                buildings.c.number == building_number.strip(),
                units.c.number == unit_number.strip(),
            )
        ).first()
        if row is None:
            label = unit_label(building_number.strip(), unit_number.strip())
            raise NotFound(
                "compound {compound_id} has no unit {label}", compound_id=compound_id, label=label
            )
        return self._info(row)


# --- owners ------------------------------------------------------------------------------------


def _owner(row: Row[Any]) -> Owner:
    return Owner(
        id=row.id,
        name=row.name,
        kind=OwnerKind(row.kind),
        phone=decrypt(row.phone),
        id_number=decrypt(row.id_number),
    )


def _owner_identity(owner: Owner) -> tuple[str, str]:
    name, phone = owner.name.strip(), owner.phone.strip()
    if not name:
        raise BadInput("an owner needs a name")
    return name, phone


class OwnerRepository(_Repository):
    """Owners of record. (compound, name, phone) is one owner, however many flats they hold."""

    def get(self, owner_id: int) -> Owner:
        return _owner(self._one(owners, owner_id, "owner"))

    def compound_of(self, owner_id: int) -> int:
        return int(self._one(owners, owner_id, "owner").compound_id)

    def get_or_create(
        self,
        compound_id: int,
        name: str,
        phone: str = "",
        kind: OwnerKind = OwnerKind.PERSON,
        *,
        actor: str = ledger.SYSTEM_ACTOR,
    ) -> Owner:
        return self.get_or_create_many(
            compound_id, [Owner(name=name, phone=phone, kind=kind)], actor=actor
        )[0]

    def get_or_create_many(
        self, compound_id: int, wanted: Iterable[Owner], *, actor: str = ledger.SYSTEM_ACTOR
    ) -> list[Owner]:
        """The stored owner for each of `wanted`, in order, creating the missing ones at once.

        An existing owner keeps its stored kind; ids of `wanted` are ignored. Each owner this
        call creates is written to the ledger (`owner.add`).
        """
        require(self.conn, compounds, [compound_id], "compound")
        items = list(wanted)
        keys = [_owner_identity(o) for o in items]
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for (name, phone), owner in zip(keys, items, strict=True):
            row = {
                "compound_id": compound_id,
                "name": name,
                "phone": phone,
                "kind": owner.kind.value,
            }
            check_lengths(owners, row)  # the plain number: ciphertext is longer by design
            _check_id_number(owner.id_number)
            row["phone"] = encrypt(phone)
            row["id_number"] = encrypt(owner.id_number.strip())
            rows.setdefault((name, phone), row)
        if not rows:
            return []
        # ON CONFLICT DO NOTHING: a concurrent creator of the same owner cannot make a twin;
        # RETURNING names only the owners this call created, which go to the ledger.
        stmt = insert_ignoring_duplicates(self.conn, owners, ["compound_id", "name", "phone"])
        created = list(
            self.conn.execute(
                stmt.returning(owners.c.id, owners.c.name, owners.c.kind), list(rows.values())
            ).all()
        )
        created.sort(key=lambda r: r.id)
        kept = ledger.keep_texts(self.conn, [str(r.name) for r in created])
        ledger.append_many(
            self.conn,
            [
                ledger.LedgerRecord(
                    actor,
                    "owner.add",
                    f"owner:{r.id}",
                    {"owner_id": r.id, "compound_id": compound_id, "kind": r.kind, "name": name},
                )
                for r, name in zip(created, kept, strict=True)
            ],
            chain=ledger.compound_chain(compound_id),
        )
        stored: dict[tuple[str, str], Owner] = {}
        for names in chunked(name for name, _ in rows):
            query = select(owners).where(
                owners.c.compound_id == compound_id, owners.c.name.in_(names)
            )
            for r in self.conn.execute(query):
                found = _owner(r)
                stored[(found.name, found.phone)] = found
        return [stored[key] for key in keys]

    def list_by_compound(self, compound_id: int) -> list[Owner]:
        rows = self.conn.execute(
            select(owners).where(owners.c.compound_id == compound_id).order_by(owners.c.id)
        )
        return [_owner(r) for r in rows]

    def update(
        self,
        owner_id: int,
        *,
        actor: str,
        name: str | None = None,
        phone: str | None = None,
        kind: OwnerKind | None = None,
    ) -> Owner:
        """Correct an owner's name, phone or kind; name and kind changes go to the ledger.

        A correction is a new entry (`owner.update`, with what it replaced); the phone is not a
        ledger fact. Another owner of the compound with the same name and phone is refused.
        """
        row = self._one(owners, owner_id, "owner")
        current = _owner(row)
        new_name = current.name if name is None else name.strip()
        new_phone = current.phone if phone is None else phone.strip()
        new_kind = current.kind if kind is None else OwnerKind(kind)
        if not new_name:
            raise BadInput("an owner needs a name")
        values: dict[str, Any] = {}
        if new_name != current.name:
            values["name"] = new_name
        if new_phone != current.phone:
            values["phone"] = new_phone
        if new_kind is not current.kind:
            values["kind"] = new_kind.value
        if not values:
            return current
        check_lengths(owners, values)  # the plain number: ciphertext is longer by design
        if "phone" in values:
            values["phone"] = encrypt(new_phone)
        chain = ledger.compound_chain(row.compound_id)
        ledger.lock(self.conn, chain)
        if "name" in values or "phone" in values:
            twin = self.conn.execute(
                select(owners.c.id).where(
                    owners.c.compound_id == row.compound_id,
                    owners.c.name == new_name,
                    owners.c.phone.in_({new_phone, encrypt(new_phone)}),
                    owners.c.id != owner_id,
                )
            ).first()
            if twin is not None:
                raise BadInput(
                    "owner {other} already has this name and phone: the two are one owner",
                    other=twin.id,
                )
        self.conn.execute(update(owners).where(owners.c.id == owner_id).values(**values))
        changed: dict[str, Any] = {}
        was: dict[str, Any] = {}
        if "name" in values:
            changed["name"] = ledger.keep_text(self.conn, new_name)
            was["name"] = ledger.keep_text(self.conn, current.name)
        if "kind" in values:
            changed["kind"], was["kind"] = new_kind.value, current.kind.value
        if changed:
            ledger.append(
                self.conn,
                actor,
                "owner.update",
                f"owner:{owner_id}",
                {"owner_id": owner_id, "set": changed, "was": was},
                chain=chain,
            )
        return replace(current, name=new_name, phone=new_phone, kind=new_kind)


# --- households --------------------------------------------------------------------------------


def mark_owner_heads(conn: Connection, unit_ids: Iterable[int] | None = None) -> None:
    """Recompute which flat carries each owner's head, set-based (after a bulk load).

    The lowest-numbered flat of each owner in a unit carries it; all developer-held flats of a
    unit share one head.
    """
    flat = households.alias("flat")
    developer = flat.c.tenure.in_([t.value for t in Tenure if t.developer_held])
    key = case((developer, -1), else_=flat.c.owner_id)
    chunks: Iterable[Sequence[int] | None] = [None] if unit_ids is None else chunked(unit_ids)
    for chunk in chunks:
        heads = select(func.min(flat.c.id).label("id")).group_by(flat.c.unit_id, key)
        reset = update(households).where(households.c.owner_head != 0)
        if chunk is not None:
            heads = heads.where(flat.c.unit_id.in_(chunk))
            reset = reset.where(households.c.unit_id.in_(chunk))
        conn.execute(reset.values(owner_head=0))
        # UPDATE … FROM a grouped subquery: a hash join on both backends, not a per-row lookup.
        chosen = heads.subquery("heads")
        conn.execute(update(households).where(households.c.id == chosen.c.id).values(owner_head=1))


def _head_key(tenure: Tenure, owner_id: int) -> int:
    """The owner as the head count sees it: all developer-held flats are one owner (-1)."""
    return -1 if tenure.developer_held else owner_id


def _household(row: Row[Any]) -> Household:
    return Household(
        id=row.id,
        unit_id=row.unit_id,
        room=row.room,
        floor=row.floor,
        area_m2=cm2_to_m2(row.area_cm2),
        owner_id=row.owner_id,
        tenure=Tenure(row.tenure),
        area_source=AreaSource(row.area_source),
    )


HOUSEHOLD_FACTS = ("unit_id", "room", "floor", "area_cm2", "area_source", "tenure", "owner_id")


def _household_fact(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the ledger records of a flat: every column the tally reads but the derived head."""
    return {k: row[k] for k in HOUSEHOLD_FACTS}


def _household_order(h: Household) -> tuple[int, tuple[tuple[int, int, str], ...]]:
    return h.floor, natural_key(h.room)


class HouseholdRepository(_Repository):
    """Flats (户) with their registered area, stored as whole cm² and read back exactly."""

    def add(self, household: Household, *, actor: str = ledger.SYSTEM_ACTOR) -> Household:
        return self.add_many([household], actor=actor)[0]

    def add_many(
        self, items: Sequence[Household], *, actor: str = ledger.SYSTEM_ACTOR
    ) -> list[Household]:
        """Add flats in one statement after checking them all together (for imports).

        Each flat is one `household.add` entry in its compound's ledger chain.
        """
        if not items:
            return []
        unit_compound: dict[int, int] = {}
        labels: dict[int, str] = {}
        owner_compound: dict[int, int] = {}
        taken: set[tuple[int, str]] = set()
        for chunk in chunked(h.unit_id for h in items):
            for unit_id, unit_number, building_number, compound_id in self.conn.execute(
                select(units.c.id, units.c.number, buildings.c.number, buildings.c.compound_id)
                .join_from(units, buildings)
                .where(units.c.id.in_(chunk))
            ):
                unit_compound[unit_id] = compound_id
                labels[unit_id] = unit_label(building_number, unit_number)
            taken.update(
                (unit_id, room)
                for unit_id, room in self.conn.execute(
                    select(households.c.unit_id, households.c.room).where(
                        households.c.unit_id.in_(chunk)
                    )
                )
            )
        for chunk in chunked(h.owner_id for h in items):
            owner_compound.update(
                (owner_id, compound_id)
                for owner_id, compound_id in self.conn.execute(
                    select(owners.c.id, owners.c.compound_id).where(owners.c.id.in_(chunk))
                )
            )
        require(self.conn, units, {h.unit_id for h in items} - unit_compound.keys(), "unit")
        require(self.conn, owners, {h.owner_id for h in items} - owner_compound.keys(), "owner")
        heads = self._head_keys(unit_compound)
        rows: list[dict[str, Any]] = []
        for h in items:
            room = h.room.strip()
            where = f"room {room!r} of {labels[h.unit_id]}"
            if not room:
                raise BadInput("a flat in {labels} has no room number", labels=labels[h.unit_id])
            if (h.unit_id, room) in taken:
                raise BadInput("{where} is listed twice", where=where)
            if owner_compound[h.owner_id] != unit_compound[h.unit_id]:
                raise BadInput(
                    "owner {owner_id} of {where} belongs to another compound",
                    owner_id=h.owner_id,
                    where=where,
                )
            try:
                area_cm2 = m2_to_cm2(h.area_m2)
            except BadInput as exc:
                raise BadInput("{where}: {message}", where=where, message=exc.message) from None
            taken.add((h.unit_id, room))
            key = (h.unit_id, _head_key(Tenure(h.tenure), h.owner_id))
            row: dict[str, Any] = {
                "unit_id": h.unit_id,
                "room": room,
                "floor": h.floor,
                "area_cm2": area_cm2,
                "area_source": AreaSource(h.area_source).value,
                "tenure": Tenure(h.tenure).value,
                "owner_id": h.owner_id,
                "owner_head": 0 if key in heads else 1,
            }
            heads.add(key)
            check_lengths(households, row)
            rows.append(row)
        ids = list(
            self.conn.execute(
                insert(households).returning(households.c.id, sort_by_parameter_order=True), rows
            ).scalars()
        )
        by_chain: dict[str, list[ledger.LedgerRecord]] = {}
        for new_id, row in zip(ids, rows, strict=True):
            by_chain.setdefault(ledger.compound_chain(unit_compound[row["unit_id"]]), []).append(
                ledger.LedgerRecord(
                    actor,
                    "household.add",
                    f"household:{new_id}",
                    {"household_id": new_id, **_household_fact(row)},
                    row["unit_id"],
                )
            )
        for chain, records in by_chain.items():
            ledger.append_many(self.conn, records, chain=chain)
        return [
            replace(h, id=new_id, room=row["room"])
            for h, new_id, row in zip(items, ids, rows, strict=True)
        ]

    def update(
        self,
        household_id: int,
        *,
        actor: str,
        room: str | None = None,
        floor: int | None = None,
        area_m2: Decimal | None = None,
        area_source: AreaSource | None = None,
        tenure: Tenure | None = None,
        owner_id: int | None = None,
    ) -> Household:
        """Correct a flat's registry facts; the change is a new ledger entry (`household.update`,
        with the values it replaced). Returns the flat as stored; no change writes nothing.

        A change of owner or tenure moves the owner's head to the right flat of the unit.
        """
        place = place_of_household(self.conn, household_id)
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        row = self._one(households, household_id, "household")
        where = f"room {row.room!r} of {describe_unit(self.conn, row.unit_id)}"
        wanted: dict[str, Any] = {}
        if room is not None:
            wanted["room"] = room.strip()
            if not wanted["room"]:
                raise BadInput("{flat}: a flat needs a room number", flat=where)
        if floor is not None:
            wanted["floor"] = floor
        if area_m2 is not None:
            try:
                wanted["area_cm2"] = m2_to_cm2(area_m2)
            except BadInput as exc:
                raise BadInput("{where}: {message}", where=where, message=exc.message) from None
        if area_source is not None:
            wanted["area_source"] = AreaSource(area_source).value
        if tenure is not None:
            wanted["tenure"] = Tenure(tenure).value
        if owner_id is not None:
            owner_place = self.conn.execute(
                select(owners.c.compound_id).where(owners.c.id == owner_id)
            ).scalar()
            if owner_place is None:
                raise NotFound("owner {id} does not exist", id=owner_id)
            if owner_place != place.compound_id:
                raise BadInput(
                    "owner {owner} of {flat} belongs to another compound",
                    owner=owner_id,
                    flat=where,
                )
            wanted["owner_id"] = owner_id
        before = _household_fact(row._asdict())
        changes = {k: v for k, v in wanted.items() if before[k] != v}
        if not changes:
            return _household(row)
        if "room" in changes:
            clash = self.conn.execute(
                select(households.c.id).where(
                    households.c.unit_id == row.unit_id,
                    households.c.room == changes["room"],
                )
            ).first()
            if clash is not None:
                raise BadInput(
                    "{flat}: room {room} is already registered", flat=where, room=changes["room"]
                )
        check_lengths(households, changes)
        self.conn.execute(
            update(households).where(households.c.id == household_id).values(**changes)
        )
        if "owner_id" in changes or "tenure" in changes:
            mark_owner_heads(self.conn, [row.unit_id])
        ledger.append(
            self.conn,
            actor,
            "household.update",
            f"household:{household_id}",
            {
                "household_id": household_id,
                "set": changes,
                "was": {k: before[k] for k in changes},
            },
            chain=chain,
            unit_id=row.unit_id,
        )
        return self.get(household_id)

    def _head_keys(self, unit_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(unit, owner key) pairs that already have a flat carrying the owner's head."""
        found: set[tuple[int, int]] = set()
        for chunk in chunked(unit_ids):
            for unit_id, tenure, owner_id in self.conn.execute(
                select(households.c.unit_id, households.c.tenure, households.c.owner_id).where(
                    households.c.unit_id.in_(chunk), households.c.owner_head == 1
                )
            ):
                found.add((unit_id, _head_key(Tenure(tenure), owner_id)))
        return found

    def get(self, household_id: int) -> Household:
        return _household(self._one(households, household_id, "household"))

    def get_by_room(self, unit_id: int, room: str) -> Household:
        row = self.conn.execute(
            select(households).where(
                households.c.unit_id == unit_id, households.c.room == room.strip()
            )
        ).first()
        if row is None:
            raise NotFound(
                "{unit} has no room {room}", unit=describe_unit(self.conn, unit_id), room=room
            )
        return _household(row)

    def list_by_unit(self, unit_id: int) -> list[Household]:
        rows = self.conn.execute(select(households).where(households.c.unit_id == unit_id))
        return sorted((_household(r) for r in rows), key=_household_order)

    def list_by_owner(self, owner_id: int) -> list[Household]:
        rows = self.conn.execute(select(households).where(households.c.owner_id == owner_id))
        return sorted(
            (_household(r) for r in rows), key=lambda h: (h.unit_id, *_household_order(h))
        )


# --- persons and roles -------------------------------------------------------------------------


def _person(row: Row[Any]) -> Person:
    return Person(
        id=row.id,
        name=row.name,
        household_id=row.household_id,
        age_band=None if row.age_band is None else AgeBand(row.age_band),
        mobility=Mobility(row.mobility),
        party_member=bool(row.party_member),
        phone=decrypt(row.phone),
        owner_id=row.owner_id,
    )


class PersonRepository(_Repository):
    """Residents and actors. `Person.notes` is not stored: the table has no place for it."""

    def add(self, person: Person, compound_id: int | None = None) -> Person:
        """Add a person; the compound defaults to that of their flat or of the owner they are."""
        if not person.name.strip():
            raise BadInput("a person needs a name")
        if compound_id is None and person.household_id is not None:
            compound_id = self._compound_of_household(person.household_id)
        if compound_id is None and person.owner_id is not None:
            compound_id = int(self._one(owners, person.owner_id, "owner").compound_id)
        if compound_id is not None:
            require(self.conn, compounds, [compound_id], "compound")
        if person.household_id is not None:
            require(self.conn, households, [person.household_id], "household")
        if person.owner_id is not None:
            require(self.conn, owners, [person.owner_id], "owner")
        if compound_id is not None:  # residents and leaders feed the advice; not in the ledger
            summary.touch_compound(self.conn, compound_id)
        new_id = self._insert(
            persons,
            {
                "compound_id": compound_id,
                "household_id": person.household_id,
                "owner_id": person.owner_id,
                "name": person.name.strip(),
                "age_band": None if person.age_band is None else AgeBand(person.age_band).value,
                "mobility": Mobility(person.mobility).value,
                "party_member": person.party_member,
                "phone": _plain_checked(persons, "phone", person.phone.strip()),
            },
        )
        return replace(person, id=new_id, name=person.name.strip(), phone=person.phone.strip())

    def _compound_of_household(self, household_id: int) -> int:
        found = self.conn.execute(
            select(buildings.c.compound_id)
            .select_from(households)
            .join(units, units.c.id == households.c.unit_id)
            .join(buildings, buildings.c.id == units.c.building_id)
            .where(households.c.id == household_id)
        ).scalar()
        if found is None:
            raise NotFound("household {household_id} does not exist", household_id=household_id)
        return int(found)

    def get(self, person_id: int) -> Person:
        return _person(self._one(persons, person_id, "person"))

    def list_by_compound(self, compound_id: int) -> list[Person]:
        rows = self.conn.execute(
            select(persons).where(persons.c.compound_id == compound_id).order_by(persons.c.id)
        )
        return [_person(r) for r in rows]

    def list_by_households(self, household_ids: Iterable[int]) -> list[Person]:
        """The residents of these flats, in id order (a unit's page: not its whole compound,
        whose every phone number would be decrypted)."""
        ids = sorted(set(household_ids))
        found: list[Person] = []
        for start in range(0, len(ids), 500):
            rows = self.conn.execute(
                select(persons).where(persons.c.household_id.in_(ids[start : start + 500]))
            )
            found.extend(_person(r) for r in rows)
        return sorted(found, key=lambda p: p.id or 0)

    def list_by_household(self, household_id: int) -> list[Person]:
        rows = self.conn.execute(
            select(persons).where(persons.c.household_id == household_id).order_by(persons.c.id)
        )
        return [_person(r) for r in rows]


def _assignment(row: Row[Any]) -> RoleAssignment:
    return RoleAssignment(
        id=row.id,
        person_id=row.person_id,
        role=Role(row.role),
        scope_kind=ScopeKind(row.scope_kind),
        scope_id=row.scope_id,
        since=row.since,
        until=row.until,
    )


def _touch_scope(conn: Connection, kind: ScopeKind, scope_id: int | None) -> None:
    """A role over a scope changes the advice of its units (roles are not in the ledger)."""
    if scope_id is None:
        return
    if kind is ScopeKind.UNIT:
        summary.touch_units(conn, [scope_id])
    elif kind is ScopeKind.COMPOUND:
        summary.touch_compound(conn, scope_id)
    else:
        compound_id = conn.execute(
            select(buildings.c.compound_id).where(buildings.c.id == scope_id)
        ).scalar()
        if compound_id is not None:
            summary.touch_compound(conn, int(compound_id))


class RoleRepository(_Repository):
    """Who holds which role over which scope, and since when."""

    def add(self, assignment: RoleAssignment) -> RoleAssignment:
        require(self.conn, persons, [assignment.person_id], "person")
        if assignment.since and assignment.until and assignment.until < assignment.since:
            raise BadInput("a role cannot end ({until}) before it starts", until=assignment.until)
        new_id = self._insert(
            role_assignments,
            {
                "person_id": assignment.person_id,
                "role": Role(assignment.role).value,
                "scope_kind": ScopeKind(assignment.scope_kind).value,
                "scope_id": assignment.scope_id,
                "since": assignment.since,
                "until": assignment.until,
            },
        )
        _touch_scope(self.conn, ScopeKind(assignment.scope_kind), assignment.scope_id)
        return replace(assignment, id=new_id)

    def get(self, assignment_id: int) -> RoleAssignment:
        return _assignment(self._one(role_assignments, assignment_id, "role assignment"))

    def end(self, assignment_id: int, until: date) -> RoleAssignment:
        current = self.get(assignment_id)
        if current.since is not None and until < current.since:
            raise BadInput(
                "a role cannot end ({until}) before it starts ({since})",
                until=until,
                since=current.since,
            )
        self.conn.execute(
            update(role_assignments)
            .where(role_assignments.c.id == assignment_id)
            .values(until=until)
        )
        return replace(current, until=until)

    def list_by_scope(
        self, scope_kind: ScopeKind, scope_id: int | None, *, on: date | None = None
    ) -> list[RoleAssignment]:
        """Assignments over one scope; with `on`, only those active that day."""
        query = select(role_assignments).where(
            role_assignments.c.scope_kind == ScopeKind(scope_kind).value,
            role_assignments.c.scope_id.is_(None)
            if scope_id is None
            else role_assignments.c.scope_id == scope_id,
        )
        if on is not None:
            query = query.where(
                or_(role_assignments.c.since.is_(None), role_assignments.c.since <= on),
                or_(role_assignments.c.until.is_(None), role_assignments.c.until >= on),
            )
        rows = self.conn.execute(query.order_by(role_assignments.c.id))
        return [_assignment(r) for r in rows]

    def list_by_person(self, person_id: int) -> list[RoleAssignment]:
        rows = self.conn.execute(
            select(role_assignments)
            .where(role_assignments.c.person_id == person_id)
            .order_by(role_assignments.c.id)
        )
        return [_assignment(r) for r in rows]


__all__ = [
    "BuildingRepository",
    "CompoundRepository",
    "HouseholdRepository",
    "OwnerRepository",
    "PersonRepository",
    "RoleRepository",
    "UnitInfo",
    "UnitRepository",
    "cm2_to_m2",
    "m2_to_cm2",
    "natural_key",
    "unit_label",
]
