"""Named parameter sets of the simulation: values that differ from the defaults, and provenance.

A set is written once under its name (a calibration run saves one) and read back by name;
one set at most is adopted, i.e. used by `simulate`, `advise` and the what-if panel when no
other is named. Values and provenance are canonical JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from colift.errors import BadInput, NotFound
from colift.store.ledger import canonical_json
from colift.store.tables import param_sets


@dataclass(frozen=True)
class ParamSet:
    name: str
    values: dict[str, float]
    provenance: dict[str, Any]
    created_at: datetime
    created_by: str
    adopted: bool

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "values": self.values,
            "created_at": self.created_at.isoformat(),
            "created_by": self.created_by,
            "adopted": self.adopted,
            "method": self.provenance.get("method", ""),
            "units": self.provenance.get("units", 0),
        }


def _row(row: Any) -> ParamSet:
    return ParamSet(
        name=row.name,
        values=json.loads(row.values),
        provenance=json.loads(row.provenance),
        created_at=row.created_at,
        created_by=row.created_by,
        adopted=bool(row.adopted),
    )


class ParamSetRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, name: str, values: dict[str, float], provenance: dict[str, Any], *, actor: str
    ) -> ParamSet:
        name = name.strip()
        if not name or len(name) > 100:
            raise BadInput("a parameter set needs a name of 1 to 100 characters")
        if self.conn.execute(select(param_sets.c.id).where(param_sets.c.name == name)).first():
            raise BadInput("a parameter set named {name} exists already", name=name)
        self.conn.execute(
            insert(param_sets).values(
                name=name,
                values=canonical_json(values),
                provenance=canonical_json(provenance),
                created_at=datetime.now(UTC),
                created_by=actor[:200],
                adopted=False,
            )
        )
        return self.get(name)

    def get(self, name: str) -> ParamSet:
        row = self.conn.execute(select(param_sets).where(param_sets.c.name == name)).first()
        if row is None:
            raise NotFound("no parameter set named {name}", name=name)
        return _row(row)

    def list(self) -> list[ParamSet]:
        rows = self.conn.execute(select(param_sets).order_by(param_sets.c.id)).all()
        return [_row(r) for r in rows]

    def adopted(self) -> ParamSet | None:
        row = self.conn.execute(select(param_sets).where(param_sets.c.adopted.is_(True))).first()
        return _row(row) if row is not None else None

    def adopt(self, name: str) -> ParamSet:
        self.get(name)
        self.conn.execute(update(param_sets).values(adopted=False))
        self.conn.execute(update(param_sets).where(param_sets.c.name == name).values(adopted=True))
        return self.get(name)
