"""The vote ledger: an append-only, hash-chained record of every write that matters.

Each entry's hash is `sha256(prev_hash + record)`, where `record` is the canonical JSON of
`{seq, at, actor, action, subject, payload}`; the first entry chains to 64 zeros. Changing,
removing or reordering any entry breaks every link after it, and `verify` names the first.
Truncating the newest entries leaves a valid shorter chain: keep the reported head hash
somewhere else (a notice, a signed report) to detect that.

Appenders take a lock first (a PostgreSQL advisory lock held to commit; on SQLite the
write lock of `BEGIN IMMEDIATE`, see `UnitOfWork`), so concurrent writers queue instead of
forking the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, text

from colift.errors import BadInput
from colift.store.tables import ledger

GENESIS_HASH = "0" * 64
# Key of the PostgreSQL transaction-level advisory lock that serializes appenders.
LOCK_KEY = 0x636F6C6966746C67
_LIMITS = {"actor": 200, "action": 64, "subject": 200}


@dataclass(frozen=True)
class LedgerEntry:
    seq: int
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class LedgerRecord:
    """One entry to append, before it has a place in the chain."""

    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]


@dataclass(frozen=True)
class LedgerReport:
    """Result of `verify`.

    `count` is the number of entries checked good; `first_bad_seq` the first sequence number
    where the chain breaks (for a deleted entry, the missing number); `head_hash` the hash of
    the last good entry.
    """

    ok: bool
    count: int
    first_bad_seq: int | None
    message: str
    head_hash: str = GENESIS_HASH


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, UTF-8 text kept as is: one byte string per value."""
    return json.dumps(
        value,
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        allow_nan=False,
        default=_json_default,
    )


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # exact, unlike float
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value)  # sets have no order of their own
    raise TypeError(f"ledger payload value {value!r} of type {type(value).__name__} is not JSON")


def _utc(at: datetime) -> datetime:
    # SQLite returns naive datetimes: they were written in UTC.
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return _utc(at).isoformat(timespec="microseconds")


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
) -> str:
    """The hash of one entry given the hash of the entry before it."""
    record = canonical_json(
        {
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "payload": payload,
        }
    )
    return hashlib.sha256((prev_hash + record).encode("utf-8")).hexdigest()


def lock(conn: Connection) -> None:
    """Serialize ledger writers until this transaction ends (PostgreSQL; SQLite already does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})


def append(
    conn: Connection,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> LedgerEntry:
    """Append one entry in the caller's transaction and return it."""
    return append_many(conn, [LedgerRecord(actor, action, subject, payload)], at=at)[0]


def append_many(
    conn: Connection, records: Iterable[LedgerRecord], *, at: datetime | None = None
) -> list[LedgerEntry]:
    """Append several entries (one lock, one insert) in the caller's transaction."""
    pending = list(records)
    if not pending:
        return []
    for record in pending:
        _check(record)
    stamp = _utc(at if at is not None else datetime.now(UTC))
    lock(conn)
    last = conn.execute(
        select(ledger.c.seq, ledger.c.hash).order_by(ledger.c.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
    entries: list[LedgerEntry] = []
    for record in pending:
        seq += 1
        # A JSON round trip makes the stored payload exactly what `verify` will read back.
        payload: dict[str, Any] = json.loads(canonical_json(dict(record.payload)))
        digest = entry_hash(prev, seq, stamp, record.actor, record.action, record.subject, payload)
        entries.append(
            LedgerEntry(
                seq, stamp, record.actor, record.action, record.subject, payload, prev, digest
            )
        )
        prev = digest
    conn.execute(
        insert(ledger),
        [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "payload": canonical_json(e.payload),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
            }
            for e in entries
        ],
    )
    return entries


def _check(record: LedgerRecord) -> None:
    for field, limit in _LIMITS.items():
        value: str = getattr(record, field)
        if not value.strip():
            raise BadInput(f"a ledger entry needs a {field}")
        if len(value) > limit:
            raise BadInput(f"ledger {field} is longer than {limit} characters: {value[:40]}…")


def head(conn: Connection) -> LedgerEntry | None:
    """The newest entry, or None for an empty ledger."""
    row = conn.execute(select(ledger).order_by(ledger.c.seq.desc()).limit(1)).first()
    return None if row is None else _entry(row)


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(ledger)).scalar_one())


def history(
    conn: Connection,
    *,
    subject: str | None = None,
    subject_prefix: str | None = None,
    after_seq: int = 0,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Entries in chain order, optionally for one subject or all subjects under a prefix."""
    query = select(ledger).where(ledger.c.seq > after_seq).order_by(ledger.c.seq)
    if subject is not None:
        query = query.where(ledger.c.subject == subject)
    if subject_prefix is not None:
        query = query.where(ledger.c.subject.startswith(subject_prefix, autoescape=True))
    if limit is not None:
        query = query.limit(limit)
    return [_entry(row) for row in conn.execute(query)]


def _entry(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        seq=row.seq,
        at=_utc(row.at),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def verify(conn: Connection) -> LedgerReport:
    """Recompute the whole chain and report the first broken link, reading in batches."""
    expected_seq, prev, checked = 1, GENESIS_HASH, 0
    # Streamed in batches; set on the statement, not on the caller's connection.
    query = select(ledger).order_by(ledger.c.seq).execution_options(yield_per=1000)
    with conn.execute(query) as rows:
        for row in rows:
            problem = _problem(row, expected_seq, prev)
            if problem is not None:
                bad_seq, message = problem
                return _broken(checked, bad_seq, message, prev)
            prev, expected_seq, checked = row.hash, expected_seq + 1, checked + 1
    return LedgerReport(
        ok=True,
        count=checked,
        first_bad_seq=None,
        message=f"ledger intact: {checked} entries, head {prev}",
        head_hash=prev,
    )


def _problem(row: Row[Any], expected_seq: int, prev: str) -> tuple[int, str] | None:
    """What is wrong with `row` as the successor of the entry hashed `prev`, if anything."""
    if row.seq != expected_seq:
        if row.seq > expected_seq:
            return expected_seq, f"entry {expected_seq} is missing (deleted?): next is {row.seq}"
        return row.seq, f"entry {row.seq} is out of order"
    if row.prev_hash != prev:
        return row.seq, (
            f"entry {row.seq} does not link to the entry before it "
            "(an earlier entry was rewritten, removed or reordered)"
        )
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or canonical_json(payload) != row.payload:
        return row.seq, f"entry {row.seq} has a payload that was edited"
    digest = entry_hash(prev, row.seq, row.at, row.actor, row.action, row.subject, payload)
    if digest != row.hash:
        return row.seq, f"entry {row.seq} does not match its hash (it was edited)"
    return None


def _broken(checked: int, seq: int, message: str, last_good: str) -> LedgerReport:
    return LedgerReport(
        ok=False,
        count=checked,
        first_bad_seq=seq,
        message=f"ledger broken: {message}",
        head_hash=last_good,
    )


class Ledger:
    """The ledger functions bound to one connection, as a unit of work exposes them."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(
        self, actor: str, action: str, subject: str, payload: Mapping[str, Any]
    ) -> LedgerEntry:
        return append(self._conn, actor, action, subject, payload)

    def append_many(self, records: Iterable[LedgerRecord]) -> list[LedgerEntry]:
        return append_many(self._conn, records)

    def verify(self) -> LedgerReport:
        return verify(self._conn)

    def head(self) -> LedgerEntry | None:
        return head(self._conn)

    def count(self) -> int:
        return count(self._conn)

    def history(
        self,
        *,
        subject: str | None = None,
        subject_prefix: str | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> list[LedgerEntry]:
        return history(
            self._conn,
            subject=subject,
            subject_prefix=subject_prefix,
            after_seq=after_seq,
            limit=limit,
        )
