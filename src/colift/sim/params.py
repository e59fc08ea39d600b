"""Parameters of the simulation (docs/simulation.md §2): every default named, with its source.

`Defaults` holds the behavioural and procedural parameters, each field carrying
`metadata["source"]` (a study, a domain note, or "assumption"). A `Scenario` adds what a user
chooses: the consent rule, the subsidy profile, the cost and its sharing scheme, compensation for
low floors, the strategy and the horizon. Scenarios are read from TOML or from a dict; unknown keys
are refused by name so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from colift.datafiles import read_toml, reject_unknown
from colift.errors import BadInput, NotFound

BRIEF = "simulation brief (assumption to calibrate)"
ASSUMPTION = "assumption"


def _p(default: Any, source: str) -> Any:
    """A dataclass field with its source in the metadata."""
    return field(default=default, metadata={"source": source})


@dataclass(frozen=True)
class Defaults:
    """Every number the model uses that is not a law, a price or a user's choice."""

    # ------------------------------------------------------------ households and their support
    support_prior: tuple[tuple[float, float], ...] = _p(
        ((0.15, 0.35), (0.40, 0.60), (0.70, 0.85), (0.85, 0.95)),
        BRIEF + ": uniform (lo, hi) for floors 1, 2, 3, 4 and above",
    )
    support_need_upper: float = _p(
        0.95, "simulation brief: an upper-floor household with an elderly or impaired resident"
    )
    need_floor_min: int = _p(3, "Shanghai hedonic data: floor 3 is the break-even floor")
    thresholds: tuple[float, ...] = _p(
        (0.70, 0.50, 0.30, 0.15),
        "simulation brief: Granovetter thresholds for floors 1, 2, 3, 4+ (assumption)",
    )
    abstain_band: float = _p(0.25, "docs/simulation.md §3: abstain within 0.25 below θ")
    susceptibility_resident: float = _p(0.8, "simulation brief (Friedkin–Johnsen)")
    susceptibility_leader: float = _p(0.1, "simulation brief (Friedkin–Johnsen)")
    party_anchor: float = _p(0.95, "docs/simulation.md §4: embedded Party members' anchor")
    elderly_share: float = _p(0.35, "Shanghai, Hangzhou, Beijing reports (30–40%)")
    need_share: float = _p(0.05, ASSUMPTION + ": households with a mobility need")
    party_share: float = _p(0.10, ASSUMPTION + ": households with a Party member")
    tenure_shares: tuple[float, ...] = _p(
        (0.72, 0.15, 0.12, 0.01),
        ASSUMPTION + ": owner-occupied, rented, absentee, developer-held (1990s walk-ups)",
    )
    two_flat_share: float = _p(0.03, ASSUMPTION + ": flats whose owner holds a second flat")
    area_m2: tuple[float, float] = _p((45.0, 90.0), "1990s walk-up flat sizes (domain notes)")
    ability_median_fen: int = _p(12_000_000, ASSUMPTION + ": median ability to pay, ¥120,000")
    ability_sigma: float = _p(0.7, ASSUMPTION + ": lognormal spread of ability to pay")
    # ------------------------------------------------------------ interests and money
    low_floor_loss_1f: float = _p(0.30, ASSUMPTION + ": support units lost by floor 1")
    low_floor_loss_2f: float = _p(0.15, ASSUMPTION + ": support units lost by floor 2")
    compensation_full_fen: int = _p(2_000_000, ASSUMPTION + ": ¥20,000 offsets the 1F loss")
    cost_weight: float = _p(0.3, ASSUMPTION + ": support falls by w × (share/ability − ref)")
    cost_reference: float = _p(0.5, ASSUMPTION + ": share/ability ratio felt as no burden")
    cost_cap: float = _p(0.3, ASSUMPTION + ": largest support loss from cost")
    afford_factor: float = _p(2.0, "docs/simulation.md §3: shares above twice the ability")
    pool_share: float = _p(0.5, ASSUMPTION + ": part of neighbours' spare ability pooled")
    subsidy_tool_cap: float = _p(0.2, ASSUMPTION + ": most of the cost tools add as subsidy")
    # ------------------------------------------------------------ influence and tools
    p_media: float = _p(0.6, "two-step flow (Lazarsfeld); assumption")
    w_same_floor: float = _p(1.0, "docs/simulation.md §3: neighbour weight, same floor")
    w_adjacent: float = _p(0.5, "docs/simulation.md §3: adjacent floors of the same stack")
    w_party: float = _p(0.7, "docs/simulation.md §3: Party ties")
    persuasion_cap: float = _p(0.20, ASSUMPTION + ": most support tools add, at trust 1")
    pressure_cap: float = _p(0.10, ASSUMPTION + ": most social pressure lowers θ")
    targets_per_use: int = _p(2, ASSUMPTION + ": households one targeted use reaches")
    trust_alone: float = _p(0.6, "docs/simulation.md §4: informal tools without backing")
    trust_direct: float = _p(1.3, "docs/simulation.md §4: formal tools under direct guidance")
    technical_fix_p: float = _p(0.15, ASSUMPTION + ": one use of a technical tool fixes a block")
    advisor_cooldown_weeks: int = _p(4, ASSUMPTION + ": weeks before the advisor repeats a tool")
    # ------------------------------------------------------------ phases
    negotiation_median_weeks: float = _p(17.0, "simulation brief: ≈ 4 months median")
    negotiation_sigma: float = _p(1.0, "simulation brief: stalls of 36+ months happen")
    approval_weeks: tuple[int, int] = _p((4, 13), "domain notes: 1–3 months")
    approval_min_weeks: int = _p(2, ASSUMPTION + ": shortest approval, help or not")
    construction_weeks: tuple[int, int] = _p((5, 9), "domain notes: 30–60 days")
    acceptance_weeks: tuple[int, int] = _p((2, 4), "domain notes: filing 15 d, registration 30 d")
    # ------------------------------------------------------------ objections and failures
    p_object: float = _p(0.35, ASSUMPTION + ": an opposing low floor objects in the notice")
    objection_resolve_weekly: tuple[float, ...] = _p(
        (0.10, 0.12, 0.20, 0.04),
        ASSUMPTION + ": negotiation, mediation, hearing, litigation; Guangzhou 200+ meetings",
    )
    objection_escalate_weeks: tuple[int, ...] = _p(
        (4, 6, 4), ASSUMPTION + ": weeks before negotiation → mediation → hearing → litigation"
    )
    objection_deadline_weeks: int = _p(52, ASSUMPTION + ": an objection open a year fails it")
    p_technical: float = _p(0.10, ASSUMPTION + ": units with a blocking technical issue")
    technical_deadline_weeks: int = _p(
        26, "docs/simulation.md §3: unresolved 26 weeks after design"
    )
    p_occupied: float = _p(0.2, ASSUMPTION + ": plans occupying a ground-floor flat's part")
    p_initiator_exit: float = _p(0.004, ASSUMPTION + ": weekly chance an action leader quits")
    p_replace_guided: float = _p(0.10, ASSUMPTION + ": weekly chance guidance finds a new one")
    stall_fail_weeks: int = _p(26, ASSUMPTION + ": a leaderless unit is given up after")
    deadline_weeks: int = _p(156, ASSUMPTION + ": not in service by then is a failure")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int | float | tuple):
                raise BadInput(f"defaults.{f.name}: {value!r} is not a number or a list")
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
                raise BadInput(f"defaults.{name}: {value} must be a probability in [0, 1]")
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
                raise BadInput(f"defaults.{name}: (lo, hi) weeks with 1 ≤ lo ≤ hi")

    def sources(self) -> dict[str, str]:
        """Each parameter's source, by name."""
        return {f.name: str(f.metadata["source"]) for f in dataclasses.fields(self)}


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
                raise BadInput(f"scenario: {name} must be a whole number ≥ 0, got {value!r}")
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
                    raise BadInput(f"unknown parameter {key!r}: {_near(sub, default_names)}")
                inner[sub] = _as_tuple(value)
            elif key in names:
                top[key] = value
            else:
                raise BadInput(f"unknown scenario field {key!r}: {_near(key, names)}")
        if inner:
            base = top.get("defaults", self.defaults)
            top["defaults"] = dataclasses.replace(base, **inner)
        return dataclasses.replace(self, **top)

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


def _as_tuple(value: Any) -> Any:
    """TOML and JSON give lists; defaults hold tuples (nested for bands)."""
    if isinstance(value, list | tuple):
        return tuple(_as_tuple(v) for v in value)
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
            f"scenario: unknown default{'s' if len(bad) > 1 else ''} {', '.join(bad)}; "
            f"{_near(bad[0], known)}"
        )
    try:
        defaults = Defaults(**{k: _as_tuple(v) for k, v in raw_defaults.items()})
    except TypeError as exc:
        raise BadInput(f"scenario defaults: {exc}") from None
    if "strategy" in values and isinstance(values["strategy"], Mapping):
        values["strategy"] = MappingProxyType(dict(values["strategy"]))
    if "scheme" in values and isinstance(values["scheme"], Mapping):
        values["scheme"] = MappingProxyType(dict(values["scheme"]))
    return Scenario(defaults=defaults, **values)


def load_scenario(path: Path) -> Scenario:
    """A scenario from a TOML file: top-level fields and a [defaults] table."""
    return scenario_from_dict(read_toml(path, "scenario"))
