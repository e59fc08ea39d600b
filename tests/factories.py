"""Small builders of test data through the repositories, so tests read as the domain does."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from colift.model import Building, Compound, Household, Owner, OwnerKind, Tenure, Unit
from colift.store import UnitOfWork

# Six floors, two flats a floor; areas with 0, 2 and 4 decimals to catch any rounding.
AREAS = [
    Decimal("62.5"),
    Decimal("85.12"),
    Decimal("62.5"),
    Decimal("85.1234"),
    Decimal("62.51"),
    Decimal("85.12"),
    Decimal("62.5"),
    Decimal("85.12"),
    Decimal("62.5"),
    Decimal("85.0001"),
    Decimal("70"),
    Decimal("120.75"),
]


@dataclass
class UnitFixture:
    compound: Compound
    building: Building
    unit: Unit
    owners: list[Owner]
    households: list[Household]

    def by_room(self, room: str) -> Household:
        return next(h for h in self.households if h.room == room)


def make_compound(
    uow: UnitOfWork, code: str = "hyy", *, profile: str = "cn-civil-code-278"
) -> Compound:
    return uow.compounds.add(
        Compound(
            name="和园一区",
            city="成都",
            district="武侯区",
            street="玉林街道",
            community="玉林社区",
            built_year=1994,
            consent_profile=profile,
        ),
        code=code,
    )


def make_unit(
    uow: UnitOfWork,
    *,
    code: str = "hyy",
    compound: Compound | None = None,
    building_number: str = "3",
    unit_number: str = "2",
    flats: int = 12,
) -> UnitFixture:
    """A compound (unless given) with building 3, unit 2 and `flats` flats two per floor.

    Flat 602 belongs to the owner of 601 (one buyer of two flats); 101 is unsold developer stock.
    """
    compound = compound or make_compound(uow, code)
    assert compound.id is not None
    building = uow.buildings.add(
        Building(compound_id=compound.id, number=building_number, storeys=(flats + 1) // 2)
    )
    assert building.id is not None
    unit = uow.units.add(Unit(building_id=building.id, number=unit_number))
    assert unit.id is not None
    owners: list[Owner] = []
    households: list[Household] = []
    for i in range(flats):
        floor, side = i // 2 + 1, i % 2 + 1
        room = f"{floor}{side:02d}"
        if room == "101":
            owner = uow.owners.get_or_create(compound.id, "开发商", kind=OwnerKind.DEVELOPER)
            tenure = Tenure.DEVELOPER_UNSOLD
        elif room == "602":
            owner = owners[-1]
            tenure = Tenure.RENTED
        else:
            owner = uow.owners.get_or_create(
                compound.id, f"业主{building_number}-{unit_number}-{room}", f"1390000{i:04d}"
            )
            tenure = Tenure.OWNER_OCCUPIED
        assert owner.id is not None
        owners.append(owner)
        households.append(
            Household(
                unit_id=unit.id,
                room=room,
                floor=floor,
                area_m2=AREAS[i % len(AREAS)],
                owner_id=owner.id,
                tenure=tenure,
            )
        )
    stored = uow.households.add_many(households)
    return UnitFixture(compound, building, unit, owners, stored)
