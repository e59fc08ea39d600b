"""The engines a request works with, and where a unit sits: looked up the same way by the API
and the pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from colift.services.access import UnitPlace
from colift.services.consent import unit_address


async def get_engine(request: Request) -> Engine:
    """The app's engine, as a dependency run on the event loop (no thread hop per request)."""
    engine: Engine = request.app.state.engine
    return engine


EngineDep = Annotated[Engine, Depends(get_engine)]


def get_read_engine(request: Request) -> Engine:
    """The engine for overview reads: the replica's if the app has one, else the main one."""
    engine: Engine = getattr(request.app.state, "read_engine", None) or request.app.state.engine
    return engine


async def read_engine_dep(request: Request) -> Engine:
    """`get_read_engine` as a dependency run on the event loop (no thread hop)."""
    return get_read_engine(request)


ReadEngineDep = Annotated[Engine, Depends(read_engine_dep)]


def locate_unit(engine: Engine, unit_id: int) -> UnitPlace:
    """The unit's compound, or NotFound; checked before the role so unknown ids read as 404."""
    code, street = unit_address(engine, unit_id)
    return UnitPlace(unit_id, code, street)
