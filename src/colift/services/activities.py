"""Co-production use cases: log an activity, hear a stance, record a technical issue, a tie, what a
household can pay. Each function is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import Engine

from colift.coproduction.activities import validate_activity
from colift.coproduction.catalogue import load_catalogue
from colift.errors import BadInput, NotFound
from colift.i18n import Message
from colift.model import ObjectionStatus, parse_objection_reason
from colift.model.coproduction import Activity, Stance, TechnicalIssue, parse_stance
from colift.store import UnitOfWork
from colift.store.coproduction import PERMILLE, StanceRecord, TechnicalRecord, TieRecord

# Checks an activity against the unit's flats (rooms); returns warnings, raises BadInput.
Validator = Callable[[Activity, Collection[str]], Sequence[Message]]

# Reasons are why a household holds back; once it supports the lift they no longer apply.
_SUPPORTING = frozenset({Stance.SUPPORT, Stance.LEAN_SUPPORT})


@dataclass(frozen=True)
class RecordedActivity(Activity):
    """An activity just logged, with what the catalogue found unusual about it."""

    warnings: tuple[Message, ...] = ()


def catalogue_validator(activity: Activity, rooms: Collection[str]) -> list[Message]:
    """Check an activity against the packaged governance-tool catalogue and the unit's flats."""
    return validate_activity(activity, load_catalogue(), rooms, today=date.today())


def _rooms(uow: UnitOfWork, unit_id: int) -> dict[str, int]:
    return {h.room: h.id for h in uow.households.list_by_unit(unit_id) if h.id is not None}


def _room_ids(uow: UnitOfWork, unit_id: int, rooms: Iterable[str]) -> list[int]:
    flats = _rooms(uow, unit_id)
    wanted = [r.strip() for r in rooms]
    missing = [r for r in wanted if r not in flats]
    if missing:
        label = uow.units.info(unit_id).label
        raise NotFound("{label} has no room {missing}", label=label, missing=", ".join(missing))
    return [flats[r] for r in wanted]


def _reason_codes(reasons: Iterable[str]) -> list[str]:
    """Reason codes with Chinese names read as codes (采光 → light); other codes kept as given."""
    codes: list[str] = []
    for text in reasons:
        if not text.strip():
            continue
        try:
            codes.append(parse_objection_reason(text).value)
        except ValueError:
            codes.append(text.strip().lower())
    return list(dict.fromkeys(codes))


def record_activity(
    engine: Engine,
    activity: Activity,
    *,
    actor: str,
    validator: Validator | None = catalogue_validator,
) -> RecordedActivity:
    """Log an activity with its targets and apply its outcome; returns it with its id.

    The stances it changed become the households' current stances (heard on the activity's
    day), and the objections it resolved are moved to resolved through their lifecycle.
    `validator` (default: the tool catalogue) may refuse it; its warnings come back with it.
    """
    with UnitOfWork(engine) as uow:
        made = record_activity_in(uow, activity, actor=actor, validator=validator)
        uow.commit()
        return made


def record_activity_in(
    uow: UnitOfWork,
    activity: Activity,
    *,
    actor: str,
    validator: Validator | None = catalogue_validator,
) -> RecordedActivity:
    """`record_activity` inside a caller's unit of work (the caller commits)."""
    outcome = activity.outcome
    changed = [c.household.strip() for c in outcome.stances_changed]
    twice = sorted({r for r in changed if changed.count(r) > 1})
    if twice:
        raise BadInput("the outcome changes the stance of {twice} twice", twice=", ".join(twice))
    unit_id = activity.unit_id
    label = uow.units.info(unit_id).label
    target_ids = _room_ids(uow, unit_id, activity.targets)
    changed_ids = _room_ids(uow, unit_id, changed)
    objections = {o.id: o for o in uow.objections.list_by_unit(unit_id)}
    strangers = [i for i in outcome.objections_resolved if i not in objections]
    if strangers:
        raise BadInput(
            "objection {strangers} is not an objection in {label}",
            strangers=", ".join(map(str, strangers)),
            label=label,
        )
    warnings = () if validator is None else tuple(validator(activity, _rooms(uow, unit_id)))
    made = uow.activities.add(activity, target_ids, actor=actor)
    assert made.id is not None
    for change, household_id in zip(outcome.stances_changed, changed_ids, strict=True):
        current = uow.stances.find(household_id)
        after = Stance(change.after)
        reasons = () if current is None or after in _SUPPORTING else current.reasons
        uow.stances.set(
            household_id, after, reasons, actor=actor, on=activity.on, activity_id=made.id
        )
    for objection_id in dict.fromkeys(outcome.objections_resolved):
        if objections[objection_id].status is not ObjectionStatus.RESOLVED:
            uow.objections.set_status(
                objection_id, ObjectionStatus.RESOLVED, actor=actor, on=activity.on
            )
    stored = {f.name: getattr(made, f.name) for f in fields(made)}
    return RecordedActivity(**stored, warnings=warnings)


def unit_activities(engine: Engine, unit_id: int) -> list[Activity]:
    """The unit's activity log, in the order things happened."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)
        return uow.activities.list_by_unit(unit_id)


def set_stance(
    engine: Engine,
    unit_id: int,
    room: str,
    stance: Stance | str,
    reasons: Iterable[str] = (),
    *,
    actor: str,
    on: date | None = None,
) -> StanceRecord:
    """Record a household's stance as heard (支持 … 反对), with its reasons (采光, cost, …)."""
    try:
        heard = stance if isinstance(stance, Stance) else parse_stance(stance)
    except ValueError as exc:
        raise BadInput(str(exc)) from None
    with UnitOfWork(engine) as uow:
        (household_id,) = _room_ids(uow, unit_id, [room])
        made = uow.stances.set(household_id, heard, _reason_codes(reasons), actor=actor, on=on)
        uow.commit()
        return made


def unit_stances(engine: Engine, unit_id: int) -> dict[str, StanceRecord]:
    """The unit's recorded stances by room (rooms never heard are absent)."""
    with UnitOfWork(engine, read_only=True) as uow:
        uow.units.info(unit_id)
        return uow.stances.for_unit(unit_id)


def record_technical_issue(
    engine: Engine,
    unit_id: int,
    issue: TechnicalIssue,
    *,
    actor: str,
    found_on: date | None = None,
) -> TechnicalRecord:
    """Record a physical constraint found in the unit; severity 3 holds the public notice back."""
    with UnitOfWork(engine) as uow:
        made = uow.technical.add(unit_id, issue, actor=actor, found_on=found_on)
        uow.commit()
        return made


def resolve_technical_issue(
    engine: Engine,
    issue_id: int,
    *,
    actor: str,
    on: date | None = None,
    note: str | None = None,
) -> TechnicalRecord:
    with UnitOfWork(engine) as uow:
        made = uow.technical.resolve(issue_id, actor=actor, on=on, note=note)
        uow.commit()
        return made


def _permille(weight: object) -> int:
    if isinstance(weight, bool):
        raise BadInput("tie weight {weight} is not a number", weight=repr(weight))
    try:
        exact = Fraction(repr(weight) if isinstance(weight, float) else str(weight).strip())
    except (ValueError, ZeroDivisionError):
        raise BadInput("tie weight {weight} is not a number", weight=repr(weight)) from None
    scaled = exact * PERMILLE
    if scaled.denominator != 1:
        raise BadInput("tie weight {weight} has more than 3 decimals", weight=weight)
    return int(scaled)


def add_tie(
    engine: Engine,
    unit_id: int,
    room_a: str,
    room_b: str,
    kind: str,
    *,
    weight: int | str | Decimal | Fraction | float = 1,
) -> TieRecord:
    """Record a social tie (kin, friend, party, conversation) between two flats of the unit.

    The weight is kept exactly to the thousandth; the same pair and kind again sets its weight.
    """
    permille = _permille(weight)
    with UnitOfWork(engine) as uow:
        a, b = _room_ids(uow, unit_id, [room_a, room_b])
        made = uow.ties.add(unit_id, a, b, kind, permille)
        uow.commit()
        return made


def set_ability_to_pay(engine: Engine, unit_id: int, room: str, fen: int | None) -> None:
    """Store what a household says it can pay towards its share, in fen (None forgets it)."""
    with UnitOfWork(engine) as uow:
        (household_id,) = _room_ids(uow, unit_id, [room])
        uow.household_profiles.set_ability_to_pay(household_id, fen)
        uow.commit()


__all__ = [
    "RecordedActivity",
    "Validator",
    "add_tie",
    "catalogue_validator",
    "record_activity",
    "record_technical_issue",
    "resolve_technical_issue",
    "set_ability_to_pay",
    "set_stance",
    "unit_activities",
    "unit_stances",
]
