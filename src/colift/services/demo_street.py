"""Seed the demo street (`colift demo-street`): compounds whose histories follow known values.

The compounds come from `colift.demo_street.build_street`; each is stored in one unit of work
through the same steps the demo compound takes (`services.demo._store`: stage gates, vote rounds,
ballots, activities, objections, work steps), so the calibration reads them as any record.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from colift.demo_street import STREET, build_street
from colift.errors import NotFound
from colift.services.demo import _store
from colift.store import UnitOfWork, migrate


def seed_demo_street(
    engine: Engine, *, compounds: int = 8, seed: int = 2026, today: date | None = None
) -> tuple[str, list[str]]:
    """Store the demo street once; returns the street and the codes created now."""
    migrate(engine)
    today = today or date.today()
    made: list[str] = []
    for demo, history in build_street(compounds, seed, today).compounds:
        with UnitOfWork(engine) as uow:
            try:
                uow.compounds.get_by_code(demo.code)
                continue
            except NotFound:
                pass
            _store(uow, demo, history, today)
            uow.commit()
        made.append(demo.code)
    return STREET, made
