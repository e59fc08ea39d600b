"""Account pages: everyone changes their own password and revokes their own tokens at
/account; admins list, create, disable, enable, unlock and reset accounts at /admin/accounts."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from colift.errors import BadInput, ColiftError
from colift.http.auth import SESSION_COOKIE
from colift.http.errors import status_for
from colift.i18n import msg
from colift.model.accounts import Account, AccountRole
from colift.services.access import Principal, can_manage_accounts
from colift.services.accounts import (
    MAX_TOKEN_DAYS,
    TOKEN_DAYS,
    account_statuses,
    change_own_password,
    create_account,
    get_account,
    issue_api_token,
    list_tokens,
    list_tokens_of,
    revoke_token,
    set_active,
    set_password,
    unlock,
)
from colift.services.consent import unit_by_label
from colift.web.pages import Form, Refused, Who, _text, back, engine_of
from colift.web.render import page_language, render

router = APIRouter(include_in_schema=False)


def _own_page(request: Request, who: Principal, status: int = 200, error: str = "") -> Response:
    tokens = [] if who.account_id is None else list_tokens(engine_of(request), who.account_id)
    return render(
        request, "account.html", status=status, tokens=tokens, now=datetime.now(UTC), error=error
    )


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, who: Who) -> Response:
    return _own_page(request, who)


@router.post("/account/password")
def post_own_password(request: Request, who: Who, form: Form) -> Response:
    lang = page_language(request)
    try:
        if who.account_id is None:
            raise BadInput("this caller has no account")
        new = str(form.get("new_password") or "")
        if new != str(form.get("confirm_password") or ""):
            raise BadInput("the two new passwords differ")
        change_own_password(
            engine_of(request),
            who.account_id,
            str(form.get("current_password") or ""),
            new,
            keep_session=request.cookies.get(SESSION_COOKIE) or None,
        )
    except ColiftError as exc:
        return _own_page(request, who, status_for(exc), exc.render(lang))
    return back(request, "/account", msg("your password is changed").render(lang))


@router.post("/account/tokens/{token_id}/revoke")
def post_own_revoke(request: Request, token_id: int, who: Who, form: Form) -> Response:
    lang = page_language(request)
    try:
        revoke_token(engine_of(request), token_id, actor_id=who.account_id, admin=False)
    except ColiftError as exc:
        return _own_page(request, who, status_for(exc), exc.render(lang))
    return back(request, "/account#tokens", msg("the token is revoked").render(lang))


# --- admins --------------------------------------------------------------------------------------


def _admin(request: Request, who: Principal) -> None:
    if not can_manage_accounts(who):
        raise Refused(msg("only an admin manages accounts").render(page_language(request)))


def _admin_page(request: Request, status: int = 200, error: str = "") -> Response:
    return render(
        request,
        "admin_accounts.html",
        status=status,
        statuses=account_statuses(engine_of(request)),
        roles=list(AccountRole),
        error=error,
    )


@router.get("/admin/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, who: Who) -> Response:
    _admin(request, who)
    return _admin_page(request)


@router.post("/admin/accounts")
def post_account(request: Request, who: Who, form: Form) -> Response:
    _admin(request, who)
    engine = engine_of(request)
    lang = page_language(request)
    try:
        try:
            role = AccountRole(_text(form, "role"))
        except ValueError:
            raise BadInput("choose a role") from None
        compound = _text(form, "compound_code") or None
        unit_label = _text(form, "unit")
        unit_id = None
        if unit_label:
            if compound is None:
                raise BadInput("a unit needs the compound's code")
            unit_id = unit_by_label(engine, compound, unit_label).id
        username = _text(form, "username")
        account = Account(
            0,
            username,
            _text(form, "display_name") or username,
            role,
            compound_code=compound,
            unit_id=unit_id,
            room=_text(form, "room") or None,
            street=_text(form, "street") or None,
        )
        made = create_account(
            engine, account, str(form.get("password") or ""), actor_id=who.account_id
        )
    except ColiftError as exc:
        return _admin_page(request, status_for(exc), exc.render(lang))
    return back(
        request,
        "/admin/accounts",
        msg("account {username} created", username=made.username).render(lang),
    )


def _tokens_page(
    request: Request, username: str, status: int = 200, error: str = "", new_token: str = ""
) -> Response:
    engine = engine_of(request)
    return render(
        request,
        "admin_tokens.html",
        status=status,
        account=get_account(engine, username),
        tokens=list_tokens_of(engine, username),
        now=datetime.now(UTC),
        error=error,
        new_token=new_token,
    )


@router.get("/admin/accounts/{username}/tokens", response_class=HTMLResponse)
def tokens_page(request: Request, username: str, who: Who) -> Response:
    _admin(request, who)
    return _tokens_page(request, username)


@router.post("/admin/accounts/{username}/tokens", response_class=HTMLResponse)
def post_token(request: Request, username: str, who: Who, form: Form) -> Response:
    """Make a token; the page shows it once (no redirect, so it is never in a URL or cookie)."""
    _admin(request, who)
    try:
        raw_days = _text(form, "days") or str(TOKEN_DAYS)
        if not raw_days.isdigit() or len(raw_days) > 4:
            raise BadInput(
                "a token lives 1 to {most} days, not {days}", most=MAX_TOKEN_DAYS, days=raw_days
            )
        made = issue_api_token(
            engine_of(request),
            username,
            _text(form, "label")[:128],
            days=int(raw_days),
            actor_id=who.account_id,
        )
    except ColiftError as exc:
        return _tokens_page(request, username, status_for(exc), exc.render(page_language(request)))
    return _tokens_page(request, username, 201, new_token=made.token)


@router.post("/admin/tokens/{token_id}/revoke")
def post_admin_revoke(request: Request, token_id: int, who: Who, form: Form) -> Response:
    _admin(request, who)
    engine = engine_of(request)
    info = revoke_token(engine, token_id, actor_id=who.account_id, admin=True)
    owner = next(a for a in account_statuses(engine) if a.account.id == info.account_id)
    target = f"/admin/accounts/{quote(owner.account.username)}/tokens"
    return back(request, target, msg("the token is revoked").render(page_language(request)))


@router.post("/admin/accounts/{username}/{action}")
def post_account_action(
    request: Request, username: str, action: str, who: Who, form: Form
) -> Response:
    _admin(request, who)
    engine = engine_of(request)
    lang = page_language(request)
    try:
        if action == "disable":
            set_active(engine, username, False, actor_id=who.account_id)
            done = msg(
                "account {username} is disabled: its sessions and tokens ended", username=username
            )
        elif action == "enable":
            set_active(engine, username, True, actor_id=who.account_id)
            done = msg("account {username} is enabled", username=username)
        elif action == "unlock":
            unlock(engine, username, actor_id=who.account_id)
            done = msg("account {username} may sign in again at once", username=username)
        elif action == "password":
            set_password(engine, username, str(form.get("password") or ""), actor_id=who.account_id)
            done = msg("the password of {username} is reset: its sessions ended", username=username)
        else:
            raise BadInput("unknown account action {action}", action=action)
    except ColiftError as exc:
        return _admin_page(request, status_for(exc), exc.render(lang))
    return back(request, "/admin/accounts", done.render(lang))
