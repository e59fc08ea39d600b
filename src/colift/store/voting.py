"""Repositories of consent: vote rounds, ballots, objections and occupied flats.

These repositories are the one place that writes the ledger for what they change: opening,
closing and voiding a round, every ballot change, raising an objection and every status change,
and marking a flat occupied. The entry goes to the chain of the compound concerned, on the same
connection and transaction as the change, so the two commit or roll back together.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    and_,
    bindparam,
    cast,
    delete,
    insert,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.sql.elements import BindParameter

from colift.coproduction.objections import check_move
from colift.errors import BadInput, NotFound, RuleViolation
from colift.i18n import Label
from colift.model import ObjectionStatus, OwnerKind, ScopeKind, Tenure, Vote
from colift.store import ledger
from colift.store.repository import (
    check_lengths,
    chunked,
    cm2_to_m2,
    compound_of_unit,
    describe_unit,
    natural_key,
    place_of_household,
    require,
)
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

# What a vote round covers, for a message.
_SCOPE_NAMES = {
    "unit": Label("单元", "unit"),
    "building": Label("楼栋", "building"),
    "compound": Label("小区", "compound"),
}

ROUND_SCOPES = (ScopeKind.UNIT, ScopeKind.BUILDING, ScopeKind.COMPOUND)
ROUND_OPEN, ROUND_CLOSED, ROUND_VOID = "open", "closed", "void"
MAX_REASON_CHARS = 2000
_SCOPE_TABLES = {
    ScopeKind.UNIT: units,
    ScopeKind.BUILDING: buildings,
    ScopeKind.COMPOUND: compounds,
}


@dataclass(frozen=True)
class VoteRound:
    """One vote or signature campaign over a unit, building or compound under one profile."""

    id: int
    scope_kind: ScopeKind
    scope_id: int
    profile: str
    title: str
    opened_on: date
    closed_on: date | None
    compound_id: int | None = None
    status: str = ROUND_OPEN  # open, closed or void
    closed_by: str | None = None
    closed_head: str | None = None  # hash of the ledger entry that closed or voided the round
    tally: dict[str, Any] | None = None  # the final tally, from the close
    void_reason: str = ""
    profile_sha256: str | None = None  # the consent profile's content hash, where recorded

    @property
    def is_open(self) -> bool:
        return self.status == ROUND_OPEN and self.closed_on is None

    @property
    def is_void(self) -> bool:
        return self.status == ROUND_VOID


@dataclass(frozen=True)
class Ballot:
    """The current vote of one flat in one round."""

    round_id: int
    household_id: int
    vote: Vote
    signed_on: date | None
    recorded_by: str


@dataclass(frozen=True)
class Objection:
    """A written objection by one flat, with where it stands (异议处理)."""

    id: int
    household_id: int
    room: str
    reasons: tuple[str, ...]
    status: ObjectionStatus
    raised_on: date
    updated_on: date
    handled_by: str
    notes: str


@dataclass(frozen=True)
class OccupiedHousehold:
    """A flat whose exclusive part the lift plan occupies."""

    household_id: int
    room: str
    note: str


@dataclass(frozen=True)
class ConsentRow:
    """One flat as the consent rules count it; `vote` is ABSENT when no ballot was recorded."""

    household_id: int
    room: str
    floor: int
    area_m2: Decimal
    area_cm2: int  # the same area in the integer unit the tally sums
    owner_id: int
    owner_kind: OwnerKind
    tenure: Tenure
    vote: Vote


@dataclass(frozen=True)
class ConsentInput:
    """Everything the consent engine reads about one scope, fetched in a fixed few queries."""

    scope_kind: ScopeKind
    scope_id: int
    profile: str
    round: VoteRound | None
    rows: tuple[ConsentRow, ...]
    objections: tuple[Objection, ...]
    occupied: tuple[OccupiedHousehold, ...]


def _round(row: Row[Any]) -> VoteRound:
    return VoteRound(
        id=row.id,
        scope_kind=ScopeKind(row.scope_kind),
        scope_id=row.scope_id,
        profile=row.profile,
        title=row.title,
        opened_on=row.opened_on,
        closed_on=row.closed_on,
        compound_id=row.compound_id,
        status=row.status,
        closed_by=row.closed_by,
        closed_head=row.closed_head,
        tally=None if row.tally is None else json.loads(row.tally),
        void_reason=row.void_reason,
        profile_sha256=row.profile_sha256,
    )


def _ballot(row: Row[Any]) -> Ballot:
    return Ballot(
        round_id=row.round_id,
        household_id=row.household_id,
        vote=Vote(row.vote),
        signed_on=row.signed_on,
        recorded_by=row.recorded_by,
    )


def _objection(row: Row[Any]) -> Objection:
    return Objection(
        id=row.id,
        household_id=row.household_id,
        room=row.room,
        reasons=tuple(r for r in row.reasons.split(",") if r),
        status=ObjectionStatus(row.status),
        raised_on=row.raised_on,
        updated_on=row.updated_on,
        handled_by=row.handled_by,
        notes=row.notes,
    )


def households_in_scope(
    scope_kind: ScopeKind, scope_id: int | BindParameter[Any]
) -> ColumnElement[bool]:
    """A filter on `households` keeping the flats of one unit, building or compound."""
    kind = ScopeKind(scope_kind)
    if kind is ScopeKind.UNIT:
        return households.c.unit_id == scope_id
    if kind is ScopeKind.BUILDING:
        return households.c.unit_id.in_(select(units.c.id).where(units.c.building_id == scope_id))
    if kind is ScopeKind.COMPOUND:
        return households.c.unit_id.in_(
            select(units.c.id)
            .join(buildings, buildings.c.id == units.c.building_id)
            .where(buildings.c.compound_id == scope_id)
        )
    raise BadInput(
        "a consent round covers a unit, a building or a compound, not a {kind}", kind=kind
    )


class VotingRepository:
    """Vote rounds and ballots, and the consent input of a unit or round."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # --- rounds ---

    def open_round(
        self,
        scope_kind: ScopeKind,
        scope_id: int,
        *,
        actor: str,
        profile: str | None = None,
        title: str = "",
        opened_on: date | None = None,
        profile_sha256: str | None = None,
    ) -> VoteRound:
        """Open a round; without `profile`, the scope's own consent profile applies.

        `profile_sha256` (the profile's content hash) is stored and written to the ledger where
        the schema has a place for it.
        """
        kind = ScopeKind(scope_kind)
        if kind not in ROUND_SCOPES:
            raise BadInput(
                "a consent round covers a unit, a building or a compound, not a {kind}", kind=kind
            )
        require(self.conn, _SCOPE_TABLES[kind], [scope_id], kind.value)
        compound_id = self._scope_compound(kind, scope_id)
        ledger.lock(self.conn, ledger.compound_chain(compound_id))
        already = self.conn.execute(
            select(vote_rounds.c.id).where(
                vote_rounds.c.scope_kind == kind.value,
                vote_rounds.c.scope_id == scope_id,
                vote_rounds.c.status == ROUND_OPEN,
            )
        ).first()
        if already is not None:
            raise RuleViolation(
                "round {round} is still open for this {scope}: close it first",
                round=already.id,
                scope=_SCOPE_NAMES.get(kind.value, Label(kind.value, kind.value)),
            )
        values: dict[str, Any] = {
            "scope_kind": kind.value,
            "scope_id": scope_id,
            "profile": profile or self._scope_profile(kind, scope_id),
            "title": title,
            "opened_on": opened_on or date.today(),
            "closed_on": None,
            "compound_id": compound_id,
            "status": ROUND_OPEN,
            "profile_sha256": profile_sha256,
        }
        check_lengths(vote_rounds, values)
        new_id = self.conn.execute(
            insert(vote_rounds).values(**values).returning(vote_rounds.c.id)
        ).scalar_one()
        payload: dict[str, Any] = {
            "round_id": new_id,
            "scope_kind": kind.value,
            "scope_id": scope_id,
            "compound_id": compound_id,
            "profile": values["profile"],
            "title": title,
            "opened_on": values["opened_on"],
            "profile_sha256": profile_sha256,
        }
        ledger.append(
            self.conn,
            actor,
            "round.open",
            f"round:{new_id}",
            payload,
            chain=ledger.compound_chain(compound_id),
            unit_id=scope_id if kind is ScopeKind.UNIT else None,
        )
        return self.get_round(new_id)

    def _scope_compound(self, kind: ScopeKind, scope_id: int) -> int:
        if kind is ScopeKind.COMPOUND:
            return scope_id
        if kind is ScopeKind.BUILDING:
            return int(
                self.conn.execute(
                    select(buildings.c.compound_id).where(buildings.c.id == scope_id)
                ).scalar_one()
            )
        return compound_of_unit(self.conn, scope_id)

    def _scope_profile(self, kind: ScopeKind, scope_id: int) -> str:
        if kind is ScopeKind.UNIT:
            query = (
                select(units.c.consent_profile, compounds.c.consent_profile)
                .join_from(units, buildings)
                .join(compounds)
                .where(units.c.id == scope_id)
            )
            own, inherited = self.conn.execute(query).one()
            return str(own or inherited)
        if kind is ScopeKind.BUILDING:
            return str(
                self.conn.execute(
                    select(compounds.c.consent_profile)
                    .join_from(buildings, compounds)
                    .where(buildings.c.id == scope_id)
                ).scalar_one()
            )
        return str(
            self.conn.execute(
                select(compounds.c.consent_profile).where(compounds.c.id == scope_id)
            ).scalar_one()
        )

    def lock_round(self, round_id: int) -> VoteRound:
        """The round, locked with its compound's ledger chain until this transaction ends.

        Whatever is decided after this (a vote, the close, the final tally) sees every vote
        committed before and none that slips in between.
        """
        # One statement reads and locks the round and its chain's head (the common case).
        chain_name = literal("compound:", String) + cast(vote_rounds.c.compound_id, String)
        joined = self.conn.execute(
            select(
                vote_rounds,
                ledger_heads.c.chain.label("head_chain"),
                ledger_heads.c.seq.label("head_seq"),
                ledger_heads.c.hash.label("head_hash"),
                ledger_heads.c.at.label("head_at"),
                ledger_heads.c.seal.label("head_seal"),
            )
            .join(ledger_heads, ledger_heads.c.chain == chain_name)
            .where(vote_rounds.c.id == round_id)
            .with_for_update()
        ).first()
        if joined is not None:
            ledger.remember_head(
                self.conn,
                ledger.ChainHead(
                    joined.head_chain,
                    int(joined.head_seq),
                    joined.head_hash,
                    None if joined.head_at is None else ledger.utc(joined.head_at),
                    joined.head_seal,
                ),
            )
            return _round(joined)
        row = self.conn.execute(
            select(vote_rounds).where(vote_rounds.c.id == round_id).with_for_update()
        ).first()
        if row is None:
            raise NotFound("vote round {round} does not exist", round=round_id)
        current = _round(row)
        ledger.lock(self.conn, self._chain_of(current))
        return current

    def _chain_of(self, current: VoteRound) -> str:
        compound_id = current.compound_id
        if compound_id is None:  # a round from before revision 0008 whose scope is gone
            compound_id = self._scope_compound(current.scope_kind, current.scope_id)
        return ledger.compound_chain(compound_id)

    def _require_open(self, current: VoteRound) -> None:
        if current.is_void:
            raise RuleViolation(
                "vote round {round} ({title}) was voided: it takes no more votes; open a new "
                "round to vote again",
                round=current.id,
                title=current.title or "—",
            )
        if not current.is_open:
            raise RuleViolation(
                "vote round {round} ({title}) closed on {day}: it takes no more votes; open a "
                "new round to vote again",
                round=current.id,
                title=current.title or "—",
                day=current.closed_on,
            )

    def close_round(
        self,
        round_id: int,
        *,
        actor: str,
        closed_on: date | None = None,
        tally: Mapping[str, Any] | None = None,
    ) -> VoteRound:
        """Close an open round with its final tally; the ledger head after it is recorded.

        The caller computes `tally` after `lock_round`, so it counts exactly the votes the
        round closes with.
        """
        current = self.lock_round(round_id)
        if current.is_void:
            raise RuleViolation(
                "vote round {round} was voided: it cannot be closed", round=round_id
            )
        if not current.is_open:
            raise RuleViolation(
                "vote round {round} was already closed on {day}",
                round=round_id,
                day=current.closed_on,
            )
        day = closed_on or date.today()
        if day < current.opened_on:
            raise BadInput(
                "vote round {round} cannot close before it opened ({opened})",
                round=round_id,
                opened=current.opened_on,
            )
        if day > date.today():
            raise BadInput("a round cannot end on a day still to come ({day})", day=day)
        final = json.loads(ledger.canonical_json(dict(tally or {})))
        entry = ledger.append(
            self.conn,
            actor,
            "round.close",
            f"round:{round_id}",
            {"round_id": round_id, "closed_on": day, "tally": final},
            chain=self._chain_of(current),
            unit_id=current.scope_id if current.scope_kind is ScopeKind.UNIT else None,
        )
        values: dict[str, Any] = {
            "closed_on": day,
            "status": ROUND_CLOSED,
            "closed_by": actor,
            "closed_head": entry.hash,
            "tally": ledger.canonical_json(final),
        }
        check_lengths(vote_rounds, values)
        self.conn.execute(update(vote_rounds).where(vote_rounds.c.id == round_id).values(**values))
        return self.get_round(round_id)

    def void_round(
        self, round_id: int, *, actor: str, reason: str, on: date | None = None
    ) -> VoteRound:
        """Void an open round with a reason: its votes count for nothing; a new one may open."""
        why = reason.strip()
        if not why:
            raise BadInput(
                "say why the vote round is voided, e.g. the wrong plan was put to the vote"
            )
        if len(why) > MAX_REASON_CHARS:
            raise BadInput("the reason is longer than {limit} characters", limit=MAX_REASON_CHARS)
        current = self.lock_round(round_id)
        self._require_open(current)
        day = on or date.today()
        if day < current.opened_on:
            raise BadInput(
                "vote round {round} cannot be voided before it opened ({opened})",
                round=round_id,
                opened=current.opened_on,
            )
        if day > date.today():
            raise BadInput("a round cannot end on a day still to come ({day})", day=day)
        entry = ledger.append(
            self.conn,
            actor,
            "round.void",
            f"round:{round_id}",
            {"round_id": round_id, "closed_on": day, "reason": ledger.keep_text(self.conn, why)},
            chain=self._chain_of(current),
            unit_id=current.scope_id if current.scope_kind is ScopeKind.UNIT else None,
        )
        values: dict[str, Any] = {
            "closed_on": day,
            "status": ROUND_VOID,
            "closed_by": actor,
            "closed_head": entry.hash,
            "void_reason": why,
        }
        check_lengths(vote_rounds, values)
        self.conn.execute(update(vote_rounds).where(vote_rounds.c.id == round_id).values(**values))
        return self.get_round(round_id)

    def get_round(self, round_id: int) -> VoteRound:
        row = self.conn.execute(select(vote_rounds).where(vote_rounds.c.id == round_id)).first()
        if row is None:
            raise NotFound("vote round {round} does not exist", round=round_id)
        return _round(row)

    def rounds_for_unit(self, unit_id: int) -> list[VoteRound]:
        """Every round covering the unit (its own, its building's, its compound's), newest first."""
        scope = self.conn.execute(
            select(units.c.building_id, buildings.c.compound_id)
            .join_from(units, buildings)
            .where(units.c.id == unit_id)
        ).first()
        if scope is None:
            raise NotFound("unit {id} does not exist", id=unit_id)
        rows = self.conn.execute(
            select(vote_rounds)
            .where(
                or_(
                    and_(
                        vote_rounds.c.scope_kind == ScopeKind.UNIT.value,
                        vote_rounds.c.scope_id == unit_id,
                    ),
                    and_(
                        vote_rounds.c.scope_kind == ScopeKind.BUILDING.value,
                        vote_rounds.c.scope_id == scope.building_id,
                    ),
                    and_(
                        vote_rounds.c.scope_kind == ScopeKind.COMPOUND.value,
                        vote_rounds.c.scope_id == scope.compound_id,
                    ),
                )
            )
            .order_by(vote_rounds.c.opened_on.desc(), vote_rounds.c.id.desc())
        )
        return [_round(r) for r in rows]

    def current_round(self, unit_id: int) -> VoteRound | None:
        """The most recently opened round still open over the unit, if any."""
        return next((r for r in self.rounds_for_unit(unit_id) if r.is_open), None)

    # --- ballots ---

    def set_ballot(
        self,
        round_id: int,
        household_id: int,
        vote: Vote,
        *,
        actor: str,
        signed_on: date | None = None,
    ) -> Ballot:
        """Record a flat's vote in a round, replacing its earlier one (written to the ledger)."""
        self.set_ballots(round_id, {household_id: vote}, actor=actor, signed_on=signed_on)
        row = self.conn.execute(
            select(ballots).where(
                ballots.c.round_id == round_id, ballots.c.household_id == household_id
            )
        ).one()
        return _ballot(row)

    def set_ballots(
        self,
        round_id: int,
        votes: Mapping[int, Vote],
        *,
        actor: str,
        signed_on: date | None = None,
    ) -> list[Ballot]:
        """Record many flats' votes at once; returns the ballots that changed.

        A vote equal to the stored one (same vote, same signing date) is no change and is not
        written again. Each change is one ledger entry with the previous vote.
        """
        current = self.lock_round(round_id)  # first: the round cannot close meanwhile
        self._require_open(current)
        wanted = {int(h): Vote(v) for h, v in votes.items()}
        if not wanted:
            return []
        unit_of = self._check_in_scope(current, wanted)
        stored: dict[int, Row[Any]] = {}
        for chunk in chunked(wanted):
            stored.update(
                (r.household_id, r)
                for r in self.conn.execute(
                    select(ballots).where(
                        ballots.c.round_id == round_id, ballots.c.household_id.in_(chunk)
                    )
                )
            )
        changed: list[Ballot] = []
        records: list[ledger.LedgerRecord] = []
        for household_id in sorted(wanted):
            vote = wanted[household_id]
            before = stored.get(household_id)
            if before is not None and before.vote == vote.value and before.signed_on == signed_on:
                continue
            ballot = Ballot(round_id, household_id, vote, signed_on, actor)
            changed.append(ballot)
            records.append(
                ledger.LedgerRecord(
                    actor,
                    "ballot.set",
                    f"round:{round_id}/household:{household_id}",
                    {
                        "round_id": round_id,
                        "household_id": household_id,
                        "vote": vote.value,
                        "previous": None if before is None else before.vote,
                        "signed_on": signed_on,
                    },
                    unit_of[household_id],
                )
            )
        rows = [
            {
                "round_id": b.round_id,
                "household_id": b.household_id,
                "vote": b.vote.value,
                "signed_on": b.signed_on,
                "recorded_by": b.recorded_by,
            }
            for b in changed
        ]
        for row in rows:
            check_lengths(ballots, row)
        new_rows = [r for r in rows if r["household_id"] not in stored]
        old_rows = [r for r in rows if r["household_id"] in stored]
        if new_rows:
            self.conn.execute(insert(ballots), new_rows)
        if old_rows:
            self.conn.execute(
                update(ballots)
                .where(
                    ballots.c.round_id == round_id,
                    ballots.c.household_id == _bind("household_id"),
                )
                .values(
                    vote=_bind("vote"),
                    signed_on=_bind("signed_on"),
                    recorded_by=_bind("recorded_by"),
                ),
                [{f"b_{k}": v for k, v in r.items()} for r in old_rows],
            )
        ledger.append_many(self.conn, records, chain=self._chain_of(current))
        return changed

    def _check_in_scope(self, current: VoteRound, wanted: Iterable[int]) -> dict[int, int]:
        """The unit of each wanted flat; BadInput for a flat outside the round's scope."""
        ids = set(wanted)
        inside: dict[int, int] = {}
        in_scope = households_in_scope(current.scope_kind, current.scope_id)
        for chunk in chunked(ids):
            inside.update(
                (r.id, r.unit_id)
                for r in self.conn.execute(
                    select(households.c.id, households.c.unit_id).where(
                        households.c.id.in_(chunk), in_scope
                    )
                )
            )
        outside = ids - inside.keys()
        if outside:
            require(self.conn, households, outside, "household")
            raise BadInput(
                "household {outside} is outside the {value} of round {id}",
                outside=", ".join(map(str, sorted(outside))),
                value=current.scope_kind.value,
                id=current.id,
            )
        return inside

    def list_ballots(self, round_id: int) -> list[Ballot]:
        self.get_round(round_id)
        rows = self.conn.execute(
            select(ballots).where(ballots.c.round_id == round_id).order_by(ballots.c.household_id)
        )
        return [_ballot(r) for r in rows]

    # --- the consent engine's input ---

    def unit_consent_rows(
        self, unit_id: int | None = None, *, round_id: int | None = None
    ) -> ConsentInput:
        """The flats, votes, objections and occupied flats the consent rules need.

        With `unit_id` alone: that unit, with the votes of its current round (all ABSENT if no
        round is open). With `round_id`: the round's whole scope, or only `unit_id` within it.
        """
        if unit_id is None and round_id is None:
            raise BadInput("name a unit or a vote round to count")
        current = None if round_id is None else self.get_round(round_id)
        if unit_id is not None:
            require(self.conn, units, [unit_id], "unit")
            if current is None:
                current = self.current_round(unit_id)
            else:
                self._check_unit_in_round(unit_id, current)
            kind, scope_id = ScopeKind.UNIT, unit_id
        else:
            assert current is not None
            kind, scope_id = current.scope_kind, current.scope_id
        profile = current.profile if current else self._scope_profile(kind, scope_id)
        in_scope = households_in_scope(kind, scope_id)
        vote_column: ColumnElement[Any] = null()
        source = households.join(owners, owners.c.id == households.c.owner_id)
        if current is not None:
            source = source.outerjoin(
                ballots,
                and_(ballots.c.household_id == households.c.id, ballots.c.round_id == current.id),
            )
            vote_column = ballots.c.vote
        rows = [
            ConsentRow(
                household_id=r.id,
                room=r.room,
                floor=r.floor,
                area_m2=cm2_to_m2(r.area_cm2),
                area_cm2=r.area_cm2,
                owner_id=r.owner_id,
                owner_kind=OwnerKind(r.kind),
                tenure=Tenure(r.tenure),
                vote=Vote.ABSENT if r.vote is None else Vote(r.vote),
            )
            for r in self.conn.execute(
                select(
                    households.c.id,
                    households.c.unit_id,
                    households.c.room,
                    households.c.floor,
                    households.c.area_cm2,
                    households.c.owner_id,
                    households.c.tenure,
                    owners.c.kind,
                    vote_column.label("vote"),
                )
                .select_from(source)
                .where(in_scope)
            )
        ]
        rows.sort(key=lambda c: (c.floor, natural_key(c.room)))
        return ConsentInput(
            scope_kind=kind,
            scope_id=scope_id,
            profile=profile,
            round=current,
            rows=tuple(rows),
            objections=tuple(ObjectionRepository(self.conn).list_in_scope(kind, scope_id)),
            occupied=tuple(ObjectionRepository(self.conn).occupied_in_scope(kind, scope_id)),
        )

    def _check_unit_in_round(self, unit_id: int, current: VoteRound) -> None:
        covered = {r.id for r in self.rounds_for_unit(unit_id)}
        if current.id not in covered:
            raise BadInput(
                "{unit} is outside the {value} of round {id}",
                unit=describe_unit(self.conn, unit_id),
                value=current.scope_kind.value,
                id=current.id,
            )


def _bind(name: str) -> BindParameter[Any]:
    # Prefixed: a bind may not share its name with a column of the UPDATE.
    return bindparam(f"b_{name}")


class ObjectionRepository:
    """Objections and occupied flats: the two things that can block a vote that passed."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _select(self) -> Select[Any]:
        return select(objections, households.c.room).join_from(objections, households)

    def add(
        self,
        household_id: int,
        reasons: Sequence[str],
        *,
        actor: str,
        raised_on: date | None = None,
        notes: str = "",
    ) -> Objection:
        """Record a written objection as OPEN (written to the ledger, the notes as kept text)."""
        place = place_of_household(self.conn, household_id)
        codes = [r.strip() for r in reasons if r.strip()]
        if not codes:
            raise BadInput("an objection needs at least one reason, e.g. light or noise")
        if any("," in c for c in codes):
            raise BadInput("objection reasons are codes without commas, e.g. light, noise")
        day = raised_on or date.today()
        values = {
            "household_id": household_id,
            "reasons": ",".join(codes),
            "status": ObjectionStatus.OPEN.value,
            "raised_on": day,
            "updated_on": day,
            "handled_by": actor,
            "notes": notes,
        }
        check_lengths(objections, values)
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        new_id = self.conn.execute(
            insert(objections).values(**values).returning(objections.c.id)
        ).scalar_one()
        ledger.append(
            self.conn,
            actor,
            "objection.raise",
            f"objection:{new_id}",
            {
                "objection_id": new_id,
                "household_id": household_id,
                "reasons": codes,
                "raised_on": day,
                "notes": ledger.keep_text(self.conn, notes),
            },
            chain=chain,
            unit_id=place.unit_id,
        )
        return self.get(new_id)

    def get(self, objection_id: int) -> Objection:
        row = self.conn.execute(self._select().where(objections.c.id == objection_id)).first()
        if row is None:
            raise NotFound("objection {id} does not exist", id=objection_id)
        return _objection(row)

    def set_status(
        self,
        objection_id: int,
        status: ObjectionStatus,
        *,
        actor: str,
        on: date | None = None,
        notes: str | None = None,
    ) -> Objection:
        """Move an objection to `status` (written to the ledger with the status it left).

        Only the moves of the objection lifecycle are allowed (`coproduction.objections`).
        """
        place = place_of_household(self.conn, self.get(objection_id).household_id)
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        before = self.get(objection_id)  # read again under the lock
        new_status = ObjectionStatus(status)
        try:
            check_move(before.status, new_status)
        except RuleViolation as exc:
            raise RuleViolation(
                "objection {objection_id} ({room}): {message}",
                objection_id=objection_id,
                room=before.room,
                message=exc.message,
            ) from None
        day = on or date.today()
        if day < before.raised_on:
            raise BadInput(
                "objection {objection_id} cannot change before it was raised",
                objection_id=objection_id,
            )
        values: dict[str, Any] = {
            "status": new_status.value,
            "updated_on": day,
            "handled_by": actor,
        }
        if notes is not None:
            values["notes"] = notes
        check_lengths(objections, values)
        self.conn.execute(
            update(objections).where(objections.c.id == objection_id).values(**values)
        )
        payload: dict[str, Any] = {
            "objection_id": objection_id,
            "from": before.status.value,
            "to": new_status.value,
            "on": day,
        }
        if notes is not None:
            payload["notes"] = ledger.keep_text(self.conn, notes)
        ledger.append(
            self.conn,
            actor,
            "objection.status",
            f"objection:{objection_id}",
            payload,
            chain=chain,
            unit_id=place.unit_id,
        )
        return self.get(objection_id)

    def list_by_unit(self, unit_id: int) -> list[Objection]:
        return self.list_in_scope(ScopeKind.UNIT, unit_id)

    def list_in_scope(self, scope_kind: ScopeKind, scope_id: int) -> list[Objection]:
        rows = self.conn.execute(
            self._select()
            .where(households_in_scope(scope_kind, scope_id))
            .order_by(objections.c.id)
        )
        return [_objection(r) for r in rows]

    def mark_occupied(self, household_id: int, *, actor: str, note: str = "") -> OccupiedHousehold:
        """Record that the plan occupies this flat's exclusive part (written to the ledger)."""
        place = place_of_household(self.conn, household_id)
        check_lengths(occupied_households, {"note": note})
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        exists = self.conn.execute(
            select(occupied_households.c.note).where(
                occupied_households.c.household_id == household_id
            )
        ).first()
        if exists is None:
            self.conn.execute(
                insert(occupied_households).values(household_id=household_id, note=note)
            )
        elif exists.note != note:
            self.conn.execute(
                update(occupied_households)
                .where(occupied_households.c.household_id == household_id)
                .values(note=note)
            )
        if exists is None or exists.note != note:
            ledger.append(
                self.conn,
                actor,
                "occupied.mark",
                f"household:{household_id}",
                {"household_id": household_id, "note": ledger.keep_text(self.conn, note)},
                chain=chain,
                unit_id=place.unit_id,
            )
        return OccupiedHousehold(household_id, place.room, note)

    def unmark_occupied(self, household_id: int, *, actor: str) -> None:
        place = place_of_household(self.conn, household_id)
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        removed = self.conn.execute(
            delete(occupied_households).where(occupied_households.c.household_id == household_id)
        ).rowcount
        if not removed:
            raise NotFound(
                "household {household_id} is not marked as occupied", household_id=household_id
            )
        ledger.append(
            self.conn,
            actor,
            "occupied.unmark",
            f"household:{household_id}",
            {"household_id": household_id},
            chain=chain,
            unit_id=place.unit_id,
        )

    def occupied_in_unit(self, unit_id: int) -> list[OccupiedHousehold]:
        return self.occupied_in_scope(ScopeKind.UNIT, unit_id)

    def occupied_in_scope(self, scope_kind: ScopeKind, scope_id: int) -> list[OccupiedHousehold]:
        rows = self.conn.execute(
            select(occupied_households, households.c.room)
            .join_from(occupied_households, households)
            .where(households_in_scope(scope_kind, scope_id))
        )
        found = [OccupiedHousehold(r.household_id, r.room, r.note) for r in rows]
        return sorted(found, key=lambda o: natural_key(o.room))
