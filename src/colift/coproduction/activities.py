"""Activities checked against the tool catalogue: right tool for the role, rooms of this unit.

`parse_activity` reads one activity in the unit-file JSON form; `validate_activity` checks a
parsed (or stored) activity against the catalogue and the unit, raising BadInput for what must
be fixed and returning warnings for what is merely unusual.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import date
from typing import Any

from colift.coproduction.catalogue import Catalogue, Tool
from colift.datafiles import reject_unknown
from colift.errors import BadInput
from colift.i18n import Label, Message, msg
from colift.model.coproduction import (
    GUIDANCE_NAMES,
    STANCE_NAMES,
    Activity,
    GuidanceMode,
    Outcome,
    StanceChange,
    parse_stance,
)
from colift.model.roles import LEADER_ROLES, ROLE_NAMES_ZH, Role, role_label, roles_label

GUIDANCE_ALIASES: dict[str, GuidanceMode] = {
    **{g.value: g for g in GuidanceMode},
    "直接引领": GuidanceMode.DIRECT,
    "直接": GuidanceMode.DIRECT,
    "嵌入式引领": GuidanceMode.EMBEDDED,
    "嵌入式": GuidanceMode.EMBEDDED,
    "嵌入": GuidanceMode.EMBEDDED,
    "无": GuidanceMode.NONE,
}
ROLE_ALIASES: dict[str, Role] = {
    **{r.value: r for r in Role},
    **{zh: r for r, zh in ROLE_NAMES_ZH.items()},
}

_ACTIVITY_KEYS = frozenset(
    {"id", "person", "person_id", "role", "guidance", "tool", "date", "targets", "notes", "outcome"}
)
_OUTCOME_KEYS = frozenset(
    {"stances_changed", "objections_resolved", "money_fen", "labour_hours", "participants", "note"}
)
_CHANGE_KEYS = frozenset({"household", "from", "to"})


# ---------------------------------------------------------------- validation


def validate_activity(
    activity: Activity,
    catalogue: Catalogue,
    rooms: Collection[str],
    *,
    today: date | None = None,
) -> list[Message]:
    """Check one activity of a unit whose flats are `rooms`; returns warnings, raises BadInput.

    A warning is a `Message`: the page shows it in its reader's language, the command line in
    both.
    """
    where = _where(activity)
    try:
        tool = catalogue.get(activity.tool)
    except BadInput as exc:
        raise BadInput("{where}: {message}", where=where, message=exc.message) from None
    said = _where_label(activity, tool)
    warnings: list[Message] = []
    role = _role(activity.role, where)
    warning = _check_role(tool, role, catalogue, where, said)
    if warning:
        warnings.append(warning)
    if activity.guidance not in tool.guidance:
        warnings.append(
            msg(
                "{where}: {tool} usually runs under {usual} guidance, recorded as {recorded}",
                where=said,
                tool=tool_label(tool),
                usual=Label(
                    "或".join(GUIDANCE_NAMES[g].zh for g in tool.guidance),
                    ", ".join(GUIDANCE_NAMES[g].en for g in tool.guidance),
                ),
                recorded=GUIDANCE_NAMES[activity.guidance],
            )
        )
    if today is not None and activity.on > today:
        raise BadInput(
            "{where}: the date {isoformat} is after today ({isoformat2})",
            where=where,
            isoformat=activity.on.isoformat(),
            isoformat2=today.isoformat(),
        )
    warnings += _check_rooms(activity, rooms, where, said)
    warnings += _check_outcome(activity, tool, len(rooms), where, said)
    return warnings


def tool_label(tool: Tool) -> Label:
    """A governance tool's name in both languages, from the catalogue."""
    return Label(tool.name_zh, tool.name_en)


def _where_label(activity: Activity, tool: Tool) -> Message:
    """Which activity a warning is about, in the reader's language."""
    if activity.id is not None:
        return msg(
            "activity {number} ({tool}, {day})",
            number=activity.id,
            tool=tool_label(tool),
            day=activity.on.isoformat(),
        )
    return msg("activity ({tool}, {day})", tool=tool_label(tool), day=activity.on.isoformat())


def _where(activity: Activity) -> str:
    number = f" {activity.id}" if activity.id is not None else ""
    return f"activity{number} ({activity.tool}, {activity.on.isoformat()})"


def _role(text: str, where: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        leaders = ", ".join(r.value for r in Role if r in LEADER_ROLES)
        actors = ", ".join(r.value for r in Role if r not in LEADER_ROLES)
        raise BadInput(
            "{where}: role {text} is not a role: use a leader role ({leaders}) or an actor ({actors})",
            where=where,
            text=repr(text),
            leaders=leaders,
            actors=actors,
        ) from None


def _check_role(
    tool: Tool, role: Role, catalogue: Catalogue, where: str, said: Message
) -> Message | None:
    if tool.used_by(role):
        return None
    if role in LEADER_ROLES:
        users = ", ".join(r.value for r in tool.leader_roles) or "no leader role"
        own = ", ".join(t.id for t in catalogue.for_role(role))
        raise BadInput(
            "{where}: tool {id} is used by {users}; not by {value}. Record it under the role the person acted in, or use a {value} tool: {own}",
            where=where,
            id=tool.id,
            users=users,
            value=role.value,
            own=own,
        )
    # An office or a position may act through the tools of leader roles of its own kind.
    kin = [r for r in tool.leader_roles if r.is_formal == role.is_formal]
    if not kin:
        kind = "formal" if role.is_formal else "informal"
        users = ", ".join(r.value for r in tool.roles)
        raise BadInput(
            "{where}: tool {id} is used by {users} only; {value} is {kind} and cannot record it. Record it under the person's leader role",
            where=where,
            id=tool.id,
            users=users,
            value=role.value,
            kind=kind,
        )
    return msg(
        "{where}: {role} is not listed for {tool} (used by {users}); accepted as acting like {kin}",
        where=said,
        role=role_label(role),
        tool=tool_label(tool),
        users=roles_label(tool.roles),
        kin=role_label(kin[0]),
    )


def _check_rooms(
    activity: Activity, rooms: Collection[str], where: str, said: Message
) -> list[Message]:
    known = set(rooms)
    unknown = [t for t in activity.targets if t not in known]
    if unknown:
        raise BadInput(
            "{where}: target {unknown} is not a flat of this unit (flats: {listing})",
            where=where,
            unknown=", ".join(unknown),
            listing=_listing(rooms),
        )
    warnings: list[Message] = []
    twice = sorted(room for room, n in Counter(activity.targets).items() if n > 1)
    if twice:
        warnings.append(
            msg(
                "{where}: target {rooms} is listed more than once",
                where=said,
                rooms=", ".join(twice),
            )
        )
    for change in activity.outcome.stances_changed:
        if change.household not in known:
            raise BadInput(
                "{where}: stance change names {household}, which is not a flat of this unit (flats: {listing})",
                where=where,
                household=change.household,
                listing=_listing(rooms),
            )
        if activity.targets and change.household not in activity.targets:
            warnings.append(
                msg(
                    "{where}: the stance of {room} changed, but it was not a target",
                    where=said,
                    room=change.household,
                )
            )
        if change.before is change.after:
            warnings.append(
                msg(
                    "{where}: the stance of {room} is recorded as changed from {stance} to the same",
                    where=said,
                    room=change.household,
                    stance=STANCE_NAMES[change.before],
                )
            )
    return warnings


def _check_outcome(
    activity: Activity, tool: Tool, households: int, where: str, said: Message
) -> list[Message]:
    outcome = activity.outcome
    for name, value in (
        ("money_fen", outcome.money_fen),
        ("labour_hours", outcome.labour_hours),
        ("participants", outcome.participants),
    ):
        if value < 0:
            raise BadInput(
                "{where}: {name} is {value}; it cannot be negative",
                where=where,
                name=name,
                value=value,
            )
    bad_ids = [i for i in outcome.objections_resolved if i < 1]
    if bad_ids:
        raise BadInput(
            "{where}: objection ids are 1 or more, not {bad_ids}", where=where, bad_ids=bad_ids[0]
        )
    warnings: list[Message] = []
    if outcome.participants > households:
        warnings.append(
            msg(
                "{where}: {participants} participants but the unit has {households} households; "
                "count households, not people",
                where=said,
                participants=outcome.participants,
                households=households,
            )
        )
    if (outcome.money_fen or outcome.labour_hours) and tool.evidences < 4:
        warnings.append(
            msg(
                "{where}: resident money or labour counts as co-production only with tools such "
                "as fund escrow; {tool} does not evidence it",
                where=said,
                tool=tool_label(tool),
            )
        )
    if tool.evidences >= 2 and not outcome.participants and not activity.targets:
        warnings.append(
            msg(
                "{where}: how many households took part is not recorded, so this {tool} counts "
                "only as informing residents",
                where=said,
                tool=tool_label(tool),
            )
        )
    return warnings


def _listing(rooms: Collection[str], limit: int = 24) -> str:
    shown = list(rooms)[:limit]
    more = f" … {len(rooms) - limit} more" if len(rooms) > limit else ""
    return ", ".join(shown) + more


# ---------------------------------------------------------------- parsing


def parse_activity(
    data: Mapping[str, Any], unit_id: int, today: date, *, where: str = "activity"
) -> Activity:
    """One activity from its unit-file JSON form; a wrong field is a BadInput naming it."""
    if not isinstance(data, Mapping):
        raise BadInput("{where}: must be an object with role, guidance, tool and date", where=where)
    reject_unknown(data, _ACTIVITY_KEYS, where)
    activity_id = _optional_int(data, "id", where)
    if activity_id is not None:
        where = f"{where} {activity_id}"
    role = _parse_role(_required_text(data, "role", where), where)
    guidance = _parse_guidance(_required_text(data, "guidance", where), where)
    tool = _required_text(data, "tool", where)
    on = _parse_date(data, today, where)
    person = data.get("person")
    if person is not None and not isinstance(person, str):
        raise BadInput("{where}: person must be a name", where=where)
    return Activity(
        unit_id=unit_id,
        person_id=_optional_int(data, "person_id", where),
        actor_name=(person or "").strip() or ROLE_NAMES_ZH[role],
        role=role.value,
        guidance=guidance,
        tool=tool,
        on=on,
        targets=_rooms(data.get("targets", []), f"{where}: targets"),
        notes=_optional_text(data, "notes", where),
        outcome=_parse_outcome(data.get("outcome", {}), f"{where}: outcome"),
        id=activity_id,
    )


def _parse_role(text: str, where: str) -> Role:
    role = ROLE_ALIASES.get(text.strip().lower())
    if role is None:
        known = ", ".join(r.value for r in Role)
        raise BadInput(
            "{where}: role {text} is unknown: use one of {known}",
            where=where,
            text=repr(text),
            known=known,
        )
    return role


def _parse_guidance(text: str, where: str) -> GuidanceMode:
    mode = GUIDANCE_ALIASES.get(text.strip().lower())
    if mode is None:
        raise BadInput(
            "{where}: guidance {text} is unknown: use direct, embedded or none",
            where=where,
            text=repr(text),
        )
    return mode


def _parse_date(data: Mapping[str, Any], today: date, where: str) -> date:
    text = _required_text(data, "date", where)
    try:
        on = date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            "{where}: date {text} is not a date like 2026-03-02", where=where, text=repr(text)
        ) from None
    if on > today:
        raise BadInput(
            "{where}: the date {isoformat} is after today ({isoformat2})",
            where=where,
            isoformat=on.isoformat(),
            isoformat2=today.isoformat(),
        )
    return on


def _parse_outcome(raw: object, where: str) -> Outcome:
    if not isinstance(raw, Mapping):
        raise BadInput("{where}: must be an object", where=where)
    reject_unknown(raw, _OUTCOME_KEYS, where)
    changes = raw.get("stances_changed", [])
    if not isinstance(changes, Sequence) or isinstance(changes, str):
        raise BadInput("{where}: stances_changed must be a list", where=where)
    resolved = raw.get("objections_resolved", [])
    if not isinstance(resolved, Sequence) or isinstance(resolved, str):
        raise BadInput("{where}: objections_resolved must be a list of objection ids", where=where)
    return Outcome(
        stances_changed=tuple(
            _parse_change(c, f"{where}: stances_changed {i}") for i, c in enumerate(changes, 1)
        ),
        objections_resolved=tuple(
            _whole(v, f"{where}: objections_resolved", minimum=1) for v in resolved
        ),
        money_fen=_count(raw, "money_fen", where),
        labour_hours=_count(raw, "labour_hours", where),
        participants=_count(raw, "participants", where),
        note=_optional_text(raw, "note", where),
    )


def _parse_change(raw: object, where: str) -> StanceChange:
    if not isinstance(raw, Mapping):
        raise BadInput(
            '{where}: write {{"household": "101", "from": "oppose", "to": "undecided"}}',
            where=where,
        )
    reject_unknown(raw, _CHANGE_KEYS, where)
    room = _room(raw.get("household"), f"{where}: household")
    stances = []
    for key in ("from", "to"):
        text = _required_text(raw, key, where)
        try:
            stances.append(parse_stance(text))
        except ValueError as exc:
            raise BadInput("{where}: {key}: {exc}", where=where, key=key, exc=exc) from None
    return StanceChange(household=room, before=stances[0], after=stances[1])


def _rooms(raw: object, where: str) -> tuple[str, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise BadInput('{where}: must be a list of flats, e.g. ["101", "102"]', where=where)
    return tuple(_room(r, where) for r in raw)


def _room(value: object, where: str) -> str:
    # Rooms are often typed as numbers in JSON; 101 and "101" name the same flat.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise BadInput(
        '{where}: {value} is not a flat number like "101"', where=where, value=repr(value)
    )


def _required_text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        raise BadInput("{where}: {key} is missing", where=where, key=key)
    if not isinstance(value, str) or not value.strip():
        raise BadInput("{where}: {key} must be non-empty text", where=where, key=key)
    return value.strip()


def _optional_text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadInput("{where}: {key} must be text", where=where, key=key)
    return value.strip()


def _optional_int(raw: Mapping[str, Any], key: str, where: str) -> int | None:
    value = raw.get(key)
    return None if value is None else _whole(value, f"{where}: {key}", minimum=1)


def _count(raw: Mapping[str, Any], key: str, where: str) -> int:
    return _whole(raw.get(key, 0), f"{where}: {key}", minimum=0)


def _whole(value: object, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("{where}: {value} must be a whole number", where=where, value=repr(value))
    if value < minimum:
        what = "cannot be negative" if minimum == 0 else f"must be {minimum} or more"
        raise BadInput("{where}: {value} {what}", where=where, value=value, what=what)
    return value
