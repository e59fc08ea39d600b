"""Repositories of co-production: unit projects and their stages, activities, stances, household
profiles, technical issues and ties.

Like the consent repositories, these write the ledger themselves for what matters (stage
changes, activities, stance changes, technical issues found and solved), on the same connection
and transaction as the change. Ability to pay and social ties are private and not evidence of a
decision: they are stored but kept out of the append-only ledger, so they can be corrected or
erased.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, Row, Select, delete, func, insert, select, update

from colift.errors import BadInput, NotFound, RuleViolation
from colift.model.coproduction import (
    Activity,
    GuidanceMode,
    Outcome,
    Stage,
    StageTransition,
    Stance,
    StanceChange,
    TechnicalIssue,
    Tie,
)
from colift.store import ledger, summary
from colift.store.repository import (
    check_lengths,
    chunked,
    compound_of_unit,
    describe_unit,
    natural_key,
    place_of_household,
    require,
)
from colift.store.tables import (
    activities,
    activity_targets,
    buildings,
    household_profiles,
    households,
    persons,
    stage_transitions,
    stances,
    technical_issues,
    ties,
    unit_projects,
    units,
)

PERMILLE = 1000
MAX_SEVERITY = 3
_INT32_MAX = 2**31 - 1


def _codes(reasons: Iterable[str], what: str) -> tuple[str, ...]:
    codes = tuple(r.strip() for r in reasons if r.strip())
    if any("," in c for c in codes):
        raise BadInput("{what} reasons are codes without commas, e.g. light, noise", what=what)
    return codes


def _count(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(
            "{what} must be a whole number ≥ 0, not {value}", what=what, value=repr(value)
        )
    return value


def _rooms_of_unit(conn: Connection, unit_id: int) -> dict[int, str]:
    """Household id → room for every flat of the unit."""
    rows = conn.execute(
        select(households.c.id, households.c.room).where(households.c.unit_id == unit_id)
    )
    return {r.id: r.room for r in rows}


def _require_in_unit(
    conn: Connection, unit_id: int, household_ids: Iterable[int]
) -> dict[int, str]:
    """Household id → room for `household_ids`, all of which must be flats of the unit."""
    wanted = list(dict.fromkeys(household_ids))
    rooms = _rooms_of_unit(conn, unit_id)
    outside = [h for h in wanted if h not in rooms]
    if outside:
        require(conn, households, outside, "household")
        listed = ", ".join(map(str, outside))
        raise BadInput(
            "household {listed} is not in {unit}", listed=listed, unit=describe_unit(conn, unit_id)
        )
    return {h: rooms[h] for h in wanted}


# --- unit projects and stages ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitProject:
    """Where one unit's retrofit stands. `stage_since` is None until the project is recorded."""

    unit_id: int
    stage: Stage
    stage_since: date | None
    suspended_from: Stage | None = None
    notice_opened_on: date | None = None
    approval_reference: str | None = None
    acceptance_on: date | None = None
    registration_reference: str | None = None

    @property
    def recorded(self) -> bool:
        return self.stage_since is not None


# The project fields a transition may set besides the stage itself.
PROJECT_FIELDS = frozenset(
    {"notice_opened_on", "approval_reference", "acceptance_on", "registration_reference"}
)


def _project(row: Row[Any]) -> UnitProject:
    return UnitProject(
        unit_id=row.unit_id,
        stage=Stage(row.stage),
        stage_since=row.stage_since,
        suspended_from=None if row.suspended_from is None else Stage(row.suspended_from),
        notice_opened_on=row.notice_opened_on,
        approval_reference=row.approval_reference,
        acceptance_on=row.acceptance_on,
        registration_reference=row.registration_reference,
    )


def _transition(row: Row[Any]) -> StageTransition:
    return StageTransition(
        id=row.id,
        unit_id=row.unit_id,
        from_stage=None if row.from_stage is None else Stage(row.from_stage),
        to_stage=Stage(row.to_stage),
        on=row.on,
        actor=row.actor,
        reason=row.reason,
        reference=row.reference,
    )


class ProjectRepository:
    """Each unit's project: its current stage, the facts its gates read, and every move."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, unit_id: int) -> UnitProject | None:
        row = self.conn.execute(
            select(unit_projects).where(unit_projects.c.unit_id == unit_id)
        ).first()
        return None if row is None else _project(row)

    def get(self, unit_id: int) -> UnitProject:
        """The unit's project; a unit never recorded is at the survey stage (nothing is written)."""
        found = self.find(unit_id)
        if found is not None:
            return found
        require(self.conn, units, [unit_id], "unit")
        return UnitProject(unit_id, Stage.SURVEY, None)

    def get_or_create(self, unit_id: int, *, actor: str, on: date | None = None) -> UnitProject:
        """The unit's project, recording it at the survey stage if it was never recorded.

        Takes the ledger lock first, so two stage changes of one unit queue instead of racing.
        """
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        ledger.lock(self.conn, chain)
        found = self.find(unit_id)
        if found is not None:
            return found
        day = on or date.today()
        self.conn.execute(
            insert(unit_projects).values(unit_id=unit_id, stage=Stage.SURVEY.value, stage_since=day)
        )
        self._log(StageTransition(unit_id, None, Stage.SURVEY, day, actor), {}, chain)
        return UnitProject(unit_id, Stage.SURVEY, day)

    def record_transition(
        self,
        unit_id: int,
        to_stage: Stage,
        *,
        actor: str,
        on: date | None = None,
        reason: str = "",
        reference: str = "",
        expected_from: Stage | None = None,
        updates: Mapping[str, Any] | None = None,
    ) -> StageTransition:
        """Move the unit's recorded project to `to_stage` and log the move (ledger included).

        The caller has checked the move (`colift.coproduction.workflow`); this keeps the books:
        entering SUSPENDED remembers the stage left, any other move forgets it. `updates` sets
        the project facts named in PROJECT_FIELDS. With `expected_from`, a project found at
        another stage (someone moved it meanwhile) is refused.
        """
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        ledger.lock(self.conn, chain)
        current = self.find(unit_id)
        if current is None or current.stage_since is None:
            require(self.conn, units, [unit_id], "unit")
            raise NotFound(
                "{unit} has no recorded project yet", unit=describe_unit(self.conn, unit_id)
            )
        target = Stage(to_stage)
        if expected_from is not None and current.stage is not Stage(expected_from):
            raise RuleViolation(
                "{unit} is now at {value}, not {value2}: someone changed its stage meanwhile",
                unit=describe_unit(self.conn, unit_id),
                value=current.stage.value,
                value2=Stage(expected_from).value,
            )
        day = on or date.today()
        if day < current.stage_since:
            raise BadInput(
                "a stage change on {day} cannot come before the current stage began ({stage_since})",
                day=day,
                stage_since=current.stage_since,
            )
        extra = dict(updates or {})
        unknown = set(extra) - PROJECT_FIELDS
        if unknown:
            raise BadInput("a project has no field {unknown}", unknown=", ".join(sorted(unknown)))
        values: dict[str, Any] = {
            "stage": target.value,
            "stage_since": day,
            "suspended_from": current.stage.value if target is Stage.SUSPENDED else None,
            **extra,
        }
        check_lengths(unit_projects, values)
        made = StageTransition(
            unit_id, current.stage, target, day, actor, reason.strip(), reference.strip()
        )
        check_lengths(stage_transitions, {"actor": actor, "reference": made.reference})
        self.conn.execute(
            update(unit_projects).where(unit_projects.c.unit_id == unit_id).values(**values)
        )
        return self._log(made, extra, chain)

    def _log(self, made: StageTransition, extra: Mapping[str, Any], chain: str) -> StageTransition:
        new_id = self.conn.execute(
            insert(stage_transitions)
            .values(
                unit_id=made.unit_id,
                from_stage=None if made.from_stage is None else made.from_stage.value,
                to_stage=made.to_stage.value,
                on=made.on,
                actor=made.actor,
                reason=made.reason,
                reference=made.reference,
            )
            .returning(stage_transitions.c.id)
        ).scalar_one()
        ledger.append(
            self.conn,
            made.actor,
            "stage.transition",
            f"unit:{made.unit_id}",
            {
                **extra,
                "transition_id": new_id,
                "from": made.from_stage,
                "to": made.to_stage,
                "on": made.on,
                "reason": ledger.keep_text(self.conn, made.reason),
                "reference": made.reference,
            },
            chain=chain,
            unit_id=made.unit_id,
        )
        return replace(made, id=new_id)

    def transitions(self, unit_id: int) -> list[StageTransition]:
        """Every recorded move of the unit's project, oldest first."""
        rows = self.conn.execute(
            select(stage_transitions)
            .where(stage_transitions.c.unit_id == unit_id)
            .order_by(stage_transitions.c.id)
        )
        return [_transition(r) for r in rows]

    def first_operation_day(self, compound_id: int) -> date | None:
        """The day the compound's first lift entered operation (one query, not one per unit)."""
        return self.first_operation_days([compound_id]).get(compound_id)

    def first_operation_days(self, compound_ids: Iterable[int]) -> dict[int, date]:
        """The day each compound's first lift entered operation, for many compounds in one
        query (a compound without a running lift is not a key)."""
        wanted = sorted(set(compound_ids))
        if not wanted:
            return {}
        rows = self.conn.execute(
            select(buildings.c.compound_id, func.min(stage_transitions.c.on))
            .join(units, units.c.id == stage_transitions.c.unit_id)
            .join(buildings, buildings.c.id == units.c.building_id)
            .where(
                buildings.c.compound_id.in_(wanted),
                stage_transitions.c.to_stage == Stage.OPERATION.value,
            )
            .group_by(buildings.c.compound_id)
        )
        return {
            int(cid): day if isinstance(day, date) else date.fromisoformat(day)
            for cid, day in rows
            if day
        }

    def stages_by_compound(self, compound_id: int) -> dict[int, Stage]:
        """The stage of every unit of the compound by unit id (survey if never recorded)."""
        rows = self.conn.execute(
            select(units.c.id, unit_projects.c.stage)
            .join(buildings, buildings.c.id == units.c.building_id)
            .outerjoin(unit_projects, unit_projects.c.unit_id == units.c.id)
            .where(buildings.c.compound_id == compound_id)
            .order_by(units.c.id)
        )
        return {r.id: Stage.SURVEY if r.stage is None else Stage(r.stage) for r in rows}


# --- activities --------------------------------------------------------------------------------


def _outcome_json(outcome: Outcome) -> str:
    """The parts of an outcome without a column of their own, as canonical JSON."""
    return ledger.canonical_json(
        {
            "stances_changed": [
                {"household": c.household, "before": c.before.value, "after": c.after.value}
                for c in outcome.stances_changed
            ],
            "objections_resolved": list(outcome.objections_resolved),
            "note": outcome.note,
        }
    )


def _outcome(row: Row[Any]) -> Outcome:
    data = json.loads(row.outcome)
    return Outcome(
        stances_changed=tuple(
            StanceChange(c["household"], Stance(c["before"]), Stance(c["after"]))
            for c in data.get("stances_changed", [])
        ),
        objections_resolved=tuple(int(i) for i in data.get("objections_resolved", [])),
        money_fen=row.money_fen,
        labour_hours=row.labour_hours,
        participants=row.participants,
        note=str(data.get("note", "")),
    )


def _activity(row: Row[Any], targets: Sequence[str]) -> Activity:
    return Activity(
        id=row.id,
        unit_id=row.unit_id,
        person_id=row.person_id,
        actor_name=row.actor_name,
        role=row.role,
        guidance=GuidanceMode(row.guidance),
        tool=row.tool,
        on=row.on,
        targets=tuple(targets),
        notes=row.notes,
        outcome=_outcome(row),
    )


class ActivityRepository:
    """The activity log: each activity with the households it aimed at and what came of it."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, activity: Activity, household_ids: Sequence[int] = (), *, actor: str) -> Activity:
        """Record an activity aimed at `household_ids` (flats of its unit; none = whole unit).

        Returns it with its id and its targets as rooms, in floor and room order.
        """
        chain = ledger.compound_chain(compound_of_unit(self.conn, activity.unit_id))
        if activity.person_id is not None:
            require(self.conn, persons, [activity.person_id], "person")
        found = _require_in_unit(self.conn, activity.unit_id, household_ids)
        rooms = dict(sorted(found.items(), key=lambda item: natural_key(item[1])))
        outcome = activity.outcome
        for what in ("actor_name", "role", "tool"):
            if not str(getattr(activity, what)).strip():
                raise BadInput("an activity needs its {replace}", replace=what.replace("_", " "))
        try:
            guidance = GuidanceMode(activity.guidance)
        except ValueError:
            accepted = ", ".join(g.value for g in GuidanceMode)
            raise BadInput(
                "guidance {guidance} must be one of {accepted}",
                guidance=repr(activity.guidance),
                accepted=accepted,
            ) from None
        values: dict[str, Any] = {
            "unit_id": activity.unit_id,
            "person_id": activity.person_id,
            "actor_name": activity.actor_name.strip(),
            "role": str(activity.role).strip(),
            "guidance": guidance.value,
            "tool": activity.tool.strip(),
            "on": activity.on,
            "notes": activity.notes,
            "outcome": _outcome_json(outcome),
            "money_fen": _count(outcome.money_fen, "money_fen"),
            "labour_hours": _count(outcome.labour_hours, "labour_hours"),
            "participants": _count(outcome.participants, "participants"),
        }
        check_lengths(activities, values)
        new_id = self.conn.execute(
            insert(activities).values(**values).returning(activities.c.id)
        ).scalar_one()
        if rooms:
            self.conn.execute(
                insert(activity_targets),
                [{"activity_id": new_id, "household_id": h} for h in rooms],
            )
        outcome_record = json.loads(values["outcome"])
        outcome_record["note"] = ledger.keep_text(self.conn, outcome_record.get("note", ""))
        ledger.append(
            self.conn,
            actor,
            "activity.record",
            f"unit:{activity.unit_id}/activity:{new_id}",
            {
                **{k: v for k, v in values.items() if k not in ("outcome", "notes", "actor_name")},
                "activity_id": new_id,
                "actor_name": ledger.keep_text(self.conn, values["actor_name"]),
                "notes": ledger.keep_text(self.conn, values["notes"]),
                "outcome": outcome_record,
                "targets": list(rooms.values()),
            },
            chain=chain,
            unit_id=activity.unit_id,
        )
        return replace(
            activity,
            id=new_id,
            actor_name=values["actor_name"],
            role=values["role"],
            guidance=guidance,
            tool=values["tool"],
            targets=tuple(rooms.values()),
        )

    def _read(self, query: Select[Any]) -> list[Activity]:
        rows = list(self.conn.execute(query.order_by(activities.c.on, activities.c.id)))
        targets: dict[int, list[str]] = {}
        for chunk in chunked(r.id for r in rows):
            for activity_id, room in self.conn.execute(
                select(activity_targets.c.activity_id, households.c.room)
                .join_from(activity_targets, households)
                .where(activity_targets.c.activity_id.in_(chunk))
            ):
                targets.setdefault(activity_id, []).append(room)
        return [_activity(r, sorted(targets.get(r.id, []), key=natural_key)) for r in rows]

    def get(self, activity_id: int) -> Activity:
        found = self._read(select(activities).where(activities.c.id == activity_id))
        if not found:
            raise NotFound("activity {activity_id} does not exist", activity_id=activity_id)
        return found[0]

    def list_by_unit(self, unit_id: int) -> list[Activity]:
        """The unit's activities in the order they happened."""
        return self._read(select(activities).where(activities.c.unit_id == unit_id))

    def list_by_compound(self, compound_id: int) -> list[Activity]:
        """Every activity in the compound's units, in the order they happened (two queries)."""
        return self._read(
            select(activities)
            .join(units, units.c.id == activities.c.unit_id)
            .join(buildings, buildings.c.id == units.c.building_id)
            .where(buildings.c.compound_id == compound_id)
        )

    def has_tool(self, unit_id: int, tool: str) -> bool:
        """Whether the unit's log holds any activity using `tool`."""
        found = self.conn.execute(
            select(activities.c.id)
            .where(activities.c.unit_id == unit_id, activities.c.tool == tool)
            .limit(1)
        ).first()
        return found is not None


# --- stances -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StanceRecord:
    """A household's stance as last heard, and which activity heard it (if any)."""

    household_id: int
    room: str
    stance: Stance
    reasons: tuple[str, ...]
    recorded_on: date
    activity_id: int | None = None


def _stance(row: Row[Any]) -> StanceRecord:
    return StanceRecord(
        household_id=row.household_id,
        room=row.room,
        stance=Stance(row.stance),
        reasons=tuple(r for r in row.reasons.split(",") if r),
        recorded_on=row.recorded_on,
        activity_id=row.activity_id,
    )


class StanceRepository:
    """Current stances; their history is the ledger's `stance.set` entries."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def _select(self) -> Select[Any]:
        return select(stances, households.c.room).join_from(stances, households)

    def find(self, household_id: int) -> StanceRecord | None:
        row = self.conn.execute(
            self._select().where(stances.c.household_id == household_id)
        ).first()
        return None if row is None else _stance(row)

    def set(
        self,
        household_id: int,
        stance: Stance,
        reasons: Iterable[str] = (),
        *,
        actor: str,
        on: date | None = None,
        activity_id: int | None = None,
    ) -> StanceRecord:
        """Record the household's stance as heard on `on` (written to the ledger with the old one).

        A stance heard before the one on record is refused: it would overwrite newer news.
        """
        place = place_of_household(self.conn, household_id)
        codes = _codes(reasons, "stance")
        new = Stance(stance)
        day = on or date.today()
        chain = ledger.compound_chain(place.compound_id)
        ledger.lock(self.conn, chain)
        before = self.find(household_id)
        if before is not None and day < before.recorded_on:
            raise BadInput(
                "room {room} has a stance heard on {recorded_on}: one heard on {day} is older and cannot replace it",
                room=before.room,
                recorded_on=before.recorded_on,
                day=day,
            )
        values: dict[str, Any] = {
            "stance": new.value,
            "reasons": ",".join(codes),
            "recorded_on": day,
            "activity_id": activity_id,
        }
        check_lengths(stances, values)
        if before is None:
            self.conn.execute(insert(stances).values(household_id=household_id, **values))
        else:
            self.conn.execute(
                update(stances).where(stances.c.household_id == household_id).values(**values)
            )
        ledger.append(
            self.conn,
            actor,
            "stance.set",
            f"household:{household_id}",
            {
                "household_id": household_id,
                "stance": new.value,
                "previous": None if before is None else before.stance.value,
                "reasons": list(codes),
                "on": day,
                "activity_id": activity_id,
            },
            chain=chain,
            unit_id=place.unit_id,
        )
        found = self.find(household_id)
        assert found is not None
        return found

    def for_unit(self, unit_id: int) -> dict[str, StanceRecord]:
        """The recorded stances of the unit's flats by room (flats never heard are absent)."""
        rows = self.conn.execute(self._select().where(households.c.unit_id == unit_id))
        found = sorted((_stance(r) for r in rows), key=lambda s: natural_key(s.room))
        return {s.room: s for s in found}


# --- household profiles ------------------------------------------------------------------------


class HouseholdProfileRepository:
    """What a household says it can pay towards its share (private: not in the ledger)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def set_ability_to_pay(self, household_id: int, fen: int | None) -> None:
        """Store what the household can pay, in fen; None forgets it."""
        require(self.conn, households, [household_id], "household")
        if fen is not None:
            _count(fen, "ability to pay (fen)")
        self.conn.execute(
            delete(household_profiles).where(household_profiles.c.household_id == household_id)
        )
        self.conn.execute(
            insert(household_profiles).values(household_id=household_id, ability_to_pay_fen=fen)
        )
        summary.touch_households(self.conn, [household_id])  # not in the ledger: say so here

    def ability_to_pay(self, household_id: int) -> int | None:
        found = self.conn.execute(
            select(household_profiles.c.ability_to_pay_fen).where(
                household_profiles.c.household_id == household_id
            )
        ).scalar()
        return None if found is None else int(found)

    def for_unit(self, unit_id: int) -> dict[str, int]:
        """Room → ability to pay in fen, for the unit's flats where it is known."""
        rows = self.conn.execute(
            select(households.c.room, household_profiles.c.ability_to_pay_fen)
            .join_from(household_profiles, households)
            .where(
                households.c.unit_id == unit_id,
                household_profiles.c.ability_to_pay_fen.is_not(None),
            )
        )
        ordered = sorted(rows, key=lambda r: natural_key(r.room))
        return {r.room: int(r.ability_to_pay_fen) for r in ordered}


# --- technical issues --------------------------------------------------------------------------


@dataclass(frozen=True)
class TechnicalRecord:
    """A stored technical issue of a unit."""

    id: int
    unit_id: int
    kind: str
    severity: int
    resolved: bool
    note: str
    found_on: date
    resolved_on: date | None = None

    def to_issue(self) -> TechnicalIssue:
        return TechnicalIssue(self.kind, self.severity, self.resolved, self.note)


def _technical(row: Row[Any]) -> TechnicalRecord:
    return TechnicalRecord(
        id=row.id,
        unit_id=row.unit_id,
        kind=row.kind,
        severity=row.severity,
        resolved=bool(row.resolved),
        note=row.note,
        found_on=row.found_on,
        resolved_on=row.resolved_on,
    )


class TechnicalRepository:
    """Physical constraints of units (pipes, space, fire lane, structure)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, unit_id: int, issue: TechnicalIssue, *, actor: str, found_on: date | None = None
    ) -> TechnicalRecord:
        """Record an issue found in the unit (written to the ledger)."""
        chain = ledger.compound_chain(compound_of_unit(self.conn, unit_id))
        kind = issue.kind.strip()
        if not kind:
            raise BadInput("a technical issue needs a kind, e.g. pipes, space, fire_lane")
        severity = issue.severity
        if isinstance(severity, bool) or severity not in range(1, MAX_SEVERITY + 1):
            raise BadInput(
                "technical issue severity must be 1 (minor) to {MAX_SEVERITY} (blocks any plan), not {severity}",
                MAX_SEVERITY=MAX_SEVERITY,
                severity=repr(severity),
            )
        day = found_on or date.today()
        values: dict[str, Any] = {
            "unit_id": unit_id,
            "kind": kind,
            "severity": severity,
            "resolved": bool(issue.resolved),
            "note": issue.note,
            "found_on": day,
            "resolved_on": day if issue.resolved else None,
        }
        check_lengths(technical_issues, values)
        new_id = self.conn.execute(
            insert(technical_issues).values(**values).returning(technical_issues.c.id)
        ).scalar_one()
        ledger.append(
            self.conn,
            actor,
            "technical.record",
            f"unit:{unit_id}/technical:{new_id}",
            {
                **{k: v for k, v in values.items() if k not in ("resolved_on", "note")},
                "technical_id": new_id,
                "note": ledger.keep_text(self.conn, values["note"]),
            },
            chain=chain,
            unit_id=unit_id,
        )
        return self.get(new_id)

    def get(self, issue_id: int) -> TechnicalRecord:
        row = self.conn.execute(
            select(technical_issues).where(technical_issues.c.id == issue_id)
        ).first()
        if row is None:
            raise NotFound("technical issue {issue_id} does not exist", issue_id=issue_id)
        return _technical(row)

    def resolve(
        self, issue_id: int, *, actor: str, on: date | None = None, note: str | None = None
    ) -> TechnicalRecord:
        """Mark an issue solved (written to the ledger); solving it twice is refused."""
        chain = ledger.compound_chain(compound_of_unit(self.conn, self.get(issue_id).unit_id))
        ledger.lock(self.conn, chain)
        current = self.get(issue_id)  # read again under the lock
        if current.resolved:
            raise RuleViolation(
                "technical issue {issue_id} was already resolved", issue_id=issue_id
            )
        day = on or date.today()
        if day < current.found_on:
            raise BadInput(
                "technical issue {issue_id} cannot be resolved before it was found ({found_on})",
                issue_id=issue_id,
                found_on=current.found_on,
            )
        values: dict[str, Any] = {"resolved": True, "resolved_on": day}
        if note is not None:
            values["note"] = note
        self.conn.execute(
            update(technical_issues).where(technical_issues.c.id == issue_id).values(**values)
        )
        payload: dict[str, Any] = {"technical_id": issue_id, "on": day}
        if note is not None:
            payload["note"] = ledger.keep_text(self.conn, note)
        ledger.append(
            self.conn,
            actor,
            "technical.resolve",
            f"unit:{current.unit_id}/technical:{issue_id}",
            payload,
            chain=chain,
            unit_id=current.unit_id,
        )
        return self.get(issue_id)

    def list_by_unit(self, unit_id: int, *, unresolved_only: bool = False) -> list[TechnicalRecord]:
        query = select(technical_issues).where(technical_issues.c.unit_id == unit_id)
        if unresolved_only:
            query = query.where(technical_issues.c.resolved.is_(False))
        return [_technical(r) for r in self.conn.execute(query.order_by(technical_issues.c.id))]

    def max_unresolved_severity(self, unit_id: int) -> int:
        """The highest severity among the unit's unresolved issues; 0 if none."""
        found = self.conn.execute(
            select(func.max(technical_issues.c.severity)).where(
                technical_issues.c.unit_id == unit_id, technical_issues.c.resolved.is_(False)
            )
        ).scalar()
        return 0 if found is None else int(found)


# --- ties --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TieRecord:
    """A stored tie between two flats of a unit; the weight is exact, in thousandths."""

    id: int
    unit_id: int
    household_a: int
    household_b: int
    room_a: str
    room_b: str
    kind: str
    weight_permille: int

    def to_tie(self) -> Tie:
        return Tie(self.room_a, self.room_b, self.kind, self.weight_permille / PERMILLE)


class TieRepository:
    """Social ties between households of a unit (private: not in the ledger)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self,
        unit_id: int,
        household_a: int,
        household_b: int,
        kind: str,
        weight_permille: int = PERMILLE,
    ) -> TieRecord:
        """Store a tie of `kind` between two flats; the same pair and kind again sets its weight."""
        if household_a == household_b:
            raise BadInput("a tie links two different households")
        require(self.conn, units, [unit_id], "unit")
        _require_in_unit(self.conn, unit_id, [household_a, household_b])
        kind = kind.strip()
        if not kind:
            raise BadInput("a tie needs a kind, e.g. kin, friend, party or conversation")
        weight = weight_permille
        if isinstance(weight, bool) or not isinstance(weight, int) or not 0 < weight <= _INT32_MAX:
            raise BadInput(
                "a tie's weight must be positive, not {weight} thousandths", weight=repr(weight)
            )
        a, b = sorted((household_a, household_b))  # stored once per unordered pair
        check_lengths(ties, {"kind": kind})
        existing = self.conn.execute(
            select(ties.c.id).where(
                ties.c.household_a == a, ties.c.household_b == b, ties.c.kind == kind
            )
        ).scalar()
        summary.touch_units(self.conn, [unit_id])  # ties are not in the ledger: say so here
        if existing is None:
            self.conn.execute(
                insert(ties).values(
                    unit_id=unit_id, household_a=a, household_b=b, kind=kind, weight_permille=weight
                )
            )
        else:
            self.conn.execute(
                update(ties).where(ties.c.id == existing).values(weight_permille=weight)
            )
        return next(
            t
            for t in self.list_by_unit(unit_id)
            if (t.household_a, t.household_b, t.kind) == (a, b, kind)
        )

    def remove(self, tie_id: int) -> None:
        unit_id = self.conn.execute(select(ties.c.unit_id).where(ties.c.id == tie_id)).scalar()
        summary.touch_units(self.conn, [unit_id])
        if not self.conn.execute(delete(ties).where(ties.c.id == tie_id)).rowcount:
            raise NotFound("tie {tie_id} does not exist", tie_id=tie_id)

    def list_by_unit(self, unit_id: int) -> list[TieRecord]:
        a_rooms = households.alias("a_rooms")
        b_rooms = households.alias("b_rooms")
        rows = self.conn.execute(
            select(ties, a_rooms.c.room.label("room_a"), b_rooms.c.room.label("room_b"))
            .join(a_rooms, a_rooms.c.id == ties.c.household_a)
            .join(b_rooms, b_rooms.c.id == ties.c.household_b)
            .where(ties.c.unit_id == unit_id)
            .order_by(ties.c.id)
        )
        return [
            TieRecord(
                r.id,
                r.unit_id,
                r.household_a,
                r.household_b,
                r.room_a,
                r.room_b,
                r.kind,
                r.weight_permille,
            )
            for r in rows
        ]


__all__ = [
    "PROJECT_FIELDS",
    "ActivityRepository",
    "HouseholdProfileRepository",
    "ProjectRepository",
    "StanceRecord",
    "StanceRepository",
    "TechnicalRecord",
    "TechnicalRepository",
    "TieRecord",
    "TieRepository",
    "UnitProject",
]
