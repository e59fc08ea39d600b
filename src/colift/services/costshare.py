"""Cost-sharing use cases: keep a unit's cost plan and split it between its flats.

Plans come in typed (`rules.costshare.CostPlan`, parsed at the edge by `parse_plan`) and the
split goes out typed (`UnitSplit`); adapters turn it into JSON or a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from colift.errors import NotFound
from colift.rules.costshare import CostPlan, CostShareResult, ShareInput, split_plan
from colift.store import UnitOfWork


@dataclass(frozen=True)
class UnitSplit:
    """A unit's stored plan and its split over the unit's flats."""

    unit_id: int
    plan: CostPlan
    result: CostShareResult


def set_cost_plan(
    engine: Engine, unit_id: int, plan: CostPlan, *, actor: str, on: date | None = None
) -> UnitSplit:
    """Store a unit's plan after checking it splits cleanly over the unit's flats."""
    with UnitOfWork(engine) as uow:
        result = _split(uow, unit_id, plan, on)
        uow.cost_plans.set(unit_id, plan, actor=actor, on=on)
        uow.commit()
        return UnitSplit(unit_id, plan, result)


def unit_cost_shares(engine: Engine, unit_id: int) -> UnitSplit:
    """The unit's shares under its stored plan; NotFound without one."""
    with UnitOfWork(engine, read_only=True) as uow:
        shares = unit_shares_in(uow, unit_id)
        if shares is None:
            raise NotFound("unit {unit_id} has no cost plan yet", unit_id=unit_id)
        return shares


def unit_shares_in(uow: UnitOfWork, unit_id: int, today: date | None = None) -> UnitSplit | None:
    """The unit's shares under its stored plan inside a caller's unit of work; None without one."""
    stored = uow.cost_plans.find(unit_id)
    if stored is None:
        return None
    return UnitSplit(unit_id, stored.plan, _split(uow, unit_id, stored.plan, today))


def _split(uow: UnitOfWork, unit_id: int, plan: CostPlan, today: date | None) -> CostShareResult:
    info = uow.units.info(unit_id)
    flats = [ShareInput(h.room, h.floor, h.area_m2) for h in uow.households.list_by_unit(unit_id)]
    storeys = uow.buildings.get(info.building_id).storeys
    return split_plan(plan, flats, storeys=storeys, on=today)
