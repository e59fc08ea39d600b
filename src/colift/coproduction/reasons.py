"""The reason table: reason × objection status × stage → tools (docs/tools.md "The reason table").

`reasons.toml` beside this module holds the rules the advisor follows for one household's
opposition, and the procedural steps each stage needs. The table is data so that a worker or a
researcher can read and change it; this module only loads it strictly (an unknown field, tool,
reason, status or stage is refused by name) and answers "which rows apply to this finding".
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

from colift.coproduction.catalogue import Basis, Catalogue, load_catalogue
from colift.datafiles import DataDocument, Source, load_toml, reject_unknown
from colift.errors import BadInput
from colift.model import ObjectionStatus
from colift.model.coproduction import Obstacle, Stage
from colift.model.voting import ObjectionReason

REASONS_FILE = "reasons.toml"
ANY = "*"
NO_OBJECTION = "none"  # the status a finding has when nothing was written down
UNSTATED = "unstated"
REASON_CODES: frozenset[str] = frozenset(
    {*(r.value for r in ObjectionReason), "ventilation", UNSTATED}
)
STATUS_CODES: frozenset[str] = frozenset(
    {*(s.value for s in ObjectionStatus if s.unresolved), NO_OBJECTION}
)
WHY_FIELDS = frozenset({"room", "reasons", "status"})
_RULE_KEYS = frozenset(
    {"id", "obstacles", "reasons", "statuses", "stages", "tools", "messenger", "why_zh", "basis"}
)
_STEP_KEYS = frozenset({"stage", "obstacle", "tools", "why_zh"})
STALL_WHY_FIELDS = frozenset({"stage", "days", "limit"})


@dataclass(frozen=True)
class ReasonRule:
    """One row: for these finding kinds, reasons, statuses and stages, use these tools."""

    id: str
    obstacles: frozenset[Obstacle]
    reasons: frozenset[str]  # empty: any
    statuses: frozenset[str]  # empty: any
    stages: frozenset[Stage]  # empty: any
    tools: tuple[str, ...]
    why_zh: str
    messenger: bool = False
    basis: Basis = Basis.ASSUMPTION

    def matches(
        self, obstacle: Obstacle, reason: str, status: ObjectionStatus | None, stage: Stage
    ) -> bool:
        code = NO_OBJECTION if status is None else status.value
        return (
            obstacle in self.obstacles
            and (not self.reasons or reason in self.reasons)
            and (not self.statuses or code in self.statuses)
            and (not self.stages or stage in self.stages)
        )

    def why(self, room: str, reasons: str, status: str) -> str:
        return self.why_zh.format(room=room, reasons=reasons, status=status)


@dataclass(frozen=True)
class StageStep:
    """The procedural tools a stage needs, in order, and why."""

    stage: Stage
    obstacle: Obstacle
    tools: tuple[str, ...]
    why_zh: str


@dataclass(frozen=True)
class StalledStep:
    """What unblocks a unit stalled in a stage (stalls.toml), best first, and why."""

    stage: Stage
    obstacle: Obstacle
    tools: tuple[str, ...]
    why_zh: str

    def why(self, stage: str, days: int, limit: int) -> str:
        return self.why_zh.format(stage=stage, days=days, limit=limit)


@dataclass(frozen=True)
class ReasonTable:
    rules: tuple[ReasonRule, ...]
    steps: Mapping[Stage, StageStep]
    origin: str = REASONS_FILE
    stalled: Mapping[Stage, StalledStep] = field(default_factory=dict)

    def rules_for(
        self,
        obstacle: Obstacle,
        reasons: Iterable[str],
        status: ObjectionStatus | None,
        stage: Stage,
    ) -> list[ReasonRule]:
        """The first matching row for each reason, in the order of the reasons, without repeats."""
        out: list[ReasonRule] = []
        for reason in tuple(reasons) or (UNSTATED,):
            row = next((r for r in self.rules if r.matches(obstacle, reason, status, stage)), None)
            if row is not None and row not in out:
                out.append(row)
        return out

    def covers(self, obstacle: Obstacle) -> bool:
        """Some row speaks about this kind of finding."""
        return any(obstacle in r.obstacles for r in self.rules)


def load_reason_table(
    source: Source | None = None, catalogue: Catalogue | None = None
) -> ReasonTable:
    """The packaged table, or a table from `source`, checked against the catalogue's tool ids."""
    if source is None and catalogue is None:
        return _packaged()
    doc = load_toml(source or files("colift.coproduction") / REASONS_FILE, "reason table")
    return parse_reason_table(doc, catalogue or load_catalogue())


@cache
def _packaged() -> ReasonTable:
    doc = load_toml(files("colift.coproduction") / REASONS_FILE, "reason table")
    return parse_reason_table(doc, load_catalogue())


def parse_reason_table(doc: DataDocument, catalogue: Catalogue) -> ReasonTable:
    raw = doc.data
    origin = doc.origin
    reject_unknown(raw, {"rule", "step", "stalled"}, origin)
    rows = raw.get("rule", [])
    if not isinstance(rows, list) or not rows:
        raise BadInput("{origin}: the reason table lists no [[rule]]", origin=origin)
    rules = [_rule(r, origin, i, catalogue) for i, r in enumerate(rows, start=1)]
    ids = [r.id for r in rules]
    for rule_id in ids:
        if ids.count(rule_id) > 1:
            raise BadInput("{origin}: rule {rule} is listed twice", origin=origin, rule=rule_id)
    steps = _by_stage(
        (_step(r, origin, i, catalogue) for i, r in enumerate(raw.get("step", []), start=1)),
        lambda stage: BadInput(
            "{origin}: stage {stage} has two [[step]] rows", origin=origin, stage=stage.value
        ),
    )
    stalled = _by_stage(
        (_stalled(r, origin, i, catalogue) for i, r in enumerate(raw.get("stalled", []), start=1)),
        lambda stage: BadInput(
            "{origin}: stage {stage} has two [[stalled]] rows", origin=origin, stage=stage.value
        ),
    )
    return ReasonTable(tuple(rules), steps, origin, stalled)


_Row = TypeVar("_Row", StageStep, StalledStep)


def _by_stage(rows: Iterable[_Row], twice: Callable[[Stage], BadInput]) -> dict[Stage, _Row]:
    """Rows of a one-row-per-stage table by their stage; `twice(stage)` when a stage repeats."""
    out: dict[Stage, _Row] = {}
    for row in rows:
        if row.stage in out:
            raise twice(row.stage)
        out[row.stage] = row
    return out


def _rule(raw: object, origin: str, index: int, catalogue: Catalogue) -> ReasonRule:
    where = f"{origin}: rule {index}"
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a [[rule]] table", where=where)
    reject_unknown(raw, _RULE_KEYS, where)
    rule_id = _str(raw, "id", where)
    where = f"{origin}: rule {rule_id}"
    messenger = raw.get("messenger", False)
    if not isinstance(messenger, bool):
        raise BadInput("{where}: messenger must be true or false", where=where)
    basis = _str(raw, "basis", where) if "basis" in raw else Basis.ASSUMPTION.value
    if basis not in {b.value for b in Basis}:
        raise BadInput(
            "{where}: basis {value!r} is unknown; use one of {known}",
            where=where,
            value=basis,
            known=", ".join(b.value for b in Basis),
        )
    return ReasonRule(
        id=rule_id,
        obstacles=frozenset(Obstacle(v) for v in _codes(raw, "obstacles", where, _obstacles())),
        reasons=frozenset(_codes(raw, "reasons", where, REASON_CODES, wildcard=True)),
        statuses=frozenset(_codes(raw, "statuses", where, STATUS_CODES, wildcard=True)),
        stages=frozenset(Stage(v) for v in _codes(raw, "stages", where, _stages(), wildcard=True)),
        tools=_tools(raw, where, catalogue),
        why_zh=_why(raw, where),
        messenger=messenger,
        basis=Basis(basis),
    )


def _step(raw: object, origin: str, index: int, catalogue: Catalogue) -> StageStep:
    where = f"{origin}: step {index}"
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a [[step]] table", where=where)
    reject_unknown(raw, _STEP_KEYS, where)
    stage = _str(raw, "stage", where)
    obstacle = _str(raw, "obstacle", where)
    (stage,) = _codes({"stage": [stage]}, "stage", where, _stages())
    (obstacle,) = _codes({"obstacle": [obstacle]}, "obstacle", where, _obstacles())
    return StageStep(
        Stage(stage), Obstacle(obstacle), _tools(raw, where, catalogue), _why(raw, where)
    )


def _stalled(raw: object, origin: str, index: int, catalogue: Catalogue) -> StalledStep:
    where = f"{origin}: stalled {index}"
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a [[stalled]] table", where=where)
    reject_unknown(raw, _STEP_KEYS, where)
    (stage,) = _codes({"stage": [_str(raw, "stage", where)]}, "stage", where, _stages())
    (obstacle,) = _codes(
        {"obstacle": [_str(raw, "obstacle", where)]}, "obstacle", where, _obstacles()
    )
    return StalledStep(
        Stage(stage),
        Obstacle(obstacle),
        _tools(raw, where, catalogue),
        _why(raw, where, STALL_WHY_FIELDS),
    )


def _obstacles() -> frozenset[str]:
    return frozenset(o.value for o in Obstacle)


def _stages() -> frozenset[str]:
    return frozenset(s.value for s in Stage)


def _str(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadInput("{where}: {key} must be non-empty text", where=where, key=key)
    return value.strip()


def _codes(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    known: frozenset[str],
    *,
    wildcard: bool = False,
) -> tuple[str, ...]:
    values = raw.get(key)
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise BadInput("{where}: {key} must be a non-empty list of names", where=where, key=key)
    if wildcard and values == [ANY]:
        return ()
    for value in values:
        if value not in known:
            raise BadInput(
                "{where}: {key} has unknown value {value!r}; use {known}",
                where=where,
                key=key,
                value=value,
                known=", ".join(sorted(known)) + (' or "*"' if wildcard else ""),
            )
    return tuple(values)


def _tools(raw: Mapping[str, Any], where: str, catalogue: Catalogue) -> tuple[str, ...]:
    tools = raw.get("tools")
    if not isinstance(tools, list) or not tools or not all(isinstance(t, str) for t in tools):
        raise BadInput("{where}: tools must be a non-empty list of tool ids", where=where)
    for tool_id in tools:
        if tool_id not in catalogue:
            raise BadInput("{where}: tools names unknown tool {tool!r}", where=where, tool=tool_id)
    return tuple(tools)


def _why(raw: Mapping[str, Any], where: str, allowed: frozenset[str] = WHY_FIELDS) -> str:
    text = _str(raw, "why_zh", where)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        raise BadInput("{where}: why_zh has an unbalanced brace", where=where) from None
    unknown = sorted(fields - allowed)
    if unknown and allowed is STALL_WHY_FIELDS:
        raise BadInput(
            "{where}: why_zh uses unknown field {field}; use {{stage}}, {{days}} or {{limit}}",
            where=where,
            field=", ".join(unknown),
        )
    if unknown:
        raise BadInput(
            "{where}: why_zh uses unknown field {field}; use {{room}}, {{reasons}} or {{status}}",
            where=where,
            field=", ".join(unknown),
        )
    return text


def packaged_path() -> Path:
    """Where the packaged table lives, for docs and `colift tools` listings."""
    return Path(str(files("colift.coproduction") / REASONS_FILE))
