"""The hash-chained ledger: appends, canonical records, and every kind of tampering found."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, select, update

from colift.errors import BadInput
from colift.store import GENESIS_HASH, UnitOfWork
from colift.store import ledger as chain
from colift.store.tables import ledger

PAYLOADS: list[dict[str, Any]] = [
    {"vote": "agree", "room": "301", "area": Decimal("85.12")},
    {"note": "一楼采光", "reasons": ["light", "noise"]},
    {"nested": {"b": 2, "a": 1}, "empty": None},
    {"count": 3},
    {"text": "最后一条"},
]


def fill(engine: Engine, n: int = 5) -> list[chain.LedgerEntry]:
    with UnitOfWork(engine) as uow:
        entries = [
            uow.ledger.append("居委会", "test.append", f"thing:{i}", PAYLOADS[i % len(PAYLOADS)])
            for i in range(n)
        ]
        uow.commit()
    return entries


def verify(engine: Engine) -> chain.LedgerReport:
    with engine.connect() as conn:
        return chain.verify(conn)


def tamper(engine: Engine, seq: int, **values: Any) -> None:
    with engine.begin() as conn:
        conn.execute(update(ledger).where(ledger.c.seq == seq).values(**values))


def test_empty_ledger_verifies(engine: Engine) -> None:
    report = verify(engine)
    assert report == chain.LedgerReport(
        ok=True, count=0, first_bad_seq=None, message=report.message, head_hash=GENESIS_HASH
    )


def test_appends_form_a_chain_from_genesis(engine: Engine) -> None:
    entries = fill(engine)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in pairwise(entries):
        assert after.prev_hash == before.hash
    for e in entries:
        assert e.hash == chain.entry_hash(
            e.prev_hash, e.seq, e.at, e.actor, e.action, e.subject, e.payload
        )
    with engine.connect() as conn:
        stored = chain.history(conn)
        raw = conn.execute(select(ledger.c.payload).where(ledger.c.seq == 2)).scalar_one()
    assert stored == entries
    assert raw == '{"note":"一楼采光","reasons":["light","noise"]}'  # canonical, UTF-8 kept
    assert entries[0].payload["area"] == "85.12"  # Decimal kept exact, as text
    report = verify(engine)
    assert report.ok and report.count == 5 and report.head_hash == entries[-1].hash
    assert report.first_bad_seq is None and "5 entries" in report.message


def test_hash_covers_every_field() -> None:
    at = datetime(2024, 5, 1, 8, 30, tzinfo=UTC)
    base = chain.entry_hash(GENESIS_HASH, 1, at, "a", "act", "s", {"x": 1})
    variants = [
        chain.entry_hash("1" * 64, 1, at, "a", "act", "s", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 2, at, "a", "act", "s", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 1, at.replace(microsecond=1), "a", "act", "s", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 1, at, "b", "act", "s", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 1, at, "a", "act2", "s", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 1, at, "a", "act", "t", {"x": 1}),
        chain.entry_hash(GENESIS_HASH, 1, at, "a", "act", "s", {"x": 2}),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    # The same instant in another zone is the same record.
    shifted = at.astimezone(datetime.fromisoformat("2024-01-01T00:00+08:00").tzinfo)
    assert chain.entry_hash(GENESIS_HASH, 1, shifted, "a", "act", "s", {"x": 1}) == base


def test_tampered_payload_is_found(engine: Engine) -> None:
    entries = fill(engine)
    tamper(engine, 3, payload=json.dumps({"nested": {"a": 1, "b": 3}, "empty": None}))
    report = verify(engine)
    assert not report.ok and report.first_bad_seq == 3 and report.count == 2
    assert report.head_hash == entries[1].hash  # the last entry still known good
    assert "entry 3" in report.message


def test_payload_rewritten_with_the_same_content_is_found(engine: Engine) -> None:
    fill(engine)
    tamper(engine, 4, payload='{"count": 3}')  # not canonical: someone edited the row
    assert verify(engine).first_bad_seq == 4


@pytest.mark.parametrize(
    "values",
    [
        {"actor": "someone else"},
        {"action": "ballot.delete"},
        {"subject": "thing:99"},
        {"at": datetime(2020, 1, 1, tzinfo=UTC)},
    ],
)
def test_tampered_fields_are_found(engine: Engine, values: dict[str, Any]) -> None:
    fill(engine)
    tamper(engine, 2, **values)
    assert verify(engine).first_bad_seq == 2


def test_deleted_row_is_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as conn:
        conn.execute(ledger.delete().where(ledger.c.seq == 3))
    report = verify(engine)
    assert not report.ok and report.first_bad_seq == 3
    assert "entry 3 is missing" in report.message


def test_deleted_first_row_is_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as conn:
        conn.execute(ledger.delete().where(ledger.c.seq == 1))
    assert verify(engine).first_bad_seq == 1


def test_forged_hash_is_found(engine: Engine) -> None:
    fill(engine)
    tamper(engine, 2, hash="f" * 64)
    report = verify(engine)
    assert report.first_bad_seq == 2 and "does not match its hash" in report.message


def test_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link(engine: Engine) -> None:
    entries = fill(engine)
    forged = entries[1]
    payload = {"note": "改过的", "reasons": []}
    digest = chain.entry_hash(
        forged.prev_hash,
        forged.seq,
        forged.at,
        forged.actor,
        forged.action,
        forged.subject,
        payload,
    )
    tamper(engine, 2, payload=chain.canonical_json(payload), hash=digest)
    report = verify(engine)
    assert report.first_bad_seq == 3 and "does not link" in report.message


def test_reordered_entries_are_found(engine: Engine) -> None:
    fill(engine)
    with engine.begin() as conn:
        rows = {
            r.seq: r._asdict() for r in conn.execute(select(ledger).where(ledger.c.seq.in_([2, 3])))
        }
        tamper_in(conn, 3, hash="x")  # free the unique hash before swapping
        for seq, other in ((2, 3), (3, 2)):
            values = {k: v for k, v in rows[other].items() if k != "seq"}
            tamper_in(conn, seq, **values)
    report = verify(engine)
    assert report.first_bad_seq == 2 and not report.ok


def tamper_in(conn: Connection, seq: int, **values: Any) -> None:
    conn.execute(update(ledger).where(ledger.c.seq == seq).values(**values))


def test_rollback_leaves_the_ledger_unchanged(engine: Engine) -> None:
    entries = fill(engine, 2)
    with pytest.raises(RuntimeError), UnitOfWork(engine) as uow:
        uow.ledger.append("居委会", "test.append", "thing:9", {"lost": True})
        raise RuntimeError("stop before commit")
    with UnitOfWork(engine) as uow:
        assert uow.ledger.head() == entries[-1] and uow.ledger.count() == 2
        after = uow.ledger.append("居委会", "test.append", "thing:10", {})
        uow.commit()
    assert after.seq == 3 and after.prev_hash == entries[-1].hash
    assert verify(engine).ok


def test_concurrent_appenders_do_not_fork_the_chain(engine: Engine) -> None:
    writers, per_writer = 6, 8
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                with UnitOfWork(engine) as uow:
                    uow.ledger.append(f"writer{n}", "test.append", f"w{n}:{i}", {"i": i})
                    uow.commit()
        except BaseException as exc:  # collected and re-raised by the test thread
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify(engine)
    assert report.ok and report.count == writers * per_writer
    with engine.connect() as conn:
        seqs = list(conn.execute(select(ledger.c.seq).order_by(ledger.c.seq)).scalars())
    assert seqs == list(range(1, writers * per_writer + 1))


def test_append_many_chains_inside_one_call(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        records = [chain.LedgerRecord("居委会", "test.bulk", f"b:{i}", {"i": i}) for i in range(4)]
        entries = uow.ledger.append_many(records)
        assert uow.ledger.append_many([]) == []
        uow.commit()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert verify(engine).ok


def test_history_filters(engine: Engine) -> None:
    fill(engine)
    with UnitOfWork(engine) as uow:
        uow.ledger.append("居委会", "ballot.set", "round:1/household:7", {})
        uow.ledger.append("居委会", "ballot.set", "round:12/household:7", {})
        uow.commit()
        assert [e.seq for e in uow.ledger.history(subject="thing:1")] == [2]
        assert [e.seq for e in uow.ledger.history(subject_prefix="round:1/")] == [6]
        assert [e.seq for e in uow.ledger.history(after_seq=4, limit=2)] == [5, 6]


@pytest.mark.parametrize(
    ("actor", "action", "subject", "message"),
    [
        ("", "a", "s", "needs a actor"),
        ("who", " ", "s", "needs a action"),
        ("who", "a" * 65, "s", "longer than 64"),
    ],
)
def test_bad_entries_are_refused(
    engine: Engine, actor: str, action: str, subject: str, message: str
) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(BadInput, match=message):
        uow.ledger.append(actor, action, subject, {})


def test_payload_must_be_json(engine: Engine) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(TypeError, match="not JSON"):
        uow.ledger.append("who", "a", "s", {"x": object()})
