"""The registry: compounds, buildings, stairwell units, flats, owners of record and people.

Plain dataclasses, no storage types. Areas are `Decimal` square metres as registered; ids are
`None` until the store gives them one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum


class Tenure(StrEnum):
    """Who lives in a flat, and so who can be reached and who votes."""

    OWNER_OCCUPIED = "owner_occupied"  # 自住
    RENTED = "rented"  # 出租: the tenant lives there, the owner votes
    ABSENTEE = "absentee"  # 空置或外住: the owner lives elsewhere and is hard to reach
    DEVELOPER_UNSOLD = "developer_unsold"  # 开发商未售
    DEVELOPER_UNDELIVERED = "developer_undelivered"  # 已售未交付

    @property
    def developer_held(self) -> bool:
        """SPC interpretation art. 9: unsold and undelivered flats count as one developer owner."""
        return self in (Tenure.DEVELOPER_UNSOLD, Tenure.DEVELOPER_UNDELIVERED)


class AreaSource(StrEnum):
    """SPC interpretation art. 8: registered area, else surveyed area, else contract area."""

    REGISTERED = "registered"  # 不动产登记
    SURVEYED = "surveyed"  # 测绘
    CONTRACT = "contract"  # 购房合同


class OwnerKind(StrEnum):
    PERSON = "person"  # a natural person, or co-owners of one flat taken together
    DEVELOPER = "developer"  # 建设单位
    ORGANIZATION = "organization"  # e.g. the former work unit still holding public housing


class AgeBand(StrEnum):
    UNDER_18 = "under_18"
    AGE_18_59 = "18_59"
    AGE_60_69 = "60_69"
    AGE_70_79 = "70_79"
    AGE_80_PLUS = "80_plus"

    @property
    def elderly(self) -> bool:
        return self in (AgeBand.AGE_60_69, AgeBand.AGE_70_79, AgeBand.AGE_80_PLUS)

    @classmethod
    def from_age(cls, age: int) -> AgeBand:
        if age < 0:
            raise ValueError("age cannot be negative")
        if age < 18:
            return cls.UNDER_18
        if age < 60:
            return cls.AGE_18_59
        if age < 70:
            return cls.AGE_60_69
        if age < 80:
            return cls.AGE_70_79
        return cls.AGE_80_PLUS


class Mobility(StrEnum):
    """Mobility need: the strongest driver of support for a lift."""

    NONE = "none"
    REDUCED = "reduced"  # frail, uses a cane, heart or knee trouble
    WHEELCHAIR = "wheelchair"
    BEDRIDDEN = "bedridden"
    CARRIES_INFANT = "carries_infant"

    @property
    def needs_lift(self) -> bool:
        return self is not Mobility.NONE


@dataclass
class Compound:
    """小区: a residential compound, usually one former work unit's housing estate."""

    name: str
    city: str
    district: str = ""
    street: str = ""  # 街道办事处
    community: str = ""  # 社区
    built_year: int | None = None
    consent_profile: str = "cn-civil-code-278"
    subsidy_profile: str | None = None
    id: int | None = None


@dataclass
class Building:
    """楼栋: one building of a compound, named by its number in the compound ("3", "12")."""

    compound_id: int
    number: str
    storeys: int
    built_year: int | None = None
    id: int | None = None


@dataclass
class Unit:
    """单元: one stairwell of a building, the scope of one retrofit elevator."""

    building_id: int
    number: str
    consent_profile: str | None = None  # None: the compound's profile applies
    id: int | None = None


@dataclass
class Owner:
    """Owner of record (产权人). Co-owners of one flat are one owner; one owner may hold many flats."""

    name: str
    kind: OwnerKind = OwnerKind.PERSON
    phone: str = ""
    id: int | None = None
    id_number: str = ""  # 身份证号; encrypted at rest, masked where not needed


@dataclass
class Household:
    """户: one flat (专有部分) in a unit, with its registered area and tenure."""

    unit_id: int
    room: str  # 房号, e.g. "301"
    floor: int
    area_m2: Decimal
    owner_id: int
    tenure: Tenure = Tenure.OWNER_OCCUPIED
    area_source: AreaSource = AreaSource.REGISTERED
    id: int | None = None

    def __post_init__(self) -> None:
        if self.floor < 1:
            raise ValueError(f"floor must be 1 or higher, got {self.floor}")
        if self.area_m2 <= 0:
            raise ValueError(f"area must be positive, got {self.area_m2}")


@dataclass
class Person:
    """A resident or an actor (official, worker, vendor): the one who acts and holds roles."""

    name: str
    household_id: int | None = None  # None for officials and outside actors
    age_band: AgeBand | None = None
    mobility: Mobility = Mobility.NONE
    party_member: bool = False
    phone: str = ""
    owner_id: int | None = None  # set when this person is (or speaks for) the owner of record
    id: int | None = None
    notes: list[str] = field(default_factory=list)
