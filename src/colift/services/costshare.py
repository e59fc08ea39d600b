"""Cost-sharing use cases: keep a unit's cost plan and split it between its flats."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.rules.costshare import evaluate_request
from colift.store import UnitOfWork
from colift.store.costplans import CostPlan


def _request(plan: dict[str, Any], flats: list[dict[str, Any]], storeys: int) -> dict[str, Any]:
    request = dict(plan)
    request["households"] = flats
    if ("subsidy_profile" in request or "subsidy" in request) and "storeys" not in request:
        request["storeys"] = storeys
    return request


def set_cost_plan(
    engine: Engine, unit_id: int, plan: dict[str, Any], *, actor: str, on: date | None = None
) -> dict[str, Any]:
    """Store a unit's plan after checking it splits cleanly over the unit's flats."""
    with UnitOfWork(engine) as uow:
        result = evaluate_request(_request(plan, *_flats(uow, unit_id)))
        uow.cost_plans.set(unit_id, plan, actor=actor, on=on)
        uow.commit()
        return result


def unit_cost_shares(engine: Engine, unit_id: int) -> dict[str, Any]:
    """The unit's shares under its stored plan, in the `colift costshare --json` shape."""
    with UnitOfWork(engine) as uow:
        plan: CostPlan = uow.cost_plans.get(unit_id)
        return evaluate_request(_request(plan.plan, *_flats(uow, unit_id)))


def _flats(uow: UnitOfWork, unit_id: int) -> tuple[list[dict[str, Any]], int]:
    info = uow.units.info(unit_id)
    storeys = uow.buildings.get(info.building_id).storeys
    flats = [
        {"id": h.room, "floor": h.floor, "area_m2": str(h.area_m2)}
        for h in uow.households.list_by_unit(unit_id)
    ]
    return flats, storeys
