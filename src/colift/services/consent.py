"""Consent use cases: open, close or void a vote round, record a vote, see where a unit stands."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Engine

from colift.errors import BadInput, NotFound, RuleViolation
from colift.i18n import Label, msg
from colift.model import ObjectionStatus, ScopeKind, Vote, parse_objection_reason
from colift.rules.consent import (
    ConsentProfile,
    ConsentResult,
    Flat,
    Objection,
    evaluate,
    resolve_profile,
)
from colift.store import ConsentInput, UnitInfo, UnitOfWork, VoteRound, vote_path
from colift.store.ledger import ChainHead, compound_chain
from colift.store.summary import write_consent
from colift.store.voting import ConsentRow
from colift.store.voting import Objection as ObjectionRecord


@dataclass(frozen=True)
class UnitConsent:
    """A unit's consent as the unit page and reports show it."""

    unit: UnitInfo
    input: ConsentInput
    result: ConsentResult


def profile_for(data: ConsentInput, today: date | None = None) -> tuple[ConsentProfile, date]:
    """The rule a count uses and the day it counts for: the round's pinned rule on the day it
    opened, else the scope's rule as it stands `today`."""
    day = data.round.opened_on if data.round is not None else (today or date.today())
    return resolve_profile(data.profile, day).profile, day


def consent_from_input(data: ConsentInput, today: date | None = None) -> ConsentResult:
    """Apply the round's (or the scope's) profile to what the store holds: the one tally.

    A round pins its rule's id and the hash of its file; when the file has changed since, the
    count says so (and uses the rule as it is now). A building or compound round names its
    flats by household id, as room numbers repeat from one stairwell to the next."""
    one_unit = data.scope_kind is ScopeKind.UNIT

    def key(room: str, household_id: int) -> str:
        return room if one_unit else f"household:{household_id}"

    flats = [
        Flat(
            id=key(row.room, row.household_id),
            area_cm2=row.area_cm2,
            owner=f"owner:{row.owner_id}",
            vote=row.vote,
            developer_held=row.tenure.developer_held,
            floor=row.floor,
        )
        for row in data.rows
    ]
    objections = [Objection(key(o.room, o.household_id), o.status) for o in data.objections]
    occupied = [key(o.room, o.household_id) for o in data.occupied]
    profile, day = profile_for(data, today)
    result = evaluate(profile, flats, objections, occupied, on=day)
    pinned = data.round.profile_sha256 if data.round is not None else None
    if data.round is not None and pinned and pinned != profile.sha256:
        changed = msg(
            "the rule {rule} has changed since round {round} opened on {opened} (its file's "
            "SHA-256 was {was}, it is now {now}): this count uses the rule as it is now",
            rule=Label(profile.name_zh, profile.name_en),
            round=data.round.id,
            opened=data.round.opened_on.isoformat(),
            was=pinned[:12],
            now=profile.sha256[:12],
        )
        result = replace(result, warnings=(*result.warnings, changed))
    return result


def _latest_round(uow: UnitOfWork, unit_id: int) -> VoteRound | None:
    """The round that speaks for the unit now: the newest open one, else the newest closed one.

    A voided round speaks for nothing: its votes count for no decision.
    """
    rounds = [r for r in uow.votes.rounds_for_unit(unit_id) if not r.is_void]
    return next((r for r in rounds if r.is_open), rounds[0] if rounds else None)


def unit_consent(engine: Engine, unit_id: int) -> UnitConsent:
    with UnitOfWork(engine, read_only=True) as uow:
        return unit_consent_in(uow, unit_id)


def unit_consent_in(uow: UnitOfWork, unit_id: int) -> UnitConsent:
    """`unit_consent` inside a caller's unit of work."""
    info = uow.units.info(unit_id)
    latest = _latest_round(uow, unit_id)
    if latest is None:
        data = uow.votes.unit_consent_rows(unit_id)
    else:
        data = uow.votes.unit_consent_rows(unit_id, round_id=latest.id)
    return UnitConsent(info, data, consent_from_input(data))


def find_unit(engine: Engine, compound_code: str, building: str, unit: str) -> UnitInfo:
    with UnitOfWork(engine, read_only=True) as uow:
        compound = uow.compounds.get_by_code(compound_code)
        assert compound.id is not None
        return uow.units.find(compound.id, building, unit)


def open_vote_round(
    engine: Engine,
    unit_id: int,
    *,
    actor: str,
    title: str = "",
    profile: str | None = None,
    opened_on: date | None = None,
) -> VoteRound:
    """Start a vote or signature campaign for one unit under its (or the given) consent rule.

    A rule's name resolves to the version in force on the opening day; the round keeps that
    version's id and the hash of its file, so a later change of the file is seen at recount."""
    with UnitOfWork(engine) as uow:
        opened = open_round_in(
            uow, unit_id, actor=actor, title=title, profile=profile, opened_on=opened_on
        )
        uow.commit()
        return opened


def open_round_in(
    uow: UnitOfWork,
    unit_id: int,
    *,
    actor: str,
    title: str = "",
    profile: str | None = None,
    opened_on: date | None = None,
) -> VoteRound:
    """`open_vote_round` inside a caller's unit of work (the caller commits)."""
    day = opened_on or date.today()
    name = profile if profile is not None else uow.units.info(unit_id).effective_profile
    rule = resolve_profile(name, day).profile
    return uow.votes.open_round(
        ScopeKind.UNIT,
        unit_id,
        actor=actor,
        profile=rule.id,
        title=title,
        opened_on=day,
        profile_sha256=rule.sha256,
    )


def cast_vote(
    engine: Engine,
    unit_id: int,
    room: str,
    vote: Vote,
    *,
    actor: str,
    signed_on: date | None = None,
) -> UnitConsent:
    """Record an owner's vote in the unit's open round, for every flat they own there.

    One owner casts one vote (SPC art. 9): the vote given for 501 is also the vote of 502 when
    one buyer owns both. Returns the unit's consent after the vote.
    """
    with UnitOfWork(engine) as uow:
        context = vote_path.vote_context(uow.connection, unit_id)
        if context is not None:
            flat = next(
                (
                    r
                    for r in context.rows
                    if r.room == room and context.unit_of[r.household_id] == unit_id
                ),
                None,
            )
            if flat is not None:
                result = _short_vote(uow, context, flat, vote, actor=actor, signed_on=signed_on)
                uow.commit()
                return result
        uow.rollback()  # the long path below reads again and raises the precise error
        return _long_vote(uow, unit_id, room, vote, actor=actor, signed_on=signed_on)


def consent_figures(
    result: ConsentResult, round_id: int | None, open_objections: int
) -> dict[str, Any]:
    """The consent columns of a line from a count (shared by the recount and the vote path)."""
    margin = result.margin() or {}
    return {
        "round_id": round_id,
        "passed": bool(result.passed),
        "agree_heads": int(result.counts.agree_heads),
        "total_heads": int(result.counts.total_heads),
        "heads_short": int(margin.get("heads") or 0),
        "area_short": str(margin.get("area_m2") or "0.00"),
        "open_objections": int(open_objections),
    }


def _same_owner(rows: tuple[ConsentRow, ...], flat: ConsentRow) -> list[int]:
    """The flats the owner of `flat` votes for: all flats of one buyer, or all developer stock."""
    developer = flat.tenure.developer_held
    return [
        r.household_id
        for r in rows
        if (r.tenure.developer_held if developer else r.owner_id == flat.owner_id)
    ]


def _short_vote(
    uow: UnitOfWork,
    context: vote_path.VoteContext,
    flat: ConsentRow,
    vote: Vote,
    *,
    actor: str,
    signed_on: date | None,
) -> UnitConsent:
    """The vote path of `store/vote_path.py`: the tally counted from the rows read before the
    write with the new votes put in, so nothing is read twice; the unit's summary line updated
    in the same transaction. The objections it returns carry their status, not their texts."""
    wanted = dict.fromkeys(_same_owner(context.rows, flat), vote)
    changed = vote_path.record_votes(
        uow.connection, context, wanted, actor=actor, signed_on=signed_on
    )
    unit_id = context.info.id
    rows = tuple(
        replace(r, vote=wanted[r.household_id]) if r.household_id in changed else r
        for r in context.rows
        if context.unit_of[r.household_id] == unit_id
    )
    data = ConsentInput(
        scope_kind=ScopeKind.UNIT,
        scope_id=unit_id,
        profile=context.round.profile,
        round=context.round,
        rows=rows,
        objections=context.objections,
        occupied=context.occupied,
    )
    result = consent_from_input(data)
    if changed:
        unresolved = sum(1 for o in context.objections if o.status.unresolved)
        write_consent(
            uow.connection, unit_id, consent_figures(result, context.round.id, unresolved)
        )
    return UnitConsent(context.info, data, result)


def _long_vote(
    uow: UnitOfWork,
    unit_id: int,
    room: str,
    vote: Vote,
    *,
    actor: str,
    signed_on: date | None,
) -> UnitConsent:
    """The general path: every case the short one leaves out, with its precise errors."""
    current = uow.votes.current_round(unit_id)
    if current is None:
        label = uow.units.info(unit_id).label
        ended = next((r for r in uow.votes.rounds_for_unit(unit_id) if r.closed_on), None)
        if ended is not None:
            raise RuleViolation(
                "the vote round of {unit} ({title}) ended on {day}: it takes no more votes; "
                "open a new round to vote again",
                unit=label,
                title=ended.title or "—",
                day=ended.closed_on,
            )
        raise RuleViolation(
            "{unit} has no open vote round: open one before recording votes", unit=label
        )
    flat = uow.households.get_by_room(unit_id, room)
    data = uow.votes.unit_consent_rows(round_id=current.id)
    developer = flat.tenure.developer_held
    same_owner = [
        r.household_id
        for r in data.rows
        if (r.tenure.developer_held if developer else r.owner_id == flat.owner_id)
    ]
    uow.votes.set_ballots(
        current.id, dict.fromkeys(same_owner, vote), actor=actor, signed_on=signed_on
    )
    result = unit_consent_in(uow, unit_id)
    uow.commit()
    return result


def raise_objection(
    engine: Engine,
    unit_id: int,
    room: str,
    reasons: list[str],
    *,
    actor: str,
    raised_on: date | None = None,
    notes: str = "",
) -> int:
    """Record a written, real-name objection by one flat; returns its id."""
    if not reasons:
        raise BadInput("an objection needs at least one reason, e.g. light, noise or cost")
    try:
        codes = [parse_objection_reason(r).value for r in reasons]
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with UnitOfWork(engine) as uow:
        flat = uow.households.get_by_room(unit_id, room)
        assert flat.id is not None
        made = uow.objections.add(flat.id, codes, actor=actor, raised_on=raised_on, notes=notes)
        uow.commit()
        return made.id


def set_objection_status(
    engine: Engine,
    objection_id: int,
    status: ObjectionStatus,
    *,
    actor: str,
    on: date | None = None,
    notes: str | None = None,
) -> None:
    with UnitOfWork(engine) as uow:
        uow.objections.set_status(objection_id, status, actor=actor, on=on, notes=notes)
        uow.commit()


def unit_objections(engine: Engine, unit_id: int) -> list[ObjectionRecord]:
    """The unit's written objections, oldest first, with where each stands; NotFound for an
    unknown unit."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)
        return uow.objections.list_by_unit(unit_id)


def unit_by_label(engine: Engine, compound_code: str, label: str) -> UnitInfo:
    """Find a unit by "3-2", "3/2" or "3栋2单元"."""
    text = label.strip().replace("栋", "-").replace("单元", "").replace("/", "-")
    building, sep, unit = text.partition("-")
    if not sep or not building or not unit:
        raise BadInput(
            "unit {label}: write it as building-unit, e.g. 3-2 or 3栋2单元", label=repr(label)
        )
    try:
        return find_unit(engine, compound_code, building.strip(), unit.strip())
    except NotFound:
        raise NotFound(
            "compound {compound_code} has no unit {label}", compound_code=compound_code, label=label
        ) from None


def unit_place(engine: Engine, unit_id: int) -> tuple[str, UnitInfo]:
    """The code of the compound a unit belongs to, and the unit; NotFound if there is none."""
    with UnitOfWork(engine, read_only=True) as uow:
        info = uow.units.info(unit_id)
        return uow.compounds.code_of(info.compound_id), info


def unit_address(engine: Engine, unit_id: int) -> tuple[str, str]:
    """The code and street of the compound a unit belongs to (one query); NotFound if none."""
    with UnitOfWork(engine, read_only=True) as uow:
        return uow.units.place(unit_id)


def objection_place(engine: Engine, objection_id: int) -> tuple[str, int]:
    """The compound code and unit id of an objection; NotFound if there is none."""
    with UnitOfWork(engine, read_only=True) as uow:
        objection = uow.objections.get(objection_id)
        unit_id = uow.households.get(objection.household_id).unit_id
        return uow.compounds.code_of(uow.units.info(unit_id).compound_id), unit_id


# --- the end of a round -------------------------------------------------------------------------


@dataclass(frozen=True)
class EndedRound:
    """A round just closed or voided, the tally it closed with, and the ledger head after it:
    the hash to print on the result notice, so paper anchors the record."""

    round: VoteRound
    result: ConsentResult | None  # None for a voided round
    head: ChainHead


def tally_summary(data: ConsentInput, result: ConsentResult) -> dict[str, Any]:
    """The final tally a closed round keeps (and the ledger records): verdict and counts."""
    full = result.to_json()
    votes = Counter(row.vote.value for row in data.rows)
    return {
        **{
            k: full[k]
            for k in (
                "rule",
                "scope",
                "passed",
                "quorum_met",
                "approval_met",
                "total_heads",
                "participating_heads",
                "agree_heads",
                "total_area",
                "participating_area",
                "agree_area",
            )
        },
        "flats": len(data.rows),
        "votes": dict(sorted(votes.items())),
        "unresolved_objections": len(full["unresolved_objections"]),
        "occupied_not_agreeing": len(full["occupied_not_agreeing"]),
    }


def close_vote_round(
    engine: Engine, round_id: int, *, actor: str, closed_on: date | None = None
) -> EndedRound:
    """Close a round: count it one last time under its lock, keep the tally and the head.

    No vote can slip in between the count and the close; a vote after it is refused.
    """
    with UnitOfWork(engine) as uow:
        ended = close_round_in(uow, round_id, actor=actor, closed_on=closed_on)
        uow.commit()
        return ended


def close_round_in(
    uow: UnitOfWork, round_id: int, *, actor: str, closed_on: date | None = None
) -> EndedRound:
    """`close_vote_round` inside a caller's unit of work."""
    uow.votes.lock_round(round_id)
    data = uow.votes.unit_consent_rows(round_id=round_id)
    result = consent_from_input(data)
    closed = uow.votes.close_round(
        round_id, actor=actor, closed_on=closed_on, tally=tally_summary(data, result)
    )
    return EndedRound(closed, result, _round_head(uow, closed))


def void_vote_round(
    engine: Engine, round_id: int, *, actor: str, reason: str, on: date | None = None
) -> EndedRound:
    """Void an open round with the reason why: its votes decide nothing; a new one may open."""
    with UnitOfWork(engine) as uow:
        voided = uow.votes.void_round(round_id, actor=actor, reason=reason, on=on)
        head = _round_head(uow, voided)
        uow.commit()
        return EndedRound(voided, None, head)


def _round_head(uow: UnitOfWork, ended: VoteRound) -> ChainHead:
    assert ended.compound_id is not None
    return uow.ledger.chain_head(compound_chain(ended.compound_id))


def current_unit_round(engine: Engine, unit_id: int) -> VoteRound:
    """The unit's open round; RuleViolation naming the unit when none is open."""
    with UnitOfWork(engine, read_only=True) as uow:
        current = uow.votes.current_round(unit_id)
        if current is None:
            raise RuleViolation("{unit} has no open vote round", unit=uow.units.info(unit_id).label)
        return current


def unit_rounds(engine: Engine, unit_id: int) -> list[VoteRound]:
    """Every round over the unit (its own, its building's, its compound's), newest first."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)
        return uow.votes.rounds_for_unit(unit_id)


@dataclass(frozen=True)
class RoundPlace:
    """Where a round belongs, for deciding who may close it: its compound, and its unit when
    the round is a unit's."""

    round: VoteRound
    compound_code: str
    street: str
    unit_id: int | None


def round_place(engine: Engine, round_id: int) -> RoundPlace:
    """The compound (and unit) of a round; NotFound if there is none."""
    with UnitOfWork(engine, read_only=True) as uow:
        found = uow.votes.get_round(round_id)
        if found.compound_id is not None:
            compound = uow.compounds.get(found.compound_id)
            code = uow.compounds.code_of(found.compound_id)
        else:  # a round of a scope that no longer exists
            raise NotFound("vote round {round} does not exist", round=round_id)
        unit_id = found.scope_id if found.scope_kind is ScopeKind.UNIT else None
        return RoundPlace(found, code, compound.street, unit_id)
