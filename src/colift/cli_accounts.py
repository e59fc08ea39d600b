"""`colift account list|disable|enable|unlock|reset-password|passwd` and
`colift token list|revoke`: the lifecycle of accounts and tokens from the command line.

The command line acts as the operator of the server (recorded in the ledger as `cli`).
Passwords are asked for, or read from COLIFT_PASSWORD (and COLIFT_NEW_PASSWORD for `passwd`).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from colift.cli_common import DatabaseOption, out, print_json, ready_engine, user_errors
from colift.i18n import Message, bilingual, msg


def say(text: Message) -> None:
    out.print(bilingual(text), markup=False, highlight=False, soft_wrap=True)


def _password(variable: str, prompt: str, confirm: bool = True) -> str:
    return os.environ.get(variable) or typer.prompt(
        prompt, hide_input=True, confirmation_prompt=confirm
    )


@user_errors
def account_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False,
    database: DatabaseOption = None,
) -> None:
    """Every account: role, scope, active or disabled, live tokens, any sign-in delay."""
    from colift.services.accounts import account_statuses

    statuses = account_statuses(ready_engine(database))
    rows = [
        {
            "username": s.account.username,
            "role": s.account.role.value,
            "scope": s.account.compound_code or s.account.street or "",
            "active": s.account.active,
            "live_tokens": s.live_tokens,
            "sign_in_delay_s": s.delayed_for,
        }
        for s in statuses
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("username", "role", "scope", "active", "live tokens", "delay s")
    for r in rows:
        table.add_row(
            str(r["username"]),
            str(r["role"]),
            str(r["scope"]),
            "yes" if r["active"] else "DISABLED",
            str(r["live_tokens"]),
            str(r["sign_in_delay_s"] or ""),
        )
    out.print(table)


@user_errors
def account_disable(username: str, database: DatabaseOption = None) -> None:
    """Disable USERNAME: its sessions end and its tokens are revoked at once."""
    from colift.services.accounts import set_active

    set_active(ready_engine(database), username, False)
    say(msg("account {username} is disabled: its sessions and tokens ended", username=username))


@user_errors
def account_enable(username: str, database: DatabaseOption = None) -> None:
    """Enable USERNAME again (its old tokens stay revoked)."""
    from colift.services.accounts import set_active

    set_active(ready_engine(database), username, True)
    say(msg("account {username} is enabled", username=username))


@user_errors
def account_unlock(username: str, database: DatabaseOption = None) -> None:
    """Forget USERNAME's failed sign-ins, so its next attempt waits for nothing."""
    from colift.services.accounts import unlock

    unlock(ready_engine(database), username)
    say(msg("account {username} may sign in again at once", username=username))


@user_errors
def account_reset_password(username: str, database: DatabaseOption = None) -> None:
    """Set a new password for USERNAME (asked for, or COLIFT_PASSWORD); its sessions end."""
    from colift.services.accounts import set_password

    engine = ready_engine(database)
    set_password(engine, username, _password("COLIFT_PASSWORD", "new password"))
    say(msg("the password of {username} is reset: its sessions ended", username=username))


@user_errors
def account_passwd(username: str, database: DatabaseOption = None) -> None:
    """Change USERNAME's password giving the current one (COLIFT_PASSWORD, COLIFT_NEW_PASSWORD)."""
    from colift.services.accounts import change_own_password, get_account

    engine = ready_engine(database)
    account = get_account(engine, username)
    current = _password("COLIFT_PASSWORD", "current password", confirm=False)
    new = _password("COLIFT_NEW_PASSWORD", "new password")
    change_own_password(engine, account.id, current, new)
    say(msg("your password is changed"))


@user_errors
def token_list(
    username: str,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array")] = False,
    database: DatabaseOption = None,
) -> None:
    """USERNAME's API tokens: id, label, made, expires, revoked, live (never the token)."""
    from colift.services.accounts import list_tokens_of

    now = datetime.now(UTC)
    tokens = list_tokens_of(ready_engine(database), username)
    rows = [
        {
            "id": t.id,
            "label": t.label,
            "created_at": t.created_at.isoformat(timespec="seconds"),
            "expires_at": t.expires_at.isoformat(timespec="seconds") if t.expires_at else None,
            "revoked_at": t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None,
            "live": t.live(now),
        }
        for t in tokens
    ]
    if as_json:
        print_json(rows)
        return
    table = Table("id", "label", "made", "expires", "revoked", "live")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["label"]),
            str(r["created_at"]),
            str(r["expires_at"] or "—"),
            str(r["revoked_at"] or "—"),
            "yes" if r["live"] else "no",
        )
    out.print(table)


@user_errors
def token_revoke(token_id: int, database: DatabaseOption = None) -> None:
    """Revoke the token with id TOKEN_ID (see `colift token list USERNAME`)."""
    from colift.services.accounts import revoke_token

    revoke_token(ready_engine(database), token_id, actor_id=None, admin=True)
    say(msg("the token is revoked"))


def register(account_app: typer.Typer, token_app: typer.Typer) -> None:
    """Add these commands to `colift account` and `colift token`."""
    account_app.command("list")(account_list)
    account_app.command("disable")(account_disable)
    account_app.command("enable")(account_enable)
    account_app.command("unlock")(account_unlock)
    account_app.command("reset-password")(account_reset_password)
    account_app.command("passwd")(account_passwd)
    token_app.command("list")(token_list)
    token_app.command("revoke")(token_revoke)
