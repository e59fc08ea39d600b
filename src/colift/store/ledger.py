"""The ledger: an append-only, hash-chained, sealed record of every write that matters.

Chains. Every compound has its own chain (`compound:7`); what belongs to no compound goes to
the `global` chain. Each chain numbers its entries from 1. An entry's record is the canonical
JSON of `{chain, seq, at, actor, action, subject, unit, payload}`; its hash is
`sha256(prev_hash + sha256(record))`, the first entry of a chain linking to 64 zeros. So an
entry can be proven to be in a chain from the digests of the others alone (`colift ledger
export` gives a unit's entries in full and the rest as digests).

Seals. Each entry also carries `key id:HMAC-SHA256(ledger key, hash)` (`ledger_key.py`): a
person who can write the database but does not hold the key cannot append an entry that
verifies.

Heads. `ledger_heads` holds each chain's newest entry and is updated in place by every append:
an append reads and locks its chain's head row (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's
`BEGIN IMMEDIATE` already serializes writers), inserts its entries and moves the head — three
statements, no scan, and writers in different compounds never wait for each other.

Texts. Free text (objection notes, reasons, names) is not put in a payload: `keep_text` stores
it in `ledger_texts` with a random salt and the payload holds `{"$text": sha256(salt + text)}`.
Erasing a person's text deletes salt and text; the digest stays and the chain still verifies.

Roll-ups. `rollup` appends to the global chain the heads of the chains that moved since the
last roll-up, so one global head anchors every compound's record.

`verify` (in `ledger_verify.py`) recomputes every chain and compares what the ledger implies
with what the tables hold.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select, update

from colift.errors import BadInput
from colift.i18n import Message
from colift.store import summary
from colift.store.ledger_key import LedgerKey, load_key
from colift.store.tables import ledger, ledger_heads, ledger_texts

GENESIS_HASH = "0" * 64
GLOBAL_CHAIN = "global"
TEXT_KEY = "$text"
SYSTEM_ACTOR = "colift"
_LIMITS = {"actor": 200, "action": 64, "subject": 200}
_TX_CACHE = "colift.ledger.heads"


def compound_chain(compound_id: int) -> str:
    """The chain of one compound's record."""
    return f"compound:{int(compound_id)}"


def chain_compound(chain: str) -> int | None:
    """The compound id of a compound chain; None for any other chain."""
    kind, _, number = chain.partition(":")
    return int(number) if kind == "compound" and number.isdigit() else None


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
    chain: str = GLOBAL_CHAIN
    unit_id: int | None = None
    seal: str = ""

    @property
    def digest(self) -> str:
        """sha256 of the entry's record: what the next link hashes besides `prev_hash`."""
        return record_digest(
            self.chain, self.seq, self.at, self.actor, self.action, self.subject,
            self.unit_id, self.payload,
        )  # fmt: skip


@dataclass(frozen=True)
class LedgerRecord:
    """One entry to append, before it has a place in a chain."""

    actor: str
    action: str
    subject: str
    payload: Mapping[str, Any]
    unit_id: int | None = None


@dataclass(frozen=True)
class ChainHead:
    """The newest entry of a chain as `ledger_heads` holds it (seq 0: an empty chain)."""

    chain: str
    seq: int
    hash: str
    at: datetime | None
    seal: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "hash": self.hash,
            "at": None if self.at is None else _iso(self.at),
        }


@dataclass(frozen=True)
class Problem:
    """Where verification failed and why, as a sentence for the person who runs it."""

    text: Message
    chain: str | None = None
    seq: int | None = None
    table: str | None = None
    row: str | None = None
    ledger_says: str | None = None
    table_says: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "message": self.text.render("en"),
            "message_zh": self.text.render("zh-CN"),
            "chain": self.chain,
            "seq": self.seq,
            "table": self.table,
            "row": self.row,
            "ledger_says": self.ledger_says,
            "table_says": self.table_says,
        }


@dataclass(frozen=True)
class LedgerReport:
    """Result of `verify`.

    `count` is the number of entries checked good; `first_bad_seq` the sequence number (in
    `chain`) where the chain breaks, or of the entry behind the first difference with the
    tables; `head_hash` the global chain's head (or the last good entry when broken).
    """

    ok: bool
    count: int
    first_bad_seq: int | None
    message: str
    head_hash: str = GENESIS_HASH
    chain: str | None = None
    problem: Problem | None = None
    heads: tuple[ChainHead, ...] = ()
    sealed: bool = False  # seals were checked with the configured key
    key_id: str | None = None
    erased: tuple[tuple[str, int], ...] = ()  # (chain, seq) of entries whose text was erased
    anchors: int = 0  # anchors (--head, --anchor) found in the chain
    rows_checked: int = 0
    legacy: int = 0  # entries of the pre-0008 chain checked


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


def utc(at: datetime) -> datetime:
    """A stored time in UTC: SQLite returns naive datetimes, written in UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def _iso(at: datetime) -> str:
    return utc(at).isoformat(timespec="microseconds")


def record_text(
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    unit_id: int | None,
    payload: Mapping[str, Any],
) -> str:
    """The canonical record of one entry: what its digest is computed from."""
    return canonical_json(
        {
            "chain": chain,
            "seq": seq,
            "at": _iso(at),
            "actor": actor,
            "action": action,
            "subject": subject,
            "unit": unit_id,
            "payload": payload,
        }
    )


def record_digest(
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    unit_id: int | None,
    payload: Mapping[str, Any],
) -> str:
    text = record_text(chain, seq, at, actor, action, subject, unit_id, payload)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def link_hash(prev_hash: str, digest: str) -> str:
    """The hash of an entry from the hash before it and its record's digest."""
    return hashlib.sha256((prev_hash + digest).encode("ascii")).hexdigest()


def entry_hash(
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    *,
    chain: str = GLOBAL_CHAIN,
    unit_id: int | None = None,
) -> str:
    """The hash of one entry given the hash of the entry before it."""
    digest = record_digest(chain, seq, at, actor, action, subject, unit_id, payload)
    return link_hash(prev_hash, digest)


# --- the key ------------------------------------------------------------------------------------


def sealing_key() -> LedgerKey:
    """The key new entries are sealed with (created on first use if none is configured)."""
    key = load_key(create=True)
    assert key is not None
    return key


def checking_key() -> LedgerKey | None:
    """The key seals are checked with; None when none is configured."""
    return load_key(create=False)


# --- heads and locks ----------------------------------------------------------------------------


def _current_tx(conn: Connection) -> object:
    return conn.get_nested_transaction() or conn.get_transaction()


def _cached_heads(conn: Connection) -> dict[str, ChainHead]:
    """Heads read or written in this transaction (a new transaction starts empty)."""
    if not conn.in_transaction():
        conn.begin()  # what the first statement would do: the cache belongs to this one
    tx = _current_tx(conn)
    cached = conn.info.get(_TX_CACHE)
    if cached is None or cached[0] is not tx:
        cached = (tx, {})
        conn.info[_TX_CACHE] = cached
    heads: dict[str, ChainHead] = cached[1]
    return heads


def lock(conn: Connection, chain: str = GLOBAL_CHAIN) -> ChainHead:
    """Lock `chain` until this transaction ends and return its head.

    Writers of one chain queue here, so a check made after it (is the round still open?)
    holds until commit; writers of other chains go on. The head is kept for this transaction,
    so the append that follows reads nothing more.
    """
    heads = _cached_heads(conn)
    if chain in heads:
        return heads[chain]
    query = select(ledger_heads).where(ledger_heads.c.chain == chain).with_for_update()
    row = conn.execute(query).first()
    if row is None:
        # The chain's first writer: create its head row (a concurrent creator wins, we wait).
        stmt = _insert_ignoring_duplicates(conn)
        conn.execute(stmt, [{"chain": chain, "seq": 0, "hash": GENESIS_HASH, "seal": ""}])
        row = conn.execute(query).one()
    head = _head(row)
    heads[chain] = head
    return head


def remember_head(conn: Connection, head: ChainHead) -> None:
    """Keep a head the caller read and locked itself (`SELECT … FOR UPDATE` on its row, in a
    query of its own) for this transaction, as `lock` would have."""
    _cached_heads(conn).setdefault(head.chain, head)


def _insert_ignoring_duplicates(conn: Connection) -> Any:
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(ledger_heads).on_conflict_do_nothing(index_elements=["chain"])


def _chunks(values: Iterable[str], size: int = 5_000) -> Iterable[list[str]]:
    distinct = list(dict.fromkeys(values))
    for start in range(0, len(distinct), size):
        yield distinct[start : start + size]


def _head(row: Row[Any]) -> ChainHead:
    return ChainHead(
        chain=row.chain,
        seq=int(row.seq),
        hash=row.hash,
        at=None if row.at is None else utc(row.at),
        seal=row.seal,
    )


def append(
    conn: Connection,
    actor: str,
    action: str,
    subject: str,
    payload: Mapping[str, Any],
    *,
    chain: str = GLOBAL_CHAIN,
    unit_id: int | None = None,
    at: datetime | None = None,
) -> LedgerEntry:
    """Append one entry to `chain` in the caller's transaction and return it."""
    record = LedgerRecord(actor, action, subject, payload, unit_id)
    return append_many(conn, [record], chain=chain, at=at)[0]


# The head's move after an append, built once (every vote runs it).
_HEAD_UPDATE = (
    update(ledger_heads)
    .where(ledger_heads.c.chain == bindparam("h_chain"))
    .values(
        seq=bindparam("h_seq"), hash=bindparam("h_hash"), at=bindparam("h_at"), seal=bindparam("h_seal")
    )
)


def append_many(
    conn: Connection,
    records: Iterable[LedgerRecord],
    *,
    chain: str = GLOBAL_CHAIN,
    at: datetime | None = None,
) -> list[LedgerEntry]:
    """Append several entries to `chain` (one lock, one insert, one head update)."""
    pending = list(records)
    if not pending:
        return []
    for record in pending:
        _check(record)
    _check_chain(chain)
    key = sealing_key()
    stamp = utc(at if at is not None else datetime.now(UTC))
    head = lock(conn, chain)
    if head.at is not None and stamp < head.at:
        stamp = head.at  # a chain's times never go backwards, even if clocks do
    seq, prev = head.seq, head.hash
    entries: list[LedgerEntry] = []
    for record in pending:
        seq += 1
        # A JSON round trip makes the stored payload exactly what `verify` will read back.
        payload: dict[str, Any] = json.loads(canonical_json(dict(record.payload)))
        digest = record_digest(
            chain, seq, stamp, record.actor, record.action, record.subject, record.unit_id, payload
        )
        hashed = link_hash(prev, digest)
        entries.append(
            LedgerEntry(
                seq=seq,
                at=stamp,
                actor=record.actor,
                action=record.action,
                subject=record.subject,
                payload=payload,
                prev_hash=prev,
                hash=hashed,
                chain=chain,
                unit_id=record.unit_id,
                seal=key.seal(hashed),
            )
        )
        prev = hashed
    for record in pending:
        summary.note_ledger_entry(conn, chain, record.subject, record.unit_id)
    conn.execute(
        insert(ledger),
        [
            {
                "chain": e.chain,
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "subject": e.subject,
                "unit_id": e.unit_id,
                "payload": canonical_json(e.payload),
                "prev_hash": e.prev_hash,
                "hash": e.hash,
                "seal": e.seal,
            }
            for e in entries
        ],
    )
    last = entries[-1]
    conn.execute(
        _HEAD_UPDATE,
        {"h_chain": chain, "h_seq": last.seq, "h_hash": last.hash, "h_at": last.at, "h_seal": last.seal},
    )
    _cached_heads(conn)[chain] = ChainHead(chain, last.seq, last.hash, last.at, last.seal)
    return entries


def _check(record: LedgerRecord) -> None:
    for field, limit in _LIMITS.items():
        value: str = getattr(record, field)
        if not value.strip():
            raise BadInput("a ledger entry needs a {field}", field=field)
        if len(value) > limit:
            raise BadInput(
                "ledger {field} is longer than {limit} characters: {start}…",
                field=field,
                limit=limit,
                start=value[:40],
            )


def _check_chain(chain: str) -> None:
    if chain != GLOBAL_CHAIN and chain_compound(chain) is None:
        raise BadInput("no ledger chain {chain}: use global or compound:<id>", chain=chain)


# --- free text ----------------------------------------------------------------------------------


def text_digest(salt: str, text: str) -> str:
    return hashlib.sha256((salt + text).encode("utf-8")).hexdigest()


def keep_text(conn: Connection, text: str) -> str | dict[str, str]:
    """What a payload holds for free text: "" for none, else a reference to the kept text."""
    return keep_texts(conn, [text])[0]


def keep_texts(conn: Connection, texts: Sequence[str]) -> list[str | dict[str, str]]:
    """`keep_text` for many texts in one statement."""
    refs: list[str | dict[str, str]] = []
    rows: list[dict[str, str]] = []
    for text in texts:
        if not text:
            refs.append("")
            continue
        salt = secrets.token_hex(16)
        digest = text_digest(salt, text)
        rows.append({"digest": digest, "salt": salt, "text": text})
        refs.append({TEXT_KEY: digest})
    if rows:
        conn.execute(insert(ledger_texts), rows)
    return refs


def text_ref(value: object) -> str | None:
    """The digest if `value` is a kept-text reference, else None."""
    if isinstance(value, dict) and set(value) == {TEXT_KEY}:
        digest = value[TEXT_KEY]
        if isinstance(digest, str):
            return digest
    return None


def text_refs(value: object) -> Iterable[str]:
    """Every kept-text digest anywhere inside a payload."""
    ref = text_ref(value)
    if ref is not None:
        yield ref
    elif isinstance(value, dict):
        for item in value.values():
            yield from text_refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from text_refs(item)


@dataclass(frozen=True)
class KeptText:
    digest: str
    salt: str | None
    text: str | None
    erased_at: datetime | None
    erased_by: str | None

    @property
    def erased(self) -> bool:
        return self.text is None


def kept_texts(conn: Connection, digests: Iterable[str]) -> dict[str, KeptText]:
    found: dict[str, KeptText] = {}
    for chunk in _chunks(digests):
        for row in conn.execute(select(ledger_texts).where(ledger_texts.c.digest.in_(chunk))):
            found[row.digest] = KeptText(
                row.digest,
                row.salt,
                row.text,
                None if row.erased_at is None else utc(row.erased_at),
                row.erased_by,
            )
    return found


def resolve_texts(conn: Connection, value: Any) -> Any:
    """`value` with every kept-text reference replaced by its text ("" once erased)."""
    texts = kept_texts(conn, set(text_refs(value)))

    def walk(item: Any) -> Any:
        ref = text_ref(item)
        if ref is not None:
            kept = texts.get(ref)
            return "" if kept is None or kept.text is None else kept.text
        if isinstance(item, dict):
            return {k: walk(v) for k, v in item.items()}
        if isinstance(item, list):
            return [walk(v) for v in item]
        return item

    return walk(value)


def erase_texts(conn: Connection, digests: Iterable[str], *, actor: str) -> list[str]:
    """Delete the salt and text of kept texts; returns the digests that held text."""
    now = datetime.now(UTC)
    erased: list[str] = []
    for chunk in _chunks(sorted(set(digests))):
        live = list(
            conn.execute(
                select(ledger_texts.c.digest).where(
                    ledger_texts.c.digest.in_(chunk), ledger_texts.c.text.is_not(None)
                )
            ).scalars()
        )
        if live:
            conn.execute(
                update(ledger_texts)
                .where(ledger_texts.c.digest.in_(live))
                .values(salt=None, text=None, erased_at=now, erased_by=actor)
            )
            erased.extend(live)
    return erased


# --- reading ------------------------------------------------------------------------------------


def entry_from_row(row: Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        seq=int(row.seq),
        at=utc(row.at),
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        payload=json.loads(row.payload),
        prev_hash=row.prev_hash,
        hash=row.hash,
        chain=row.chain,
        unit_id=row.unit_id,
        seal=row.seal,
    )


def head(conn: Connection, chain: str = GLOBAL_CHAIN) -> LedgerEntry | None:
    """The newest entry of `chain`, or None while it is empty."""
    row = conn.execute(
        select(ledger).where(ledger.c.chain == chain).order_by(ledger.c.seq.desc()).limit(1)
    ).first()
    return None if row is None else entry_from_row(row)


def heads(conn: Connection) -> list[ChainHead]:
    """Every chain's head row, in chain order."""
    return [_head(r) for r in conn.execute(select(ledger_heads).order_by(ledger_heads.c.chain))]


def chain_head(conn: Connection, chain: str) -> ChainHead:
    """The head row of `chain` (seq 0 and the genesis hash while it is empty)."""
    row = conn.execute(select(ledger_heads).where(ledger_heads.c.chain == chain)).first()
    return ChainHead(chain, 0, GENESIS_HASH, None) if row is None else _head(row)


def count(conn: Connection, chain: str | None = None) -> int:
    query = select(func.count()).select_from(ledger)
    if chain is not None:
        query = query.where(ledger.c.chain == chain)
    return int(conn.execute(query).scalar_one())


def find_hash(conn: Connection, digest: str) -> LedgerEntry | None:
    """The entry whose hash is `digest`, in any chain."""
    row = conn.execute(select(ledger).where(ledger.c.hash == digest)).first()
    return None if row is None else entry_from_row(row)


def history(
    conn: Connection,
    *,
    chain: str | None = None,
    subject: str | None = None,
    subject_prefix: str | None = None,
    subjects: Sequence[str] | None = None,
    unit_id: int | None = None,
    after_seq: int = 0,
    limit: int | None = None,
) -> list[LedgerEntry]:
    """Entries in chain order, optionally for one chain, subject(s), subject prefix or unit."""
    query = select(ledger).where(ledger.c.seq > after_seq).order_by(ledger.c.chain, ledger.c.seq)
    if chain is not None:
        query = query.where(ledger.c.chain == chain)
    if subject is not None:
        query = query.where(ledger.c.subject == subject)
    if subjects is not None:
        query = query.where(ledger.c.subject.in_(list(subjects)))
    if subject_prefix is not None:
        query = query.where(ledger.c.subject.startswith(subject_prefix, autoescape=True))
    if unit_id is not None:
        query = query.where(ledger.c.unit_id == unit_id)
    if limit is not None:
        query = query.limit(limit)
    return [entry_from_row(row) for row in conn.execute(query)]


# --- roll-ups -----------------------------------------------------------------------------------


def rollup(conn: Connection, actor: str) -> LedgerEntry | None:
    """Append to the global chain the heads of every chain that moved since the last roll-up.

    Returns the new entry, or None when nothing moved (the global head then anchors all).
    """
    lock(conn, GLOBAL_CHAIN)
    covered: dict[str, int] = {}
    for row in conn.execute(
        select(ledger.c.payload)
        .where(ledger.c.chain == GLOBAL_CHAIN, ledger.c.action == "ledger.rollup")
        .order_by(ledger.c.seq)
    ):
        for chain, ref in json.loads(row.payload).get("chains", {}).items():
            covered[chain] = int(ref["seq"])
    moved = {
        h.chain: {"seq": h.seq, "hash": h.hash}
        for h in heads(conn)
        if h.chain != GLOBAL_CHAIN and h.seq > covered.get(h.chain, 0)
    }
    if not moved:
        return None
    return append(conn, actor, "ledger.rollup", "ledger", {"chains": moved})


def verify(conn: Connection, **options: Any) -> LedgerReport:
    """Check every chain and the tables it protects (`ledger_verify.verify`)."""
    from colift.store.ledger_verify import verify as verify_all

    return verify_all(conn, **options)


class Ledger:
    """The ledger functions bound to one connection, as a unit of work exposes them."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(
        self,
        actor: str,
        action: str,
        subject: str,
        payload: Mapping[str, Any],
        *,
        chain: str = GLOBAL_CHAIN,
        unit_id: int | None = None,
    ) -> LedgerEntry:
        return append(self._conn, actor, action, subject, payload, chain=chain, unit_id=unit_id)

    def append_many(
        self, records: Iterable[LedgerRecord], *, chain: str = GLOBAL_CHAIN
    ) -> list[LedgerEntry]:
        return append_many(self._conn, records, chain=chain)

    def keep_text(self, text: str) -> str | dict[str, str]:
        return keep_text(self._conn, text)

    def verify(self, **options: Any) -> LedgerReport:
        return verify(self._conn, **options)

    def head(self, chain: str = GLOBAL_CHAIN) -> LedgerEntry | None:
        return head(self._conn, chain)

    def heads(self) -> list[ChainHead]:
        return heads(self._conn)

    def chain_head(self, chain: str) -> ChainHead:
        return chain_head(self._conn, chain)

    def rollup(self, actor: str) -> LedgerEntry | None:
        return rollup(self._conn, actor)

    def count(self, chain: str | None = None) -> int:
        return count(self._conn, chain)

    def find_hash(self, digest: str) -> LedgerEntry | None:
        return find_hash(self._conn, digest)

    def history(
        self,
        *,
        chain: str | None = None,
        subject: str | None = None,
        subject_prefix: str | None = None,
        subjects: Sequence[str] | None = None,
        unit_id: int | None = None,
        after_seq: int = 0,
        limit: int | None = None,
    ) -> list[LedgerEntry]:
        return history(
            self._conn,
            chain=chain,
            subject=subject,
            subject_prefix=subject_prefix,
            subjects=subjects,
            unit_id=unit_id,
            after_seq=after_seq,
            limit=limit,
        )
