"""Government subsidies for one retrofit elevator, read from city profiles (domain.md §4).

A profile is a TOML file under `rules/profiles/subsidy/`: who pays, since when, where the figure
comes from and how far it was checked, and a list of components (a percentage of a base with a
cap, a fixed sum, a table by number of storeys, running money bundled into the sum). Components
add up; the total never exceeds the project cost. A district's profile names the city profile
it `adds_to`: its lines come on top of the city's. A city's name ("beijing") resolves to the
version in force on the day, a dated id ("chengdu-2018") stays. Money is integer fen;
percentages are exact `Fraction`s and a subsidy is always rounded DOWN to the fen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import KW_ONLY, dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

from colift.datafiles import TomlText, load_toml, reject_unknown
from colift.errors import BadInput
from colift.model.money import yuan as _yuan

COMPONENT_KINDS = ("percentage", "fixed", "per-storey", "bundled-running")
CONFIDENCES = ("confirmed", "secondary", "assumption")
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

_PROFILE_KEYS = frozenset(
    {
        "id",
        "key",
        "name_zh",
        "name_en",
        "city",
        "in_force_from",
        "in_force_until",
        "confidence",
        "adds_to",
        "amount_known",
        "source",
        "notes",
        "component",
    }
)
_SOURCE_KEYS = frozenset({"title", "publisher", "date", "url", "confidence", "note"})
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
        "years",
        "extra_fen",
        "assumed_annual_fen",
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
    maintenance_annual_fen: int | None = None  # the plan's yearly maintenance, for bundled money

    def __post_init__(self) -> None:
        _check_fen(self.construction_fen, "construction_fen")
        if isinstance(self.storeys, bool) or not isinstance(self.storeys, int):
            raise BadInput(
                "storeys must be a whole number, got {storeys}", storeys=repr(self.storeys)
            )
        if self.storeys < 1:
            raise BadInput("storeys must be 1 or more, got {storeys}", storeys=self.storeys)
        if self.maintenance_annual_fen is not None:
            _check_fen(self.maintenance_annual_fen, "maintenance_annual_fen")
        for name in ("equipment_fen", "pipeline_fen"):
            part = getattr(self, name)
            if part is None:
                continue
            _check_fen(part, name)
            if part > self.construction_fen:
                raise BadInput(
                    "{name} {yuan} is more than the total cost {yuan2}: it must be a part of the total",
                    name=name,
                    yuan=_yuan(part),
                    yuan2=_yuan(self.construction_fen),
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
        raise BadInput(
            "unknown subsidy base {base}: use one of {BASES}",
            base=repr(base),
            BASES=", ".join(BASES),
        )


def _check_fen(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(
            "{name} must be a whole number of fen (1 yuan = 100 fen), got {value}",
            name=name,
            value=repr(value),
        )
    if value < 0:
        raise BadInput("{name} must not be negative, got {value}", name=name, value=value)


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
    """One component's contribution, with the arithmetic spelled out.

    `running_fen` is money the component holds back for running costs (a sum that bundles
    years of maintenance): it is part of the grant but not construction money."""

    label: str
    fen: int
    explanation: str
    running_fen: int = 0
    profile_id: str = ""


@dataclass(frozen=True)
class SubsidyResult:
    """A grant: `fen` goes to construction, `running_fen` is held for running costs."""

    profile_id: str
    fen: int
    lines: tuple[SubsidyLine, ...]
    source: SubsidySource
    running_fen: int = 0


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
    years: int = 0  # bundled-running: years of maintenance the grant includes
    extra_fen: int = 0  # bundled-running: a fixed running sum on top (electricity)
    assumed_annual_fen: int | None = None  # bundled-running: yearly maintenance if none given
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
            limit = data.base_fen(self.base) if self.base != "construction" else None
            return self._capped(
                self.fen,
                _yuan(self.fen) + " fixed",
                data.construction_fen if limit is None else limit,
            )
        if self.kind == "bundled-running":
            return self._bundled(data, profile_id)
        return self._per_storey(data)

    def _bundled(self, data: SubsidyInput, profile_id: str) -> SubsidyLine:
        """Running money inside the grant: moved out of construction money, to the fen."""
        annual = data.maintenance_annual_fen
        assumed = ""
        if annual is None:
            if self.assumed_annual_fen is None:
                raise BadInput(
                    "subsidy profile {profile} includes {years} years of maintenance: mark the "
                    'plan\'s yearly maintenance as a running cost of kind "maintenance" so it can '
                    "be separated",
                    profile=profile_id,
                    years=self.years,
                )
            annual = self.assumed_annual_fen
            assumed = " (assumed: the plan marks no yearly maintenance)"
        running = self.years * annual + self.extra_fen
        text = (
            f"{self.years} years × maintenance {_yuan(annual)}{assumed}"
            f" + {_yuan(self.extra_fen)} = {_yuan(running)} held for running costs"
        )
        return SubsidyLine(self.label, -running, text, running_fen=running)

    def _percentage(self, data: SubsidyInput, profile_id: str) -> SubsidyLine:
        assert self.percent is not None
        base_fen = data.base_fen(self.base)
        field_name = {"equipment": "equipment_fen", "pipeline": "pipeline_fen"}.get(self.base)
        if base_fen is None:
            if self.optional:
                return SubsidyLine(self.label, 0, f"no {field_name} given, so 0")
            raise BadInput(
                "subsidy profile {profile_id} needs {field_name}: the {label} is {percent_text} of the {BASE_TEXT}",
                profile_id=profile_id,
                field_name=field_name,
                label=self.label,
                percent_text=_percent_text(self.percent),
                BASE_TEXT=_BASE_TEXT[self.base],
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
    key: str = ""
    in_force_from: date | None = None
    in_force_until: date | None = None
    confidence: str = "assumption"
    adds_to: str = ""  # a district top-up: the key of the city profile it adds to
    amount_known: bool = True
    base: SubsidyProfile | None = None  # the city profile a district top-up adds to
    sha256: str = ""

    def in_force_on(self, day: date) -> bool:
        if self.in_force_from is not None and day < self.in_force_from:
            return False
        return self.in_force_until is None or day <= self.in_force_until

    def compute(self, data: SubsidyInput) -> SubsidyResult:
        """Add up the components (a district's on top of its city's); the sum is limited to
        the whole project cost, and bundled running money is kept apart from construction."""
        if not self.amount_known:
            raise BadInput(
                "{name}: no amount of this subsidy was found in what colift could read; give "
                "the amount in the approval letter as subsidy_fen",
                name=self.name_en,
            )
        lines = list(self.base.compute(data).lines) if self.base is not None else []
        lines += [replace(c.compute(data, self.id), profile_id=self.id) for c in self.components]
        running = sum(line.running_fen for line in lines)
        total = sum(line.fen for line in lines)
        if total < 0:
            raise BadInput(
                "subsidy profile {profile}: the running money {running} is more than the grant",
                profile=self.id,
                running=_yuan(running),
            )
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
        return SubsidyResult(self.id, total, tuple(lines), self.source, running)


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
def _packaged(profile_id: str) -> SubsidyProfile:
    document = load_toml(
        _profile_dir() / f"{profile_id}.toml", "subsidy profile", exact_floats=True
    )
    profile = subsidy_profile_from(document.data, document.origin, document.sha256)
    if profile.id != profile_id:
        raise BadInput(
            "subsidy profile {file}: id {id} must match the file name",
            file=document.origin,
            id=repr(profile.id),
        )
    return profile


def all_subsidy_profiles() -> list[SubsidyProfile]:
    return [_packaged(name) for name in available_subsidy_profiles()]


def subsidy_keys() -> list[str]:
    return sorted({p.key for p in all_subsidy_profiles()})


def load_subsidy_profile(name: str, on: date | None = None) -> SubsidyProfile:
    """A packaged profile by id ("chengdu-2018") or by city name ("beijing", the version in
    force on `on`, default today); a district top-up comes with its city's profile inside."""
    key = name.strip().lower() if isinstance(name, str) else ""
    day = on or date.today()
    known = available_subsidy_profiles()
    if key in known:
        profile = _packaged(key)
    else:
        versions = [p for p in all_subsidy_profiles() if p.key == key]
        if not versions:
            raise BadInput(
                "unknown subsidy profile {name}: known profiles are {known}",
                name=repr(name),
                known=", ".join(sorted(set(known) | set(subsidy_keys()))),
            )
        current = [p for p in versions if p.in_force_on(day)]
        if not current:
            raise BadInput(
                "no {name} subsidy was in force on {on}; versions: {ids}",
                name=key,
                on=day.isoformat(),
                ids=", ".join(sorted(p.id for p in versions)),
            )
        profile = max(current, key=lambda p: p.in_force_from or date.min)
    if profile.adds_to:
        profile = replace(profile, base=load_subsidy_profile(profile.adds_to, day))
    return profile


def parse_subsidy_profile(text: str, origin: str = "profile") -> SubsidyProfile:
    """Read one profile from TOML text; a wrong field raises BadInput naming it."""
    document = load_toml(TomlText(text, origin), "subsidy profile", exact_floats=True)
    return subsidy_profile_from(document.data, origin, document.sha256)


def _day(raw: Mapping[str, object], key: str, where: str) -> date | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BadInput("{where}: {key} must be a date such as 2021-01-01", where=where, key=key)
    return value


def subsidy_profile_from(
    raw: Mapping[str, object], origin: str, sha256: str = ""
) -> SubsidyProfile:
    """A profile from its parsed TOML table."""
    where = f"subsidy profile {origin}"
    reject_unknown(raw, _PROFILE_KEYS, where)
    source_raw = raw.get("source")
    if not isinstance(source_raw, dict):
        raise BadInput("{where}: a [source] table is required", where=where)
    reject_unknown(source_raw, _SOURCE_KEYS, f"{where} [source]")
    source = SubsidySource(
        title=_text(source_raw, "title", f"{where} [source]"),
        publisher=_text(source_raw, "publisher", f"{where} [source]", required=False),
        date=_text(source_raw, "date", f"{where} [source]", required=False),
        confidence=_text(source_raw, "confidence", f"{where} [source]"),
        url=_text(source_raw, "url", f"{where} [source]", required=False),
    )
    for level in (source.confidence, raw.get("confidence", "assumption")):
        if level not in CONFIDENCES:
            raise BadInput(
                "{where}: confidence {value} must be one of {choices}",
                where=where,
                value=repr(level),
                choices=", ".join(CONFIDENCES),
            )
    components_raw = raw.get("component", [])
    if not isinstance(components_raw, list):
        raise BadInput("{where}: components are written as [[component]] tables", where=where)
    notes = raw.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise BadInput("{where}: notes must be a list of strings", where=where)
    amount_known = raw.get("amount_known", True)
    if not isinstance(amount_known, bool):
        raise BadInput("{where}: amount_known must be true or false", where=where)
    profile_id = _text(raw, "id", where)
    return SubsidyProfile(
        id=profile_id,
        name_zh=_text(raw, "name_zh", where),
        name_en=_text(raw, "name_en", where),
        city=_text(raw, "city", where),
        source=source,
        components=tuple(
            _parse_component(c, f"{where} component {i}")
            for i, c in enumerate(components_raw, start=1)
        ),
        notes=tuple(notes),
        key=_text(raw, "key", where, required=False) or profile_id,
        in_force_from=_day(raw, "in_force_from", where),
        in_force_until=_day(raw, "in_force_until", where),
        confidence=str(raw.get("confidence", "assumption")),
        adds_to=_text(raw, "adds_to", where, required=False),
        amount_known=amount_known,
        sha256=sha256,
    )


def _parse_component(raw: object, where: str) -> SubsidyComponent:
    if not isinstance(raw, dict):
        raise BadInput("{where}: must be a table", where=where)
    reject_unknown(raw, _COMPONENT_KEYS, where)
    kind = _text(raw, "kind", where)
    if kind not in COMPONENT_KINDS:
        raise BadInput(
            "{where}: kind {kind} is unknown: use {COMPONENT_KINDS}",
            where=where,
            kind=repr(kind),
            COMPONENT_KINDS=", ".join(COMPONENT_KINDS),
        )
    label = _text(raw, "label", where)
    where = f"{where} ({label})"
    percent: Fraction | None = None
    fen: int | None = None
    table: dict[int, int] = {}
    base = _text(raw, "base", where, required=False) or "construction"
    if base not in BASES:
        raise BadInput(
            "{where}: base {base} is unknown: use {BASES}",
            where=where,
            base=repr(base),
            BASES=", ".join(BASES),
        )
    if kind == "percentage":
        percent = _percent(raw.get("percent"), where)
    elif kind == "fixed":
        fen = _fen_field(raw, "fen", where, required=True)
    elif kind == "per-storey":
        table = _table(raw.get("table"), where)
    below = _text(raw, "below", where, required=False) or "nothing"
    above = _text(raw, "above", where, required=False) or "highest"
    if below not in BELOW_RULES:
        raise BadInput(
            "{where}: below must be one of {BELOW_RULES}",
            where=where,
            BELOW_RULES=", ".join(BELOW_RULES),
        )
    if above not in ABOVE_RULES:
        raise BadInput(
            "{where}: above must be one of {ABOVE_RULES}",
            where=where,
            ABOVE_RULES=", ".join(ABOVE_RULES),
        )
    shaft = raw.get("existing_shaft")
    optional = raw.get("optional", False)
    if shaft is not None and not isinstance(shaft, bool):
        raise BadInput("{where}: existing_shaft must be true or false", where=where)
    if not isinstance(optional, bool):
        raise BadInput("{where}: optional must be true or false", where=where)
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
        years=_storeys_field(raw, "years", where) or 0,
        extra_fen=_fen_field(raw, "extra_fen", where, required=False) or 0,
        assumed_annual_fen=_fen_field(raw, "assumed_annual_fen", where, required=False),
    )


def _text(raw: Mapping[str, object], key: str, where: str, required: bool = True) -> str:
    value = raw.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadInput("{where}: {key} must be a non-empty text", where=where, key=key)
    return value


def _percent(value: object, where: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise BadInput('{where}: percent must be a number such as "40"', where=where)
    try:
        percent = Fraction(str(value))
    except ValueError:
        raise BadInput(
            "{where}: percent {value} is not a number", where=where, value=repr(value)
        ) from None
    if not 0 <= percent <= 100:
        raise BadInput(
            "{where}: percent {value} must be between 0 and 100", where=where, value=value
        )
    return percent


def _fen_field(raw: Mapping[str, object], key: str, where: str, required: bool) -> int | None:
    value = raw.get(key)
    if value is None:
        if required:
            raise BadInput(
                "{where}: {key} is required (whole fen, 1 yuan = 100 fen)", where=where, key=key
            )
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadInput(
            "{where}: {key} must be a whole, non-negative number of fen", where=where, key=key
        )
    return value


def _storeys_field(raw: Mapping[str, object], key: str, where: str) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadInput(
            "{where}: {key} must be a whole number of storeys, 1 or more", where=where, key=key
        )
    return value


def _table(value: object, where: str) -> dict[int, int]:
    if not isinstance(value, dict) or not value:
        raise BadInput(
            "{where}: a per-storey component needs a table of storeys = fen", where=where
        )
    table: dict[int, int] = {}
    for key, fen in value.items():
        try:
            storeys = int(key)
        except ValueError:
            raise BadInput(
                "{where}: table key {key} is not a number of storeys", where=where, key=repr(key)
            ) from None
        if storeys < 1:
            raise BadInput("{where}: table key {key} must be 1 or more", where=where, key=repr(key))
        if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
            raise BadInput(
                "{where}: table[{key}] must be a whole, non-negative number of fen",
                where=where,
                key=key,
            )
        table[storeys] = fen
    return table
