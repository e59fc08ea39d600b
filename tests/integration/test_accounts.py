"""Accounts on both backends: argon2 hashes, scopes, sign-in rate limits, sessions and tokens."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select

from colift.errors import BadInput
from colift.model.accounts import Account, AccountRole
from colift.services.accounts import (
    FREE_FAILURES_PER_USER,
    MAX_DELAY_S,
    LoginRefused,
    TooManyAttempts,
    create_account,
    create_api_token,
    session_account,
    set_password,
    sign_in,
    sign_out,
    token_account,
)
from colift.services.demo import seed_demo
from colift.services.registry import list_units
from colift.store.tables import accounts, api_tokens, sessions

PASSWORD = "lift-for-2-bldg"


@pytest.fixture
def seeded(engine: Engine) -> tuple[Engine, str, int]:
    code, _ = seed_demo(engine)
    return engine, code, list_units(engine, code)[0].id


def worker(code: str, name: str = "li") -> Account:
    return Account(0, name, "李春梅", AccountRole.WORKER, compound_code=code)


def test_password_is_stored_as_an_argon2_hash(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    with engine.connect() as conn:
        stored = conn.execute(select(accounts.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("account", "message"),
    [
        (Account(0, "w", "", AccountRole.WORKER), "needs the code of its compound"),
        (Account(0, "r", "", AccountRole.RESIDENT, compound_code="hx-1994"), "needs its unit"),
        (Account(0, "has space", "", AccountRole.ADMIN), "without spaces"),
    ],
)
def test_an_account_without_its_scope_is_refused(
    seeded: tuple[Engine, str, int], account: Account, message: str
) -> None:
    engine, _, _ = seeded
    with pytest.raises(BadInput, match=message):
        create_account(engine, account, PASSWORD)


def test_a_resident_needs_a_room_of_their_unit(seeded: tuple[Engine, str, int]) -> None:
    engine, code, unit = seeded
    resident = Account(0, "r", "", AccountRole.RESIDENT, code, unit, room="909")
    with pytest.raises(BadInput, match="has no room 909"):
        create_account(engine, resident, PASSWORD)


def test_short_passwords_and_duplicate_names_are_refused(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    with pytest.raises(BadInput, match="at least 8"):
        create_account(engine, worker(code), "short")
    create_account(engine, worker(code), PASSWORD)
    with pytest.raises(BadInput, match="already exists"):
        create_account(engine, worker(code), PASSWORD)


def test_sign_in_opens_a_session_that_sign_out_ends(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    done = sign_in(engine, "li", PASSWORD, client="10.0.0.1")
    found = session_account(engine, done.token)
    assert found is not None and found[0].username == "li" and found[1] == done.csrf
    with engine.connect() as conn:  # the database holds the digest, never the token
        assert conn.execute(select(sessions.c.token_hash)).scalar_one() != done.token
    sign_out(engine, done.token)
    assert session_account(engine, done.token) is None


def test_a_session_expires(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    done = sign_in(engine, "li", PASSWORD, client="10.0.0.1")
    later = datetime.now(UTC) + timedelta(days=15)
    assert session_account(engine, done.token, now=later) is None


def test_wrong_password_and_unknown_user_read_the_same(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    with pytest.raises(LoginRefused) as wrong:
        sign_in(engine, "li", "not-the-password", client="10.0.0.1")
    with pytest.raises(LoginRefused) as unknown:
        sign_in(engine, "nobody", PASSWORD, client="10.0.0.1")
    assert wrong.value.message == unknown.value.message


def test_failed_sign_ins_delay_the_next_attempt_but_never_lock_the_owner_out(
    seeded: tuple[Engine, str, int],
) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    start = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    for i in range(FREE_FAILURES_PER_USER):
        with pytest.raises(LoginRefused):
            sign_in(engine, "li", f"guess-{i}", client="10.0.0.9", now=start)
    # even the right password waits now: the guesser cannot learn it was right
    with pytest.raises(TooManyAttempts) as limited:
        sign_in(engine, "li", PASSWORD, client="10.0.0.1", now=start + timedelta(seconds=1))
    assert 1 <= limited.value.retry_after <= MAX_DELAY_S
    # a guesser who keeps trying waits longer each time, but never more than a minute
    at = start
    for i in range(20):
        at += timedelta(seconds=MAX_DELAY_S + 1)
        with pytest.raises(LoginRefused):
            sign_in(engine, "li", f"again-{i}", client="10.0.0.9", now=at)
    with pytest.raises(TooManyAttempts) as longest:
        sign_in(engine, "li", PASSWORD, client="10.0.0.1", now=at + timedelta(seconds=1))
    assert longest.value.retry_after <= MAX_DELAY_S
    # ... and the owner, who knows the password, is in after that wait
    done = sign_in(
        engine, "li", PASSWORD, client="10.0.0.1", now=at + timedelta(seconds=MAX_DELAY_S + 1)
    )
    assert done.account.username == "li"


def test_changing_the_password_ends_every_session(seeded: tuple[Engine, str, int]) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    done = sign_in(engine, "li", PASSWORD, client="10.0.0.1")
    set_password(engine, "li", "a-new-password")
    assert session_account(engine, done.token) is None
    with pytest.raises(LoginRefused):
        sign_in(engine, "li", PASSWORD, client="10.0.0.1")


def test_api_tokens_name_their_account_and_are_kept_as_digests(
    seeded: tuple[Engine, str, int],
) -> None:
    engine, code, _ = seeded
    create_account(engine, worker(code), PASSWORD)
    token = create_api_token(engine, "li", "nightly export")
    found = token_account(engine, token)
    assert found is not None and found.username == "li"
    assert token_account(engine, token + "x") is None
    with engine.connect() as conn:
        assert conn.execute(select(api_tokens.c.token_hash)).scalar_one() != token
