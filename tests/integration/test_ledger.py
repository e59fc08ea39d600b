"""The hash-chained ledger: appends, canonical records, and every kind of tampering found."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
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
    assert report.ok and report.count == 0 and report.first_bad_seq is None
    assert report.head_hash == GENESIS_HASH and report.problem is None
    assert report.sealed and report.key_id == chain.checking_key().key_id  # type: ignore[union-attr]


def test_appends_form_a_chain_from_genesis(engine: Engine) -> None:
    entries = fill(engine)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS_HASH
    for before, after in pairwise(entries):
        assert after.prev_hash == before.hash
    for e in entries:
        assert e.chain == chain.GLOBAL_CHAIN and e.unit_id is None
        assert e.hash == chain.entry_hash(
            e.prev_hash, e.seq, e.at, e.actor, e.action, e.subject, e.payload
        )
        assert e.hash == chain.link_hash(e.prev_hash, e.digest)
        assert chain.checking_key().check(e.hash, e.seal)  # type: ignore[union-attr]
    with engine.connect() as conn:
        stored = chain.history(conn)
        raw = conn.execute(select(ledger.c.payload).where(ledger.c.seq == 2)).scalar_one()
    assert stored == entries
    assert raw == '{"note":"一楼采光","reasons":["light","noise"]}'  # canonical, UTF-8 kept
    assert entries[0].payload["area"] == "85.12"  # Decimal kept exact, as text
    report = verify(engine)
    assert report.ok and report.count == 5 and report.head_hash == entries[-1].hash
    assert report.first_bad_seq is None and "5 entries in 1 chains" in report.message
    with engine.connect() as conn:
        (head,) = chain.heads(conn)
    assert (head.chain, head.seq, head.hash, head.seal) == (
        chain.GLOBAL_CHAIN, 5, entries[-1].hash, entries[-1].seal,
    )  # fmt: skip


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
        chain.entry_hash(GENESIS_HASH, 1, at, "a", "act", "s", {"x": 1}, chain="compound:1"),
        chain.entry_hash(GENESIS_HASH, 1, at, "a", "act", "s", {"x": 1}, unit_id=7),
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
    # The seal, made with a key the editor lacks, names the rewritten entry itself ...
    report = verify(engine)
    assert report.first_bad_seq == 2 and "no valid seal" in report.message
    # ... and without a key to check seals, the next link still breaks.
    with engine.connect() as conn:
        unsealed = chain.verify(conn, key=None)
    assert unsealed.first_bad_seq == 3 and "does not link" in unsealed.message
    assert not unsealed.sealed


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


# --- chains, heads and locks ---------------------------------------------------------------------


def test_each_compound_has_its_own_chain_and_head(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        a = [
            uow.ledger.append("a", "test.append", f"a:{i}", {}, chain="compound:1")
            for i in range(3)
        ]
        b = uow.ledger.append("b", "test.append", "b:0", {}, chain="compound:2", unit_id=9)
        g = uow.ledger.append("g", "test.append", "g:0", {})
        uow.commit()
    assert [e.seq for e in a] == [1, 2, 3] and b.seq == 1 and g.seq == 1
    assert a[0].prev_hash == b.prev_hash == g.prev_hash == GENESIS_HASH
    assert len({a[0].hash, b.hash, g.hash}) == 3  # the chain's name is part of the record
    with engine.connect() as conn:
        heads = {h.chain: (h.seq, h.hash) for h in chain.heads(conn)}
        assert chain.history(conn, unit_id=9) == [b]
    assert heads == {
        "compound:1": (3, a[-1].hash),
        "compound:2": (1, b.hash),
        "global": (1, g.hash),
    }
    report = verify(engine)
    assert report.ok and report.count == 5 and report.head_hash == g.hash


def test_an_entry_moved_to_another_chain_or_unit_is_found(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.ledger.append("a", "test.append", "a:0", {}, chain="compound:1", unit_id=3)
        uow.commit()
    with engine.begin() as conn:
        conn.execute(update(ledger).values(unit_id=4))
    report = verify(engine)
    assert not report.ok and "does not match its hash" in report.message
    assert report.chain == "compound:1"


def test_a_chain_name_is_global_or_a_compound(engine: Engine) -> None:
    with UnitOfWork(engine) as uow, pytest.raises(BadInput, match="no ledger chain units:1"):
        uow.ledger.append("a", "test.append", "a:0", {}, chain="units:1")


def test_an_append_after_its_lock_costs_an_insert_and_a_head_update(engine: Engine) -> None:
    from sqlalchemy import event

    fill(engine, 2)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement.split()[0].upper())

    with UnitOfWork(engine) as uow:
        head = chain.lock(uow.connection)
        assert head.seq == 2
        event.listen(engine, "before_cursor_execute", count)
        try:
            chain.append(uow.connection, "a", "test.append", "x", {})
            chain.append_many(uow.connection, [chain.LedgerRecord("a", "test.append", "y", {})] * 3)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        uow.commit()
    # No read of the chain: the locked head serves both appends.
    assert statements == ["INSERT", "UPDATE", "INSERT", "UPDATE"]
    assert verify(engine).count == 6


@pytest.mark.postgres
def test_writers_of_different_compounds_do_not_wait_for_each_other(
    migrated_postgres_database: str,
) -> None:
    from sqlalchemy.exc import OperationalError

    from colift.store import make_engine

    engine = make_engine(migrated_postgres_database)
    try:
        with UnitOfWork(engine) as first:
            first.ledger.append("a", "test.append", "a:0", {}, chain="compound:1")
            # compound:1 is locked until `first` ends; compound:2 goes on meanwhile.
            with UnitOfWork(engine) as other:
                other.connection.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
                other.ledger.append("b", "test.append", "b:0", {}, chain="compound:2")
                other.commit()
            with pytest.raises(OperationalError, match="lock timeout"), UnitOfWork(engine) as same:
                same.connection.exec_driver_sql("SET LOCAL lock_timeout = '300ms'")
                same.ledger.append("c", "test.append", "c:0", {}, chain="compound:1")
            first.commit()
        assert verify(engine).ok
    finally:
        engine.dispose()


def test_deleting_the_newest_entries_contradicts_the_head_record(engine: Engine) -> None:
    fill(engine, 5)
    with engine.begin() as conn:
        conn.execute(ledger.delete().where(ledger.c.seq > 3))
    report = verify(engine)
    assert not report.ok and "the newest entries were deleted" in report.message
    assert report.first_bad_seq == 4


# --- seals --------------------------------------------------------------------------------------


def test_another_key_is_named_as_a_configuration_problem(engine: Engine) -> None:
    from colift.store.ledger_key import LedgerKey

    fill(engine, 2)
    other = LedgerKey(b"x" * 40, "test")
    with engine.connect() as conn:
        report = chain.verify(conn, key=other)
    assert not report.ok and report.first_bad_seq == 1
    assert f"configured key is {other.key_id}" in report.message


def test_an_entry_without_a_seal_is_forged(engine: Engine) -> None:
    fill(engine, 3)
    tamper(engine, 3, seal="")
    report = verify(engine)
    assert report.first_bad_seq == 3 and "no valid seal" in report.message


def test_the_key_comes_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from colift.store import ledger_key

    monkeypatch.delenv(ledger_key.KEY_ENV, raising=False)
    monkeypatch.setenv(ledger_key.KEY_FILE_ENV, str(tmp_path / "keys" / "ledger.key"))
    assert ledger_key.load_key() is None  # verify without a key: seals unchecked
    made = ledger_key.load_key(create=True)
    assert made is not None and (tmp_path / "keys" / "ledger.key").stat().st_mode & 0o777 == 0o600
    assert ledger_key.load_key() == made
    monkeypatch.setenv(ledger_key.KEY_ENV, "short")
    with pytest.raises(BadInput, match="shorter than 32 characters"):
        ledger_key.load_key()


# --- kept texts -----------------------------------------------------------------------------------


def test_free_text_is_kept_out_of_the_chain(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        ref = uow.ledger.keep_text("三楼王阿姨说电梯挡光")
        entry = uow.ledger.append(
            "居委会", "test.note", "n:1", {"note": ref, "empty": uow.ledger.keep_text("")}
        )
        uow.commit()
    assert entry.payload["empty"] == ""
    digest = chain.text_ref(entry.payload["note"])
    assert digest is not None and "王阿姨" not in chain.canonical_json(entry.payload)
    with engine.connect() as conn:
        assert chain.resolve_texts(conn, entry.payload)["note"] == "三楼王阿姨说电梯挡光"
    assert verify(engine).ok


def test_an_edited_or_deleted_text_is_found(engine: Engine) -> None:
    from colift.store.tables import ledger_texts

    with UnitOfWork(engine) as uow:
        uow.ledger.append("居委会", "test.note", "n:1", {"note": uow.ledger.keep_text("原话")})
        uow.commit()
    with engine.begin() as conn:
        conn.execute(update(ledger_texts).values(text="改过的话"))
    assert "was edited in ledger_texts" in verify(engine).message
    with engine.begin() as conn:
        conn.execute(update(ledger_texts).values(text=None, salt=None))
    assert "erased without an erasure entry" in verify(engine).message
    with engine.begin() as conn:
        conn.execute(ledger_texts.delete())
    assert "no longer holds" in verify(engine).message


def test_an_erased_text_keeps_the_chain_and_is_reported(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        note = uow.ledger.append(
            "居委会", "test.note", "n:1", {"note": uow.ledger.keep_text("原话")}
        )
        digest = chain.text_ref(note.payload["note"])
        assert digest is not None
        assert chain.erase_texts(uow.connection, [digest], actor="居委会") == [digest]
        uow.ledger.append("居委会", "text.erase", "n:1", {"digests": [digest], "reason": "申请"})
        uow.commit()
    report = verify(engine)
    assert report.ok and report.erased == (("global", 1),)
    with engine.connect() as conn:
        assert chain.resolve_texts(conn, note.payload)["note"] == ""


# --- roll-ups and anchors -----------------------------------------------------------------------


def test_a_rollup_covers_every_chain_that_moved(engine: Engine) -> None:
    with UnitOfWork(engine) as uow:
        uow.ledger.append("a", "test.append", "a:0", {}, chain="compound:1")
        b = uow.ledger.append("b", "test.append", "b:0", {}, chain="compound:2")
        first = uow.ledger.rollup("居委会")
        assert uow.ledger.rollup("居委会") is None  # nothing moved since
        c = uow.ledger.append("c", "test.append", "c:0", {}, chain="compound:2")
        second = uow.ledger.rollup("居委会")
        uow.commit()
    assert first is not None and second is not None
    assert set(first.payload["chains"]) == {"compound:1", "compound:2"}
    assert second.payload == {"chains": {"compound:2": {"seq": 2, "hash": c.hash}}}
    assert verify(engine).ok
    # Cut compound:2 back to its first entry, consistently: the roll-up still remembers.
    with engine.begin() as conn:
        conn.execute(ledger.delete().where(ledger.c.chain == "compound:2", ledger.c.seq == 2))
        conn.execute(
            update(chain.ledger_heads)
            .where(chain.ledger_heads.c.chain == "compound:2")
            .values(seq=1, hash=b.hash, seal=b.seal)
        )
    report = verify(engine)
    assert not report.ok and "the roll-up in global entry 2" in report.message


def test_anchors_must_still_be_in_the_chain(engine: Engine, tmp_path: Path) -> None:
    from colift.services.ledger import check_head_text, read_anchors
    from colift.store.ledger_verify import Anchor

    entries = fill(engine, 4)
    saved = tmp_path / "heads.jsonl"
    saved.write_text(
        json.dumps({"chain": "global", "seq": 4, "hash": entries[3].hash}) + "\n"
        + json.dumps({"chain": "global", "seq": 2, "hash": entries[1].hash}) + "\n"
    )  # fmt: skip
    anchors = read_anchors(saved)
    assert [(a.hash, a.seq) for a in anchors] == [(entries[3].hash, 4), (entries[1].hash, 2)]
    with engine.connect() as conn:
        assert chain.verify(conn, anchors=anchors).anchors == 2
        moved = chain.verify(conn, anchors=[Anchor(entries[1].hash, "global", 3)])
    assert not moved.ok and "now has it at chain global entry 2" in moved.message
    plain = tmp_path / "paper.txt"
    plain.write_text(f"# from the notice of 3栋2单元\n{entries[2].hash.upper()}\n")
    assert read_anchors(plain)[0].hash == entries[2].hash
    with engine.begin() as conn:
        conn.execute(ledger.delete().where(ledger.c.seq == 4))
    with engine.connect() as conn:
        cut = chain.verify(conn, anchors=anchors)
    assert not cut.ok and "is no longer in the ledger" in cut.message
    with pytest.raises(BadInput, match="not a ledger head"):
        check_head_text("abc")
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n")
    with pytest.raises(BadInput, match="holds no ledger head"):
        read_anchors(empty)
