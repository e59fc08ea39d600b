"""Read a unit file (the `colift advise FILE` input) into a `UnitSnapshot`.

The file extends the `households` format of `colift consent evaluate` with optional `persons`,
`stances`, `objections`, `activities`, `leaders`, `technical`, `ties` and a `cost_plan`.
Every mistake is a `BadInput` naming the entry and field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from colift.coproduction.catalogue import Catalogue, load_catalogue
from colift.coproduction.snapshot import (
    HouseholdView,
    Leader,
    ObjectionView,
    Resident,
    UnitSnapshot,
)
from colift.coproduction.stalls import stall_limit_days
from colift.errors import BadInput, ColiftError
from colift.i18n import bilingual
from colift.model import (
    AgeBand,
    Mobility,
    Role,
    Tenure,
    parse_objection_reason,
    parse_objection_status,
)
from colift.model.coproduction import (
    Stage,
    Stance,
    TechnicalIssue,
    Tie,
    parse_stance,
    parse_stance_reason,
)
from colift.rules.consent import request_flats


def _list(data: Mapping[str, Any], key: str) -> list[Any]:
    value = data.get(key) or []
    if not isinstance(value, list):
        raise BadInput("'{key}' must be a list", key=key)
    return value


def _entry(item: object, key: str, n: int) -> Mapping[str, Any]:
    if not isinstance(item, Mapping):
        raise BadInput("{key} #{n} must be an object", key=key, n=n)
    return item


def _date(value: object, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise BadInput(
            "{where}: {value} is not a date like 2026-03-02", where=where, value=repr(value)
        ) from None


def _enum(parse: Any, value: object, where: str) -> Any:
    try:
        return parse(str(value))
    except ValueError as exc:
        raise BadInput("{where}: {exc}", where=where, exc=exc) from None


def _reasons(value: object, where: str, parse: Any = None) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise BadInput('{where}: reasons must be a list like ["light", "noise"]', where=where)
    if parse is None:
        return tuple(_enum(parse_objection_reason, r, where).value for r in value)
    return tuple(_enum(parse, r, where) for r in value)


def _whole(value: object, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(
            "{where}: {value} must be a whole number of fen ≥ 0", where=where, value=repr(value)
        )
    return value


def _tenure(row: Mapping[str, Any], hid: str) -> Tenure:
    if row.get("developer_unsold"):
        return Tenure.DEVELOPER_UNSOLD
    raw = row.get("tenure", Tenure.OWNER_OCCUPIED.value)
    try:
        return Tenure(str(raw))
    except ValueError:
        accepted = ", ".join(t.value for t in Tenure)
        raise BadInput(
            "household {hid}: tenure {raw} must be one of {accepted}",
            hid=hid,
            raw=repr(raw),
            accepted=accepted,
        ) from None


def _residents(
    data: Mapping[str, Any], rooms: set[str]
) -> tuple[dict[str, list[Resident]], list[Leader]]:
    by_room: dict[str, list[Resident]] = {r: [] for r in rooms}
    leaders: list[Leader] = []
    for n, item in enumerate(_list(data, "persons"), start=1):
        p = _entry(item, "person", n)
        name = str(p.get("name") or "").strip()
        if not name:
            raise BadInput("person #{n} has no name", n=n)
        room = p.get("household")
        room = None if room in (None, "") else str(room)
        if room is not None and room not in rooms:
            raise BadInput(
                "person {name}: household {room} is not in the unit", name=name, room=room
            )
        band: AgeBand | None = None
        if p.get("age") is not None:
            age = p["age"]
            if isinstance(age, bool) or not isinstance(age, int) or not 0 <= age <= 120:
                raise BadInput(
                    "person {name}: age {age} must be a whole number 0-120",
                    name=name,
                    age=repr(age),
                )
            band = AgeBand.from_age(age)
        elif p.get("age_band") is not None:
            band = _enum(AgeBand, p["age_band"], f"person {name}: age_band")
        mobility = _enum(Mobility, p.get("mobility", "none"), f"person {name}: mobility")
        party = bool(p.get("party_member", False))
        if room is not None:
            by_room[room].append(Resident(name, band, mobility, party))
        for role in p.get("roles") or []:
            leaders.append(
                Leader(
                    name,
                    _enum(Role, role, f"person {name}: role"),
                    str(p.get("scope", "unit")),
                    party,
                    room,
                )
            )
    return by_room, leaders


def read_unit_file(
    data: object, today: date | None = None, catalogue: Catalogue | None = None
) -> UnitSnapshot:
    """The snapshot of one unit from a parsed JSON unit file; activities checked against the catalogue."""
    from colift.coproduction.activities import parse_activity, validate_activity

    catalogue = catalogue or load_catalogue()

    if not isinstance(data, Mapping):
        raise BadInput("the unit file must hold one JSON object with 'households'")
    today = _date(data["today"], "today") if "today" in data else (today or date.today())
    flats = request_flats(data)
    rows = {str(r["id"]): r for r in data["households"]}
    rooms = set(rows)
    residents, leaders = _residents(data, rooms)
    stances: dict[str, tuple[Stance, tuple[str, ...]]] = {}
    for n, item in enumerate(_list(data, "stances"), start=1):
        s = _entry(item, "stance", n)
        room = str(s.get("household", ""))
        if room not in rooms:
            raise BadInput("stance #{n}: household {room} is not in the unit", n=n, room=repr(room))
        where = f"stance of {room}"
        stances[room] = (
            _enum(parse_stance, s.get("stance"), where),
            _reasons(s.get("reasons"), where, parse_stance_reason),
        )
    shares = _shares(data, flats)
    households = []
    for flat in flats:
        row = rows[flat.id]
        stance, reasons = stances.get(flat.id, (Stance.UNKNOWN, ()))
        households.append(
            HouseholdView(
                room=flat.id,
                floor=flat.floor or _floor_of(flat.id),
                area_m2=_area(flat.area_cm2),
                owner=flat.owner,
                tenure=_tenure(row, flat.id),
                residents=tuple(residents[flat.id]),
                stance=stance,
                stance_reasons=reasons,
                vote=flat.vote if "vote" in row else None,
                ability_to_pay_fen=_whole(
                    row.get("ability_to_pay_fen"), f"household {flat.id}: ability_to_pay_fen"
                ),
                share_fen=shares.get(flat.id),
            )
        )
    objections = []
    for n, item in enumerate(_list(data, "objections"), start=1):
        o = _entry(item, "objection", n)
        room = str(o.get("household", ""))
        if room not in rooms:
            raise BadInput(
                "objection #{n}: household {room} is not in the unit", n=n, room=repr(room)
            )
        where = f"objection of {room}"
        objections.append(
            ObjectionView(
                room,
                _reasons(o.get("reasons"), where),
                _enum(parse_objection_status, o.get("status", "open"), where),
                _date(o["raised_on"], where) if o.get("raised_on") else None,
            )
        )
    activities = []
    warnings: list[str] = []
    for n, item in enumerate(_list(data, "activities"), start=1):
        try:
            activity = parse_activity(_entry(item, "activity", n), 0, today)
            found = validate_activity(activity, catalogue, rooms, today=today)
            warnings += [bilingual(w) for w in found]  # a unit file's notes: both languages
        except ColiftError as exc:
            raise BadInput("activity #{n}: {message}", n=n, message=exc.message) from None
        activities.append(activity)
    for n, item in enumerate(_list(data, "leaders"), start=1):
        ld = _entry(item, "leader", n)
        name = str(ld.get("name") or "").strip()
        if not name:
            raise BadInput("leader #{n} has no name", n=n)
        home = ld.get("household")
        if home is not None and str(home) not in rooms:
            raise BadInput(
                "leader {name}: household {home} is not in the unit", name=name, home=home
            )
        leaders.append(
            Leader(
                name,
                _enum(Role, ld.get("role"), f"leader {name}: role"),
                str(ld.get("scope", "unit")),
                bool(ld.get("party_member", False)),
                None if home is None else str(home),
            )
        )
    technical = []
    for n, item in enumerate(_list(data, "technical"), start=1):
        t = _entry(item, "technical issue", n)
        severity = t.get("severity", 1)
        if severity not in (1, 2, 3):
            raise BadInput("technical issue #{n}: severity must be 1, 2 or 3", n=n)
        technical.append(
            TechnicalIssue(
                str(t.get("kind", "other")),
                int(severity),
                bool(t.get("resolved", False)),
                str(t.get("note", "")),
            )
        )
    ties = []
    for n, item in enumerate(_list(data, "ties"), start=1):
        t = _entry(item, "tie", n)
        a, b = str(t.get("a", "")), str(t.get("b", ""))
        if a not in rooms or b not in rooms or a == b:
            raise BadInput("tie #{n}: a and b must be two different households of the unit", n=n)
        weight = t.get("weight", 1.0)
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight <= 0:
            raise BadInput("tie #{n}: weight must be a positive number", n=n)
        ties.append(Tie(a, b, str(t.get("kind", "friend")), float(weight)))
    occupied = [str(h) for h in _list(data, "occupied")]
    for room in occupied:
        if room not in rooms:
            raise BadInput("occupied flat {room} is not in the unit", room=room)
    stage_text = str(data.get("stage", Stage.SURVEY.value))
    stage = _enum(Stage, stage_text, "stage")
    since = _date(data["stage_since"], "stage_since") if data.get("stage_since") else None
    return UnitSnapshot(
        label=str(data.get("label", data.get("unit", "unit"))),
        households=tuple(households),
        today=today,
        storeys=data.get("storeys") if isinstance(data.get("storeys"), int) else None,
        stage=stage,
        consent_profile=str(data.get("rule", "cn-civil-code-278")),
        objections=tuple(objections),
        activities=tuple(activities),
        leaders=tuple(leaders),
        technical=tuple(technical),
        ties=tuple(ties),
        occupied=tuple(occupied),
        has_cost_plan="cost_plan" in data,
        notes=tuple(warnings),
        days_in_stage=None if since is None else (today - since).days,
        stall_limit_days=stall_limit_days(stage),
    )


def _shares(data: Mapping[str, Any], flats: list[Any]) -> dict[str, int]:
    plan = data.get("cost_plan")
    if plan is None:
        return {}
    if not isinstance(plan, Mapping):
        raise BadInput("'cost_plan' must be an object in the `colift costshare` format")
    from colift.rules.costshare import ShareInput, parse_plan, split_plan

    households = [ShareInput(f.id, f.floor or _floor_of(f.id), _area(f.area_cm2)) for f in flats]
    storeys = data.get("storeys") or max(h.floor for h in households)
    try:
        result = split_plan(parse_plan(plan), households, storeys=storeys)
    except ColiftError as exc:
        raise BadInput("cost_plan: {problem}", problem=exc.text) from None
    return {line.id: line.fen for line in result.lines}


def _area(cm2: int) -> Any:
    from decimal import Decimal

    from colift.rules.consent import CM2_PER_M2

    return Decimal(cm2) / CM2_PER_M2


def _floor_of(room: str) -> int:
    digits = "".join(ch for ch in room if ch.isdigit())
    if len(digits) < 3:
        raise BadInput(
            "household {room}: give its floor (the room number does not show it)", room=room
        )
    return int(digits[:-2])
