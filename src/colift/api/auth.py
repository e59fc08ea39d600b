"""Bearer-token principals and what each role may see and change.

Tokens live in memory (`create_app(engine, tokens=...)`); persistent accounts with hashed
secrets come later with their own table and migration.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from colift.services.consent import unit_consent
from colift.services.registry import list_units


class Role(StrEnum):
    WORKER = "worker"  # community worker: manages one compound
    UNIT_LEADER = "unit_leader"  # 单元长: one unit
    RESIDENT = "resident"  # one household
    STREET_VIEWER = "street_viewer"  # street office: reads everything, writes nothing
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling; `compound`, `unit_id` and `room` scope the role."""

    name: str
    role: Role
    compound: str | None = None
    unit_id: int | None = None
    room: str | None = None


@dataclass(frozen=True)
class UnitPlace:
    """Where a unit sits, as authorization needs it."""

    unit_id: int
    compound: str


def can_read_unit(p: Principal, place: UnitPlace) -> bool:
    if p.role in (Role.ADMIN, Role.STREET_VIEWER):
        return True
    if p.role is Role.WORKER:
        return p.compound == place.compound
    return p.unit_id == place.unit_id


def can_manage_unit(p: Principal, place: UnitPlace) -> bool:
    """Round, stage and objection handling: the compound's worker or an admin."""
    return p.role is Role.ADMIN or (p.role is Role.WORKER and p.compound == place.compound)


def can_act_for_room(p: Principal, place: UnitPlace, room: str) -> bool:
    """Vote or object for a flat: managers, the unit's leader, or the household itself."""
    if can_manage_unit(p, place):
        return True
    if p.role is Role.UNIT_LEADER:
        return p.unit_id == place.unit_id
    if p.role is Role.RESIDENT:
        return p.unit_id == place.unit_id and p.room == room.strip()
    return False


def forbidden(what: str) -> HTTPException:
    return HTTPException(status_code=403, detail=f"your role may not {what}")


_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <token>")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, or 401 when the token is missing or unknown."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required", headers=challenge)
    tokens: dict[str, Principal] = request.app.state.tokens
    principal = tokens.get(credentials.credentials)
    if principal is None:
        raise HTTPException(401, "the token is not valid", headers=challenge)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def demo_tokens(engine: Engine, compound: str) -> dict[str, Principal]:
    """One fresh token per role for a seeded compound: its first unit and that unit's first flat."""
    units = list_units(engine, compound)
    unit = units[0]
    room = unit_consent(engine, unit.id).input.rows[0].room
    principals = [
        Principal(f"worker:{compound}", Role.WORKER, compound=compound),
        Principal(f"unit-leader:{unit.label}", Role.UNIT_LEADER, compound, unit.id),
        Principal(f"resident:{unit.label}{room}", Role.RESIDENT, compound, unit.id, room),
        Principal("street-office", Role.STREET_VIEWER),
        Principal("admin", Role.ADMIN),
    ]
    return {secrets.token_urlsafe(24): p for p in principals}
