"""Parameters of the simulation (docs/simulation.md §2): every default named, with its source.

`Defaults` (also named `Params`) holds the behavioural and procedural parameters. Their values
live in the packaged data file `defaults.toml`, each with its source and confidence, read by the
strict loader of `colift.datafiles`; the Mesa reference reads the same file. `with_overrides`
gives a checked copy with some values changed (calibration, sensitivity). A `Scenario` adds what a user
chooses: the consent rule, the subsidy profile, the cost and its sharing scheme, compensation for
low floors, the strategy and the horizon. Scenarios are read from TOML or from a dict; unknown keys
are refused by name so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from colift.datafiles import Source, load_toml, read_toml, reject_unknown
from colift.errors import BadInput, NotFound

DEFAULTS_FILE = "defaults.toml"
CONFIDENCES = ("confirmed", "secondary", "assumption")
_ENTRY_KEYS = frozenset({"value", "source", "confidence", "range"})


@dataclass(frozen=True)
class ParamInfo:
    """One parameter as the data file gives it: default, source, confidence, plausible range."""

    name: str
    value: Any
    source: str
    confidence: str
    range: tuple[float, float] | None = None


def _as_tuple(value: Any) -> Any:
    """TOML and JSON give lists; parameters hold tuples (nested for bands)."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
    return value


def read_parameter_table(source: Source) -> dict[str, ParamInfo]:
    """Every parameter of a defaults file, each checked: value, source, confidence, range."""
    document = load_toml(source, "simulation defaults")
    table: dict[str, ParamInfo] = {}
    for name, raw in document.data.items():
        where = f"{document.origin} [{name}]"
        if not isinstance(raw, Mapping):
            raise BadInput(
                "{where}: each parameter is a table with value, source and confidence",
                where=where,
            )
        reject_unknown(raw, _ENTRY_KEYS, where)
        missing = [k for k in ("value", "source", "confidence") if k not in raw]
        if missing:
            raise BadInput("{where}: {keys} missing", where=where, keys=", ".join(missing))
        if raw["confidence"] not in CONFIDENCES:
            raise BadInput(
                "{where}: confidence {value} is not one of {known}",
                where=where,
                value=str(raw["confidence"]),
                known=", ".join(CONFIDENCES),
            )
        span = raw.get("range")
        if span is not None:
            ok = (
                isinstance(span, list)
                and len(span) == 2
                and all(isinstance(x, int | float) and not isinstance(x, bool) for x in span)
                and isinstance(raw["value"], int | float)
                and span[0] <= raw["value"] <= span[1]
            )
            if not ok:
                raise BadInput(
                    "{where}: range must be [lo, hi] around the value, lo ≤ value ≤ hi",
                    where=where,
                )
            span = (float(span[0]), float(span[1]))
        table[name] = ParamInfo(
            name, _as_tuple(raw["value"]), str(raw["source"]), str(raw["confidence"]), span
        )
    return table


@cache
def parameter_table() -> Mapping[str, ParamInfo]:
    """The packaged defaults (`colift/sim/defaults.toml`), the one place their numbers live."""
    return MappingProxyType(read_parameter_table(files("colift.sim") / DEFAULTS_FILE))


def _p(name: str) -> Any:
    """A dataclass field whose default, source and confidence come from the data file."""
    info = parameter_table()[name]
    return field(
        default=info.value, metadata={"source": info.source, "confidence": info.confidence}
    )


@dataclass(frozen=True)
class Defaults:
    """Every number the model uses that is not a law, a price or a user's choice.

    The values live in `defaults.toml` (data, with source and confidence); this class gives them
    types and checks. `Params` is the same class under the name calibration code uses; change a
    copy with `with_overrides`.
    """

    support_prior: tuple[tuple[float, float], ...] = _p("support_prior")
    support_need_upper: float = _p("support_need_upper")
    need_floor_min: int = _p("need_floor_min")
    thresholds: tuple[float, ...] = _p("thresholds")
    abstain_band: float = _p("abstain_band")
    susceptibility_resident: float = _p("susceptibility_resident")
    susceptibility_leader: float = _p("susceptibility_leader")
    party_anchor: float = _p("party_anchor")
    elderly_share: float = _p("elderly_share")
    need_share: float = _p("need_share")
    party_share: float = _p("party_share")
    tenure_shares: tuple[float, ...] = _p("tenure_shares")
    two_flat_share: float = _p("two_flat_share")
    area_m2: tuple[float, float] = _p("area_m2")
    ability_median_fen: int = _p("ability_median_fen")
    ability_sigma: float = _p("ability_sigma")
    low_floor_loss_1f: float = _p("low_floor_loss_1f")
    low_floor_loss_2f: float = _p("low_floor_loss_2f")
    compensation_full_fen: int = _p("compensation_full_fen")
    cost_weight: float = _p("cost_weight")
    cost_reference: float = _p("cost_reference")
    cost_cap: float = _p("cost_cap")
    afford_factor: float = _p("afford_factor")
    pool_share: float = _p("pool_share")
    subsidy_tool_cap: float = _p("subsidy_tool_cap")
    p_media: float = _p("p_media")
    w_same_floor: float = _p("w_same_floor")
    w_adjacent: float = _p("w_adjacent")
    w_party: float = _p("w_party")
    persuasion_cap: float = _p("persuasion_cap")
    pressure_cap: float = _p("pressure_cap")
    targets_per_use: int = _p("targets_per_use")
    trust_alone: float = _p("trust_alone")
    trust_direct: float = _p("trust_direct")
    technical_fix_p: float = _p("technical_fix_p")
    advisor_cooldown_weeks: int = _p("advisor_cooldown_weeks")
    negotiation_median_weeks: float = _p("negotiation_median_weeks")
    negotiation_sigma: float = _p("negotiation_sigma")
    approval_weeks: tuple[int, int] = _p("approval_weeks")
    approval_min_weeks: int = _p("approval_min_weeks")
    construction_weeks: tuple[int, int] = _p("construction_weeks")
    acceptance_weeks: tuple[int, int] = _p("acceptance_weeks")
    p_object: float = _p("p_object")
    objection_resolve_weekly: tuple[float, ...] = _p("objection_resolve_weekly")
    objection_escalate_weeks: tuple[int, ...] = _p("objection_escalate_weeks")
    objection_deadline_weeks: int = _p("objection_deadline_weeks")
    p_technical: float = _p("p_technical")
    technical_deadline_weeks: int = _p("technical_deadline_weeks")
    p_occupied: float = _p("p_occupied")
    p_initiator_exit: float = _p("p_initiator_exit")
    p_replace_guided: float = _p("p_replace_guided")
    stall_fail_weeks: int = _p("stall_fail_weeks")
    deadline_weeks: int = _p("deadline_weeks")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float | tuple):
                raise BadInput(
                    "defaults.{name}: {value} is not a number or a list",
                    name=f.name,
                    value=repr(value),
                )
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, int) and not isinstance(value, int):
                raise BadInput(
                    "defaults.{name}: {value} must be a whole number", name=f.name, value=value
                )
        for name in (
            "p_media",
            "p_object",
            "p_technical",
            "p_occupied",
            "p_initiator_exit",
            "p_replace_guided",
            "elderly_share",
            "need_share",
            "party_share",
            "two_flat_share",
            "technical_fix_p",
            "pool_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise BadInput(
                    "defaults.{name}: {value} must be a probability in [0, 1]",
                    name=name,
                    value=value,
                )
        if len(self.support_prior) != 4 or len(self.thresholds) != 4:
            raise BadInput(
                "defaults: support_prior and thresholds need 4 floor bands (1, 2, 3, 4+)"
            )
        if any(len(band) != 2 or band[0] > band[1] for band in self.support_prior):
            raise BadInput("defaults.support_prior: each band is (lo, hi) with lo ≤ hi")
        if len(self.tenure_shares) != 4 or abs(sum(self.tenure_shares) - 1.0) > 1e-9:
            raise BadInput("defaults.tenure_shares: four shares adding up to 1")
        if len(self.objection_resolve_weekly) != 4 or len(self.objection_escalate_weeks) != 3:
            raise BadInput("defaults: 4 objection resolution rates and 3 escalation delays")
        for name in ("approval_weeks", "construction_weeks", "acceptance_weeks"):
            lo, hi = getattr(self, name)
            if not 1 <= lo <= hi:
                raise BadInput("defaults.{name}: (lo, hi) weeks with 1 ≤ lo ≤ hi", name=name)

    def sources(self) -> dict[str, str]:
        """Each parameter's source, by name."""
        return {f.name: str(f.metadata["source"]) for f in dataclasses.fields(self)}

    def confidences(self) -> dict[str, str]:
        """Each parameter's confidence (confirmed, secondary, assumption), by name."""
        return {f.name: str(f.metadata["confidence"]) for f in dataclasses.fields(self)}

    def to_dict(self) -> dict[str, Any]:
        """Every value by name, as plain data (lists for tuples)."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def with_overrides(self, changes: Mapping[str, Any] | None = None, /, **more: Any) -> Defaults:
        """A checked copy with some values changed; an unknown name is refused by name.

        `Params().with_overrides({"trust_alone": 0.5})` or `.with_overrides(trust_alone=0.5)`;
        lists become tuples, and the copy passes the same checks as the defaults.
        """
        values = {**(changes or {}), **more}
        known = {f.name for f in dataclasses.fields(self)}
        for name in values:
            if name not in known:
                raise BadInput(
                    "unknown parameter {name}: {hint}", name=name, hint=_near(name, known)
                )
        if not values:
            return self
        return dataclasses.replace(self, **{k: _as_tuple(v) for k, v in values.items()})


# The name calibration and sensitivity code use for the same typed parameter set.
Params = Defaults

_unlisted = sorted({f.name for f in dataclasses.fields(Defaults)} ^ set(parameter_table()))
if _unlisted:  # a field without data, or data without a field: both are mistakes
    raise BadInput(
        "{file}: parameters {names} are in the data file or the Defaults class, not both",
        file=DEFAULTS_FILE,
        names=", ".join(_unlisted),
    )


# Floor coefficients of the Guangzhou example (docs/costshare.md), with 2F paying 0.4.
DEFAULT_SCHEME: Mapping[str, Any] = MappingProxyType(
    {
        "kind": "floor-coefficient",
        "coefficients": {
            "1": "0",
            "2": "0.4",
            "3": "0.7",
            "4": "0.8",
            "5": "0.9",
            "6": "1.0",
            "7": "1.1",
            "8": "1.2",
            "9": "1.3",
        },
        "default": "1.3",
        "area_weighted": True,
    }
)


def _default_scheme() -> Mapping[str, Any]:
    return DEFAULT_SCHEME


@dataclass(frozen=True)
class Scenario:
    """What is simulated: rule, money, strategy and horizon, over `defaults`."""

    name: str = "default"
    defaults: Defaults = field(default_factory=Defaults)
    consent_profile: str = "cn-civil-code-278"
    subsidy_profile: str | None = None
    total_cost_fen: int = 45_000_000
    scheme: Mapping[str, Any] = field(default_factory=_default_scheme)
    compensation_fen: int = 0  # K per 1F household, raised from the payers
    strategy: str | Mapping[str, Any] = "guided"
    weeks: int = 104

    def __post_init__(self) -> None:
        from colift.rules.consent import load_profile
        from colift.rules.subsidy import load_subsidy_profile
        from colift.sim.strategies import strategy_for

        if not isinstance(self.defaults, Defaults):
            raise BadInput("scenario: defaults must be a Defaults")
        for name in ("total_cost_fen", "compensation_fen", "weeks"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise BadInput(
                    "scenario: {name} must be a whole number ≥ 0, got {value}",
                    name=name,
                    value=repr(value),
                )
        try:
            load_profile(self.consent_profile)
        except NotFound as exc:
            raise BadInput(exc.message) from None
        if self.subsidy_profile is not None:
            load_subsidy_profile(self.subsidy_profile)
        scheme_of(self)
        strategy_for(self.strategy)

    def __hash__(self) -> int:
        # The scheme and a schedule are mappings; hash the plain data they stand for.
        return hash(repr(self.to_dict()))

    def replace(self, **changes: Any) -> Scenario:
        """A copy with fields changed; "defaults.p_object" changes one default."""
        top: dict[str, Any] = {}
        inner: dict[str, Any] = {}
        names = {f.name for f in dataclasses.fields(Scenario)}
        default_names = {f.name for f in dataclasses.fields(Defaults)}
        for key, value in changes.items():
            if key.startswith("defaults."):
                sub = key.removeprefix("defaults.")
                if sub not in default_names:
                    raise BadInput(
                        "unknown parameter {key}: {near}",
                        key=repr(key),
                        near=_near(sub, default_names),
                    )
                inner[sub] = _as_tuple(value)
            elif key in names:
                top[key] = value
            else:
                raise BadInput(
                    "unknown scenario field {key}: {near}", key=repr(key), near=_near(key, names)
                )
        if inner:
            base = top.get("defaults", self.defaults)
            top["defaults"] = dataclasses.replace(base, **inner)
        return dataclasses.replace(self, **top)

    def with_params(self, changes: Mapping[str, Any] | None = None, /, **more: Any) -> Scenario:
        """A copy whose parameters are `defaults.with_overrides(...)` (checked, by name)."""
        return dataclasses.replace(self, defaults=self.defaults.with_overrides(changes, **more))

    def to_dict(self) -> dict[str, Any]:
        """Plain data that `scenario_from_dict` reads back to an equal scenario."""
        return {
            "name": self.name,
            "consent_profile": self.consent_profile,
            "subsidy_profile": self.subsidy_profile,
            "total_cost_fen": self.total_cost_fen,
            "scheme": _plain(self.scheme),
            "compensation_fen": self.compensation_fen,
            "strategy": _plain(self.strategy),
            "weeks": self.weeks,
            "defaults": {
                f.name: _plain(getattr(self.defaults, f.name)) for f in dataclasses.fields(Defaults)
            },
        }


def scheme_of(scenario: Scenario) -> Any:
    """The scenario's scheme as a `CostScheme`, parsed by the cost-share rules themselves."""
    from colift.rules.costshare import _parse_scheme

    if not isinstance(scenario.scheme, Mapping):
        raise BadInput('scenario: scheme must be a table such as {kind = "floor-coefficient"}')
    return _parse_scheme(_plain(scenario.scheme), "scenario scheme")


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _near(key: str, known: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, sorted(known), n=3, cutoff=0.6)
    return f"did you mean {', '.join(close)}?" if close else f"known: {', '.join(sorted(known))}"


_TOP_KEYS = frozenset(f.name for f in dataclasses.fields(Scenario))


def scenario_from_dict(data: Mapping[str, Any]) -> Scenario:
    """A scenario from plain data (parsed TOML or JSON); unknown keys are named in the error."""
    if not isinstance(data, Mapping):
        raise BadInput("a scenario must be a table of fields")
    reject_unknown(data, _TOP_KEYS, "scenario")
    values = {k: v for k, v in data.items() if k != "defaults"}
    raw_defaults = data.get("defaults", {})
    if not isinstance(raw_defaults, Mapping):
        raise BadInput("scenario: defaults must be a table")
    known = {f.name for f in dataclasses.fields(Defaults)}
    bad = sorted(set(raw_defaults) - known)
    if bad:
        raise BadInput(
            "scenario: unknown default{len} {bad}; {near}",
            len="s" if len(bad) > 1 else "",
            bad=", ".join(bad),
            near=_near(bad[0], known),
        )
    try:
        defaults = Defaults(**{k: _as_tuple(v) for k, v in raw_defaults.items()})
    except TypeError as exc:
        raise BadInput("scenario defaults: {exc}", exc=exc) from None
    if "strategy" in values and isinstance(values["strategy"], Mapping):
        values["strategy"] = MappingProxyType(dict(values["strategy"]))
    if "scheme" in values and isinstance(values["scheme"], Mapping):
        values["scheme"] = MappingProxyType(dict(values["scheme"]))
    return Scenario(defaults=defaults, **values)


def load_scenario(path: Path) -> Scenario:
    """A scenario from a TOML file: top-level fields and a [defaults] table."""
    return scenario_from_dict(read_toml(path, "scenario"))
