"""`colift ledger verify`: recompute every chain, replay it, compare with the tables.

In order, stopping at the first problem:

1. the chain written before revision 0008 (`ledger_v1`), with the formula of its day;
2. each chain (global first, then each compound's): numbering from 1, links, payloads in
   canonical form, hashes, seals (with the configured ledger key), and the head record;
3. the kept texts a chain refers to: present and matching their digest, or erased by an
   erasure entry;
4. what a compound's chain implies, compared with the compound's rows (`ledger_state.py`);
5. rows no chain accounts for, head records without a chain, the heads each roll-up of the
   global chain recorded, and the anchors given (`--head`, `--anchor`).

It reads each chain once, in order, and holds one compound's implied rows at a time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row, select

from colift.i18n import Message, msg
from colift.store.ledger import (
    GENESIS_HASH,
    GLOBAL_CHAIN,
    ChainHead,
    LedgerReport,
    Problem,
    canonical_json,
    chain_compound,
    checking_key,
    entry_from_row,
    heads,
    link_hash,
    record_digest,
    utc,
)
from colift.store.ledger_key import LedgerKey
from colift.store.ledger_state import Replay, Verdict, check_texts, compare
from colift.store.tables import compounds, ledger, ledger_v1, vote_rounds

_CONFIGURED: Any = object()


@dataclass(frozen=True)
class Anchor:
    """A head taken earlier and kept outside the database (a print-out, a file)."""

    hash: str
    chain: str | None = None
    seq: int | None = None
    source: str = ""


@dataclass
class _Totals:
    count: int = 0
    rows: int = 0
    erased: list[tuple[str, int]] = field(default_factory=list)
    rollups: dict[str, list[tuple[int, str, int]]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    global_head: str = GENESIS_HASH
    last_good: str = GENESIS_HASH  # the hash of the last entry checked good
    legacy_expected: tuple[int, str, int] | None = None  # entries, head, global seq


def verify(
    conn: Connection,
    *,
    anchors: Sequence[Anchor | str] = (),
    key: LedgerKey | None = _CONFIGURED,
    tables: bool = True,
) -> LedgerReport:
    """Check the whole ledger and the tables it protects; the first problem fails it."""
    if key is _CONFIGURED:
        key = checking_key()
    totals = _Totals()
    legacy = 0
    try:
        # First the heads kept outside: a missing one says the most in the fewest words.
        _check_anchors(conn, anchors)
        legacy = _verify_legacy(conn)
        head_rows = {h.chain: h for h in heads(conn)}
        for chain in _chains(conn, head_rows):
            _verify_chain(conn, chain, key, head_rows.get(chain), totals, tables)
        _after(conn, head_rows, totals, anchors, tables)
    except Verdict as found:
        problem = found.problem
        return LedgerReport(
            ok=False,
            count=totals.count,
            first_bad_seq=problem.seq,
            message=problem.text.render("en"),
            head_hash=totals.last_good,
            chain=problem.chain,
            problem=problem,
            heads=tuple(heads(conn)),
            sealed=key is not None,
            key_id=None if key is None else key.key_id,
            erased=tuple(totals.erased),
            rows_checked=totals.rows,
            legacy=legacy,
        )
    all_heads = tuple(heads(conn))
    return LedgerReport(
        ok=True,
        count=totals.count,
        first_bad_seq=None,
        message=intact_text(totals.count, len(totals.seen), totals.global_head).render("en"),
        head_hash=totals.global_head,
        heads=all_heads,
        sealed=key is not None,
        key_id=None if key is None else key.key_id,
        erased=tuple(totals.erased),
        anchors=len(anchors),
        rows_checked=totals.rows,
        legacy=legacy,
    )


def intact_text(count: int, chains: int, head: str) -> Message:
    return msg(
        "ledger intact: {count} entries in {chains} chains, global head {head}",
        count=count,
        chains=chains,
        head=head,
    )


def _fail(text: Message, **where: Any) -> Verdict:
    return Verdict(Problem(text, **where))


def _chains(conn: Connection, head_rows: dict[str, ChainHead]) -> list[str]:
    """Every chain that has entries or a head record: global first, then by compound id."""
    names = set(conn.execute(select(ledger.c.chain).distinct()).scalars()) | set(head_rows)

    def order(name: str) -> tuple[int, int, str]:
        if name == GLOBAL_CHAIN:
            return (0, 0, name)
        number = chain_compound(name)
        return (1, number, name) if number is not None else (2, 0, name)

    return sorted(names, key=order)


def _verify_chain(
    conn: Connection,
    chain: str,
    key: LedgerKey | None,
    head_row: ChainHead | None,
    totals: _Totals,
    tables: bool,
) -> None:
    """Check one chain."""
    replay = Replay(chain)
    expected_seq, prev, prev_seal_ok = 1, GENESIS_HASH, False
    totals.last_good = GENESIS_HASH
    last_seal = ""
    query = (
        select(ledger)
        .where(ledger.c.chain == chain)
        .order_by(ledger.c.seq)
        .execution_options(yield_per=1000)
    )
    with conn.execute(query) as rows:
        for row in rows:
            _check_link(row, chain, expected_seq, prev)
            if key is not None:
                _check_seal(row, chain, key, first=not prev_seal_ok)
                prev_seal_ok = True
            entry = entry_from_row(row)
            replay.apply(entry)
            if chain == GLOBAL_CHAIN and entry.action == "ledger.baseline":
                totals.legacy_expected = (
                    int(entry.payload.get("legacy_entries", 0)),
                    str(entry.payload.get("legacy_head", GENESIS_HASH)),
                    entry.seq,
                )
            if chain == GLOBAL_CHAIN and entry.action == "ledger.rollup":
                for name, ref in entry.payload.get("chains", {}).items():
                    totals.rollups.setdefault(name, []).append(
                        (int(ref["seq"]), str(ref["hash"]), entry.seq)
                    )
            prev, expected_seq, last_seal = row.hash, expected_seq + 1, row.seal
            totals.last_good = prev
            totals.count += 1
    last_seq = expected_seq - 1
    if last_seq > 0:
        totals.seen.add(chain)
    _check_head(chain, head_row, last_seq, prev, last_seal)
    texts, erased = check_texts(conn, replay)
    totals.erased.extend((chain, seq) for seq in erased)
    compound_id = chain_compound(chain)
    if tables and compound_id is not None and last_seq > 0:
        totals.rows += compare(conn, replay, compound_id, texts)
    if chain == GLOBAL_CHAIN:
        totals.global_head = prev


def _check_link(row: Row[Any], chain: str, expected_seq: int, prev: str) -> None:
    where = {"chain": chain}
    if row.seq != expected_seq:
        if row.seq > expected_seq:
            raise _fail(
                msg(
                    "chain {chain}: entry {seq} is missing (deleted?): the next is {next}",
                    chain=chain,
                    seq=expected_seq,
                    next=row.seq,
                ),
                seq=expected_seq,
                **where,
            )
        raise _fail(
            msg("chain {chain}: entry {seq} is out of order", chain=chain, seq=row.seq),
            seq=row.seq,
            **where,
        )
    if row.prev_hash != prev:
        raise _fail(
            msg(
                "chain {chain}: entry {seq} does not link to the entry before it (an earlier "
                "entry was rewritten, removed or reordered)",
                chain=chain,
                seq=row.seq,
            ),
            seq=row.seq,
            **where,
        )
    try:
        payload = json.loads(row.payload)
    except ValueError:
        payload = None
    if not isinstance(payload, dict) or canonical_json(payload) != row.payload:
        raise _fail(
            msg(
                "chain {chain}: entry {seq} has a payload that was edited",
                chain=chain,
                seq=row.seq,
            ),
            seq=row.seq,
            **where,
        )
    digest = record_digest(
        chain, row.seq, row.at, row.actor, row.action, row.subject, row.unit_id, payload
    )
    if link_hash(prev, digest) != row.hash:
        raise _fail(
            msg(
                "chain {chain}: entry {seq} does not match its hash (it was edited)",
                chain=chain,
                seq=row.seq,
            ),
            seq=row.seq,
            **where,
        )


def _check_seal(row: Row[Any], chain: str, key: LedgerKey, *, first: bool) -> None:
    if key.check(row.hash, row.seal):
        return
    other = row.seal.partition(":")[0]
    if first and other and other != key.key_id:
        raise _fail(
            msg(
                "chain {chain}: entry {seq} was sealed with ledger key {other}, but the "
                "configured key is {mine}: set COLIFT_LEDGER_KEY (or COLIFT_LEDGER_KEY_FILE) "
                "to the key this database was written with",
                chain=chain,
                seq=row.seq,
                other=other,
                mine=key.key_id,
            ),
            chain=chain,
            seq=row.seq,
        )
    raise _fail(
        msg(
            "chain {chain}: entry {seq} has no valid seal: colift did not write it with the "
            "ledger key (a forged entry, or the chain was re-hashed)",
            chain=chain,
            seq=row.seq,
        ),
        chain=chain,
        seq=row.seq,
    )


def _check_head(
    chain: str, head_row: ChainHead | None, last_seq: int, last_hash: str, last_seal: str
) -> None:
    if head_row is None:
        if last_seq == 0:
            return
        raise _fail(
            msg(
                "chain {chain} has {count} entries but no head record (deleted?)",
                chain=chain,
                count=last_seq,
            ),
            chain=chain,
            seq=last_seq,
            table="ledger_heads",
            row=f"chain={chain}",
        )
    if head_row.seq == last_seq and head_row.hash == last_hash and head_row.seal == last_seal:
        return
    if head_row.seq > last_seq:
        raise _fail(
            msg(
                "chain {chain}: the head record says the newest entry is {head} ({hash}), but "
                "the chain ends at entry {last}: the newest entries were deleted",
                chain=chain,
                head=head_row.seq,
                hash=head_row.hash,
                last=last_seq,
            ),
            chain=chain,
            seq=last_seq + 1,
            table="ledger_heads",
            row=f"chain={chain}",
            ledger_says=f"{head_row.seq} {head_row.hash}",
            table_says=f"{last_seq} {last_hash}",
        )
    raise _fail(
        msg(
            "chain {chain}: the head record (entry {head}) does not match the newest entry "
            "({last}): entries were added or changed behind colift's back",
            chain=chain,
            head=head_row.seq,
            last=last_seq,
        ),
        chain=chain,
        seq=last_seq,
        table="ledger_heads",
        row=f"chain={chain}",
        ledger_says=f"{head_row.seq} {head_row.hash}",
        table_says=f"{last_seq} {last_hash}",
    )


def _after(
    conn: Connection,
    head_rows: dict[str, ChainHead],
    totals: _Totals,
    anchors: Sequence[Anchor | str],
    tables: bool,
) -> None:
    if totals.legacy_expected is not None:
        entries, digest, seq = totals.legacy_expected
        if legacy_head(conn) != (entries, digest):
            raise _fail(
                msg(
                    "the chain before revision 0008 (ledger_v1) no longer ends where the "
                    "upgrade recorded it (global entry {seq}: {entries} entries, head {hash})",
                    seq=seq,
                    entries=entries,
                    hash=digest,
                ),
                chain=GLOBAL_CHAIN,
                seq=seq,
                table="ledger_v1",
            )
    if tables:
        _rows_without_chain(conn, totals.seen)
    _check_rollups(conn, totals.rollups)


def _rows_without_chain(conn: Connection, seen: set[str]) -> None:
    chained = {c for c in (chain_compound(name) for name in seen) if c is not None}
    for compound_id in conn.execute(select(compounds.c.id).order_by(compounds.c.id)).scalars():
        if compound_id not in chained:
            raise _fail(
                msg(
                    "compounds row id={id} is in the table but no ledger chain records it: it "
                    "was added behind colift's back, or its chain was deleted",
                    id=compound_id,
                ),
                table="compounds",
                row=f"id={compound_id}",
                ledger_says="(no chain)",
                table_says="(a row)",
            )
    stray = conn.execute(
        select(vote_rounds.c.id)
        .where((vote_rounds.c.compound_id.is_(None)) | (vote_rounds.c.compound_id.not_in(chained)))
        .order_by(vote_rounds.c.id)
        .limit(1)
    ).scalar()
    if stray is not None:
        raise _fail(
            msg(
                "vote_rounds row id={id} belongs to no compound the ledger records: it was "
                "added or moved behind colift's back",
                id=stray,
            ),
            table="vote_rounds",
            row=f"id={stray}",
        )


def _check_rollups(conn: Connection, rollups: dict[str, list[tuple[int, str, int]]]) -> None:
    for chain, refs in sorted(rollups.items()):
        wanted = {seq for seq, _, _ in refs}
        held = {
            int(row.seq): row.hash
            for row in conn.execute(
                select(ledger.c.seq, ledger.c.hash).where(
                    ledger.c.chain == chain, ledger.c.seq.in_(wanted)
                )
            )
        }
        for seq, digest, global_seq in refs:
            if held.get(seq) != digest:
                raise _fail(
                    msg(
                        "the roll-up in global entry {rollup} recorded chain {chain} at entry "
                        "{seq} with hash {hash}; the chain no longer holds that entry: it was "
                        "cut back or rewritten after the roll-up",
                        rollup=global_seq,
                        chain=chain,
                        seq=seq,
                        hash=digest,
                    ),
                    chain=chain,
                    seq=seq,
                    ledger_says=digest,
                    table_says=held.get(seq, "(no entry)"),
                )


def _check_anchors(conn: Connection, anchors: Iterable[Anchor | str]) -> None:
    for given in anchors:
        anchor = given if isinstance(given, Anchor) else Anchor(given)
        digest = anchor.hash.strip().lower()
        row = conn.execute(
            select(ledger.c.chain, ledger.c.seq).where(ledger.c.hash == digest)
        ).first()
        named = anchor.source or digest
        if row is None:
            raise _fail(
                msg(
                    "the anchored head {hash} ({source}) is no longer in the ledger: the "
                    "record was cut back or rewritten after that head was taken",
                    hash=digest,
                    source=named,
                ),
                chain=anchor.chain,
                seq=anchor.seq,
                ledger_says=digest,
                table_says="(not found)",
            )
        if (anchor.chain is not None and anchor.chain != row.chain) or (
            anchor.seq is not None and anchor.seq != row.seq
        ):
            raise _fail(
                msg(
                    "the anchored head {hash} was chain {chain} entry {seq}, but the ledger "
                    "now has it at chain {now_chain} entry {now_seq}: the record was rewritten",
                    hash=digest,
                    chain=anchor.chain or "?",
                    seq=anchor.seq if anchor.seq is not None else "?",
                    now_chain=row.chain,
                    now_seq=row.seq,
                ),
                chain=anchor.chain,
                seq=anchor.seq,
            )


# --- the chain before revision 0008 --------------------------------------------------------------


def legacy_entry_hash(prev_hash: str, row: Row[Any]) -> str:
    """The hash formula of colift before revision 0008: sha256(prev + record)."""
    record = canonical_json(
        {
            "seq": row.seq,
            "at": utc(row.at).isoformat(timespec="microseconds"),
            "actor": row.actor,
            "action": row.action,
            "subject": row.subject,
            "payload": json.loads(row.payload),
        }
    )
    return hashlib.sha256((prev_hash + record).encode("utf-8")).hexdigest()


def legacy_head(conn: Connection) -> tuple[int, str]:
    """How many entries the pre-0008 chain holds and its head hash."""
    row = conn.execute(
        select(ledger_v1.c.seq, ledger_v1.c.hash).order_by(ledger_v1.c.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if row is None else (int(row.seq), row.hash)


def _verify_legacy(conn: Connection) -> int:
    expected, prev = 1, GENESIS_HASH
    query = select(ledger_v1).order_by(ledger_v1.c.seq).execution_options(yield_per=1000)
    with conn.execute(query) as rows:
        for row in rows:
            problem: Message | None = None
            if row.seq != expected or row.prev_hash != prev:
                problem = msg(
                    "the chain before revision 0008 (ledger_v1) breaks at entry {seq}",
                    seq=expected,
                )
            else:
                try:
                    ok = legacy_entry_hash(prev, row) == row.hash
                except ValueError:
                    ok = False
                if not ok:
                    problem = msg(
                        "the chain before revision 0008 (ledger_v1): entry {seq} does not "
                        "match its hash (it was edited)",
                        seq=row.seq,
                    )
            if problem is not None:
                raise _fail(problem, chain="ledger_v1", seq=expected, table="ledger_v1")
            prev, expected = row.hash, expected + 1
    return expected - 1
