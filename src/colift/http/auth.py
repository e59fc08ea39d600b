"""Who is calling: a principal from a bearer token or the session cookie, and CSRF.

What each role may see and change is decided in `colift.services.access`, for the API and the
pages alike.

A caller is known by a bearer token (programs: `colift token create`, or the in-memory tokens a
test hands to `create_app`) or by the web app's session cookie. A cookie-borne request that
changes anything must also carry the session's CSRF token (`X-CSRF-Token` header or the
`csrf_token` form field), so another site cannot post in a signed-in user's name.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from colift.services.access import (
    OWN_COPY_DOCUMENTS,
    PUBLIC_DOCUMENTS,
    Principal,
    Role,
    UnitPlace,
    can_act_for_room,
    can_create_project,
    can_export_ledger,
    can_lead_unit,
    can_manage_unit,
    can_read_compound,
    can_read_document,
    can_read_evidence,
    can_read_project,
    can_read_unit,
    can_write_evidence,
    can_write_project,
    document_room,
    principal_of,
)
from colift.services.accounts import session_account, token_account
from colift.services.consent import unit_consent
from colift.services.registry import list_units

# Who may do what is decided in `colift.services.access`; these names stay importable from
# here for adapters written before it moved.
__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "OWN_COPY_DOCUMENTS",
    "PUBLIC_DOCUMENTS",
    "SESSION_COOKIE",
    "CurrentPrincipal",
    "Principal",
    "Role",
    "UnitPlace",
    "can_act_for_room",
    "can_create_project",
    "can_export_ledger",
    "can_lead_unit",
    "can_manage_unit",
    "can_read_compound",
    "can_read_document",
    "can_read_evidence",
    "can_read_project",
    "can_read_unit",
    "can_write_evidence",
    "can_write_project",
    "current_principal",
    "demo_tokens",
    "document_room",
    "forbidden",
    "principal_of",
    "session_of",
]
SESSION_COOKIE = "colift_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
