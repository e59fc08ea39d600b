"""Regeneration records of a compound; each one goes to the compound's ledger chain with it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from colift.coproduction.regeneration import RegenerationEvent, RegenerationKind
from colift.errors import BadInput
from colift.store import ledger
from colift.store.repository import check_lengths, require
from colift.store.tables import compounds, regeneration_events, units

_INT32_MAX = 2**31 - 1


def _event(row: Row[Any]) -> RegenerationEvent:
    return RegenerationEvent(
        RegenerationKind(row.kind),
        row.on,
        row.households,
        row.of_households,
        row.title,
        row.unit_id,
        row.id,
    )


class RegenerationRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, compound_id: int, event: RegenerationEvent, *, actor: str) -> RegenerationEvent:
        """Insert one event and append `regeneration.record` to the compound's chain."""
        require(self.conn, compounds, [compound_id], "compound")
        chain = ledger.compound_chain(compound_id)
        ledger.lock(self.conn, chain)
        if event.unit_id is not None:
            require(self.conn, units, [event.unit_id], "unit")
        for value in (event.households, event.of_households):
            if isinstance(value, bool) or not 0 <= value <= _INT32_MAX:
                raise BadInput("a household count must be 0 or more, not {value}", value=value)
        if event.of_households and event.households > event.of_households:
            raise BadInput(
                "{households} households cannot take part out of {of}",
                households=event.households,
                of=event.of_households,
            )
        check_lengths(regeneration_events, {"title": event.title})
        new_id = self.conn.execute(
            insert(regeneration_events)
            .values(
                compound_id=compound_id,
                unit_id=event.unit_id,
                kind=event.kind.value,
                on=event.on,
                households=event.households,
                of_households=event.of_households,
                title=event.title,
            )
            .returning(regeneration_events.c.id)
        ).scalar_one()
        ledger.append(
            self.conn,
            actor,
            "regeneration.record",
            f"compound:{compound_id}",
            {
                "regeneration_id": int(new_id),
                "unit_id": event.unit_id,
                "kind": event.kind.value,
                "on": event.on.isoformat(),
                "households": event.households,
                "of_households": event.of_households,
                "title": event.title,
            },
            chain=chain,
            unit_id=event.unit_id,
        )
        return RegenerationEvent(
            event.kind,
            event.on,
            event.households,
            event.of_households,
            event.title,
            event.unit_id,
            int(new_id),
        )

    def list_by_compound(self, compound_id: int) -> list[RegenerationEvent]:
        return self.list_by_compounds([compound_id]).get(compound_id, [])

    def list_by_compounds(self, compound_ids: Iterable[int]) -> dict[int, list[RegenerationEvent]]:
        """The events of each of `compound_ids` in the order they happened (one query; a
        compound without events is not a key)."""
        wanted = sorted(set(compound_ids))
        found: dict[int, list[RegenerationEvent]] = {}
        if not wanted:
            return found
        rows = self.conn.execute(
            select(regeneration_events)
            .where(regeneration_events.c.compound_id.in_(wanted))
            .order_by(regeneration_events.c.on, regeneration_events.c.id)
        )
        for r in rows:
            found.setdefault(int(r.compound_id), []).append(_event(r))
        return found
