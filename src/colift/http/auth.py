"""Who is calling, and what each role may see and change.

A caller is known by a bearer token (programs: `colift token create`, or the in-memory tokens a
test hands to `create_app`) or by the web app's session cookie. A cookie-borne request that
changes anything must also carry the session's CSRF token (`X-CSRF-Token` header or the
`csrf_token` form field), so another site cannot post in a signed-in user's name.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from colift.model.accounts import Account, AccountRole
from colift.services.accounts import session_account, token_account
from colift.services.consent import unit_consent
from colift.services.evidence import ProjectScope
from colift.services.registry import list_units

Role = AccountRole
SESSION_COOKIE = "colift_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Principal:
    """Who is calling; `compound`, `unit_id`, `room` and `street` scope the role."""

    name: str
    role: Role
    compound: str | None = None
    unit_id: int | None = None
    room: str | None = None
    street: str | None = None
    account_id: int | None = None


def principal_of(account: Account) -> Principal:
    return Principal(
        name=account.display_name or account.username,
        role=account.role,
        compound=account.compound_code,
        unit_id=account.unit_id,
        room=account.room,
        street=account.street,
        account_id=account.id,
    )


@dataclass(frozen=True)
class UnitPlace:
    """Where a unit sits, as authorization needs it."""

    unit_id: int
    compound: str
    street: str = ""


def can_read_compound(p: Principal, code: str, street: str) -> bool:
    if p.role is Role.ADMIN:
        return True
    if p.role is Role.STREET_VIEWER:
        return p.street is None or p.street == street
    return p.role is Role.WORKER and p.compound == code


def can_read_unit(p: Principal, place: UnitPlace) -> bool:
    if p.role in (Role.ADMIN, Role.STREET_VIEWER, Role.WORKER):
        return can_read_compound(p, place.compound, place.street)
    return p.unit_id == place.unit_id


def can_lead_unit(p: Principal, place: UnitPlace) -> bool:
    """Record activities and stances: the compound's managers or the unit's own leader."""
    return can_manage_unit(p, place) or (p.role is Role.UNIT_LEADER and p.unit_id == place.unit_id)


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


PUBLIC_DOCUMENTS = frozenset({"survey", "notice"})
# A resident reads the contract they are asked to sign, and the sheet they sign, as an own copy:
# only their flat's line reaches the template (services.documents.unit_document(only_room=...)).
OWN_COPY_DOCUMENTS = frozenset({"agreement", "signatures"})


def can_read_document(p: Principal, place: UnitPlace, kind: str) -> bool:
    """Survey forms and notices are public in the stairwell; sheets with owners' names are not:
    those go to the unit's leader, its managers and the street office."""
    if kind in PUBLIC_DOCUMENTS:
        return can_read_unit(p, place)
    if p.role is Role.RESIDENT and kind in OWN_COPY_DOCUMENTS:
        return can_read_unit(p, place) and p.room is not None
    return can_lead_unit(p, place) or (p.role is Role.STREET_VIEWER and can_read_unit(p, place))


def can_export_ledger(p: Principal, place: UnitPlace) -> bool:
    """A unit's ledger evidence file names every owner: those who may print the whole signature
    sheet (the unit's leader, its managers, the street office), never a resident's own copy."""
    return p.role is not Role.RESIDENT and can_read_document(p, place, "signatures")


def document_room(p: Principal, kind: str) -> str | None:
    """The one flat a document may show this reader (a resident's own copy), or None for all."""
    if p.role is Role.RESIDENT and kind not in PUBLIC_DOCUMENTS:
        return p.room or ""
    return None


def can_read_evidence(p: Principal) -> bool:
    """Research records (interviews, minutes): community, street office and admins read them."""
    return p.role in (Role.ADMIN, Role.WORKER, Role.STREET_VIEWER)


def can_write_evidence(p: Principal) -> bool:
    """Coding, memos, imports and codebook edits: community workers and admins."""
    return p.role in (Role.ADMIN, Role.WORKER)


def can_read_project(p: Principal, scope: ProjectScope) -> bool:
    """A project of a compound: that compound's worker and its street's office; a project
    without a compound: admins, and every worker and street office once an admin shared it."""
    if p.role is Role.ADMIN:
        return True
    if not can_read_evidence(p):
        return False
    if scope.compound is None:
        return scope.shared
    return can_read_compound(p, scope.compound, scope.street or "")


def can_write_project(p: Principal, scope: ProjectScope) -> bool:
    """Coding in a project: its compound's worker (any worker in a shared one) and admins."""
    if p.role is Role.ADMIN:
        return True
    if not can_write_evidence(p):
        return False
    if scope.compound is None:
        return scope.shared
    return p.compound == scope.compound


def can_create_project(p: Principal, compound: str | None, shared: bool) -> bool:
    """Admins make any project; a worker makes projects of their own compound only."""
    if p.role is Role.ADMIN:
        return True
    return p.role is Role.WORKER and not shared and compound in (None, p.compound)


def forbidden(what: str) -> HTTPException:
    return HTTPException(status_code=403, detail=f"your role may not {what}")


_bearer = HTTPBearer(
    auto_error=False,
    description="Authorization: Bearer <token>; a token is made by `colift token create USER` "
    "or by an admin with POST /api/v1/accounts/{username}/tokens",
)
_session = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    description=f"The web app's session cookie (set by signing in at /login); a request that "
    f"changes anything must also send the session's CSRF token in the {CSRF_HEADER} header",
)


def _csrf_ok(request: Request, expected: str, form_value: str | None = None) -> bool:
    given = request.headers.get(CSRF_HEADER) or form_value or ""
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())


def session_of(request: Request) -> tuple[Principal, str] | None:
    """The signed-in principal and the session's CSRF token, from the cookie; cached per request."""
    if hasattr(request.state, "session"):
        cached: tuple[Principal, str] | None = request.state.session
        return cached
    found = None
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        got = session_account(request.app.state.engine, token)
        if got is not None:
            found = (principal_of(got[0]), got[1])
    request.state.session = found
    return found


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    _cookie: Annotated[str | None, Depends(_session)] = None,
) -> Principal:
    """The caller, or 401 when neither a valid token nor a session is presented.

    A session-authenticated write without the session's CSRF token answers 403. (`_cookie`
    only documents the cookie in the OpenAPI description; `session_of` reads it.)
    """
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is not None:
        if credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "a bearer token is required", headers=challenge)
        tokens: dict[str, Principal] = request.app.state.tokens
        principal = tokens.get(credentials.credentials)
        if principal is None:
            account = token_account(request.app.state.engine, credentials.credentials)
            principal = principal_of(account) if account is not None else None
        if principal is None:
            raise HTTPException(401, "the token is not valid", headers=challenge)
        return principal
    session = session_of(request)
    if session is None:
        raise HTTPException(401, "sign in or send a bearer token", headers=challenge)
    principal, csrf = session
    if request.method not in SAFE_METHODS and not _csrf_ok(request, csrf):
        raise HTTPException(403, "the CSRF token is missing or wrong; reload the page")
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
        Principal("street-office", Role.STREET_VIEWER),  # reads every street
        Principal("admin", Role.ADMIN),
    ]
    return {secrets.token_urlsafe(24): p for p in principals}
