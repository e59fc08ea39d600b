"""The short vote path: a vote in seven statements on the caller's one connection.

1. the unit's newest open round, locked together with its compound's ledger head (and the
   unit's labels and rule), in one `SELECT … FOR UPDATE OF vote_rounds, ledger_heads`;
2. the flats of the round's scope with owner kind and current ballot;
3. the unit's objections (status only: never their texts) and occupied flats, in one UNION;
4. the changed ballots, in one upsert;
5. and 6. the ledger entries and their chain's head (`ledger.append_many`, no further read);
7. the unit's summary line (`summary.write_consent`), by the service.

Anything unusual (no open round, a round from before revision 0008 without its compound, a
room that is not in the unit) returns None from `vote_context`, and the service takes the
long path, which raises the precise error.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    CompoundSelect,
    Connection,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite

from colift.model import ObjectionStatus, OwnerKind, ScopeKind, Tenure, Vote
from colift.store import ledger
from colift.store.repository import UnitInfo, check_lengths, cm2_to_m2, natural_key
from colift.store.tables import (
    ballots,
    buildings,
    compounds,
    households,
    ledger_heads,
    objections,
    occupied_households,
    owners,
    units,
    vote_rounds,
)
from colift.store.voting import (
    ROUND_OPEN,
    ConsentRow,
    Objection,
    OccupiedHousehold,
    VoteRound,
    _round,
    households_in_scope,
)


@dataclass(frozen=True)
class VoteContext:
    """What the vote path read, under the round's and the chain's lock."""

    round: VoteRound
    info: UnitInfo
    rows: tuple[ConsentRow, ...]  # the round's whole scope
    unit_of: Mapping[int, int]  # household -> unit, for the scope
    stored: Mapping[int, tuple[str, date | None]]  # household -> (vote, signed_on) stored
    objections: tuple[Objection, ...]  # of the unit, without texts
    occupied: tuple[OccupiedHousehold, ...]  # of the unit


@functools.cache
def _context_query(dialect: str) -> Select[Any]:
    """Statement 1, built once per dialect (building and hashing a statement of this size
    costs about as much as running it); the unit is the bound parameter `unit_id`."""
    r = vote_rounds.c
    chain_name = literal("compound:", String) + cast(r.compound_id, String)
    covers = or_(
        and_(r.scope_kind == ScopeKind.UNIT.value, r.scope_id == units.c.id),
        and_(r.scope_kind == ScopeKind.BUILDING.value, r.scope_id == units.c.building_id),
        and_(r.scope_kind == ScopeKind.COMPOUND.value, r.scope_id == buildings.c.compound_id),
    )
    query = (
        select(
            vote_rounds,
            ledger_heads.c.chain.label("head_chain"),
            ledger_heads.c.seq.label("head_seq"),
            ledger_heads.c.hash.label("head_hash"),
            ledger_heads.c.at.label("head_at"),
            ledger_heads.c.seal.label("head_seal"),
            units.c.building_id.label("u_building_id"),
            buildings.c.compound_id.label("u_compound_id"),
            buildings.c.number.label("u_building_number"),
            units.c.number.label("u_number"),
            units.c.consent_profile.label("u_profile"),
            compounds.c.consent_profile.label("c_profile"),
        )
        .select_from(units)
        .join(buildings, buildings.c.id == units.c.building_id)
        .join(compounds, compounds.c.id == buildings.c.compound_id)
        .join(vote_rounds, and_(covers, r.status == ROUND_OPEN, r.closed_on.is_(None)))
        .join(ledger_heads, ledger_heads.c.chain == chain_name)
        .where(units.c.id == bindparam("unit_id"))
        .order_by(r.opened_on.desc(), r.id.desc())
        .limit(1)
    )
    if dialect == "postgresql":
        query = query.with_for_update(of=[vote_rounds, ledger_heads])
    return query


@functools.cache
def _scope_query(scope_kind: ScopeKind) -> Select[Any]:
    """Statement 2 for rounds of one scope kind: bound `round_id` and `scope_id`."""
    return (
        select(
            households.c.id,
            households.c.unit_id,
            households.c.room,
            households.c.floor,
            households.c.area_cm2,
            households.c.owner_id,
            households.c.tenure,
            owners.c.kind,
            ballots.c.vote,
            ballots.c.signed_on,
        )
        .select_from(
            households.join(owners, owners.c.id == households.c.owner_id).outerjoin(
                ballots,
                and_(
                    ballots.c.household_id == households.c.id,
                    ballots.c.round_id == bindparam("round_id"),
                ),
            )
        )
        .where(households_in_scope(scope_kind, bindparam("scope_id")))
    )


@functools.cache
def _marks_query() -> CompoundSelect[Any]:
    """Statement 3: the unit's objections (status only) and occupied flats, bound `unit_id`."""
    in_unit = households.c.unit_id == bindparam("unit_id")
    return union_all(
        select(
            objections.c.household_id,
            objections.c.id,
            objections.c.status,
            objections.c.raised_on,
            objections.c.updated_on,
        )
        .join_from(objections, households, households.c.id == objections.c.household_id)
        .where(in_unit),
        select(
            occupied_households.c.household_id,
            cast(null(), Integer),
            literal("occupied", String),
            null(),
            null(),
        )
        .join_from(
            occupied_households, households, households.c.id == occupied_households.c.household_id
        )
        .where(in_unit),
    )


@functools.cache
def _ballot_upsert(dialect: str) -> Any:
    """Statement 4, one per dialect."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(ballots)
    return stmt.on_conflict_do_update(
        index_elements=["round_id", "household_id"],
        set_={
            "vote": stmt.excluded.vote,
            "signed_on": stmt.excluded.signed_on,
            "recorded_by": stmt.excluded.recorded_by,
        },
    )


def vote_context(conn: Connection, unit_id: int) -> VoteContext | None:
    """Read and lock what a vote in `unit_id`'s open round needs (statements 1 to 3)."""
    found = conn.execute(_context_query(conn.dialect.name), {"unit_id": unit_id}).first()
    if found is None:
        return None
    ledger.remember_head(
        conn,
        ledger.ChainHead(
            found.head_chain,
            int(found.head_seq),
            found.head_hash,
            None if found.head_at is None else ledger.utc(found.head_at),
            found.head_seal,
        ),
    )
    current = _round(found)
    rows: list[ConsentRow] = []
    unit_of: dict[int, int] = {}
    stored: dict[int, tuple[str, date | None]] = {}
    for h in conn.execute(
        _scope_query(ScopeKind(current.scope_kind)),
        {"round_id": current.id, "scope_id": current.scope_id},
    ):
        unit_of[h.id] = h.unit_id
        if h.vote is not None:
            stored[h.id] = (h.vote, h.signed_on)
        rows.append(
            ConsentRow(
                household_id=h.id,
                room=h.room,
                floor=h.floor,
                area_m2=cm2_to_m2(h.area_cm2),
                area_cm2=h.area_cm2,
                owner_id=h.owner_id,
                owner_kind=OwnerKind(h.kind),
                tenure=Tenure(h.tenure),
                vote=Vote.ABSENT if h.vote is None else Vote(h.vote),
            )
        )
    rows.sort(key=lambda c: (c.floor, natural_key(c.room)))
    room_of = {row.household_id: row.room for row in rows}
    found_objections: list[Objection] = []
    occupied: list[OccupiedHousehold] = []
    for m in conn.execute(_marks_query(), {"unit_id": unit_id}):
        room = room_of.get(m[0], "")
        if m[1] is None:
            occupied.append(OccupiedHousehold(m[0], room, ""))
        else:
            found_objections.append(
                Objection(m[1], m[0], room, (), ObjectionStatus(m[2]), m[3], m[4], "", "")
            )
    own = [row for row in rows if unit_of[row.household_id] == unit_id]
    info = UnitInfo(
        id=unit_id,
        building_id=found.u_building_id,
        compound_id=found.u_compound_id,
        building_number=found.u_building_number,
        number=found.u_number,
        consent_profile=found.u_profile,
        effective_profile=found.u_profile or found.c_profile,
        households=len(own),
    )
    return VoteContext(
        current,
        info,
        tuple(rows),
        unit_of,
        stored,
        tuple(sorted(found_objections, key=lambda o: o.id)),
        tuple(occupied),
    )


def record_votes(
    conn: Connection,
    context: VoteContext,
    wanted: Mapping[int, Vote],
    *,
    actor: str,
    signed_on: date | None,
) -> list[int]:
    """Write the ballots that change and their ledger entries (statements 4 to 6).

    Returns the households whose ballot changed; the same vote on the same day is no change.
    """
    current = context.round
    changed: list[dict[str, Any]] = []
    records: list[ledger.LedgerRecord] = []
    for household_id in sorted(wanted):
        vote = wanted[household_id]
        before = context.stored.get(household_id)
        if before is not None and before == (vote.value, signed_on):
            continue
        changed.append(
            {
                "round_id": current.id,
                "household_id": household_id,
                "vote": vote.value,
                "signed_on": signed_on,
                "recorded_by": actor,
            }
        )
        records.append(
            ledger.LedgerRecord(
                actor,
                "ballot.set",
                f"round:{current.id}/household:{household_id}",
                {
                    "round_id": current.id,
                    "household_id": household_id,
                    "vote": vote.value,
                    "previous": None if before is None else before[0],
                    "signed_on": signed_on,
                },
                context.unit_of[household_id],
            )
        )
    if not changed:
        return []
    for row in changed:
        check_lengths(ballots, row)
    conn.execute(_ballot_upsert(conn.dialect.name), changed)
    assert current.compound_id is not None
    ledger.append_many(conn, records, chain=ledger.compound_chain(current.compound_id))
    return [c["household_id"] for c in changed]
