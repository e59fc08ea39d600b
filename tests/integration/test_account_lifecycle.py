"""The lifecycle of accounts and tokens: disable, enable, reset, change, unlock, expire, revoke;
the password policy; equal work for unknown users; every change in the ledger, nothing personal
in it, and the ledger still verifies."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from colift.errors import BadInput, NotFound
from colift.model.accounts import Account, AccountRole
from colift.model.passwords import check_password, common_passwords
from colift.services import accounts as svc
from colift.services.accounts import (
    FREE_FAILURES_PER_USER,
    LoginRefused,
    TooManyAttempts,
    change_own_password,
    create_account,
    digest,
    issue_api_token,
    list_tokens,
    revoke_token,
    session_account,
    set_active,
    set_password,
    sign_in,
    token_account,
    unlock,
)
from colift.services.ledger import verify_ledger
from colift.store import UnitOfWork
from colift.store.tables import ledger

PASSWORD = "lift-for-2-bldg"


@pytest.fixture
def people(engine: Engine) -> Engine:
    create_account(engine, Account(0, "boss", "管理员", AccountRole.ADMIN), PASSWORD)
    create_account(engine, Account(0, "wang", "王芳", AccountRole.STREET_VIEWER), PASSWORD)
    return engine


def _id(engine: Engine, username: str) -> int:
    return svc.get_account(engine, username).id


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("password123", "commonest"),
        ("Qwerty123", "commonest"),
        ("woaini1314", "commonest"),
        ("Sunshine1!", "commonest"),
        ("wang-2026-lift", "username"),
        ("x" * 300, "at most 256"),
    ],
)
def test_the_password_policy_refuses_weak_passwords(password: str, reason: str) -> None:
    with pytest.raises(BadInput) as refused:
        check_password(password, "wang")
    assert reason in refused.value.render("en")


def test_the_common_list_is_a_few_hundred_and_the_demo_password_passes() -> None:
    assert 200 <= len(common_passwords()) <= 1000
    check_password("colift-demo-2026", "worker")


def test_disabling_ends_sessions_and_tokens_and_enabling_keeps_tokens_dead(
    people: Engine,
) -> None:
    engine = people
    session = sign_in(engine, "wang", PASSWORD, client="c1")
    token = issue_api_token(engine, "wang", "export").token
    assert token_account(engine, token) is not None
    boss = _id(engine, "boss")
    set_active(engine, "wang", False, actor_id=boss)
    assert session_account(engine, session.token) is None
    assert token_account(engine, token) is None
    with pytest.raises(LoginRefused):
        sign_in(engine, "wang", PASSWORD, client="c1")
    with pytest.raises(BadInput):
        issue_api_token(engine, "wang", "while disabled")
    set_active(engine, "wang", True, actor_id=boss)
    assert token_account(engine, token) is None, "a revoked token stays revoked"
    assert sign_in(engine, "wang", PASSWORD, client="c1").account.username == "wang"
    with pytest.raises(BadInput):
        set_active(engine, "boss", False, actor_id=boss)  # not one's own


def test_tokens_expire_and_are_revoked_by_their_holder_or_an_admin(people: Engine) -> None:
    engine = people
    wang, boss = _id(engine, "wang"), _id(engine, "boss")
    made = issue_api_token(engine, "wang", "one day", days=1)
    assert made.info.expires_at is not None
    with UnitOfWork(engine) as uow:
        later = made.info.expires_at + timedelta(seconds=1)
        assert uow.accounts.token_account(digest(made.token), later) is None
        assert uow.accounts.token_account(digest(made.token), made.info.created_at) is not None
    with pytest.raises(BadInput):
        issue_api_token(engine, "wang", "forever", days=10_000)
    with pytest.raises(NotFound):  # another account's token: absent to a non-admin
        revoke_token(engine, made.info.id, actor_id=boss + 1000, admin=False)
    revoke_token(engine, made.info.id, actor_id=wang, admin=False)
    assert token_account(engine, made.token) is None
    second = issue_api_token(engine, "wang", "second")
    revoke_token(engine, second.info.id, actor_id=boss, admin=True)
    listed = list_tokens(engine, wang)
    assert [t.label for t in listed] == ["one day", "second"]
    assert all(t.revoked_at is not None for t in listed)


def test_changing_ones_own_password_needs_the_current_one_and_keeps_this_session(
    people: Engine,
) -> None:
    engine = people
    wang = _id(engine, "wang")
    here = sign_in(engine, "wang", PASSWORD, client="c1")
    elsewhere = sign_in(engine, "wang", PASSWORD, client="c2")
    with pytest.raises(BadInput):
        change_own_password(engine, wang, "not-the-password", "another-long-one")
    with pytest.raises(BadInput):
        change_own_password(engine, wang, PASSWORD, "12345678")
    change_own_password(engine, wang, PASSWORD, "another-long-one", keep_session=here.token)
    assert session_account(engine, here.token) is not None
    assert session_account(engine, elsewhere.token) is None
    assert sign_in(engine, "wang", "another-long-one", client="c1")
    set_password(engine, "wang", "reset-by-admin-1", actor_id=_id(engine, "boss"))
    assert session_account(engine, here.token) is None


def test_an_admin_unlock_lifts_the_delay(people: Engine) -> None:
    engine = people
    for i in range(FREE_FAILURES_PER_USER):
        with pytest.raises(LoginRefused):
            sign_in(engine, "wang", f"guess-{i}", client="c9")
    with pytest.raises(TooManyAttempts):
        sign_in(engine, "wang", PASSWORD, client="c1")
    unlock(engine, "wang", actor_id=_id(engine, "boss"))
    assert sign_in(engine, "wang", PASSWORD, client="c1").account.username == "wang"


def test_one_address_failing_across_usernames_is_delayed(people: Engine) -> None:
    engine = people
    now = svc._now()
    with UnitOfWork(engine) as uow:
        for i in range(svc.FREE_FAILURES_PER_CLIENT):
            uow.accounts.add_failure(f"guess-{i}", "10.9.9.9", now)
        uow.commit()
    with pytest.raises(TooManyAttempts):
        sign_in(engine, "wang", PASSWORD, client="10.9.9.9")
    assert sign_in(engine, "wang", PASSWORD, client="10.0.0.1").account.username == "wang"


def test_an_unknown_user_costs_one_argon2_check_like_a_known_one(
    people: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = svc._verify

    def counting(stored: str, password: str) -> bool:
        checked.append(stored)
        return real(stored, password)

    monkeypatch.setattr(svc, "_verify", counting)
    with pytest.raises(LoginRefused):
        sign_in(people, "wang", "wrong-password", client="c1")
    with pytest.raises(LoginRefused):
        sign_in(people, "nobody-here", "wrong-password", client="c1")
    assert len(checked) == 2
    known, unknown = checked
    # the same argon2 variant and parameters: "$argon2id$v=19$m=…,t=…,p=…$"
    assert known.rsplit("$", 2)[0] == unknown.rsplit("$", 2)[0]


def test_every_change_is_in_the_ledger_without_personal_data(people: Engine) -> None:
    engine = people
    boss = _id(engine, "boss")
    token = issue_api_token(engine, "wang", "nightly", actor_id=boss)
    revoke_token(engine, token.info.id, actor_id=boss, admin=True)
    set_password(engine, "wang", "reset-by-admin-1", actor_id=boss)
    set_active(engine, "wang", False, actor_id=boss)
    set_active(engine, "wang", True, actor_id=boss)
    unlock(engine, "wang", actor_id=boss)
    with engine.connect() as conn:
        rows = conn.execute(select(ledger.c.action, ledger.c.actor, ledger.c.payload)).all()
    actions = [r.action for r in rows if r.action.startswith(("account.", "token."))]
    assert actions == [
        "account.create",
        "account.create",
        "token.create",
        "token.revoke",
        "account.password_reset",
        "account.disable",
        "account.enable",
        "account.unlock",
    ]
    text = repr(rows)
    for personal in ("wang", "王芳", "boss", "管理员", "nightly", "reset-by-admin-1"):
        assert personal not in text
    report = verify_ledger(engine)
    assert report.ok, report
