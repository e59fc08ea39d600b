"""Set-based consent tally: every stairwell unit of a city counted in one SQL statement.

`tally_units` gives, for each unit, the counts `consent.count_votes` gives on the unit's flats
and the answer of `consent.verdict` (or `consent.decide` with `explain=True`), without loading
a single flat into Python. The same SQLAlchemy Core statement runs on SQLite and PostgreSQL.

What is counted, per unit:

* the votes of the unit's current round: the latest unit-scoped `vote_rounds` row (highest
  id), open or closed. A flat without a ballot in it is absent; so is every flat of a unit
  that has no round yet;
* heads as SPC arts. 8-9 count them: one flat is one owner, except that one buyer of several
  flats of the unit is one owner and all developer-held flats (unsold or undelivered) of the
  unit together are one owner. The store marks, when flats are added, the one flat of each
  owner (and of the developer) that carries the head (`households.owner_head`). Services
  record one vote per owner for all their flats, so that flat's ballot is the owner's vote;
  should stored ballots ever disagree, the head-carrying flat's ballot counts (`count_votes`
  refuses such input instead);
* the rule: the unit's consent profile, else its compound's;
* unresolved objections and occupied flats not agreeing, named by room, as `count_votes`
  sorts them. Two small queries fetch them for the units that have any.

The counting statement never groups flats by owner: it makes one pass over the flats with
their current ballots, summing areas over all flats and heads over head-carrying flats. Areas
stay integer cm² from the column to
`ConsentCounts`, and `consent.meets` compares shares by integer cross-multiplication, so every
verdict is exact.

On PostgreSQL the counts and the two small queries are separate statements: run the tally in a
REPEATABLE READ transaction when ballots may change meanwhile and the three must agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Join,
    Row,
    Select,
    Subquery,
    and_,
    cast,
    func,
    select,
)

from colift.model import ObjectionStatus, ScopeKind, Tenure, Vote
from colift.rules.consent import (
    ConsentCounts,
    ConsentProfile,
    ConsentResult,
    Objection,
    Scope,
    decide,
    load_profile,
    verdict,
)
from colift.store.repository import chunked, require
from colift.store.tables import (
    ballots,
    buildings,
    compounds,
    households,
    objections,
    occupied_households,
    units,
    vote_rounds,
)

DEVELOPER_TENURES = tuple(t.value for t in Tenure if t.developer_held)
SETTLED_STATUSES = tuple(s.value for s in ObjectionStatus if not s.unresolved)
# Unit ids per statement: the counting statement repeats the list several times, and SQLite allows
# 32,766 bound parameters per statement.
UNITS_PER_STATEMENT = 1_000


@dataclass(frozen=True, slots=True)
class UnitTally:
    """One unit's counts and verdict; `result` holds every check when the tally explains."""

    unit_id: int
    profile: str
    round_id: int | None
    counts: ConsentCounts
    passed: bool
    result: ConsentResult | None = None


@dataclass(frozen=True)
class TallyScope:
    """Which units to count: all, one compound's, or the ids listed."""

    compound_id: int | None = None
    unit_ids: tuple[int, ...] | None = None

    def on(self, unit_id: ColumnElement[Any]) -> ColumnElement[bool] | None:
        """A filter keeping rows whose `unit_id` is in scope; None for the whole city."""
        if self.unit_ids is not None:
            return unit_id.in_(self.unit_ids)
        if self.compound_id is not None:
            return unit_id.in_(
                select(units.c.id)
                .join(buildings, buildings.c.id == units.c.building_id)
                .where(buildings.c.compound_id == self.compound_id)
            )
        return None

    def limit(self, query: Select[Any], unit_id: ColumnElement[Any]) -> Select[Any]:
        condition = self.on(unit_id)
        return query if condition is None else query.where(condition)


CITY = TallyScope()


# ---------------------------------------------------------------- the statements


def current_rounds(scope: TallyScope = CITY) -> Subquery:
    """(unit_id, round_id) of each unit's current round: its latest unit-scoped round."""
    query = (
        select(
            vote_rounds.c.scope_id.label("unit_id"),
            func.max(vote_rounds.c.id).label("round_id"),
        )
        .where(vote_rounds.c.scope_kind == ScopeKind.UNIT.value)
        .group_by(vote_rounds.c.scope_id)
    )
    return scope.limit(query, vote_rounds.c.scope_id).subquery("cur")


def _with_votes(flats: FromClause, scope: TallyScope) -> Join:
    """Flats with their ballot in their unit's current round (no ballot row: absent)."""
    cur = current_rounds(scope)
    return flats.outerjoin(cur, cur.c.unit_id == households.c.unit_id).outerjoin(
        ballots,
        and_(ballots.c.round_id == cur.c.round_id, ballots.c.household_id == households.c.id),
    )


def tally_statement(scope: TallyScope = CITY) -> Select[Any]:
    """One row per unit in scope: unit id, profile, round id, three areas and three heads.

    One pass over the flats with their current ballots: areas are summed over every flat,
    heads over the flats that carry their owner's head (`households.owner_head`).
    """
    part = ballots.c.vote != Vote.ABSENT.value  # NULL, no ballot, is not taking part either
    agree = ballots.c.vote == Vote.AGREE.value
    area = households.c.area_cm2
    head = households.c.owner_head
    flats = scope.limit(
        select(
            households.c.unit_id,
            func.sum(area).label("area"),
            func.sum(area).filter(part).label("part_area"),
            func.sum(area).filter(agree).label("agree_area"),
            func.sum(head).label("heads"),
            func.sum(head).filter(part).label("part_heads"),
            func.sum(head).filter(agree).label("agree_heads"),
        )
        .select_from(_with_votes(households, scope))
        .group_by(households.c.unit_id),
        households.c.unit_id,
    ).subquery("flats")
    f = flats.c

    def whole(column: ColumnElement[Any], kind: Any) -> ColumnElement[Any]:
        # PostgreSQL sums integers as numeric: the cast brings back an exact int.
        return cast(func.coalesce(column, 0), kind)

    cur = current_rounds(scope)
    query = select(
        units.c.id.label("unit_id"),
        func.coalesce(units.c.consent_profile, compounds.c.consent_profile).label("profile"),
        cur.c.round_id,
        whole(f.area, BigInteger).label("total_area"),
        whole(f.part_area, BigInteger).label("part_area"),
        whole(f.agree_area, BigInteger).label("agree_area"),
        whole(f.heads, Integer).label("heads"),
        whole(f.part_heads, Integer).label("part_heads"),
        whole(f.agree_heads, Integer).label("agree_heads"),
    ).select_from(
        units.join(buildings, buildings.c.id == units.c.building_id)
        .join(compounds, compounds.c.id == buildings.c.compound_id)
        .outerjoin(cur, cur.c.unit_id == units.c.id)
        .outerjoin(flats, f.unit_id == units.c.id)
    )
    return scope.limit(query, units.c.id)


def objections_statement(scope: TallyScope = CITY) -> Select[Any]:
    """(unit_id, room, status) of every unresolved objection, by unit, room, then as raised."""
    query = (
        select(households.c.unit_id, households.c.room, objections.c.status)
        .join_from(objections, households, households.c.id == objections.c.household_id)
        .where(objections.c.status.not_in(SETTLED_STATUSES))
        .order_by(households.c.unit_id, households.c.room, objections.c.id)
    )
    return scope.limit(query, households.c.unit_id)


def occupied_statement(scope: TallyScope = CITY) -> Select[Any]:
    """(unit_id, room) of occupied flats without an agreeing ballot in the current round."""
    latest = vote_rounds.alias("latest")
    current = (
        select(func.max(latest.c.id))
        .where(
            latest.c.scope_kind == ScopeKind.UNIT.value,
            latest.c.scope_id == households.c.unit_id,
        )
        .correlate(households)
        .scalar_subquery()
    )
    vote = (
        select(ballots.c.vote)
        .where(ballots.c.household_id == households.c.id, ballots.c.round_id == current)
        .correlate(households)
        .scalar_subquery()
    )
    query = (
        select(households.c.unit_id, households.c.room)
        .join_from(
            occupied_households, households, households.c.id == occupied_households.c.household_id
        )
        # A scalar lookup per flat: there are few, and the planner cannot turn it into a scan.
        .where(func.coalesce(vote, Vote.ABSENT.value) != Vote.AGREE.value)
        .order_by(households.c.unit_id, households.c.room)
    )
    return scope.limit(query, households.c.unit_id)


# ---------------------------------------------------------------- the tally


def tally_units(
    conn: Connection,
    *,
    compound_id: int | None = None,
    unit_ids: Iterable[int] | None = None,
    explain: bool = False,
) -> Iterator[UnitTally]:
    """Tally every unit, one compound's units, or the units listed, in unit id order.

    Without `explain` only `consent.verdict` runs, which is what a city-wide count needs; with
    it each tally carries `consent.decide`'s result. A unit without flats is tallied with zero
    counts and does not pass. An unknown compound or unit raises NotFound before any tally.
    """
    if compound_id is not None and unit_ids is not None:
        raise ValueError("tally a compound or a list of units, not both")
    if unit_ids is None:
        if compound_id is not None:
            require(conn, compounds, [compound_id], "compound")
        yield from _tally(conn, TallyScope(compound_id=compound_id), explain)
        return
    wanted = sorted(set(unit_ids))
    require(conn, units, wanted, "unit")
    for chunk in chunked(wanted, UNITS_PER_STATEMENT):
        yield from _tally(conn, TallyScope(unit_ids=tuple(chunk)), explain)


def _tally(conn: Connection, scope: TallyScope, explain: bool) -> Iterator[UnitTally]:
    live: dict[int, list[Objection]] = defaultdict(list)
    for unit_id, room, status in conn.execute(objections_statement(scope)).all():
        live[unit_id].append(Objection(room, ObjectionStatus(status)))
    not_agreeing: dict[int, list[str]] = defaultdict(list)
    for unit_id, room in conn.execute(occupied_statement(scope)).all():
        not_agreeing[unit_id].append(room)
    # fetchall: row-by-row fetching costs psycopg more than the rest of the loop.
    rows = sorted(conn.execute(tally_statement(scope)).all(), key=_unit_id)
    profiles: dict[str, ConsentProfile] = {}
    for unit_id, name, round_id, area, part_area, agree_area, heads, part, agree in rows:
        counts = ConsentCounts(
            area,
            part_area,
            agree_area,
            heads,
            part,
            agree,
            # In `count_votes` order: by room as text, then as raised (the sort is stable).
            tuple(sorted(live[unit_id], key=_room)) if unit_id in live else (),
            tuple(sorted(not_agreeing[unit_id])) if unit_id in not_agreeing else (),
        )
        profile = profiles.get(name)
        if profile is None:
            profile = profiles[name] = load_profile(name)
        if explain:
            result = decide(profile, counts, Scope.UNIT)
            yield UnitTally(unit_id, name, round_id, counts, result.passed, result)
        else:
            yield UnitTally(unit_id, name, round_id, counts, verdict(profile, counts))


def _unit_id(row: Row[Any]) -> int:
    return int(row[0])


def _room(objection: Objection) -> str:
    return objection.household
