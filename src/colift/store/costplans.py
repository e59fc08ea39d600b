"""Cost plans of units: what the lift costs and how the owners share it (to the fen).

A plan is stored as its canonical JSON (`rules.costshare.plan_to_json`) and read back typed
(`parse_plan`), so what is kept is exactly what was checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from colift.errors import NotFound
from colift.rules.costshare import CostPlan, parse_plan, plan_to_json
from colift.store import ledger
from colift.store.repository import compound_of_unit
from colift.store.tables import cost_plans


@dataclass(frozen=True)
class StoredPlan:
    """A unit's plan as stored: typed, with its JSON form, when and by whom."""

    unit_id: int
    total_fen: int
    plan: CostPlan
    updated_on: date
    updated_by: str

    @property
    def document(self) -> dict[str, Any]:
        """The plan in the `colift costshare` request format, without households."""
        return plan_to_json(self.plan)


class CostPlanRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def set(
        self, unit_id: int, plan: CostPlan, *, actor: str, on: date | None = None
    ) -> StoredPlan:
        """Replace the unit's plan; the change goes to the ledger in the same transaction."""
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        document = plan_to_json(plan)
        text = ledger.canonical_json(document)
        day = on or date.today()
        ledger.lock(self.conn, chain)
        self.conn.execute(delete(cost_plans).where(cost_plans.c.unit_id == unit_id))
        self.conn.execute(
            insert(cost_plans).values(
                unit_id=unit_id,
                total_fen=plan.total_fen,
                plan=text,
                updated_on=day,
                updated_by=actor,
            )
        )
        ledger.append(
            self.conn,
            actor,
            "costplan.set",
            f"unit:{unit_id}",
            {"unit_id": unit_id, "plan": document, "on": day},
            chain=chain,
            unit_id=unit_id,
        )
        return StoredPlan(unit_id, plan.total_fen, plan, day, actor)

    def find(self, unit_id: int) -> StoredPlan | None:
        row = self.conn.execute(select(cost_plans).where(cost_plans.c.unit_id == unit_id)).first()
        return None if row is None else _stored(row)

    def get(self, unit_id: int) -> StoredPlan:
        found = self.find(unit_id)
        if found is None:
            raise NotFound("unit {unit_id} has no cost plan yet", unit_id=unit_id)
        return found

    def for_units(self, unit_ids: list[int]) -> dict[int, StoredPlan]:
        rows = self.conn.execute(select(cost_plans).where(cost_plans.c.unit_id.in_(unit_ids)))
        return {r.unit_id: _stored(r) for r in rows}


def _stored(row: Any) -> StoredPlan:
    return StoredPlan(
        row.unit_id, row.total_fen, parse_plan(json.loads(row.plan)), row.updated_on, row.updated_by
    )
