"""Cost plans of units: what the lift costs and how the owners share it (to the fen)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from colift.errors import BadInput, NotFound
from colift.store import ledger
from colift.store.repository import compound_of_unit
from colift.store.tables import cost_plans


@dataclass(frozen=True)
class CostPlan:
    """A unit's plan in the `colift costshare` request format, without its households."""

    unit_id: int
    total_fen: int
    plan: dict[str, Any]
    updated_on: date
    updated_by: str


class CostPlanRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def set(
        self, unit_id: int, plan: dict[str, Any], *, actor: str, on: date | None = None
    ) -> CostPlan:
        """Replace the unit's plan; the change goes to the ledger in the same transaction."""
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        total = plan.get("total_fen")
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise BadInput("a cost plan needs total_fen, a whole number of fen ≥ 0")
        if "households" in plan:
            raise BadInput("a cost plan does not list households: they come from the registry")
        text = ledger.canonical_json(plan)
        day = on or date.today()
        ledger.lock(self.conn, chain)
        self.conn.execute(delete(cost_plans).where(cost_plans.c.unit_id == unit_id))
        self.conn.execute(
            insert(cost_plans).values(
                unit_id=unit_id, total_fen=total, plan=text, updated_on=day, updated_by=actor
            )
        )
        ledger.append(
            self.conn,
            actor,
            "costplan.set",
            f"unit:{unit_id}",
            {"unit_id": unit_id, "plan": plan, "on": day},
            chain=chain,
            unit_id=unit_id,
        )
        return CostPlan(unit_id, total, json.loads(text), day, actor)

    def find(self, unit_id: int) -> CostPlan | None:
        row = self.conn.execute(select(cost_plans).where(cost_plans.c.unit_id == unit_id)).first()
        if row is None:
            return None
        return CostPlan(
            row.unit_id, row.total_fen, json.loads(row.plan), row.updated_on, row.updated_by
        )

    def get(self, unit_id: int) -> CostPlan:
        found = self.find(unit_id)
        if found is None:
            raise NotFound(f"unit {unit_id} has no cost plan yet")
        return found

    def for_units(self, unit_ids: list[int]) -> dict[int, CostPlan]:
        rows = self.conn.execute(select(cost_plans).where(cost_plans.c.unit_id.in_(unit_ids)))
        return {
            r.unit_id: CostPlan(
                r.unit_id, r.total_fen, json.loads(r.plan), r.updated_on, r.updated_by
            )
            for r in rows
        }
