"""Account use cases: create, sign in, sessions with CSRF tokens, API tokens, and the lifecycle
of both: change or reset a password, disable and enable an account, list and revoke tokens,
unlock a username that failed too often.

Passwords are hashed with argon2id (argon2-cffi's defaults) and checked by `model/passwords.py`
(length, the commonest passwords, the username). A session or API token is shown to its holder
once and stored only as its SHA-256 digest, so a copy of the database signs no one in. A token
expires (90 days unless asked otherwise, a year at most); a revoked or expired token, and every
session and token of a disabled account, signs no one in.

Sign-in takes the same time for an unknown username as for a known one: the password is
checked against a dummy argon2 hash made with the same parameters. Failed sign-ins delay the
next attempt instead of locking the account: after five failures of one username within 15
minutes each further attempt waits 2, 4, 8 … seconds after the last failure, at most a minute
(429 with Retry-After), so a guesser gets a few dozen tries an hour and the real owner, who
knows the password, gets in after at most a minute. An admin can clear a username's failures.

Every change (account made, password changed or reset, disabled, enabled, unlocked, token made
or revoked) is a ledger entry on the global chain, naming accounts and tokens by id, never by
username, name or anything personal.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from colift.errors import BadInput, ColiftError, NotFound
from colift.i18n import msg
from colift.model.accounts import Account, AccountRole, TokenInfo
from colift.model.passwords import MAX_PASSWORD, check_password
from colift.store import UnitOfWork

SESSION_DAYS = 14
TOKEN_DAYS = 90  # a token's default life
MAX_TOKEN_DAYS = 366
FAILURE_WINDOW = timedelta(minutes=15)
FREE_FAILURES_PER_USER = 5  # then each attempt waits after the last failure
FREE_FAILURES_PER_CLIENT = 30  # one address guessing many usernames
MAX_DELAY_S = 60

_hasher = PasswordHasher()


class LoginRefused(ColiftError):
    """Unknown user or wrong password; the message never says which."""

    code = "login_failed"


class TooManyAttempts(ColiftError):
    """Too many failed sign-ins just now: wait `retry_after` seconds before the next one."""

    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            msg(
                "too many failed sign-ins: wait {seconds} s before trying again",
                seconds=retry_after,
            )
        )
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str  # the cookie value; only its digest is stored
    csrf: str


@dataclass(frozen=True)
class NewToken:
    info: TokenInfo
    token: str  # shown once


@dataclass(frozen=True)
class AccountStatus:
    """An account as the admin's list shows it."""

    account: Account
    live_tokens: int
    delayed_for: int  # seconds the next sign-in must wait (0: none)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


@cache
def _dummy_hash() -> str:
    """An argon2 hash of a random password with the hasher's parameters: checking a password
    against it costs what checking a real account's costs."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _scope(account: Account) -> Account:
    """Refuse an account whose role lacks the scope it needs."""
    name = account.username.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise BadInput("a username needs 1–64 characters without spaces")
    role = account.role
    if role in (AccountRole.WORKER, AccountRole.UNIT_LEADER, AccountRole.RESIDENT) and not (
        account.compound_code
    ):
        raise BadInput("a {role} account needs the code of its compound", role=role.value)
    if role in (AccountRole.UNIT_LEADER, AccountRole.RESIDENT) and account.unit_id is None:
        raise BadInput("a {role} account needs its unit", role=role.value)
    if role is AccountRole.RESIDENT and not (account.room or "").strip():
        raise BadInput("a resident account needs the room of its household, e.g. 502")
    return replace(account, username=name, room=(account.room or "").strip() or None)


def _record(uow: UnitOfWork, actor: str, action: str, account_id: int, **facts: Any) -> None:
    """One ledger entry on the global chain; ids only, nothing personal."""
    uow.ledger.append(actor, action, f"account:{account_id}", {"account": account_id, **facts})


def _actor(actor_id: int | None) -> str:
    return f"account:{actor_id}" if actor_id is not None else "cli"


def _find(uow: UnitOfWork, username: str) -> Account:
    account = uow.accounts.find(username.strip())
    if account is None:
        raise NotFound("no account named {username}", username=username)
    return account


def create_account(
    engine: Engine, account: Account, password: str, *, actor_id: int | None = None
) -> Account:
    """Add an account; the unit and room must exist in the named compound."""
    account = _scope(account)
    check_password(password, account.username)
    with UnitOfWork(engine) as uow:
        if account.compound_code:
            compound = uow.compounds.get_by_code(account.compound_code)
            if account.unit_id is not None:
                unit = uow.units.info(account.unit_id)
                if unit.compound_id != compound.id:
                    raise BadInput(
                        "unit {unit} is not in compound {compound}",
                        unit=account.unit_id,
                        compound=account.compound_code,
                    )
                if account.room is not None:
                    rooms = {h.room for h in uow.households.list_by_unit(account.unit_id)}
                    if account.room not in rooms:
                        raise BadInput(
                            "unit {unit} has no room {room}",
                            unit=account.unit_id,
                            room=account.room,
                        )
        made = uow.accounts.add(account, _hasher.hash(password), _now())
        _record(
            uow,
            _actor(actor_id),
            "account.create",
            made.id,
            role=made.role.value,
            compound=made.compound_code,
            unit=made.unit_id,
        )
        uow.commit()
    return made


def set_password(
    engine: Engine, username: str, password: str, *, actor_id: int | None = None
) -> None:
    """An admin (or the command line) replaces a password; every session of the account ends."""
    with UnitOfWork(engine) as uow:
        account = _find(uow, username)
        check_password(password, account.username)
        uow.accounts.set_password_hash(account.id, _hasher.hash(password))
        uow.accounts.drop_sessions_of(account.id)
        _record(uow, _actor(actor_id), "account.password_reset", account.id)
        uow.commit()


def change_own_password(
    engine: Engine,
    account_id: int,
    current: str,
    new: str,
    *,
    keep_session: str | None = None,
) -> None:
    """The holder changes their password, giving the current one; their other sessions end
    (the one they are using stays when its token is given)."""
    with UnitOfWork(engine) as uow:
        account = uow.accounts.get(account_id)
        if not _verify(uow.accounts.password_hash(account.id), current):
            raise BadInput("the current password is not right")
        check_password(new, account.username)
        if new == current:
            raise BadInput("the new password is the same as the current one")
        uow.accounts.set_password_hash(account.id, _hasher.hash(new))
        keep = digest(keep_session) if keep_session else None
        uow.accounts.drop_sessions_of(account.id, keep=keep)
        _record(uow, _actor(account.id), "account.password_change", account.id)
        uow.commit()


def set_active(
    engine: Engine, username: str, active: bool, *, actor_id: int | None = None
) -> Account:
    """Disable an account (its sessions end and its tokens are revoked) or enable it again
    (with no tokens: make new ones). An admin cannot disable their own account."""
    now = _now()
    with UnitOfWork(engine) as uow:
        account = _find(uow, username)
        if not active and actor_id is not None and account.id == actor_id:
            raise BadInput("you cannot disable your own account")
        if account.active == active:
            return account
        uow.accounts.set_active(account.id, active)
        revoked = 0
        if not active:
            uow.accounts.drop_sessions_of(account.id)
            revoked = uow.accounts.revoke_tokens_of(account.id, now)
        action = "account.enable" if active else "account.disable"
        _record(uow, _actor(actor_id), action, account.id, tokens_revoked=revoked)
        uow.commit()
        return replace(account, active=active)


def unlock(engine: Engine, username: str, *, actor_id: int | None = None) -> None:
    """Clear a username's failed sign-ins, so its next attempt waits for nothing."""
    with UnitOfWork(engine) as uow:
        account = _find(uow, username)
        uow.accounts.clear_failures(account.username)
        _record(uow, _actor(actor_id), "account.unlock", account.id)
        uow.commit()


def _verify(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def _delay(count: int, free: int) -> int:
    """Seconds to wait after the last failure, once `count` failures passed `free`."""
    if count < free:
        return 0
    return int(min(MAX_DELAY_S, 2 ** (count - free + 1)))


def _wait_left(uow: UnitOfWork, username: str, client: str, now: datetime) -> int:
    since = now - FAILURE_WINDOW
    repo = uow.accounts
    waits = []
    for key, free in (
        ({"username": username}, FREE_FAILURES_PER_USER),
        ({"client": client}, FREE_FAILURES_PER_CLIENT),
    ):
        count = repo.failures_since(since, **key)
        delay = _delay(count, free)
        if delay:
            last = repo.latest_failure_since(since, **key)
            if last is not None:
                waits.append((last + timedelta(seconds=delay) - now).total_seconds())
    left = max(waits, default=0.0)
    return int(left) + 1 if left > 0 else 0


def sign_in(
    engine: Engine, username: str, password: str, *, client: str, now: datetime | None = None
) -> SignedIn:
    """Check the password and open a session; too soon after repeated failures: wait."""
    now = now or _now()
    username = username.strip()
    if len(password) > MAX_PASSWORD:
        password = password[: MAX_PASSWORD + 1]  # wrong anyway; bound the hashing work
    with UnitOfWork(engine) as uow:
        repo = uow.accounts
        wait = _wait_left(uow, username, client, now)
        if wait:
            raise TooManyAttempts(wait)
        account = repo.find(username) if len(username) <= 64 else None
        if account is not None and account.active:
            ok = _verify(repo.password_hash(account.id), password)
        else:
            _verify(_dummy_hash(), password)  # the same work as for a real account
            ok = False
        if not ok or account is None:
            repo.add_failure(username, client, now)
            uow.commit()
            raise LoginRefused("wrong username or password")
        stored = repo.password_hash(account.id)
        if _hasher.check_needs_rehash(stored):
            repo.set_password_hash(account.id, _hasher.hash(password))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        repo.add_session(digest(token), account.id, csrf, now, now + timedelta(days=SESSION_DAYS))
        repo.clear_failures(username)
        repo.touch_login(account.id, now)
        repo.drop_expired(now)
        uow.commit()
    return SignedIn(account, token, csrf)


def session_account(
    engine: Engine, token: str, now: datetime | None = None
) -> tuple[Account, str] | None:
    """The signed-in account and the session's CSRF token, or None."""
    if not token:
        return None
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.session(digest(token), now or _now())


def sign_out(engine: Engine, token: str) -> None:
    with UnitOfWork(engine) as uow:
        uow.accounts.drop_session(digest(token))
        uow.commit()


def _token_days(days: int) -> int:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise BadInput("a token lives 1 to {most} days, not {days}", most=MAX_TOKEN_DAYS, days=days)
    return days


def issue_api_token(
    engine: Engine,
    username: str,
    label: str = "",
    *,
    days: int = TOKEN_DAYS,
    actor_id: int | None = None,
) -> NewToken:
    """A new bearer token for programs acting as `username`, expiring after `days`."""
    days = _token_days(days)
    token = secrets.token_urlsafe(32)
    now = _now()
    with UnitOfWork(engine) as uow:
        account = _find(uow, username)
        if not account.active:
            raise BadInput("account {username} is disabled: enable it first", username=username)
        info = uow.accounts.add_token(
            digest(token), account.id, label, now, now + timedelta(days=days)
        )
        _record(uow, _actor(actor_id), "token.create", account.id, token=info.id, days=days)
        uow.commit()
    return NewToken(info, token)


def create_api_token(engine: Engine, username: str, label: str = "", days: int = TOKEN_DAYS) -> str:
    """The token itself (the command line and tests); see `issue_api_token`."""
    return issue_api_token(engine, username, label, days=days).token


def token_account(engine: Engine, token: str) -> Account | None:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.token_account(digest(token), _now())


def list_tokens(engine: Engine, account_id: int) -> list[TokenInfo]:
    with UnitOfWork(engine) as uow:
        return uow.accounts.tokens_of(account_id)


def list_tokens_of(engine: Engine, username: str) -> list[TokenInfo]:
    with UnitOfWork(engine) as uow:
        return uow.accounts.tokens_of(_find(uow, username).id)


def revoke_token(engine: Engine, token_id: int, *, actor_id: int | None, admin: bool) -> TokenInfo:
    """Revoke a token: its holder's own, or any when `admin`. Another's token reads as absent."""
    with UnitOfWork(engine) as uow:
        info = uow.accounts.token(token_id)
        if not admin and info.account_id != actor_id:
            raise NotFound("token {token} does not exist", token=token_id)
        if info.revoked_at is None:
            uow.accounts.revoke_token(token_id, _now())
            _record(uow, _actor(actor_id), "token.revoke", info.account_id, token=token_id)
            uow.commit()
        return uow.accounts.token(token_id)


def list_accounts(engine: Engine) -> list[Account]:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.all()


def account_statuses(engine: Engine, now: datetime | None = None) -> list[AccountStatus]:
    """Every account with its live tokens and any sign-in delay now in force."""
    now = now or _now()
    with UnitOfWork(engine) as uow:
        out = []
        for account in uow.accounts.all():
            live = sum(1 for t in uow.accounts.tokens_of(account.id) if t.live(now))
            since = now - FAILURE_WINDOW
            count = uow.accounts.failures_since(since, username=account.username)
            delayed = 0
            if _delay(count, FREE_FAILURES_PER_USER):
                last = uow.accounts.latest_failure_since(since, username=account.username)
                if last is not None:
                    left = (
                        last + timedelta(seconds=_delay(count, FREE_FAILURES_PER_USER)) - now
                    ).total_seconds()
                    delayed = max(0, int(left) + 1) if left > 0 else 0
            out.append(AccountStatus(account, live, delayed))
        return out


def get_account(engine: Engine, username: str) -> Account:
    with UnitOfWork(engine) as uow:
        return _find(uow, username)
