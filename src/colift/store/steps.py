"""Work steps of units: the day each required step was done and its reference number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, delete, insert, select

from colift.store import ledger
from colift.store.repository import check_lengths, compound_of_unit
from colift.store.tables import work_steps


@dataclass(frozen=True)
class StepRecord:
    unit_id: int
    step: str
    done_on: date
    reference: str
    recorded_by: str


class StepRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def record(
        self, unit_id: int, step: str, *, done_on: date, reference: str, actor: str
    ) -> StepRecord:
        """Record (or correct) one step of a unit; the change goes to the ledger with it."""
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        ledger.lock(self.conn, chain)
        values = {
            "unit_id": unit_id,
            "step": step,
            "done_on": done_on,
            "reference": reference,
            "recorded_by": actor,
        }
        check_lengths(work_steps, values)
        self.conn.execute(
            delete(work_steps).where(work_steps.c.unit_id == unit_id, work_steps.c.step == step)
        )
        self.conn.execute(insert(work_steps).values(**values))
        ledger.append(
            self.conn,
            actor,
            "step.record",
            f"unit:{unit_id}",
            {"step": step, "done_on": done_on, "reference": reference},
            chain=chain,
            unit_id=unit_id,
        )
        return StepRecord(unit_id, step, done_on, reference, actor)

    def for_unit(self, unit_id: int) -> list[StepRecord]:
        rows = self.conn.execute(
            select(work_steps).where(work_steps.c.unit_id == unit_id).order_by(work_steps.c.done_on)
        )
        return [StepRecord(r.unit_id, r.step, r.done_on, r.reference, r.recorded_by) for r in rows]
