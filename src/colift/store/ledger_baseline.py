"""The baseline of a database that held data before the ledger protected its tables.

Revision 0008 moves the old single chain to `ledger_v1` and calls `write_baseline`: one
`<table>.baseline` entry per row of every protected table, in each compound's chain, and one
`ledger.baseline` entry in the global chain naming the old chain's head. From then on
`colift ledger verify` replays the baseline and what followed, and compares with the tables.

The baseline vouches for the rows as they stood at the upgrade; the old chain stays verified
beside it. Columns are read as the database has them (a later revision may add columns).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, inspect, select

from colift.store import ledger
from colift.store.ledger_state import SPECS, Spec, normal
from colift.store.tables import compounds, households, ledger_v1

BASELINE_ACTOR = "colift (upgrade to revision 0008)"
# Free-text columns: kept out of the chain as kept text, like every new entry's.
TEXT_COLUMNS = {
    "owners": ("name",),
    "occupied_households": ("note",),
    "objections": ("notes",),
    "stage_transitions": ("reason",),
    "technical_issues": ("note",),
    "activities": ("notes", "actor_name"),
    "vote_rounds": ("void_reason",),
}


def write_baseline(conn: Connection) -> int:
    """Write the baseline entries; returns how many (0 for an empty database)."""
    has_rows = conn.execute(select(compounds.c.id).limit(1)).first() is not None
    legacy = conn.execute(
        select(ledger_v1.c.seq, ledger_v1.c.hash).order_by(ledger_v1.c.seq.desc()).limit(1)
    ).first()
    if not has_rows and legacy is None:
        return 0
    written = ledger.append(
        conn,
        BASELINE_ACTOR,
        "ledger.baseline",
        "ledger",
        {
            "legacy_entries": 0 if legacy is None else int(legacy.seq),
            "legacy_head": ledger.GENESIS_HASH if legacy is None else legacy.hash,
        },
    )
    count = 1 if written else 0
    # a table a later revision creates (regeneration_events, 0011) is not there yet: it starts
    # empty, and every row of it is written with its ledger entry
    here = set(inspect(conn).get_table_names())
    present = {
        name: {c["name"] for c in inspect(conn).get_columns(name)}
        for name in _names()
        if name in here
    }
    for compound_id in conn.execute(select(compounds.c.id).order_by(compounds.c.id)).scalars():
        records: list[ledger.LedgerRecord] = []
        for spec in SPECS:
            if spec.name not in present:
                continue
            records.extend(_rows(conn, spec, compound_id, present[spec.name]))
        ledger.append_many(conn, records, chain=ledger.compound_chain(compound_id))
        count += len(records)
    return count


def _names() -> list[str]:
    return [spec.name for spec in SPECS]


def _rows(
    conn: Connection, spec: Spec, compound_id: int, present: set[str]
) -> list[ledger.LedgerRecord]:
    columns = [c for c in (*spec.key, *spec.columns) if c in present and c != "owner_head"]
    extra = ["unit_id"] if "unit_id" in present and "unit_id" not in columns else []
    query = spec.rows(compound_id).with_only_columns(*(spec.table.c[c] for c in columns + extra))
    unit_of_flat: dict[int, int] = {}
    if "household_id" in columns and "unit_id" not in columns + extra:
        unit_of_flat = {
            r.id: r.unit_id for r in conn.execute(select(households.c.id, households.c.unit_id))
        }
    records = []
    for row in conn.execute(query.order_by(*(spec.table.c[k] for k in spec.key))):
        values = row._mapping
        key = [values[k] for k in spec.key]
        image: dict[str, Any] = {}
        for column in spec.columns:
            if column not in columns:
                continue
            value = normal(values[column])
            if column in spec.json_columns and value is not None:
                value = json.loads(value)
            if column in TEXT_COLUMNS.get(spec.name, ()) and isinstance(value, str):
                value = ledger.keep_text(conn, value)
            if spec.name == "activities" and column == "outcome" and isinstance(value, dict):
                value["note"] = ledger.keep_text(conn, str(value.get("note", "")))
            image[column] = value
        unit_id = values.get("unit_id")
        if spec.name == "units":
            unit_id = values["id"]
        elif unit_id is None and "household_id" in values:
            unit_id = unit_of_flat.get(values["household_id"])
        records.append(
            ledger.LedgerRecord(
                BASELINE_ACTOR,
                f"{spec.name}.baseline",
                f"{spec.name}:{'/'.join(map(str, key))}",
                {"key": key, "row": image},
                unit_id,
            )
        )
    return records
