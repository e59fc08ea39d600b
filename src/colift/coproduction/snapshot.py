"""One unit as the path model reads it: flats, people, stances, leaders, activities, objections.

A `UnitSnapshot` is built either from the database (services) or from a unit file
(`colift advise FILE`); heterogeneity, cooperation level, the influence network and the advisor
all read this one shape and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from colift.model import AgeBand, Mobility, ObjectionStatus, Role, Tenure, Vote
from colift.model.coproduction import Activity, Stage, Stance, TechnicalIssue, Tie


@dataclass(frozen=True)
class Resident:
    name: str
    age_band: AgeBand | None = None
    mobility: Mobility = Mobility.NONE
    party_member: bool = False
    person_id: int | None = None

    @property
    def elderly(self) -> bool:
        return self.age_band is not None and self.age_band.elderly


@dataclass(frozen=True)
class HouseholdView:
    room: str
    floor: int
    area_m2: Decimal
    owner: str  # owner key: one buyer of several flats has one key
    tenure: Tenure = Tenure.OWNER_OCCUPIED
    residents: tuple[Resident, ...] = ()
    stance: Stance = Stance.UNKNOWN
    stance_reasons: tuple[str, ...] = ()  # objection reason codes: light, noise, cost, …
    vote: Vote | None = None  # None: no vote round yet
    ability_to_pay_fen: int | None = None  # what the household says it can pay; None unknown
    share_fen: int | None = None  # its construction share under the unit's cost plan

    @property
    def lives_here(self) -> bool:
        """Someone lives in the flat (owner or tenant) and can be met at the door."""
        return self.tenure in (Tenure.OWNER_OCCUPIED, Tenure.RENTED)

    @property
    def absentee(self) -> bool:
        return self.tenure is Tenure.ABSENTEE

    @property
    def elderly(self) -> bool:
        return any(r.elderly for r in self.residents)

    @property
    def needs_lift(self) -> bool:
        return any(r.mobility.needs_lift for r in self.residents) or any(
            r.age_band is AgeBand.AGE_80_PLUS for r in self.residents
        )

    @property
    def party_member(self) -> bool:
        return any(r.party_member for r in self.residents)

    @property
    def cannot_afford(self) -> bool:
        return (
            self.ability_to_pay_fen is not None
            and self.share_fen is not None
            and self.share_fen > self.ability_to_pay_fen
        )


@dataclass(frozen=True)
class Leader:
    """A person holding a role over this unit, its building, compound or street."""

    name: str
    role: Role
    scope: str = "unit"  # unit, building, compound, street, city
    party_member: bool = False
    room: str | None = None  # the flat they live in, when they live in this unit
    person_id: int | None = None


@dataclass(frozen=True)
class ObjectionView:
    room: str
    reasons: tuple[str, ...]
    status: ObjectionStatus
    raised_on: date | None = None
    id: int | None = None


@dataclass(frozen=True)
class UnitSnapshot:
    label: str
    households: tuple[HouseholdView, ...]
    today: date
    unit_id: int | None = None
    storeys: int | None = None
    stage: Stage = Stage.SURVEY
    consent_profile: str = "cn-civil-code-278"
    objections: tuple[ObjectionView, ...] = ()
    activities: tuple[Activity, ...] = ()
    leaders: tuple[Leader, ...] = ()
    technical: tuple[TechnicalIssue, ...] = ()
    ties: tuple[Tie, ...] = ()
    occupied: tuple[str, ...] = ()
    has_cost_plan: bool = False
    notes: tuple[str, ...] = field(default=())
    days_in_stage: int | None = None  # days since the unit entered its stage; None unknown
    stall_limit_days: int | None = None  # the stage's stall limit (stalls.toml); None: never

    @property
    def stalled(self) -> bool:
        """In its stage longer than the stage's limit (the street office's stalled list)."""
        return (
            self.days_in_stage is not None
            and self.stall_limit_days is not None
            and self.days_in_stage > self.stall_limit_days
        )

    def household(self, room: str) -> HouseholdView:
        for h in self.households:
            if h.room == room:
                return h
        raise KeyError(room)

    @property
    def rooms(self) -> tuple[str, ...]:
        return tuple(h.room for h in self.households)

    @property
    def top_floor(self) -> int:
        return self.storeys or max((h.floor for h in self.households), default=1)
