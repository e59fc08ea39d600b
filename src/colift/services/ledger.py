"""Ledger use cases: verify the record against the tables, take and check anchors, export a
unit's evidence file, and erase a person's free text without breaking the chain."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update

from colift.errors import BadInput, NotFound
from colift.store import LedgerReport, UnitOfWork
from colift.store import ledger as chain
from colift.store.ledger import ChainHead, LedgerEntry
from colift.store.ledger_verify import Anchor
from colift.store.tables import objections, occupied_households

EXPORT_FORMAT = "colift-ledger-export/1"
HASH_RULE = (
    "record = canonical JSON (keys sorted, no spaces, UTF-8) of "
    "{chain, seq, at, actor, action, subject, unit, payload}; "
    "digest = sha256(record); hash = sha256(prev_hash + digest), both hex; "
    "the first entry's prev_hash is 64 zeros"
)
_HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
MAX_ERASE_REASON = 200
# The entries whose free text belongs to a household: its objections and its occupied flat.
_TEXT_ACTIONS = ("objection.", "occupied.", "objections.", "occupied_households.")


def verify_ledger(engine: Engine, anchors: list[Anchor] | None = None) -> LedgerReport:
    """Check every chain and every protected table; with anchors, that each is still there."""
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.ledger.verify(anchors=anchors or [])


# --- heads and anchors ---------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadReport:
    """A head to keep outside the database, and the chain heads it covers."""

    head: ChainHead
    covers: tuple[ChainHead, ...]
    rolled_up: bool  # a roll-up entry was written just now

    def to_json(self) -> dict[str, Any]:
        return {
            **self.head.to_json(),
            "covers": [h.to_json() for h in self.covers],
        }


def ledger_head(engine: Engine, *, actor: str, compound_code: str | None = None) -> HeadReport:
    """The head to anchor: a compound's chain head, or the global head after a roll-up of every
    chain that moved (so one hash covers the whole record)."""
    with UnitOfWork(engine) as uow:
        if compound_code is not None:
            compound = uow.compounds.get_by_code(compound_code)
            assert compound.id is not None
            found = uow.ledger.chain_head(chain.compound_chain(compound.id))
            return HeadReport(found, (found,), False)
        rolled = uow.ledger.rollup(actor)
        heads = uow.ledger.heads()
        uow.commit()
    global_head = next(
        (h for h in heads if h.chain == chain.GLOBAL_CHAIN),
        ChainHead(chain.GLOBAL_CHAIN, 0, chain.GENESIS_HASH, None),
    )
    covers = tuple(h for h in heads if h.chain != chain.GLOBAL_CHAIN)
    return HeadReport(global_head, covers, rolled is not None)


def read_anchors(path: Path) -> list[Anchor]:
    """Saved heads: the JSON of `colift ledger head --json` (one object, a list, or one per
    line), or any text holding 64-hex-digit hashes (one per line, `#` starts a comment)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("anchor file not found: {path}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(
            "cannot read the anchor file {path}: {problem}", path=path, problem=exc
        ) from None
    found: list[Anchor] = []
    for number, line in enumerate(_json_values(text), start=1):
        source = f"{path.name}:{number}"
        if isinstance(line, dict) and isinstance(line.get("hash"), str):
            seq = line.get("seq")
            found.append(
                Anchor(
                    line["hash"].lower(),
                    line.get("chain") if isinstance(line.get("chain"), str) else None,
                    seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
                    source,
                )
            )
    if not found:
        for number, raw in enumerate(text.splitlines(), start=1):
            content = raw.partition("#")[0].lower()
            found.extend(Anchor(h, source=f"{path.name}:{number}") for h in _HEX64.findall(content))
    if not found:
        raise BadInput(
            "{path} holds no ledger head: save the output of `colift ledger head --json`, or "
            "one 64-character hash per line",
            path=path,
        )
    return found


def _json_values(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except ValueError:
        values = []
        for line in text.splitlines():
            try:
                values.append(json.loads(line))
            except ValueError:
                continue
        return values
    return value if isinstance(value, list) else [value]


def check_head_text(value: str) -> Anchor:
    """A head given on the command line: the full 64-hex-digit hash."""
    digest = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise BadInput(
            "{value} is not a ledger head: give the full 64-character hash that "
            "`colift ledger head` printed",
            value=value,
        )
    return Anchor(digest, source="--head")


# --- a unit's evidence file ---------------------------------------------------------------------


@dataclass(frozen=True)
class UnitEvidence:
    """A unit's entries with what is needed to check them without colift."""

    data: dict[str, Any]  # the JSON file
    entries: list[LedgerEntry]  # the unit's entries, texts resolved, for the printable copy
    compound_name: str
    unit_label: str
    head: ChainHead


def export_unit(engine: Engine, compound_code: str, unit_id: int) -> UnitEvidence:
    """The unit's ledger entries in full, the digest of every other entry of its compound's
    chain (so the links can be recomputed from the first entry to the head), and the texts the
    entries refer to (salt and text, so their digests can be checked; erased ones say so)."""
    with UnitOfWork(engine, read_only=True) as uow:
        compound = uow.compounds.get_by_code(compound_code)
        assert compound.id is not None
        info = uow.units.info(unit_id)
        if info.compound_id != compound.id:
            raise NotFound("compound {code} has no unit {unit}", code=compound_code, unit=unit_id)
        name = chain.compound_chain(compound.id)
        head = uow.ledger.chain_head(name)
        flats = [h.id for h in uow.households.list_by_unit(unit_id)]
        owners = {h.owner_id for h in uow.households.list_by_unit(unit_id)}
        rounds = [r.id for r in uow.votes.rounds_for_unit(unit_id)]
        related = {f"owner:{o}" for o in owners} | {f"round:{r}" for r in rounds}
        related |= {f"compound:{compound.id}", f"building:{info.building_id}"}
        links: list[str] = []
        mine: list[LedgerEntry] = []
        for entry in uow.ledger.history(chain=name):
            if entry.seq > head.seq:
                break
            links.append(entry.digest)
            if entry.unit_id == unit_id or entry.subject in related:
                mine.append(entry)
        digests = {d for e in mine for d in chain.text_refs(e.payload)}
        texts = chain.kept_texts(uow.connection, digests)
        shown = [replace(e, payload=chain.resolve_texts(uow.connection, e.payload)) for e in mine]
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "compound": {"code": compound_code, "name": compound.name, "id": compound.id},
        "unit": {"id": unit_id, "label": info.label, "flats": flats},
        "chain": name,
        "head": head.to_json(),
        "hash_rule": HASH_RULE,
        "entries": [_entry_json(e) for e in mine],
        "links": links,
        "texts": {
            d: (
                {"erased": True}
                if d not in texts or texts[d].text is None
                else {"salt": texts[d].salt, "text": texts[d].text}
            )
            for d in sorted(digests)
        },
    }
    return UnitEvidence(data, shown, compound.name, info.label, head)


def _entry_json(e: LedgerEntry) -> dict[str, Any]:
    return {
        "chain": e.chain,
        "seq": e.seq,
        "at": chain.utc(e.at).isoformat(timespec="microseconds"),
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "unit": e.unit_id,
        "payload": e.payload,
        "prev_hash": e.prev_hash,
        "hash": e.hash,
    }


# --- erasing a person's free text ----------------------------------------------------------------


@dataclass(frozen=True)
class Erasure:
    """What erasing a household's free text touches (or touched, once applied)."""

    unit_label: str
    room: str
    objections: tuple[int, ...]  # objections whose notes are erased
    occupied: bool  # the occupied-flat note
    entries: tuple[tuple[str, int], ...]  # ledger entries whose kept text goes
    texts: int  # kept texts erased (or to erase)
    applied: bool
    entry: LedgerEntry | None = None  # the erasure's own ledger entry


def erase_household_text(
    engine: Engine,
    unit_id: int,
    room: str,
    *,
    actor: str,
    reason: str,
    apply: bool = False,
) -> Erasure:
    """Erase the free text one household wrote or that was written about it: its objections'
    notes (at raising and at every move) and the occupied-flat note.

    The ledger keeps each text's digest, so verification still passes and names the entries
    whose text was erased; the erasure itself is a new ledger entry (who, why, which digests).
    Votes, reasons codes, dates and who acted stay: they are the record. Without `apply`,
    nothing changes and the result says what would go.
    """
    why = reason.strip()
    if not why:
        raise BadInput("say why the text is erased, e.g. the owner's request of 3 May")
    if len(why) > MAX_ERASE_REASON:
        raise BadInput(
            "the reason is longer than {limit} characters: keep personal data out of it",
            limit=MAX_ERASE_REASON,
        )
    with UnitOfWork(engine) as uow:
        info = uow.units.info(unit_id)
        flat = uow.households.get_by_room(unit_id, room)
        assert flat.id is not None
        name = chain.compound_chain(info.compound_id)
        chain.lock(uow.connection, name)
        raised = [o.id for o in uow.objections.list_by_unit(unit_id) if o.household_id == flat.id]
        subjects = [f"objection:{o}" for o in raised] + [f"household:{flat.id}"]
        # Rows recorded by the upgrade to revision 0008 have baseline entries of their own.
        subjects += [f"objections:{o}" for o in raised] + [f"occupied_households:{flat.id}"]
        touched = [
            e
            for e in uow.ledger.history(chain=name, subjects=subjects)
            if e.action.startswith(_TEXT_ACTIONS)
        ]
        digests = sorted({d for e in touched for d in chain.text_refs(e.payload)})
        live = [d for d, kept in chain.kept_texts(uow.connection, digests).items() if kept.text]
        entries = tuple(
            (e.chain, e.seq) for e in touched if set(chain.text_refs(e.payload)) & set(live)
        )
        occupied = uow.connection.execute(
            select(occupied_households.c.note).where(occupied_households.c.household_id == flat.id)
        ).scalar()
        plan = Erasure(
            info.label,
            flat.room,
            tuple(raised),
            bool(occupied),
            entries,
            len(live),
            applied=False,
        )
        if not apply or (not live and not occupied and not raised):
            return plan
        erased = chain.erase_texts(uow.connection, live, actor=actor)
        if raised:
            uow.connection.execute(
                update(objections).where(objections.c.id.in_(raised)).values(notes="")
            )
        if occupied:
            uow.connection.execute(
                update(occupied_households)
                .where(occupied_households.c.household_id == flat.id)
                .values(note="")
            )
        entry = uow.ledger.append(
            actor,
            "text.erase",
            f"household:{flat.id}",
            {
                "household_id": flat.id,
                "digests": erased,
                "entries": [seq for _, seq in entries],
                "reason": why,
            },
            chain=name,
            unit_id=unit_id,
        )
        uow.commit()
    return Erasure(
        plan.unit_label,
        plan.room,
        plan.objections,
        plan.occupied,
        plan.entries,
        len(erased),
        applied=True,
        entry=entry,
    )
