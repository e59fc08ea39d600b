"""Government subsidies for one retrofit elevator, read from city profiles (domain.md §4).

A profile is a TOML file under `rules/profiles/subsidy/`: who pays, where the figure comes
from, and a list of components (a percentage of a base with a cap, a fixed sum, a table by
number of storeys). Components add up; the total never exceeds the project cost. Money is
integer fen; percentages are exact `Fraction`s and a subsidy is always rounded DOWN to the fen.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from colift.datafiles import reject_unknown
from colift.errors import BadInput
from colift.model.money import yuan as _yuan

COMPONENT_KINDS = ("percentage", "fixed", "per-storey")
# Names of the cost a percentage is taken of; see `SubsidyInput` for what each one means.
BASES = (
    "construction",
    "survey-design-construction",
    "construction-less-pipeline",
    "equipment",
    "pipeline",
)
_BASE_TEXT = {
    "construction": "construction cost",
    "survey-design-construction": "survey, design and construction cost",
    "construction-less-pipeline": "cost without pipeline relocation",
    "equipment": "equipment cost",
    "pipeline": "pipeline relocation cost",
}
BELOW_RULES = ("nothing", "lowest")
ABOVE_RULES = ("nothing", "highest")

_PROFILE_KEYS = frozenset({"id", "name_zh", "name_en", "city", "source", "notes", "component"})
_SOURCE_KEYS = frozenset({"title", "publisher", "date", "url", "confidence"})
_COMPONENT_KEYS = frozenset(
    {
        "kind",
        "label",
        "note",
        "percent",
        "base",
        "cap_fen",
        "optional",
        "fen",
        "table",
        "below",
        "above",
        "min_storeys",
        "max_storeys",
        "existing_shaft",
    }
)


def _percent_text(percent: Fraction) -> str:
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{float(percent):g}%"


@dataclass(frozen=True)
class SubsidyInput:
    """What a profile may need to know about one elevator project.

    `construction_fen` is the all-in project cost (survey, design, equipment, shaft, pipeline
    work): the unit's total cost. `equipment_fen` and `pipeline_fen` are parts of it, given only
    when a profile bases a component on them.
    """

    construction_fen: int
    storeys: int
    _: KW_ONLY
    equipment_fen: int | None = None
    pipeline_fen: int | None = None
    existing_shaft: bool = False

    def __post_init__(self) -> None:
        _check_fen(self.construction_fen, "construction_fen")
        if isinstance(self.storeys, bool) or not isinstance(self.storeys, int):
            raise BadInput(f"storeys must be a whole number, got {self.storeys!r}")
        if self.storeys < 1:
            raise BadInput(f"storeys must be 1 or more, got {self.storeys}")
        for name in ("equipment_fen", "pipeline_fen"):
            part = getattr(self, name)
            if part is None:
                continue
            _check_fen(part, name)
            if part > self.construction_fen:
                raise BadInput(
                    f"{name} {_yuan(part)} is more than the total cost "
                    f"{_yuan(self.construction_fen)}: it must be a part of the total"
                )

    def base_fen(self, base: str) -> int | None:
        """The cost a percentage is taken of; None when the caller did not give it."""
        if base in ("construction", "survey-design-construction"):
            return self.construction_fen
        if base == "construction-less-pipeline":
            return self.construction_fen - (self.pipeline_fen or 0)
        if base == "equipment":
            return self.equipment_fen
        if base == "pipeline":
            return self.pipeline_fen
        raise BadInput(f"unknown subsidy base {base!r}: use one of {', '.join(BASES)}")


def _check_fen(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number of fen (1 yuan = 100 fen), got {value!r}")
    if value < 0:
        raise BadInput(f"{name} must not be negative, got {value}")


@dataclass(frozen=True)
class SubsidySource:
    """Where a profile's figures come from, and how far to trust them."""

    title: str
    publisher: str
    date: str
    confidence: str
    url: str = ""


@dataclass(frozen=True)
class SubsidyLine:
    """One component's contribution, with the arithmetic spelled out."""

    label: str
    fen: int
    explanation: str


@dataclass(frozen=True)
class SubsidyResult:
    profile_id: str
    fen: int
    lines: tuple[SubsidyLine, ...]
    source: SubsidySource


@dataclass(frozen=True)
class SubsidyComponent:
    """One rule of a profile; which fields matter depends on `kind`."""

    kind: str
    label: str
    note: str = ""
    percent: Fraction | None = None  # percentage: 40 means 40 %
    base: str = "construction"  # percentage: the cost it is a share of
    cap_fen: int | None = None  # any kind: the most this component pays
    optional: bool = False  # percentage: a missing base gives 0 instead of an error
    fen: int | None = None  # fixed
    table: Mapping[int, int] = field(default_factory=dict)  # per-storey: storeys → fen
    below: str = "nothing"  # per-storey, fewer storeys than the table starts at
    above: str = "highest"  # per-storey, more storeys than the table reaches
    min_storeys: int | None = None  # condition: applies from this many storeys
    max_storeys: int | None = None  # condition: applies up to this many storeys
    existing_shaft: bool | None = None  # condition: None applies either way

    def applies(self, data: SubsidyInput) -> str:
        """Empty when the component applies, else the reason it does not."""
        if self.min_storeys is not None and data.storeys < self.min_storeys:
            return f"needs {self.min_storeys} or more storeys, the building has {data.storeys}"
        if self.max_storeys is not None and data.storeys > self.max_storeys:
            return f"needs {self.max_storeys} storeys or fewer, the building has {data.storeys}"
        if self.existing_shaft is not None and data.existing_shaft != self.existing_shaft:
            need = "with" if self.existing_shaft else "without"
            return f"only {need} an existing shaft"
        return ""

    def compute(self, data: SubsidyInput, profile_id: str) -> SubsidyLine:
        reason = self.applies(data)
        if reason:
            return SubsidyLine(self.label, 0, f"does not apply: {reason}")
        if self.kind == "percentage":
            return self._percentage(data, profile_id)
        if self.kind == "fixed":
            assert self.fen is not None
            return self._capped(self.fen, _yuan(self.fen) + " fixed", data.construction_fen)
        return self._per_storey(data)

    def _percentage(self, data: SubsidyInput, profile_id: str) -> SubsidyLine:
        assert self.percent is not None
        base_fen = data.base_fen(self.base)
        field_name = {"equipment": "equipment_fen", "pipeline": "pipeline_fen"}.get(self.base)
        if base_fen is None:
            if self.optional:
                return SubsidyLine(self.label, 0, f"no {field_name} given, so 0")
            raise BadInput(
                f"subsidy profile {profile_id} needs {field_name}: "
                f"the {self.label} is {_percent_text(self.percent)} of the {_BASE_TEXT[self.base]}"
            )
        # A subsidy is never rounded up: take the exact share, then round down to the fen.
        exact = self.percent / 100 * base_fen
        fen = exact.numerator // exact.denominator
        text = (
            f"{_percent_text(self.percent)} of {_BASE_TEXT[self.base]} {_yuan(base_fen)}"
            f" = {_yuan(fen)}"
        )
        return self._capped(fen, text, base_fen)

    def _per_storey(self, data: SubsidyInput) -> SubsidyLine:
        low, high = min(self.table), max(self.table)
        storeys = data.storeys
        if storeys < low:
            if self.below == "nothing":
                return SubsidyLine(self.label, 0, f"{storeys} storeys: the table starts at {low}")
            fen, text = self.table[low], f"{storeys} storeys: below the table, {low}-storey figure"
        elif storeys > high:
            if self.above == "nothing":
                return SubsidyLine(self.label, 0, f"{storeys} storeys: the table ends at {high}")
            fen, text = (
                self.table[high],
                f"{storeys} storeys: above the table, {high}-storey figure",
            )
        else:
            # A gap in the table takes the nearest listed storey count below it.
            row = max(s for s in self.table if s <= storeys)
            fen, text = self.table[row], f"{storeys} storeys: {row}-storey figure"
        return self._capped(fen, f"{text} {_yuan(fen)}", data.construction_fen)

    def _capped(self, fen: int, text: str, base_fen: int) -> SubsidyLine:
        if self.cap_fen is not None and fen > self.cap_fen:
            fen, text = self.cap_fen, f"{text}, capped at {_yuan(self.cap_fen)}"
        if fen > base_fen:
            fen, text = base_fen, f"{text}, limited to the cost {_yuan(base_fen)}"
        return SubsidyLine(self.label, fen, text)


@dataclass(frozen=True)
class SubsidyProfile:
    id: str
    name_zh: str
    name_en: str
    city: str
    source: SubsidySource
    components: tuple[SubsidyComponent, ...]
    notes: tuple[str, ...] = ()

    def compute(self, data: SubsidyInput) -> SubsidyResult:
        """Add up the components; the sum is limited to the whole project cost."""
        lines = [c.compute(data, self.id) for c in self.components]
        total = sum(line.fen for line in lines)
        if total > data.construction_fen:
            lines.append(
                SubsidyLine(
                    "limit",
                    data.construction_fen - total,
                    f"components total {_yuan(total)}, limited to the cost "
                    f"{_yuan(data.construction_fen)}",
                )
            )
            total = data.construction_fen
        return SubsidyResult(self.id, total, tuple(lines), self.source)


def _profile_dir() -> Traversable:
    return files("colift.rules") / "profiles" / "subsidy"


def available_subsidy_profiles() -> list[str]:
    """Ids of the packaged subsidy profiles, sorted."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _profile_dir().iterdir()
        if entry.name.endswith(".toml")
    )


@cache
def load_subsidy_profile(name: str) -> SubsidyProfile:
    """Load a packaged profile by id ("shanghai"); an unknown id lists the known ones."""
    key = name.strip().lower() if isinstance(name, str) else ""
    known = available_subsidy_profiles()
    if key not in known:
        raise BadInput(f"unknown subsidy profile {name!r}: known profiles are {', '.join(known)}")
    text = (_profile_dir() / f"{key}.toml").read_text(encoding="utf-8")
    profile = parse_subsidy_profile(text, origin=f"{key}.toml")
    if profile.id != key:
        raise BadInput(f"subsidy profile {key}.toml: id {profile.id!r} must match the file name")
    return profile


def parse_subsidy_profile(text: str, origin: str = "profile") -> SubsidyProfile:
    """Read one profile from TOML text; a wrong field raises BadInput naming it."""
    try:
        # Decimal keeps "0.4" exact should a profile write a float instead of a string.
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"subsidy profile {origin}: not valid TOML ({exc})") from None
    where = f"subsidy profile {origin}"
    reject_unknown(raw, _PROFILE_KEYS, where)
    source_raw = raw.get("source")
    if not isinstance(source_raw, dict):
        raise BadInput(f"{where}: a [source] table is required")
    reject_unknown(source_raw, _SOURCE_KEYS, f"{where} [source]")
    source = SubsidySource(
        title=_text(source_raw, "title", f"{where} [source]"),
        publisher=_text(source_raw, "publisher", f"{where} [source]"),
        date=_text(source_raw, "date", f"{where} [source]"),
        confidence=_text(source_raw, "confidence", f"{where} [source]"),
        url=_text(source_raw, "url", f"{where} [source]", required=False),
    )
    components_raw = raw.get("component", [])
    if not isinstance(components_raw, list):
        raise BadInput(f"{where}: components are written as [[component]] tables")
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise BadInput(f"{where}: notes must be a list of strings")
    return SubsidyProfile(
        id=_text(raw, "id", where),
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        city=_text(raw, "city", where),
        source=source,
        components=tuple(
            _parse_component(c, f"{where} component {i}")
            for i, c in enumerate(components_raw, start=1)
        ),
        notes=tuple(notes),
    )


def _parse_component(raw: object, where: str) -> SubsidyComponent:
    if not isinstance(raw, dict):
        raise BadInput(f"{where}: must be a table")
    reject_unknown(raw, _COMPONENT_KEYS, where)
    kind = _text(raw, "kind", where)
    if kind not in COMPONENT_KINDS:
        raise BadInput(f"{where}: kind {kind!r} is unknown: use {', '.join(COMPONENT_KINDS)}")
    label = _text(raw, "label", where)
    where = f"{where} ({label})"
    percent: Fraction | None = None
    fen: int | None = None
    table: dict[int, int] = {}
    base = _text(raw, "base", where, required=False) or "construction"
    if base not in BASES:
        raise BadInput(f"{where}: base {base!r} is unknown: use {', '.join(BASES)}")
    if kind == "percentage":
        percent = _percent(raw.get("percent"), where)
    elif kind == "fixed":
        fen = _fen_field(raw, "fen", where, required=True)
    else:
        table = _table(raw.get("table"), where)
    below = _text(raw, "below", where, required=False) or "nothing"
    above = _text(raw, "above", where, required=False) or "highest"
    if below not in BELOW_RULES:
        raise BadInput(f"{where}: below must be one of {', '.join(BELOW_RULES)}")
    if above not in ABOVE_RULES:
        raise BadInput(f"{where}: above must be one of {', '.join(ABOVE_RULES)}")
    shaft = raw.get("existing_shaft")
    optional = raw.get("optional", False)
    if shaft is not None and not isinstance(shaft, bool):
        raise BadInput(f"{where}: existing_shaft must be true or false")
    if not isinstance(optional, bool):
        raise BadInput(f"{where}: optional must be true or false")
    return SubsidyComponent(
        kind=kind,
        label=label,
        note=_text(raw, "note", where, required=False),
        percent=percent,
        base=base,
        cap_fen=_fen_field(raw, "cap_fen", where, required=False),
        optional=optional,
        fen=fen,
        table=table,
        below=below,
        above=above,
        min_storeys=_storeys_field(raw, "min_storeys", where),
        max_storeys=_storeys_field(raw, "max_storeys", where),
        existing_shaft=shaft,
    )


def _text(raw: Mapping[str, object], key: str, where: str, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadInput(f"{where}: {key} must be a non-empty text")
    return value


def _percent(value: object, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise BadInput(f'{where}: percent must be a number such as "40"')
    try:
        percent = Fraction(str(value))
    except ValueError:
        raise BadInput(f"{where}: percent {value!r} is not a number") from None
    if not 0 <= percent <= 100:
        raise BadInput(f"{where}: percent {value} must be between 0 and 100")
    return percent


def _fen_field(raw: Mapping[str, object], key: str, where: str, required: bool) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise BadInput(f"{where}: {key} is required (whole fen, 1 yuan = 100 fen)")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(f"{where}: {key} must be a whole, non-negative number of fen")
    return value


def _storeys_field(raw: Mapping[str, object], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(f"{where}: {key} must be a whole number of storeys, 1 or more")
    return value


def _table(value: object, where: str) -> dict[int, int]:
    if not isinstance(value, dict) or not value:
        raise BadInput(f"{where}: a per-storey component needs a table of storeys = fen")
    table: dict[int, int] = {}
    for key, fen in value.items():
        try:
            storeys = int(key)
        except ValueError:
            raise BadInput(f"{where}: table key {key!r} is not a number of storeys") from None
        if storeys < 1:
            raise BadInput(f"{where}: table key {key!r} must be 1 or more")
        if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
            raise BadInput(f"{where}: table[{key}] must be a whole, non-negative number of fen")
        table[storeys] = fen
    return table
