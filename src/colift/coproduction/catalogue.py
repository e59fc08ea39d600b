"""The governance-tool catalogue (path-model.md §5) as data: who uses which tool, against what.

The packaged catalogue is `tools.toml` beside this module. A city or a researcher adds tools,
or changes one, with a TOML file of their own in the same shape (docs/tools.md): it is merged
over the packaged catalogue, or replaces it when the file says `replace = true`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar

from colift.datafiles import parse_toml, reject_unknown
from colift.errors import BadInput
from colift.model.coproduction import GuidanceMode, Obstacle, Stage
from colift.model.roles import LEADER_ROLES, Role

TOOLS_FILE = "tools.toml"
MAX_EVIDENCE_LEVEL = 4
_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class Reach(StrEnum):
    """Whom one use of a tool reaches."""

    UNIT = "unit"  # everyone living in the unit
    TARGETS = "targets"  # the named households only
    OWNERS = "owners"  # every owner, absentees included (post, phone, chat group)


class Basis(StrEnum):
    """What a tool rests on (docs/tools.md "Sources"): the study, a rule, practice, or nothing yet."""

    STUDY_CONCEPT = "study_concept"  # a concept the seed study names (role, guidance mode)
    CITY_RULE = "city_rule"  # a law or a city's rule that provides for it
    PRACTICE_REPORT = "practice_report"  # reported in practice (news, government case reports)
    ASSUMPTION = "assumption"  # the team's synthesis, to be checked


class CountsAs(StrEnum):
    """What the cooperation level reads from a tool's use besides its `evidences` level."""

    CONSENT = "consent"  # a vote or signatures: consent when enough households take part
    AGREEMENT = "agreement"  # a written plan with its cost sharing exists
    CO_MANAGEMENT = "co_management"  # residents run or accept the lift together


@dataclass(frozen=True)
class ToolEffects:
    """What one use does to the simulated unit; every value is a starting point to calibrate."""

    support_delta: float = 0.0  # latent support of reached households, 0-1 scale
    trust_delta: float = 0.0  # trust of reached households in the organizers, 0-1 scale
    loss_delta: float = 0.0  # fraction by which the low-floor loss D falls
    compensation_fen: int = 0  # compensation K per low-floor household
    subsidy_delta: float = 0.0  # fraction of the construction cost newly covered
    pressure_delta: float = 0.0  # social pressure / persuasion P, 0-1 scale
    reach_absentee_p: float = 0.0  # probability of reaching a given absentee owner
    approval_weeks_delta: float = 0.0  # weeks added to approval; negative shortens it
    stubborn_supporters: int = 0  # households made stubborn early supporters
    objection_resolve_p: float = 0.0  # probability one open objection is resolved
    source: str = "assumption"  # where effort_hours and these values come from


@dataclass(frozen=True)
class Tool:
    """One governance tool (治理工具) as the catalogue describes it."""

    id: str
    name_zh: str
    name_en: str
    description_zh: str
    roles: tuple[Role, ...]
    guidance: tuple[GuidanceMode, ...]
    addresses: tuple[Obstacle, ...]
    reaches: Reach
    reaches_absentees: bool
    effort_hours: float
    evidences: int
    source: str
    counts_as: tuple[CountsAs, ...] = ()
    effects: ToolEffects = field(default_factory=ToolEffects)
    stages: tuple[Stage, ...] = ()  # the stages it fits; empty: any stage
    basis: Basis = Basis.ASSUMPTION
    record_zh: str = ""  # what the worker records afterwards; empty: the generic activity record

    def fits(self, stage: Stage) -> bool:
        """The tool may be used at this stage."""
        return not self.stages or stage in self.stages

    @property
    def label(self) -> str:
        """Chinese name then id, as reports show a tool."""
        return f"{self.name_zh} {self.id}"

    @property
    def leader_roles(self) -> tuple[Role, ...]:
        return tuple(r for r in self.roles if r in LEADER_ROLES)

    def used_by(self, role: Role) -> bool:
        return role in self.roles

    def counts(self, what: CountsAs) -> bool:
        return what in self.counts_as


class Catalogue:
    """The tools by id, in the order the files list them."""

    def __init__(self, tools: Iterable[Tool]) -> None:
        by_id: dict[str, Tool] = {}
        for tool in tools:
            if tool.id in by_id:
                raise BadInput("tool {id} is listed twice in the catalogue", id=tool.id)
            by_id[tool.id] = tool
        self._tools = by_id
        self.tools: Mapping[str, Tool] = MappingProxyType(by_id)

    def __len__(self) -> int:
        return len(self._tools)

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __contains__(self, tool_id: object) -> bool:
        return tool_id in self._tools

    def __repr__(self) -> str:
        return f"Catalogue({len(self)} tools)"

    def ids(self) -> list[str]:
        return list(self._tools)

    def get(self, tool_id: str) -> Tool:
        """The tool with this id; an unknown id is a BadInput naming the nearest tools."""
        tool = self._tools.get(tool_id)
        if tool is not None:
            return tool
        raise BadInput(
            "unknown tool {tool_id}: {suggest}",
            tool_id=repr(tool_id),
            suggest=self._suggest(tool_id),
        )

    def for_obstacle(self, obstacle: Obstacle | str) -> list[Tool]:
        wanted = _member(Obstacle, obstacle, "obstacle")
        return [t for t in self if wanted in t.addresses]

    def for_role(self, role: Role | str) -> list[Tool]:
        wanted = _member(Role, role, "role")
        return [t for t in self if wanted in t.roles]

    def _suggest(self, text: str) -> str:
        key = str(text).strip().lower()
        by_name = [
            t
            for t in self
            if key and (key in t.name_zh.lower() or key == t.name_en.lower() or key in t.id)
        ]
        close = difflib.get_close_matches(key, self.ids(), n=3, cutoff=0.6)
        near = list(dict.fromkeys([*(t.id for t in by_name), *close]))[:3]
        if near:
            return "did you mean " + ", ".join(self._tools[i].label for i in near) + "?"
        return "known tools are " + ", ".join(self.ids())


_E = TypeVar("_E", bound=StrEnum)


def _member(kind: type[_E], value: _E | str, what: str) -> _E:
    try:
        return kind(value)
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise BadInput(
            "unknown {what} {value}: use one of {known}", what=what, value=repr(value), known=known
        ) from None


# ---------------------------------------------------------------- loading


def load_catalogue(path: Path | None = None, *, replace: bool | None = None) -> Catalogue:
    """The packaged catalogue, or a user's TOML file merged over it (or replacing it).

    `replace` overrides the file's own `replace = true|false`; a user file may also list
    packaged tool ids to drop under `remove = [...]`.
    """
    if path is None:
        return _packaged_catalogue()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInput(
            "cannot read tool catalogue {path}: {strerror}", path=path, strerror=exc.strerror or exc
        ) from None
    return merge_catalogue(_packaged_catalogue(), text, origin=Path(path).name, replace=replace)


@cache
def _packaged_catalogue() -> Catalogue:
    text = (files("colift.coproduction") / TOOLS_FILE).read_text(encoding="utf-8")
    return parse_catalogue(text, origin=TOOLS_FILE)


def parse_catalogue(text: str, origin: str = "catalogue") -> Catalogue:
    """A catalogue from TOML text alone; `replace` and `remove` have no meaning here."""
    raw = _read_toml(text, origin)
    reject_unknown(raw, {"tool"}, origin)
    catalogue = Catalogue(_parse_tools(raw, origin))
    if not len(catalogue):
        raise BadInput("{origin}: the catalogue lists no [[tool]]", origin=origin)
    return catalogue


def merge_catalogue(
    base: Catalogue, text: str, origin: str = "catalogue", *, replace: bool | None = None
) -> Catalogue:
    """Apply a user's TOML over `base`: same id replaces a tool whole, new ids are appended."""
    raw = _read_toml(text, origin)
    reject_unknown(raw, {"tool", "replace", "remove"}, origin)
    file_replace = raw.get("replace", False)
    if not isinstance(file_replace, bool):
        raise BadInput("{origin}: replace must be true or false", origin=origin)
    replacing = file_replace if replace is None else replace
    remove = raw.get("remove", [])
    if not isinstance(remove, list) or not all(isinstance(r, str) for r in remove):
        raise BadInput("{origin}: remove must be a list of tool ids", origin=origin)
    if replacing and remove:
        raise BadInput(
            "{origin}: remove has no meaning when the file replaces the catalogue", origin=origin
        )
    own = _parse_tools(raw, origin)
    if replacing:
        merged: dict[str, Tool] = {}
    else:
        merged = dict(base.tools)
        for tool_id in remove:
            if tool_id not in merged:
                raise BadInput(
                    "{origin}: cannot remove unknown tool {tool_id}: {suggest}",
                    origin=origin,
                    tool_id=repr(tool_id),
                    suggest=base._suggest(tool_id),
                )
            del merged[tool_id]
    seen: set[str] = set()
    for tool in own:
        if tool.id in seen:
            raise BadInput("{origin}: tool {id} is listed twice", origin=origin, id=tool.id)
        seen.add(tool.id)
        merged[tool.id] = tool
    if not merged:
        raise BadInput("{origin}: the catalogue would have no tools", origin=origin)
    return Catalogue(merged.values())


def _read_toml(text: str, origin: str) -> dict[str, Any]:
    return parse_toml(text, origin, "tool catalogue")


_TOOL_KEYS = frozenset(
    {
        "id",
        "name_zh",
        "name_en",
        "description_zh",
        "roles",
        "guidance",
        "addresses",
        "reaches",
        "reaches_absentees",
        "effort_hours",
        "evidences",
        "counts_as",
        "source",
        "effects",
        "stages",
        "basis",
        "record_zh",
    }
)
# Effect fields and their allowed ranges; the whole-number ones are counted, not scaled.
_UNIT_RANGE = (-1.0, 1.0)
_SHARE_RANGE = (0.0, 1.0)
_FLOAT_EFFECTS: dict[str, tuple[float, float]] = {
    "support_delta": _UNIT_RANGE,
    "trust_delta": _UNIT_RANGE,
    "pressure_delta": _UNIT_RANGE,
    "loss_delta": _SHARE_RANGE,
    "subsidy_delta": _SHARE_RANGE,
    "reach_absentee_p": _SHARE_RANGE,
    "objection_resolve_p": _SHARE_RANGE,
    "approval_weeks_delta": (-104.0, 104.0),
}
_INT_EFFECTS = frozenset({"compensation_fen", "stubborn_supporters"})


def _parse_tools(raw: Mapping[str, Any], origin: str) -> list[Tool]:
    entries = raw.get("tool", [])
    if not isinstance(entries, list):
        raise BadInput("{origin}: tools are written as [[tool]] tables", origin=origin)
    return [_parse_tool(entry, origin, i) for i, entry in enumerate(entries, start=1)]


def _parse_tool(raw: object, origin: str, index: int) -> Tool:
    where = f"{origin}: tool {index}"
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a [[tool]] table", where=where)
    tool_id = _text(raw, "id", where)
    if not _ID_PATTERN.match(tool_id):
        raise BadInput(
            "{where}: id {tool_id} must be snake_case English (a-z, 0-9, _)",
            where=where,
            tool_id=repr(tool_id),
        )
    # From here on, messages name the tool by its id, which the author can search for.
    where = f"{origin}: tool {tool_id}"
    reject_unknown(raw, _TOOL_KEYS, where)
    return Tool(
        id=tool_id,
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        description_zh=_text(raw, "description_zh", where),
        roles=_members(raw, "roles", Role, where),
        guidance=_members(raw, "guidance", GuidanceMode, where),
        addresses=_members(raw, "addresses", Obstacle, where),
        reaches=_one_of(raw, "reaches", Reach, where),
        reaches_absentees=_flag(
            raw, "reaches_absentees", where, default=raw.get("reaches") == Reach.OWNERS
        ),
        effort_hours=_number(raw, "effort_hours", where, (0.0, 1000.0)),
        evidences=_evidences(raw, where),
        counts_as=_members(raw, "counts_as", CountsAs, where, required=False),
        source=_text(raw, "source", where),
        effects=_effects(raw.get("effects", {}), f"{where}: effects"),
        stages=_members(raw, "stages", Stage, where, required=False),
        basis=_one_of(raw, "basis", Basis, where) if "basis" in raw else Basis.ASSUMPTION,
        record_zh=_text(raw, "record_zh", where) if "record_zh" in raw else "",
    )


def _effects(raw: object, where: str) -> ToolEffects:
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a [tool.effects] table", where=where)
    reject_unknown(raw, {*_FLOAT_EFFECTS, *_INT_EFFECTS, "source"}, where)
    values: dict[str, Any] = {
        k: _number(raw, k, where, bounds) for k, bounds in _FLOAT_EFFECTS.items() if k in raw
    }
    values.update({k: _count(raw, k, where) for k in _INT_EFFECTS if k in raw})
    values["source"] = _text(raw, "source", where) if "source" in raw else "assumption"
    return ToolEffects(**values)


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        raise BadInput("{where}: {key} is missing", where=where, key=key)
    if not isinstance(value, str) or not value.strip():
        raise BadInput("{where}: {key} must be non-empty text", where=where, key=key)
    return value.strip()


def _members(
    raw: Mapping[str, Any], key: str, kind: type[_E], where: str, *, required: bool = True
) -> tuple[_E, ...]:
    values = raw.get(key)
    if values is None and not required:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise BadInput(
            "{where}: {key} must be a list of names, e.g. {key} = [{example}]",
            where=where,
            key=key,
            example=_example(kind),
        )
    if required and not values:
        raise BadInput("{where}: {key} must name at least one value", where=where, key=key)
    out: list[_E] = []
    for value in values:
        try:
            member = kind(value)
        except ValueError:
            known = ", ".join(m.value for m in kind)
            raise BadInput(
                "{where}: {key} has unknown value {value}; use {known}",
                where=where,
                key=key,
                value=repr(value),
                known=known,
            ) from None
        if member in out:
            raise BadInput(
                "{where}: {key} lists {value} twice", where=where, key=key, value=repr(value)
            )
        out.append(member)
    return tuple(out)


def _example(kind: type[StrEnum]) -> str:
    return f'"{next(iter(kind)).value}"'


def _one_of(raw: Mapping[str, Any], key: str, kind: type[_E], where: str) -> _E:
    value = raw.get(key)
    if value is None:
        raise BadInput("{where}: {key} is missing", where=where, key=key)
    try:
        return kind(str(value))
    except ValueError:
        known = ", ".join(m.value for m in kind)
        raise BadInput(
            "{where}: {key} is {value}; use one of {known}",
            where=where,
            key=key,
            value=repr(value),
            known=known,
        ) from None


def _flag(raw: Mapping[str, Any], key: str, where: str, *, default: bool) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise BadInput("{where}: {key} must be true or false", where=where, key=key)
    return value


def _number(raw: Mapping[str, Any], key: str, where: str, bounds: tuple[float, float]) -> float:
    value = raw.get(key)
    if value is None:
        raise BadInput("{where}: {key} is missing", where=where, key=key)
    # A TOML boolean is a Python int; refuse it rather than read true as 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadInput("{where}: {key} must be a number", where=where, key=key)
    low, high = bounds
    if not low <= value <= high:
        raise BadInput(
            "{where}: {key} = {value} is outside {low} to {high}",
            where=where,
            key=key,
            value=value,
            low=format(low, "g"),
            high=format(high, "g"),
        )
    return float(value)


def _count(raw: Mapping[str, Any], key: str, where: str) -> int:
    value = raw.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput("{where}: {key} must be a whole number, 0 or more", where=where, key=key)
    return value


def _evidences(raw: Mapping[str, Any], where: str) -> int:
    value = raw.get("evidences")
    if value is None:
        raise BadInput("{where}: evidences is missing", where=where)
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not 0 <= value <= MAX_EVIDENCE_LEVEL
    ):
        raise BadInput(
            "{where}: evidences is {value}; use a cooperation level 0-4 (0 no residents, 1 informed, 2 consulted, 3 collaborating, 4 co-producing)",
            where=where,
            value=repr(value),
        )
    return value
