"""Account use cases: create, sign in (rate limited), sessions with CSRF tokens, API tokens.

Passwords are hashed with argon2id (argon2-cffi's defaults). A session or API token is shown to
its holder once and stored only as its SHA-256 digest, so a copy of the database signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine

from colift.errors import BadInput, ColiftError
from colift.model.accounts import Account, AccountRole
from colift.store import UnitOfWork

SESSION_DAYS = 14
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5  # then the account waits out the window
MAX_FAILURES_PER_CLIENT = 30  # one address guessing many usernames
MIN_PASSWORD = 8

_hasher = PasswordHasher()


class LoginRefused(ColiftError):
    """Unknown user or wrong password; the message never says which."""

    code = "login_failed"


class TooManyAttempts(ColiftError):
    """Too many failed sign-ins in the window; `retry_after` is in seconds."""

    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str  # the cookie value; only its digest is stored
    csrf: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"a password needs at least {MIN_PASSWORD} characters")


def _scope(account: Account) -> Account:
    """Refuse an account whose role lacks the scope it needs."""
    name = account.username.strip()
    if not name or len(name) > 64 or any(c.isspace() for c in name):
        raise BadInput("a username needs 1–64 characters without spaces")
    role = account.role
    if role in (AccountRole.WORKER, AccountRole.UNIT_LEADER, AccountRole.RESIDENT) and not (
        account.compound_code
    ):
        raise BadInput(f"a {role.value} account needs the code of its compound")
    if role in (AccountRole.UNIT_LEADER, AccountRole.RESIDENT) and account.unit_id is None:
        raise BadInput(f"a {role.value} account needs its unit")
    if role is AccountRole.RESIDENT and not (account.room or "").strip():
        raise BadInput("a resident account needs the room of its household, e.g. 502")
    return replace(account, username=name, room=(account.room or "").strip() or None)


def create_account(engine: Engine, account: Account, password: str) -> Account:
    """Add an account; the unit and room must exist in the named compound."""
    _check_password(password)
    account = _scope(account)
    with UnitOfWork(engine) as uow:
        if account.compound_code:
            compound = uow.compounds.get_by_code(account.compound_code)
            if account.unit_id is not None:
                unit = uow.units.info(account.unit_id)
                if unit.compound_id != compound.id:
                    raise BadInput(
                        f"unit {account.unit_id} is not in compound {account.compound_code}"
                    )
                if account.room is not None:
                    rooms = {h.room for h in uow.households.list_by_unit(account.unit_id)}
                    if account.room not in rooms:
                        raise BadInput(f"unit {account.unit_id} has no room {account.room}")
        made = uow.accounts.add(account, _hasher.hash(password), _now())
        uow.commit()
    return made


def set_password(engine: Engine, username: str, password: str) -> None:
    """Replace a password; every open session of the account ends."""
    _check_password(password)
    with UnitOfWork(engine) as uow:
        account = uow.accounts.find(username)
        if account is None:
            raise BadInput(f"no account named {username!r}")
        uow.accounts.set_password_hash(account.id, _hasher.hash(password))
        uow.accounts.drop_sessions_of(account.id)
        uow.commit()


def sign_in(
    engine: Engine, username: str, password: str, *, client: str, now: datetime | None = None
) -> SignedIn:
    """Check the password and open a session, refusing while the attempt limit is reached."""
    now = now or _now()
    username = username.strip()
    since = now - FAILURE_WINDOW
    with UnitOfWork(engine) as uow:
        repo = uow.accounts
        if (
            repo.failures_since(since, username=username) >= MAX_FAILURES_PER_USER
            or repo.failures_since(since, client=client) >= MAX_FAILURES_PER_CLIENT
        ):
            oldest = repo.oldest_failure_since(since, username=username, client=client)
            wait = max(60, int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1)
            raise TooManyAttempts(
                f"登录失败次数过多，请{(wait + 59) // 60}分钟后再试 / too many failed sign-ins, "
                f"try again in {(wait + 59) // 60} min",
                wait,
            )
        account = repo.find(username)
        ok = False
        if account is not None and account.active:
            try:
                ok = _hasher.verify(repo.password_hash(account.id), password)
            except (VerificationError, InvalidHashError):
                ok = False
        if not ok or account is None:
            repo.add_failure(username, client, now)
            uow.commit()
            raise LoginRefused("用户名或密码不正确 / wrong username or password")
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


def create_api_token(engine: Engine, username: str, label: str = "") -> str:
    """A new bearer token for programs acting as `username`; shown once, stored as a digest."""
    token = secrets.token_urlsafe(32)
    with UnitOfWork(engine) as uow:
        account = uow.accounts.find(username)
        if account is None:
            raise BadInput(f"no account named {username!r}")
        uow.accounts.add_token(digest(token), account.id, label, _now())
        uow.commit()
    return token


def token_account(engine: Engine, token: str) -> Account | None:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.token_account(digest(token))


def list_accounts(engine: Engine) -> list[Account]:
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.accounts.all()
