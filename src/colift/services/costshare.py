"""Cost-sharing use cases: keep a unit's cost plan and split it between its flats."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.errors import NotFound
from colift.rules.costshare import evaluate_request, plan_request
from colift.store import UnitOfWork


def set_cost_plan(
    engine: Engine, unit_id: int, plan: dict[str, Any], *, actor: str, on: date | None = None
) -> dict[str, Any]:
    """Store a unit's plan after checking it splits cleanly over the unit's flats."""
    with UnitOfWork(engine) as uow:
        result = _split(uow, unit_id, plan)
        uow.cost_plans.set(unit_id, plan, actor=actor, on=on)
        uow.commit()
        return result


def unit_cost_shares(engine: Engine, unit_id: int) -> dict[str, Any]:
    """The unit's shares under its stored plan, in the `colift costshare --json` shape."""
    with UnitOfWork(engine) as uow:
        shares = unit_shares_in(uow, unit_id)
        if shares is None:
            raise NotFound(f"unit {unit_id} has no cost plan yet")
        return shares


def unit_shares_in(uow: UnitOfWork, unit_id: int) -> dict[str, Any] | None:
    """The unit's shares under its stored plan inside a caller's unit of work; None without one."""
    plan = uow.cost_plans.find(unit_id)
    return None if plan is None else _split(uow, unit_id, plan.plan)


def _split(uow: UnitOfWork, unit_id: int, plan: dict[str, Any]) -> dict[str, Any]:
    info = uow.units.info(unit_id)
    flats = [
        {"id": h.room, "floor": h.floor, "area_m2": str(h.area_m2)}
        for h in uow.households.list_by_unit(unit_id)
    ]
    storeys = uow.buildings.get(info.building_id).storeys
    return evaluate_request(plan_request(plan, flats, storeys))
