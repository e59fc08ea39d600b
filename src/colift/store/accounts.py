"""Accounts, sessions, API tokens and failed sign-ins. Tokens are kept only as SHA-256 digests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, bindparam, delete, func, insert, select, update

from colift.errors import BadInput, NotFound
from colift.model.accounts import Account, AccountRole, TokenInfo
from colift.store.repository import check_lengths
from colift.store.tables import accounts, api_tokens, login_failures, sessions


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=AccountRole(row.role),
        compound_code=row.compound_code,
        unit_id=row.unit_id,
        room=row.room,
        street=row.street,
        active=bool(row.active),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


# Every request with a bearer token runs this: the token and its account in one statement,
# built once.
_TOKEN_ACCOUNT = (
    select(
        accounts,
        api_tokens.c.expires_at.label("token_expires_at"),
        api_tokens.c.revoked_at.label("token_revoked_at"),
    )
    .join_from(api_tokens, accounts, accounts.c.id == api_tokens.c.account_id)
    .where(api_tokens.c.token_hash == bindparam("token_hash"))
)

# Every page of a signed-in user runs this: the session and its account in one statement.
_SESSION_ACCOUNT = (
    select(
        accounts,
        sessions.c.csrf_token.label("session_csrf_token"),
        sessions.c.expires_at.label("session_expires_at"),
    )
    .join_from(sessions, accounts, accounts.c.id == sessions.c.account_id)
    .where(sessions.c.token_hash == bindparam("token_hash"))
)


class AccountRepository:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- accounts -------------------------------------------------------------------------

    def add(self, account: Account, password_hash: str, now: datetime) -> Account:
        if self.find(account.username) is not None:
            raise BadInput("an account named {username} already exists", username=account.username)
        values = {
            "username": account.username,
            "display_name": account.display_name,
            "password_hash": password_hash,
            "role": account.role.value,
            "compound_code": account.compound_code,
            "unit_id": account.unit_id,
            "room": account.room,
            "street": account.street,
            "active": account.active,
            "created_at": now,
        }
        check_lengths(accounts, values)
        made = self.conn.execute(insert(accounts).values(**values)).inserted_primary_key
        assert made is not None
        return self.get(int(made[0]))

    def get(self, account_id: int) -> Account:
        row = self.conn.execute(select(accounts).where(accounts.c.id == account_id)).first()
        if row is None:
            raise NotFound("account {account} does not exist", account=account_id)
        return _account(row)

    def find(self, username: str) -> Account | None:
        row = self.conn.execute(select(accounts).where(accounts.c.username == username)).first()
        return None if row is None else _account(row)

    def password_hash(self, account_id: int) -> str:
        got = self.conn.execute(
            select(accounts.c.password_hash).where(accounts.c.id == account_id)
        ).scalar_one()
        return str(got)

    def set_password_hash(self, account_id: int, password_hash: str) -> None:
        self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(password_hash=password_hash)
        )

    def set_active(self, account_id: int, active: bool) -> None:
        self.conn.execute(update(accounts).where(accounts.c.id == account_id).values(active=active))

    def touch_login(self, account_id: int, now: datetime) -> None:
        self.conn.execute(
            update(accounts).where(accounts.c.id == account_id).values(last_login_at=now)
        )

    def all(self) -> list[Account]:
        rows = self.conn.execute(select(accounts).order_by(accounts.c.username)).all()
        return [_account(r) for r in rows]

    # --- sessions -------------------------------------------------------------------------

    def add_session(
        self, token_hash: str, account_id: int, csrf: str, now: datetime, expires: datetime
    ) -> None:
        self.conn.execute(
            insert(sessions).values(
                token_hash=token_hash,
                account_id=account_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=expires,
            )
        )

    def session(self, token_hash: str, now: datetime) -> tuple[Account, str] | None:
        """The live session's account and CSRF token; expired sessions read as none."""
        row = self.conn.execute(_SESSION_ACCOUNT, {"token_hash": token_hash}).first()
        if row is None or _aware(row.session_expires_at) <= now:
            return None
        account = _account(row)
        return (account, str(row.session_csrf_token)) if account.active else None

    def drop_session(self, token_hash: str) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))

    def drop_sessions_of(self, account_id: int, *, keep: str | None = None) -> None:
        """End every session of the account (but the one whose digest is `keep`)."""
        query = delete(sessions).where(sessions.c.account_id == account_id)
        if keep is not None:
            query = query.where(sessions.c.token_hash != keep)
        self.conn.execute(query)

    def drop_expired(self, now: datetime) -> None:
        self.conn.execute(delete(sessions).where(sessions.c.expires_at <= now))

    # --- API tokens -----------------------------------------------------------------------

    def add_token(
        self, token_hash: str, account_id: int, label: str, now: datetime, expires: datetime
    ) -> TokenInfo:
        values = {"token_hash": token_hash, "account_id": account_id, "label": label}
        check_lengths(api_tokens, values)
        made = self.conn.execute(
            insert(api_tokens).values(**values, created_at=now, expires_at=expires)
        ).inserted_primary_key
        assert made is not None
        return self.token(int(made[0]))

    def token_account(self, token_hash: str, now: datetime) -> Account | None:
        """The account of a live token: not revoked, not expired, its account active."""
        row = self.conn.execute(_TOKEN_ACCOUNT, {"token_hash": token_hash}).first()
        if row is None or row.token_revoked_at is not None:
            return None
        if row.token_expires_at is not None and _aware(row.token_expires_at) <= now:
            return None
        account = _account(row)
        return account if account.active else None

    def token(self, token_id: int) -> TokenInfo:
        row = self.conn.execute(select(api_tokens).where(api_tokens.c.id == token_id)).first()
        if row is None:
            raise NotFound("token {token} does not exist", token=token_id)
        return _token(row)

    def tokens_of(self, account_id: int) -> list[TokenInfo]:
        rows = self.conn.execute(
            select(api_tokens)
            .where(api_tokens.c.account_id == account_id)
            .order_by(api_tokens.c.id)
        ).all()
        return [_token(r) for r in rows]

    def revoke_token(self, token_id: int, now: datetime) -> None:
        self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )

    def revoke_tokens_of(self, account_id: int, now: datetime) -> int:
        """Revoke every live token of the account; how many were revoked."""
        done = self.conn.execute(
            update(api_tokens)
            .where(api_tokens.c.account_id == account_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return int(done.rowcount or 0)

    # --- failed sign-ins ------------------------------------------------------------------

    def add_failure(self, username: str, client: str, now: datetime) -> None:
        self.conn.execute(
            insert(login_failures).values(username=username[:64], client=client[:64], at=now)
        )

    def failures_since(self, since: datetime, *, username: str = "", client: str = "") -> int:
        query = select(func.count()).select_from(login_failures).where(login_failures.c.at > since)
        if username:
            query = query.where(login_failures.c.username == username[:64])
        if client:
            query = query.where(login_failures.c.client == client[:64])
        return int(self.conn.execute(query).scalar_one())

    def latest_failure_since(
        self, since: datetime, *, username: str = "", client: str = ""
    ) -> datetime | None:
        query = select(func.max(login_failures.c.at)).where(login_failures.c.at > since)
        if username:
            query = query.where(login_failures.c.username == username[:64])
        if client:
            query = query.where(login_failures.c.client == client[:64])
        got = self.conn.execute(query).scalar_one()
        return None if got is None else _aware(got)

    def clear_failures(self, username: str) -> None:
        self.conn.execute(delete(login_failures).where(login_failures.c.username == username[:64]))


def _token(row: Row[Any]) -> TokenInfo:
    return TokenInfo(
        id=row.id,
        account_id=row.account_id,
        label=row.label,
        created_at=_aware(row.created_at),
        expires_at=None if row.expires_at is None else _aware(row.expires_at),
        revoked_at=None if row.revoked_at is None else _aware(row.revoked_at),
    )


def _aware(at: datetime) -> datetime:
    """SQLite gives naive datetimes back; everything colift writes is UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)
