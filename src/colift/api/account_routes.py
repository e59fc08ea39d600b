"""The lifecycle of accounts and tokens over the API: change one's own password, list and revoke
one's own tokens; admins disable, enable, unlock and reset accounts and see anyone's tokens.

Every change is a ledger entry (services/accounts.py). A token is never shown again after it
was made; lists show its id, label, dates and whether it is live.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Engine

from colift.http.auth import SESSION_COOKIE, CurrentPrincipal, forbidden
from colift.http.units import EngineDep
from colift.model.accounts import TokenInfo
from colift.model.passwords import MAX_PASSWORD
from colift.services.access import Principal, can_manage_accounts, is_admin
from colift.services.accounts import (
    account_statuses,
    change_own_password,
    get_account,
    list_tokens,
    list_tokens_of,
    revoke_token,
    set_active,
    set_password,
    unlock,
)

router = APIRouter()


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=MAX_PASSWORD, description="the password now")
    new_password: str = Field(
        max_length=MAX_PASSWORD,
        description="at least 8 characters, not one of the commonest, not the username",
    )


class PasswordResetIn(BaseModel):
    password: str = Field(max_length=MAX_PASSWORD, description="the account's new password")


def token_json(info: TokenInfo, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": info.id,
        "account_id": info.account_id,
        "label": info.label,
        "created_at": info.created_at.isoformat(),
        "expires_at": None if info.expires_at is None else info.expires_at.isoformat(),
        "revoked_at": None if info.revoked_at is None else info.revoked_at.isoformat(),
        "live": info.live(now or datetime.now(UTC)),
    }


def _admin(who: Principal, what: str) -> int | None:
    if not can_manage_accounts(who):
        raise forbidden(what)
    return who.account_id


def _account_id(who: Principal) -> int:
    if who.account_id is None:
        raise forbidden("manage an account: this caller has none (a token made by a script)")
    return who.account_id


@router.post("/me/password", tags=["accounts"], summary="Change one's own password")
def post_own_password(
    body: PasswordChangeIn, request: Request, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Give the current password and a new one. Every other session of the account ends; the
    session making the change stays. A wrong current password or a refused new one: 400."""
    change_own_password(
        engine,
        _account_id(who),
        body.current_password,
        body.new_password,
        keep_session=request.cookies.get(SESSION_COOKIE) or None,
    )
    return {"changed": True}


@router.get("/me/tokens", tags=["accounts"], summary="One's own API tokens")
def get_own_tokens(engine: EngineDep, who: CurrentPrincipal) -> list[dict[str, Any]]:
    """The caller's tokens: id, label, made, expires, revoked, live. Never the token itself."""
    if who.account_id is None:
        return []
    return [token_json(t) for t in list_tokens(engine, who.account_id)]


@router.post("/tokens/{token_id}/revoke", tags=["accounts"], summary="Revoke an API token")
def post_token_revoke(token_id: int, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Revoke one of one's own tokens (an admin: anyone's). Another's token answers 404, so its
    id tells nothing; revoking a revoked token changes nothing."""
    info = revoke_token(engine, token_id, actor_id=who.account_id, admin=is_admin(who))
    return token_json(info)


@router.get(
    "/accounts/{username}/tokens", tags=["accounts"], summary="An account's API tokens (admins)"
)
def get_account_tokens(
    username: str, engine: EngineDep, who: CurrentPrincipal
) -> list[dict[str, Any]]:
    _admin(who, "list another account's tokens")
    return [token_json(t) for t in list_tokens_of(engine, username)]


def _status_json(engine: Engine, username: str) -> dict[str, Any]:
    account = get_account(engine, username)
    status = next(s for s in account_statuses(engine) if s.account.id == account.id)
    return {
        "username": account.username,
        "role": account.role.value,
        "active": account.active,
        "live_tokens": status.live_tokens,
        "sign_in_delay_s": status.delayed_for,
    }


@router.post("/accounts/{username}/disable", tags=["accounts"], summary="Disable an account")
def post_disable(username: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Its sessions end and its tokens are revoked at once; it cannot sign in until enabled.
    An admin cannot disable their own account (400)."""
    set_active(engine, username, False, actor_id=_admin(who, "disable accounts"))
    return _status_json(engine, username)


@router.post("/accounts/{username}/enable", tags=["accounts"], summary="Enable an account")
def post_enable(username: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """It may sign in again; its old tokens stay revoked."""
    set_active(engine, username, True, actor_id=_admin(who, "enable accounts"))
    return _status_json(engine, username)


@router.post("/accounts/{username}/unlock", tags=["accounts"], summary="Clear failed sign-ins")
def post_unlock(username: str, engine: EngineDep, who: CurrentPrincipal) -> dict[str, Any]:
    """Forget the username's failed sign-ins, so its next attempt waits for nothing."""
    unlock(engine, username, actor_id=_admin(who, "unlock accounts"))
    return _status_json(engine, username)


@router.put("/accounts/{username}/password", tags=["accounts"], summary="Reset a password (admins)")
def put_password(
    username: str, body: PasswordResetIn, engine: EngineDep, who: CurrentPrincipal
) -> dict[str, Any]:
    """Set a new password (the same policy applies); every session of the account ends."""
    set_password(engine, username, body.password, actor_id=_admin(who, "reset passwords"))
    return _status_json(engine, username)
