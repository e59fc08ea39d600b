"""Who pays how much for one retrofit elevator (domain.md §3).

Money is integer fen, ratios are exact `Fraction`s, areas are `Decimal` m². Every split goes
through `apportion`, the largest-remainder method: shares add up exactly to the amount, each
within one fen of its exact value, and the result does not depend on the order of the input.

A plan is parsed once at the edge (`parse_plan`, numbers bounded, unknown keys refused) into a
typed `CostPlan`, and split by `split_plan(plan, households, storeys=..., on=...)`: the one
public entry services, the command line, unit files and the simulation call. `plan_to_json`
is its stored form; `evaluate_request` is the `colift costshare FILE --json` contract.
Without an agreed scheme the split is by exclusive area (Civil Code art. 283). A household's
share can be met from several sources (`FundingLever`): its provident fund, the building's
maintenance fund (art. 281), neighbours or a work unit, hardship relief, instalments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from colift.datafiles import load_toml, reject_unknown
from colift.errors import BadInput
from colift.model.money import yuan as _yuan
from colift.rules.subsidy import SubsidyInput, SubsidyResult, load_subsidy_profile

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

SCHEME_KINDS = ("floor-coefficient", "equal", "area")
# Bounds a plan's numbers must keep, checked while parsing (a typo of ten zeros, a hostile file).
MAX_FEN = 10_000_000_000  # ¥100,000,000
MIN_AREA_M2 = Decimal(1)
MAX_AREA_M2 = Decimal(1000)
MAX_COEFFICIENT = Fraction(100)
MAX_NUMBER_TEXT = 32  # characters of a number written as text, refused before parsing
MAX_HOUSEHOLDS = 500
MAX_INSTALMENTS = 120


def _fraction_text(value: Fraction) -> str:
    """A terminating decimal as "39.41", anything else as "p/q", so nothing is lost."""
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:
        return f"{value.numerator}/{value.denominator}"
    places = max(twos, fives)
    scaled = value * 10**places
    text = str(abs(scaled.numerator))
    if places:
        text = text.rjust(places + 1, "0")
        text = f"{text[:-places]}.{text[-places:]}"
    return f"-{text}" if value < 0 else text


def _floors_text(floors: Sequence[int]) -> str:
    return ", ".join(str(f) for f in sorted(floors))


# ---------------------------------------------------------------------------------------------
# The apportionment every split uses


def apportion(
    amount_fen: int,
    weights: Sequence[Fraction | int | Decimal],
    tie_break: Sequence[SupportsRichComparison] | None = None,
) -> list[int]:
    """Split `amount_fen` in proportion to `weights` by the largest-remainder method.

    Each exact share amount × w / Σw is rounded down; the fen left over go one each to the
    largest remainders, ties to the smallest `tie_break` key (list position when not given).
    The result adds up to `amount_fen` and each share is strictly within 1 fen of its exact
    value. Raises ValueError on a negative amount or weight, or all-zero weights with money to
    split: callers check user input first and say what is wrong in their own words.
    """
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen < 0:
        raise ValueError(f"amount must be a non-negative whole number of fen, got {amount_fen!r}")
    exact_weights = [Fraction(w) for w in weights]
    if any(w < 0 for w in exact_weights):
        raise ValueError("weights must not be negative")
    if tie_break is not None and len(tie_break) != len(exact_weights):
        raise ValueError("tie_break must have one key per weight")
    total = sum(exact_weights, Fraction(0))
    if total == 0:
        if amount_fen == 0:
            return [0] * len(exact_weights)
        raise ValueError("all weights are zero, so nobody can pay")
    exact = [amount_fen * w / total for w in exact_weights]
    shares = [e.numerator // e.denominator for e in exact]
    left = amount_fen - sum(shares)
    keys: Sequence[SupportsRichComparison] = (
        tie_break if tie_break is not None else range(len(shares))
    )
    order = sorted(range(len(shares)), key=lambda i: (shares[i] - exact[i], keys[i]))
    for i in order[:left]:
        shares[i] += 1
    return shares


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class ShareInput:
    """One paying flat: its id (room number), floor and area (needed by area schemes only)."""

    id: str
    floor: int
    area_m2: Decimal | None = None


@dataclass(frozen=True)
class CostScheme:
    """How weights are given to flats.

    "floor-coefficient": weight = coefficient of the flat's floor, times its area when
    `area_weighted`; floors without a coefficient take `default`. "equal": one per flat.
    "area": the flat's area. Flats on `exempt_floors` weigh 0 under any kind.
    """

    kind: str
    coefficients: Mapping[int, Fraction] = field(default_factory=dict)
    area_weighted: bool = True
    default: Fraction | None = None
    exempt_floors: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.kind not in SCHEME_KINDS:
            raise BadInput(
                "scheme kind {kind} is unknown: use {SCHEME_KINDS}",
                kind=repr(self.kind),
                SCHEME_KINDS=", ".join(SCHEME_KINDS),
            )
        if self.kind != "floor-coefficient" and (self.coefficients or self.default is not None):
            raise BadInput(
                "scheme kind {kind} takes no coefficients: use kind floor-coefficient",
                kind=self.kind,
            )
        for floor, coefficient in self.coefficients.items():
            if coefficient < 0:
                raise BadInput(
                    "scheme coefficient for floor {floor} must not be negative", floor=floor
                )
        if self.default is not None and self.default < 0:
            raise BadInput("scheme default coefficient must not be negative")

    @property
    def uses_area(self) -> bool:
        return self.kind == "area" or (self.kind == "floor-coefficient" and self.area_weighted)

    def weight(self, household: ShareInput, scheme_name: str = "scheme") -> Fraction:
        """The household's weight; BadInput when it needs a coefficient or area it lacks."""
        if household.floor in self.exempt_floors:
            return Fraction(0)
        if self.uses_area and household.area_m2 is None:
            raise BadInput(
                "household {id}: area_m2 is missing, and the {scheme_name} shares by area",
                id=household.id,
                scheme_name=scheme_name,
            )
        area = Fraction(household.area_m2) if household.area_m2 is not None else Fraction(1)
        if self.kind == "equal":
            return Fraction(1)
        if self.kind == "area":
            return area
        coefficient = self.coefficients.get(household.floor, self.default)
        if coefficient is None:
            raise BadInput(
                'household {id}: no coefficient for floor {floor} in the {scheme_name}; add "{floor}" to coefficients or give a default',
                id=household.id,
                floor=household.floor,
                scheme_name=scheme_name,
            )
        return coefficient * area if self.area_weighted else coefficient

    def describe(self) -> str:
        if self.kind == "equal":
            text = "equal shares per flat"
        elif self.kind == "area":
            text = "by flat area"
        else:
            parts = [f"{f}F {_fraction_text(c)}" for f, c in sorted(self.coefficients.items())]
            if self.default is not None:
                parts.append(f"other floors {_fraction_text(self.default)}")
            per = "coefficient × flat area" if self.area_weighted else "coefficient per flat"
            text = f"floor coefficients ({per}): {', '.join(parts)}"
        if self.exempt_floors:
            text += f"; floors {_floors_text(sorted(self.exempt_floors))} exempt"
        return text


@dataclass(frozen=True)
class Compensation:
    """A fixed sum paid to each flat on `floors` or named in `households`, raised by payers."""

    fen_each: int
    floors: frozenset[int] = frozenset()
    households: frozenset[str] = frozenset()
    reason: str = ""


@dataclass(frozen=True)
class PaymentStage:
    name: str
    ratio: Fraction  # 3/10 for 30 %


@dataclass(frozen=True)
class PaymentSchedule:
    """Named stages whose ratios add up to exactly 1, e.g. 30 % deposit, 50 %, 20 %."""

    stages: tuple[PaymentStage, ...]

    def __post_init__(self) -> None:
        if not self.stages:
            raise BadInput("schedule has no stages")
        names = [s.name for s in self.stages]
        for name in names:
            if not name.strip():
                raise BadInput("schedule: every stage needs a name")
            if names.count(name) > 1:
                raise BadInput("schedule: stage name {name} appears twice", name=repr(name))
        for stage in self.stages:
            if stage.ratio < 0:
                raise BadInput(
                    "schedule stage {name}: percent must not be negative", name=stage.name
                )
        total = sum((s.ratio for s in self.stages), Fraction(0))
        if total != 1:
            raise BadInput(
                "schedule percents add up to {fraction_text}, not 100",
                fraction_text=_fraction_text(total * 100),
            )

    @classmethod
    def from_percents(cls, stages: Sequence[tuple[str, str | int]]) -> PaymentSchedule:
        """From ("deposit", "30") pairs; percents are read exactly, never through float."""
        return cls(
            tuple(PaymentStage(n, _parse_ratio(p, f"schedule stage {n}") / 100) for n, p in stages)
        )

    def split(self, share_fen: int) -> list[int]:
        """One share into instalments adding up to it; spare fen go to earlier stages on ties."""
        return apportion(share_fen, [s.ratio for s in self.stages])

    def describe(self) -> str:
        return " / ".join(f"{s.name} {_fraction_text(s.ratio * 100)}%" for s in self.stages)


SCHEDULE_30_50_20 = PaymentSchedule(
    (
        PaymentStage("deposit", Fraction(3, 10)),
        PaymentStage("after installation", Fraction(1, 2)),
        PaymentStage("after acceptance", Fraction(1, 5)),
    )
)


RUNNING_KINDS = ("maintenance", "electricity", "other")


@dataclass(frozen=True)
class RunningCost:
    """A yearly cost (maintenance, electricity); `scheme` None means the construction scheme.

    `kind` "maintenance" marks the yearly maintenance a subsidy may bundle (Hefei)."""

    name: str
    annual_fen: int
    scheme: CostScheme | None = None
    kind: str = "other"


class LeverKind(StrEnum):
    """A source a household's share may be paid from, besides its own cash now."""

    PROVIDENT_FUND = "provident_fund"  # 住房公积金提取
    MAINTENANCE_FUND = "maintenance_fund"  # 专项维修资金 (Civil Code art. 281)
    COVERED = "covered"  # neighbours or a (former) work unit cover part of it
    HARDSHIP_RELIEF = "hardship_relief"  # 困难家庭帮扶
    INSTALMENTS = "instalments"  # own cash, paid later in instalments


@dataclass(frozen=True)
class LeverRule:
    """What a lever is, the rule it rests on, its source and how far that was checked."""

    kind: LeverKind
    name_zh: str
    name_en: str
    rule_zh: str
    rule_en: str
    when: str  # "now" (while the works are paid) or "later" (after completion)
    source: str
    url: str
    confidence: str


@dataclass(frozen=True)
class FundingLever:
    """One household's use of a lever: `fen` from that source, or for instalments `count`
    payments after completion with `now_fen` paid now."""

    household: str
    kind: LeverKind
    fen: int = 0
    by: str = ""  # who covers it (covered, hardship relief)
    count: int = 0  # instalments
    now_fen: int = 0  # instalments: the part paid now


@dataclass(frozen=True)
class FundingSource:
    kind: LeverKind
    fen: int
    when: str
    by: str = ""


@dataclass(frozen=True)
class HouseholdFunding:
    """Where a household's net share comes from: now + later + sources = net, to the fen."""

    net_fen: int
    pays_now_fen: int
    pays_later_fen: int
    later_instalments: tuple[int, ...]
    sources: tuple[FundingSource, ...]


@cache
def lever_rules() -> Mapping[LeverKind, LeverRule]:
    """The packaged lever rules (`profiles/funding/levers.toml`), read by the one loader."""
    document = load_toml(files("colift.rules") / "profiles" / "funding" / "levers.toml", "levers")
    table = document.data.get("lever", [])
    rules: dict[LeverKind, LeverRule] = {}
    for n, raw in enumerate(table, start=1):
        where = f"levers.toml lever {n}"
        reject_unknown(raw, _LEVER_RULE_KEYS, where)
        kind = LeverKind(raw["kind"])
        rules[kind] = LeverRule(
            kind,
            raw["name_zh"],
            raw["name_en"],
            raw["rule_zh"],
            raw["rule_en"],
            raw["when"],
            raw["source"],
            raw.get("url", ""),
            raw["confidence"],
        )
    missing = [k.value for k in LeverKind if k not in rules]
    if missing:
        raise BadInput("levers.toml: no rule for {kinds}", kinds=", ".join(missing))
    return rules


_LEVER_RULE_KEYS = frozenset(
    {"kind", "name_zh", "name_en", "rule_zh", "rule_en", "when", "source", "url", "confidence"}
)


# ---------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class ShareLine:
    id: str
    floor: int
    area_m2: Decimal | None
    weight: Fraction
    exact: Fraction  # the exact share in fen before rounding
    fen: int
    compensation_fen: int = 0
    instalments: tuple[tuple[str, int], ...] = ()
    running_fen: int = 0  # this flat's yearly running costs, all items together
    funding: HouseholdFunding | None = None  # set when the plan names levers for this flat

    @property
    def net_fen(self) -> int:
        """What the flat pays minus what it is paid in compensation."""
        return self.fen - self.compensation_fen


@dataclass(frozen=True)
class RunningShare:
    name: str
    annual_fen: int
    scheme: CostScheme
    fen_by_id: tuple[tuple[str, int], ...]  # in household input order


@dataclass(frozen=True)
class CostShareResult:
    total_fen: int
    subsidy_fen: int
    compensation_fen: int
    payable_fen: int
    lines: tuple[ShareLine, ...]
    running: tuple[RunningShare, ...]
    schedule: PaymentSchedule | None
    explanation: tuple[str, ...]
    subsidy: SubsidyResult | None = None  # the profile's lines, when a profile was used
    levers: tuple[FundingLever, ...] = ()
    default_split: bool = False  # no scheme agreed: by exclusive area (Civil Code art. 283)

    def by_id(self) -> dict[str, int]:
        return {line.id: line.fen for line in self.lines}

    @property
    def shares(self) -> tuple[ShareLine, ...]:
        return self.lines

    @property
    def running_subsidy_fen(self) -> int:
        """Subsidy money held for running costs (bundled maintenance), not construction."""
        return self.subsidy.running_fen if self.subsidy is not None else 0

    @property
    def funding_totals(self) -> dict[str, int]:
        """Every household's funding added up: now, later, and each source, in fen."""
        totals = {"now": 0, "later": 0, **{k.value: 0 for k in LeverKind}}
        for line in self.lines:
            if line.funding is None:
                totals["now"] += max(line.net_fen, 0)
                continue
            totals["now"] += line.funding.pays_now_fen
            totals["later"] += line.funding.pays_later_fen
            for source in line.funding.sources:
                totals[source.kind.value] += source.fen
        return totals


# ---------------------------------------------------------------------------------------------
# Sharing


def _check_fen(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(
            "{name} must be a whole number of fen (1 yuan = 100 fen), got {value}",
            name=name,
            value=repr(value),
        )
    if value < 0:
        raise BadInput("{name} must not be negative, got {value}", name=name, value=value)
    if value > MAX_FEN:
        raise BadInput(
            "{name} {value} fen is more than ¥100,000,000: check the number of zeros",
            name=name,
            value=value,
        )
    return value


def _tie_key(household: ShareInput) -> tuple[int, str]:
    # Higher floors first, then id: the same answer whatever order the flats were listed in.
    return (-household.floor, household.id)


def _weights(
    households: Sequence[ShareInput], scheme: CostScheme, amount_fen: int, what: str
) -> list[Fraction]:
    weights = [scheme.weight(h, what) for h in households]
    if amount_fen > 0 and not any(weights):
        raise BadInput(
            "every household weighs 0 in the {what} (exempt floors or coefficient 0), so nobody can pay {yuan}",
            what=what,
            yuan=_yuan(amount_fen),
        )
    return weights


def _check_households(households: Sequence[ShareInput]) -> None:
    if not households:
        raise BadInput("households is empty: list every flat of the unit that shares the cost")
    seen: set[str] = set()
    for h in households:
        if not h.id:
            raise BadInput("a household has an empty id")
        if h.id in seen:
            raise BadInput("household {id} appears twice: each id must be unique", id=h.id)
        seen.add(h.id)
        if isinstance(h.floor, bool) or not isinstance(h.floor, int) or h.floor < 1:
            raise BadInput(
                "household {id}: floor {floor} must be 1 or higher", id=h.id, floor=repr(h.floor)
            )
        if h.area_m2 is not None and (not h.area_m2.is_finite() or h.area_m2 <= 0):
            raise BadInput(
                "household {id}: area_m2 '{area_m2}' must be greater than 0",
                id=h.id,
                area_m2=h.area_m2,
            )


def _compensation_by_id(
    households: Sequence[ShareInput], compensation: Sequence[Compensation]
) -> tuple[dict[str, int], list[str]]:
    paid = {h.id: 0 for h in households}
    notes: list[str] = []
    for number, comp in enumerate(compensation, start=1):
        where = f"compensation {number}"
        _check_fen(comp.fen_each, f"{where}: fen_each")
        if not comp.floors and not comp.households:
            raise BadInput(
                "{where}: name the floors or the households that receive it", where=where
            )
        for hid in sorted(comp.households):
            if hid not in paid:
                raise BadInput(
                    "{where}: household {hid} is not in households", where=where, hid=hid
                )
        floors_present = {h.floor for h in households}
        for floor in sorted(comp.floors):
            if floor not in floors_present:
                raise BadInput("{where}: no household on floor {floor}", where=where, floor=floor)
        recipients = [h.id for h in households if h.floor in comp.floors or h.id in comp.households]
        for hid in recipients:
            paid[hid] += comp.fen_each
        reason = f" ({comp.reason})" if comp.reason else ""
        notes.append(
            f"Compensation{reason}: {_yuan(comp.fen_each)} each to {', '.join(recipients)}, "
            f"{_yuan(comp.fen_each * len(recipients))} in all, raised from the payers."
        )
    return paid, notes


def share_costs(
    households: Sequence[ShareInput],
    total_fen: int,
    scheme: CostScheme,
    *,
    subsidy: int | SubsidyResult = 0,
    compensation: Sequence[Compensation] = (),
    running: Sequence[RunningCost] = (),
    schedule: PaymentSchedule | None = None,
    levers: Sequence[FundingLever] = (),
    default_split: bool = False,
) -> CostShareResult:
    """Share total − subsidy + compensation among the flats by `scheme`, to the fen.

    `subsidy` is an amount in fen or a computed `SubsidyResult`. Running costs are shared
    each by its own scheme; a schedule splits every share into instalments; `levers` say
    where each household's share comes from (its funding: now, later, sources).
    """
    _check_households(households)
    _check_fen(total_fen, "total_fen")
    subsidy_fen = subsidy.fen if isinstance(subsidy, SubsidyResult) else subsidy
    _check_fen(subsidy_fen, "subsidy_fen")
    if subsidy_fen > total_fen:
        raise BadInput(
            "subsidy {yuan} is more than the total cost {yuan2}",
            yuan=_yuan(subsidy_fen),
            yuan2=_yuan(total_fen),
        )
    comp_by_id, comp_notes = _compensation_by_id(households, compensation)
    comp_total = sum(comp_by_id.values())
    payable = total_fen - subsidy_fen + comp_total

    weights = _weights(households, scheme, payable, "scheme")
    keys = [_tie_key(h) for h in households]
    shares = apportion(payable, weights, keys)
    total_weight = sum(weights, Fraction(0))
    exact = [payable * w / total_weight if total_weight else Fraction(0) for w in weights]

    running_results: list[RunningShare] = []
    running_by_id = {h.id: 0 for h in households}
    for item in running:
        _check_fen(item.annual_fen, f"running cost {item.name}: annual_fen")
        item_scheme = item.scheme or scheme
        item_weights = _weights(
            households, item_scheme, item.annual_fen, f"running-cost scheme ({item.name})"
        )
        item_shares = apportion(item.annual_fen, item_weights, keys)
        for h, fen in zip(households, item_shares, strict=True):
            running_by_id[h.id] += fen
        running_results.append(
            RunningShare(
                item.name,
                item.annual_fen,
                item_scheme,
                tuple((h.id, fen) for h, fen in zip(households, item_shares, strict=True)),
            )
        )

    lines = []
    for h, w, e, fen in zip(households, weights, exact, shares, strict=True):
        instalments: tuple[tuple[str, int], ...] = ()
        if schedule is not None:
            parts = schedule.split(fen)
            instalments = tuple((s.name, p) for s, p in zip(schedule.stages, parts, strict=True))
        lines.append(
            ShareLine(
                id=h.id,
                floor=h.floor,
                area_m2=h.area_m2,
                weight=w,
                exact=e,
                fen=fen,
                compensation_fen=comp_by_id[h.id],
                instalments=instalments,
                running_fen=running_by_id[h.id],
                funding=_funding(h.id, fen - comp_by_id[h.id], levers)
                if any(lv.household == h.id for lv in levers)
                else None,
            )
        )
    known = {h.id for h in households}
    for lever in levers:
        if lever.household not in known:
            raise BadInput(
                "funding: household {household} is not in the households", household=lever.household
            )

    explanation = _explain(
        total_fen, subsidy, comp_total, payable, scheme, total_weight, shares, exact, comp_notes
    )
    if default_split:
        explanation.insert(
            0,
            "No sharing scheme was agreed, so the cost is shared by exclusive area (Civil Code "
            "art. 283: 没有约定或者约定不明确的，按照业主专有部分面积所占比例确定).",
        )
    if isinstance(subsidy, SubsidyResult) and subsidy.running_fen:
        explanation.append(
            f"Of the grant, {_yuan(subsidy.running_fen)} is held for running costs (not "
            "construction money): it is not taken off the cost to share."
        )
    rules = lever_rules() if levers else {}
    for kind in dict.fromkeys(lv.kind for lv in levers):
        rule = rules[kind]
        explanation.append(
            f"{rule.name_en}: {rule.rule_en} (source: {rule.source}; {rule.confidence})."
        )
    if schedule is not None:
        explanation.append(
            f"Each share is paid in stages: {schedule.describe()}; a flat's instalments add up "
            "to its share, a spare fen going to the largest remainder (ties: the earlier stage)."
        )
    for r in running_results:
        explanation.append(
            f"{r.name[:1].upper()}{r.name[1:]}: {_yuan(r.annual_fen)} a year; scheme: "
            f"{r.scheme.describe()}; rounded the same way."
        )
    return CostShareResult(
        total_fen=total_fen,
        subsidy_fen=subsidy_fen,
        compensation_fen=comp_total,
        payable_fen=payable,
        lines=tuple(lines),
        running=tuple(running_results),
        schedule=schedule,
        explanation=tuple(explanation),
        subsidy=subsidy if isinstance(subsidy, SubsidyResult) else None,
        levers=tuple(levers),
        default_split=default_split,
    )


def _funding(household: str, net_fen: int, levers: Sequence[FundingLever]) -> HouseholdFunding:
    """Where one household's net share comes from; every fen accounted for, none twice."""
    own = [lv for lv in levers if lv.household == household]
    if net_fen <= 0:
        raise BadInput(
            "funding: household {household} pays nothing (its compensation covers its share), "
            "so no source can pay for it",
            household=household,
        )
    rules = lever_rules()
    sources = tuple(
        FundingSource(lv.kind, lv.fen, rules[lv.kind].when, lv.by)
        for lv in own
        if lv.kind is not LeverKind.INSTALMENTS
    )
    from_sources = sum(src.fen for src in sources)
    cash = net_fen - from_sources
    if cash < 0:
        raise BadInput(
            "funding: the sources named for household {household} add up to {sources}, more "
            "than its share of {share}",
            household=household,
            sources=_yuan(from_sources),
            share=_yuan(net_fen),
        )
    plans = [lv for lv in own if lv.kind is LeverKind.INSTALMENTS]
    if len(plans) > 1:
        raise BadInput(
            "funding: household {household} has two instalment plans", household=household
        )
    if not plans:
        return HouseholdFunding(net_fen, cash, 0, (), sources)
    plan = plans[0]
    if plan.now_fen > cash:
        raise BadInput(
            "funding: household {household} pays {now} now but has only {cash} left to pay itself",
            household=household,
            now=_yuan(plan.now_fen),
            cash=_yuan(cash),
        )
    later = cash - plan.now_fen
    parts = tuple(apportion(later, [1] * plan.count))
    return HouseholdFunding(net_fen, plan.now_fen, later, parts, sources)


def _explain(
    total_fen: int,
    subsidy: int | SubsidyResult,
    comp_total: int,
    payable: int,
    scheme: CostScheme,
    total_weight: Fraction,
    shares: Sequence[int],
    exact: Sequence[Fraction],
    comp_notes: Sequence[str],
) -> list[str]:
    lines: list[str] = []
    subsidy_fen = subsidy.fen if isinstance(subsidy, SubsidyResult) else subsidy
    if isinstance(subsidy, SubsidyResult):
        for part in subsidy.lines:
            lines.append(f"Subsidy ({subsidy.profile_id}) {part.label}: {part.explanation}.")
        lines.append(f"Subsidy source: {subsidy.source.title}; {subsidy.source.confidence}")
    lines.extend(comp_notes)
    lines.append(
        f"To share: total {_yuan(total_fen)} − subsidy {_yuan(subsidy_fen)}"
        f" + compensation {_yuan(comp_total)} = {_yuan(payable)}."
    )
    lines.append(f"Scheme: {scheme.describe()}; total weight {_fraction_text(total_weight)}.")
    left = sum(shares) - sum(e.numerator // e.denominator for e in exact)
    lines.append(
        f"Rounding: each exact share is rounded down to the fen and the {left} fen left over go "
        "one each to the largest remainders (ties: higher floor first, then household id), "
        "so the shares add up exactly."
    )
    return lines


# ---------------------------------------------------------------------------------------------
# The typed plan, parsed once at the edge

_PLAN_KEYS = frozenset(
    {
        "total_fen",
        "subsidy_fen",
        "subsidy_profile",
        "subsidy",
        "storeys",
        "equipment_fen",
        "pipeline_fen",
        "existing_shaft",
        "scheme",
        "compensation",
        "running",
        "schedule",
        "funding",
        "on",
    }
)
_TOP_KEYS = _PLAN_KEYS | {"households"}
# Descriptive fields a request file may carry; they do not change the numbers.
_NOTE_KEYS = frozenset({"name", "title", "unit", "note", "notes", "comment", "description"})
_SCHEME_KEYS = frozenset({"kind", "coefficients", "area_weighted", "default", "exempt_floors"})
_COMP_KEYS = frozenset({"floors", "households", "fen_each", "reason"})
_RUNNING_KEYS = frozenset({"name", "annual_fen", "scheme", "kind"})
_STAGE_KEYS = frozenset({"name", "percent"})
_LEVER_KEYS = frozenset({"household", "kind", "fen", "by", "count", "now_fen"})
# Civil Code art. 283: without an agreement, expenses are shared by exclusive area.
ART_283_SCHEME = CostScheme("area")


@dataclass(frozen=True)
class SubsidySpec:
    """How a plan names its subsidy: a profile (with what it needs), an amount, or none."""

    profile: str | None = None
    fen: int | None = None
    storeys: int | None = None
    equipment_fen: int | None = None
    pipeline_fen: int | None = None
    existing_shaft: bool = False


@dataclass(frozen=True)
class CostPlan:
    """A unit's cost plan, typed: what it costs, how it is shared, where the money comes from.

    `scheme` None means no scheme was agreed: the split is by exclusive area (art. 283).
    `notes` keeps the plan's descriptive fields (name, title, ...), which change no number.
    """

    total_fen: int
    scheme: CostScheme | None = None
    subsidy: SubsidySpec = field(default_factory=SubsidySpec)
    compensation: tuple[Compensation, ...] = ()
    running: tuple[RunningCost, ...] = ()
    schedule: PaymentSchedule | None = None
    levers: tuple[FundingLever, ...] = ()
    on: date | None = None  # the day the plan's subsidy rule is read for (default: today)
    notes: tuple[tuple[str, str], ...] = ()
    raw_scheme: Mapping[str, Any] | None = None  # the scheme as written, for the stored form
    raw_running: Any = None


def _parse_ratio(value: object, where: str) -> Fraction:
    """An exact ratio from "0.7", 0.7 (read as its text), 7 or "7/10"; never through float.

    Text longer than a number needs is refused before it is parsed: "1e3000000" would
    otherwise take tens of seconds to become a fraction."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | Fraction):
        raise BadInput("{where}: {value} is not a number", where=where, value=repr(value))
    text = str(value).strip().removesuffix("%").strip()
    if len(text) > MAX_NUMBER_TEXT or "e" in text.lower():
        raise BadInput(
            "{where}: {value} is not a plain number (at most {most} characters, no exponent)",
            where=where,
            value=repr(text[:MAX_NUMBER_TEXT] + ("…" if len(text) > MAX_NUMBER_TEXT else "")),
            most=MAX_NUMBER_TEXT,
        )
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise BadInput("{where}: {value} is not a number", where=where, value=repr(value)) from None


def _parse_coefficient(value: object, where: str) -> Fraction:
    ratio = _parse_ratio(value, where)
    if ratio < 0:
        raise BadInput("{where} must not be negative", where=where)
    if ratio > MAX_COEFFICIENT:
        raise BadInput(
            "{where}: {value} is not a sane coefficient (0 to {most})",
            where=where,
            value=str(value),
            most=str(MAX_COEFFICIENT),
        )
    return ratio


def _parse_fen(raw: Mapping[str, object], key: str, where: str = "") -> int | None:
    if key not in raw or raw[key] is None:
        return None
    return _check_fen(raw[key], f"{where}{key}")


def _parse_floor(value: object, where: str) -> int:
    if isinstance(value, str) and len(value) <= 4 and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput("{where} {value} is not a whole number", where=where, value=repr(value))
    if value < 1:
        raise BadInput("{where} {value} must be 1 or higher", where=where, value=value)
    if value > 200:
        raise BadInput(
            "{where} {value} is not a floor of a walk-up building", where=where, value=value
        )
    return value


def _parse_area(value: object, hid: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise BadInput(
            "household {hid}: area_m2 {value} is not a number", hid=hid, value=repr(value)
        )
    text = str(value).strip()
    if len(text) > MAX_NUMBER_TEXT:
        raise BadInput(
            "household {hid}: area_m2 is longer than a number of square metres needs",
            hid=hid,
        )
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise BadInput(
            "household {hid}: area_m2 {str} is not a number", hid=hid, str=repr(str(value))
        ) from None
    if not area.is_finite():
        raise BadInput(
            "household {hid}: area_m2 {str} is not a number", hid=hid, str=repr(str(value))
        )
    if area <= 0:
        raise BadInput(
            "household {hid}: area_m2 '{value}' must be greater than 0", hid=hid, value=value
        )
    if not MIN_AREA_M2 <= area <= MAX_AREA_M2:
        raise BadInput(
            "household {hid}: area_m2 {area} is not the area of a flat (1 to 1,000 m²)",
            hid=hid,
            area=text,
        )
    return area


def _parse_scheme(raw: object, where: str) -> CostScheme:
    example = '{"kind": "floor-coefficient"}, {"kind": "equal"} or {"kind": "area"}'
    if raw is None:
        raise BadInput("{where} is missing: give {example}", where=where, example=example)
    if not isinstance(raw, dict):
        raise BadInput("{where} must be an object such as {example}", where=where, example=example)
    reject_unknown(raw, _SCHEME_KEYS, where)
    kind_raw = raw.get("kind")
    if not isinstance(kind_raw, str):
        raise BadInput(
            "{where}: kind is missing: use {SCHEME_KINDS}",
            where=where,
            SCHEME_KINDS=", ".join(SCHEME_KINDS),
        )
    kind = kind_raw.strip().lower().replace("_", "-")
    if kind not in SCHEME_KINDS:
        raise BadInput(
            "{where} kind {kind_raw} is unknown: use {SCHEME_KINDS}",
            where=where,
            kind_raw=repr(kind_raw),
            SCHEME_KINDS=", ".join(SCHEME_KINDS),
        )
    coefficients: dict[int, Fraction] = {}
    coeff_raw = raw.get("coefficients", {})
    if not isinstance(coeff_raw, dict):
        raise BadInput(
            '{where}: coefficients must be an object such as {{"3": "0.7"}}', where=where
        )
    for key, value in coeff_raw.items():
        floor = _parse_floor(key, f"{where} coefficients: floor")
        coefficients[floor] = _parse_coefficient(value, f"{where} coefficient for floor {floor}")
    default: Fraction | None = None
    if raw.get("default") is not None:
        default = _parse_coefficient(raw["default"], f"{where} default")
    area_weighted = raw.get("area_weighted", True)
    if not isinstance(area_weighted, bool):
        raise BadInput("{where}: area_weighted must be true or false", where=where)
    if "area_weighted" in raw and kind != "floor-coefficient":
        raise BadInput("{where}: area_weighted applies to kind floor-coefficient only", where=where)
    if kind != "floor-coefficient" and (coefficients or default is not None):
        raise BadInput(
            "{where}: kind {kind} takes no coefficients: use kind floor-coefficient",
            where=where,
            kind=kind,
        )
    if kind == "floor-coefficient" and not coefficients and default is None:
        raise BadInput(
            '{where}: kind floor-coefficient needs coefficients such as {{"3": "0.7"}}', where=where
        )
    exempt_raw = raw.get("exempt_floors", [])
    if not isinstance(exempt_raw, list):
        raise BadInput(
            "{where}: exempt_floors must be a list of floors such as [1, 2]", where=where
        )
    exempt = frozenset(_parse_floor(f, f"{where} exempt_floors: floor") for f in exempt_raw)
    return CostScheme(kind, coefficients, area_weighted, default, exempt)


def _parse_households(raw: object) -> tuple[list[ShareInput], list[object]]:
    shape = 'list each flat as {"id": "301", "floor": 3, "area_m2": "56.30"}'
    if raw is None:
        raise BadInput("households is missing: {shape}", shape=shape)
    if not isinstance(raw, list):
        raise BadInput("households must be a list: {shape}", shape=shape)
    if not raw:
        raise BadInput("households is empty: {shape}", shape=shape)
    if len(raw) > MAX_HOUSEHOLDS:
        raise BadInput(
            "households lists {n} flats: one lift serves at most {most}",
            n=len(raw),
            most=MAX_HOUSEHOLDS,
        )
    households: list[ShareInput] = []
    raw_ids: list[object] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadInput(
                "household number {number} in the list must be an object: {shape}",
                number=number,
                shape=shape,
            )
        raw_id = item.get("id")
        if raw_id is None:
            raise BadInput("household number {number} in the list: id is missing", number=number)
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
            raise BadInput(
                "household number {number} in the list: id {raw_id} is not valid",
                number=number,
                raw_id=repr(raw_id),
            )
        hid = str(raw_id).strip()
        if hid in seen:
            raise BadInput("household {hid} appears twice: each id must be unique", hid=hid)
        seen.add(hid)
        if item.get("floor") is None:
            raise BadInput("household {hid}: floor is missing", hid=hid)
        floor = _parse_floor(item["floor"], f"household {hid}: floor")
        households.append(ShareInput(hid, floor, _parse_area(item.get("area_m2"), hid)))
        raw_ids.append(raw_id)
    return households, raw_ids


def _parse_compensation(raw: object) -> list[Compensation]:
    shape = '[{"floors": [1], "fen_each": 500000}]'
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInput("compensation must be a list such as {shape}", shape=shape)
    result: list[Compensation] = []
    for number, item in enumerate(raw, start=1):
        where = f"compensation {number}"
        if not isinstance(item, dict):
            raise BadInput(
                "{where} must be an object such as {shape}", where=where, shape=shape[1:-1]
            )
        reject_unknown(item, _COMP_KEYS, where)
        fen_each = _parse_fen(item, "fen_each", f"{where}: ")
        if fen_each is None:
            raise BadInput("{where}: fen_each is missing (fen paid to each flat)", where=where)
        floors_raw = item.get("floors", [])
        ids_raw = item.get("households", [])
        if not isinstance(floors_raw, list) or not isinstance(ids_raw, list):
            raise BadInput("{where}: floors and households must be lists", where=where)
        floors = frozenset(_parse_floor(f, f"{where}: floor") for f in floors_raw)
        for hid in ids_raw:
            if isinstance(hid, bool) or not isinstance(hid, str | int):
                raise BadInput(
                    "{where}: household {hid} is not a household id", where=where, hid=repr(hid)
                )
        reason = item.get("reason", "")
        if not isinstance(reason, str):
            raise BadInput("{where}: reason must be text", where=where)
        result.append(
            Compensation(fen_each, floors, frozenset(str(h).strip() for h in ids_raw), reason)
        )
    return result


def _parse_running(raw: object, scheme: CostScheme) -> list[RunningCost]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else [raw]
    result: list[RunningCost] = []
    for number, item in enumerate(items, start=1):
        where = "running" if len(items) == 1 else f"running {number}"
        if not isinstance(item, dict):
            raise BadInput(
                '{where} must be an object such as {{"annual_fen": 350000}}', where=where
            )
        reject_unknown(item, _RUNNING_KEYS, where)
        kind = item.get("kind", "other")
        if kind not in RUNNING_KINDS:
            raise BadInput(
                "{where}: kind {kind} must be one of {kinds}",
                where=where,
                kind=repr(kind),
                kinds=", ".join(RUNNING_KINDS),
            )
        annual = _parse_fen(item, "annual_fen", f"{where}: ")
        if annual is None:
            raise BadInput("{where}: annual_fen is missing (the yearly cost in fen)", where=where)
        name = item.get("name", "running costs" if len(items) == 1 else f"running cost {number}")
        if not isinstance(name, str) or not name.strip():
            raise BadInput("{where}: name must be a non-empty text", where=where)
        item_scheme = (
            _parse_scheme(item["scheme"], f"{where} scheme") if "scheme" in item else scheme
        )
        result.append(RunningCost(name, annual, item_scheme, str(kind)))
    return result


def _parse_schedule(raw: object) -> PaymentSchedule | None:
    shape = '[{"name": "deposit", "percent": "30"}, ...]'
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise BadInput("schedule must be a list such as {shape}", shape=shape)
    stages: list[PaymentStage] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadInput(
                "schedule stage {number} must be an object such as {shape}",
                number=number,
                shape=shape[1:-6],
            )
        reject_unknown(item, _STAGE_KEYS, f"schedule stage {number}")
        name = item.get("name", f"stage {number}")
        if not isinstance(name, str) or not name.strip():
            raise BadInput("schedule stage {number}: name must be a non-empty text", number=number)
        if item.get("percent") is None:
            raise BadInput("schedule stage {name}: percent is missing", name=name)
        percent = _parse_ratio(item["percent"], f"schedule stage {name}: percent")
        if percent < 0:
            raise BadInput("schedule stage {name}: percent must not be negative", name=name)
        stages.append(PaymentStage(name, percent / 100))
    return PaymentSchedule(tuple(stages))


def _parse_levers(raw: object) -> tuple[FundingLever, ...]:
    shape = '[{"household": "601", "kind": "provident_fund", "fen": 3000000}]'
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise BadInput("funding must be a list such as {shape}", shape=shape)
    levers = []
    for number, item in enumerate(raw, start=1):
        where = f"funding {number}"
        if not isinstance(item, dict):
            raise BadInput(
                "{where} must be an object such as {shape}", where=where, shape=shape[1:-1]
            )
        reject_unknown(item, _LEVER_KEYS, where)
        hid = item.get("household")
        if isinstance(hid, bool) or not isinstance(hid, str | int) or not str(hid).strip():
            raise BadInput("{where}: household is missing", where=where)
        try:
            kind = LeverKind(str(item.get("kind")))
        except ValueError:
            raise BadInput(
                "{where}: kind {kind} must be one of {kinds}",
                where=where,
                kind=repr(item.get("kind")),
                kinds=", ".join(k.value for k in LeverKind),
            ) from None
        by = item.get("by", "")
        if not isinstance(by, str) or len(by) > 200:
            raise BadInput("{where}: by must be a name of at most 200 characters", where=where)
        if kind is LeverKind.INSTALMENTS:
            count = item.get("count")
            if (
                isinstance(count, bool)
                or not isinstance(count, int)
                or not 1 <= count <= MAX_INSTALMENTS
            ):
                raise BadInput(
                    "{where}: count must be a whole number of instalments from 1 to {most}",
                    where=where,
                    most=MAX_INSTALMENTS,
                )
            if "fen" in item:
                raise BadInput("{where}: instalments take count and now_fen, not fen", where=where)
            levers.append(
                FundingLever(
                    str(hid).strip(),
                    kind,
                    count=count,
                    now_fen=_parse_fen(item, "now_fen", f"{where}: ") or 0,
                )
            )
            continue
        fen = _parse_fen(item, "fen", f"{where}: ")
        if not fen:
            raise BadInput(
                "{where}: fen is missing (the amount from this source, in fen)", where=where
            )
        if kind in (LeverKind.COVERED, LeverKind.HARDSHIP_RELIEF) and not by.strip():
            raise BadInput("{where}: by must name who pays", where=where)
        levers.append(FundingLever(str(hid).strip(), kind, fen=fen, by=by.strip()))
    return tuple(levers)


def _parse_subsidy(data: Mapping[str, object]) -> SubsidySpec:
    named = [k for k in ("subsidy_profile", "subsidy") if data.get(k) is not None]
    profile_fields = [
        k for k in ("storeys", "equipment_fen", "pipeline_fen", "existing_shaft") if k in data
    ]
    if not named:
        if profile_fields:
            raise BadInput(
                "{profile_fields} is only used with subsidy_profile",
                profile_fields=profile_fields[0],
            )
        return SubsidySpec(fen=_parse_fen(data, "subsidy_fen"))
    if len(named) > 1:
        raise BadInput("give subsidy_profile or subsidy, not both")
    if data.get("subsidy_fen") is not None:
        raise BadInput("give subsidy_fen or {named}, not both", named=named[0])
    name = data[named[0]]
    if not isinstance(name, str) or len(name) > 100:
        raise BadInput(
            '{named} must name a subsidy profile such as "shanghai"; give an amount as subsidy_fen',
            named=named[0],
        )
    shaft = data.get("existing_shaft", False)
    if not isinstance(shaft, bool):
        raise BadInput("existing_shaft must be true or false")
    storeys = _parse_floor(data["storeys"], "storeys") if data.get("storeys") is not None else None
    load_subsidy_profile(name)  # an unknown name is refused here, at the edge
    return SubsidySpec(
        profile=name.strip(),
        storeys=storeys,
        equipment_fen=_parse_fen(data, "equipment_fen"),
        pipeline_fen=_parse_fen(data, "pipeline_fen"),
        existing_shaft=shaft,
    )


def parse_plan(data: object) -> CostPlan:
    """A cost plan from its JSON form (without households); BadInput names what to fix."""
    if not isinstance(data, Mapping):
        raise BadInput("the request must be a JSON object with total_fen, scheme and households")
    reject_unknown(data, _PLAN_KEYS | _NOTE_KEYS, "cost plan")
    if data.get("total_fen") is None:
        raise BadInput(
            "total_fen is missing: give the whole cost in fen (1 yuan = 100 fen), "
            "e.g. 45000000 for ¥450,000"
        )
    total_fen = _check_fen(data["total_fen"], "total_fen")
    scheme = None if data.get("scheme") is None else _parse_scheme(data["scheme"], "scheme")
    day = None
    if data.get("on") is not None:
        text = data["on"]
        try:
            day = date.fromisoformat(text) if isinstance(text, str) and len(text) <= 10 else None
        except ValueError:
            day = None
        if day is None:
            raise BadInput("on {value} must be a date such as 2026-03-01", value=repr(text))
    return CostPlan(
        total_fen=total_fen,
        scheme=scheme,
        subsidy=_parse_subsidy(data),
        compensation=tuple(_parse_compensation(data.get("compensation"))),
        running=tuple(_parse_running(data.get("running"), scheme or ART_283_SCHEME)),
        schedule=_parse_schedule(data.get("schedule")),
        levers=_parse_levers(data.get("funding")),
        on=day,
        notes=tuple((k, str(data[k])) for k in sorted(_NOTE_KEYS) if k in data),
        raw_scheme=dict(data["scheme"]) if isinstance(data.get("scheme"), Mapping) else None,
        raw_running=data.get("running"),
    )


def plan_to_json(plan: CostPlan) -> dict[str, Any]:
    """The plan's stored form: what `parse_plan` reads back into the same plan."""
    out: dict[str, Any] = {"total_fen": plan.total_fen}
    if plan.raw_scheme is not None:
        out["scheme"] = dict(plan.raw_scheme)
    spec = plan.subsidy
    if spec.profile is not None:
        out["subsidy_profile"] = spec.profile
        for key in ("storeys", "equipment_fen", "pipeline_fen"):
            if getattr(spec, key) is not None:
                out[key] = getattr(spec, key)
        if spec.existing_shaft:
            out["existing_shaft"] = True
    elif spec.fen is not None:
        out["subsidy_fen"] = spec.fen
    if plan.compensation:
        out["compensation"] = [
            {
                **({"floors": sorted(c.floors)} if c.floors else {}),
                **({"households": sorted(c.households)} if c.households else {}),
                "fen_each": c.fen_each,
                **({"reason": c.reason} if c.reason else {}),
            }
            for c in plan.compensation
        ]
    if plan.raw_running is not None:
        out["running"] = plan.raw_running
    if plan.schedule is not None:
        out["schedule"] = [
            {"name": st.name, "percent": _fraction_text(st.ratio * 100)}
            for st in plan.schedule.stages
        ]
    if plan.levers:
        out["funding"] = [_lever_json(lv) for lv in plan.levers]
    if plan.on is not None:
        out["on"] = plan.on.isoformat()
    out.update(dict(plan.notes))
    return out


def _lever_json(lever: FundingLever) -> dict[str, Any]:
    if lever.kind is LeverKind.INSTALMENTS:
        return {
            "household": lever.household,
            "kind": lever.kind.value,
            "count": lever.count,
            **({"now_fen": lever.now_fen} if lever.now_fen else {}),
        }
    return {
        "household": lever.household,
        "kind": lever.kind.value,
        "fen": lever.fen,
        **({"by": lever.by} if lever.by else {}),
    }


def split_plan(
    plan: CostPlan,
    households: Sequence[ShareInput],
    *,
    storeys: int | None = None,
    on: date | None = None,
) -> CostShareResult:
    """Split a typed plan over a unit's flats, to the fen: the one public entry for a split.

    `storeys` is the building's (a subsidy may depend on it; the plan's own figure wins, and
    the highest flat sets the least); `on` is the day the subsidy rule is read for (the plan's
    own day, else today). Without a scheme the split is by exclusive area (Civil Code art. 283).
    """
    _check_households(households)
    spec = plan.subsidy
    subsidy: int | SubsidyResult = spec.fen or 0
    if spec.profile is not None:
        top = max(h.floor for h in households)
        wanted = spec.storeys or storeys or top
        if wanted < top:
            highest = min(households, key=_tie_key)
            raise BadInput(
                "storeys {storeys} is lower than household {household}'s floor {floor}",
                storeys=wanted,
                household=highest.id,
                floor=highest.floor,
            )
        maintenance = [r.annual_fen for r in plan.running if r.kind == "maintenance"]
        profile = load_subsidy_profile(spec.profile, plan.on or on)
        subsidy = profile.compute(
            SubsidyInput(
                plan.total_fen,
                wanted,
                equipment_fen=spec.equipment_fen,
                pipeline_fen=spec.pipeline_fen,
                existing_shaft=spec.existing_shaft,
                maintenance_annual_fen=sum(maintenance) if maintenance else None,
            )
        )
    return share_costs(
        households,
        plan.total_fen,
        plan.scheme or ART_283_SCHEME,
        subsidy=subsidy,
        compensation=plan.compensation,
        running=plan.running,
        schedule=plan.schedule,
        levers=plan.levers,
        default_split=plan.scheme is None,
    )


def parse_households(raw: object) -> list[ShareInput]:
    """The `households` list of a request as flats (id, floor, area)."""
    return _parse_households(raw)[0]


def plan_request(
    plan: Mapping[str, Any], households: Sequence[Mapping[str, Any]], storeys: int
) -> dict[str, Any]:
    """A stored plan's JSON applied to a unit's flats, as an `evaluate_request` input.

    Kept for callers still on the JSON contract; new code calls `split_plan`."""
    request = dict(plan)
    request["households"] = [dict(h) for h in households]
    if ("subsidy_profile" in request or "subsidy" in request) and "storeys" not in request:
        request["storeys"] = storeys
    return request


def evaluate_request(data: dict[str, object]) -> dict[str, object]:
    """Share one elevator's cost as the JSON contract says; BadInput names what to fix.

    Input: a plan (see `parse_plan`) with its households. Output: payable_fen and shares
    [{id, fen, ...}] in input order, plus details of whatever options were used.
    """
    if not isinstance(data, dict):
        raise BadInput("the request must be a JSON object with total_fen, scheme and households")
    reject_unknown(data, _TOP_KEYS | _NOTE_KEYS, "request")
    households, raw_ids = _parse_households(data.get("households"))
    plan = parse_plan({k: v for k, v in data.items() if k != "households"})
    return result_to_json(split_plan(plan, households), raw_ids)


def result_to_json(
    result: CostShareResult, raw_ids: Sequence[object] | None = None
) -> dict[str, Any]:
    """A split in the `colift costshare --json` shape; ids as given when `raw_ids` is."""
    ids: Sequence[object] = raw_ids if raw_ids is not None else [line.id for line in result.lines]
    shares: list[dict[str, object]] = []
    for raw_id, line in zip(ids, result.lines, strict=True):
        entry: dict[str, object] = {
            "id": raw_id,
            "fen": line.fen,
            "floor": line.floor,
            "weight": _fraction_text(line.weight),
            "exact_fen": _fraction_text(line.exact),
        }
        if result.compensation_fen:
            entry["compensation_fen"] = line.compensation_fen
            entry["net_fen"] = line.net_fen
        if result.schedule is not None:
            entry["instalments"] = [{"name": n, "fen": f} for n, f in line.instalments]
        if result.running:
            entry["running_fen"] = line.running_fen
        if line.funding is not None:
            f = line.funding
            entry["funding"] = {
                "net_fen": f.net_fen,
                "pays_now_fen": f.pays_now_fen,
                "pays_later_fen": f.pays_later_fen,
                "later_instalments": list(f.later_instalments),
                "sources": [
                    {
                        "kind": s.kind.value,
                        "fen": s.fen,
                        "when": s.when,
                        **({"by": s.by} if s.by else {}),
                    }
                    for s in f.sources
                ],
            }
        shares.append(entry)
    out: dict[str, Any] = {
        "total_fen": result.total_fen,
        "subsidy_fen": result.subsidy_fen,
        "payable_fen": result.payable_fen,
        "shares": shares,
    }
    if result.default_split:
        out["scheme"] = "area (Civil Code art. 283: no scheme agreed)"
    subsidy = result.subsidy
    if subsidy is not None:
        profile = load_subsidy_profile(subsidy.profile_id)
        out["subsidy"] = {
            "profile": profile.id,
            "name_zh": profile.name_zh,
            "name_en": profile.name_en,
            "confidence": profile.confidence,
            "fen": subsidy.fen,
            "running_fen": subsidy.running_fen,
            "lines": [
                {
                    "label": x.label,
                    "fen": x.fen,
                    "explanation": x.explanation,
                    **({"running_fen": x.running_fen} if x.running_fen else {}),
                    **({"profile": x.profile_id} if x.profile_id else {}),
                }
                for x in subsidy.lines
            ],
            "notes": list(profile.notes),
            "source": {
                "title": subsidy.source.title,
                "publisher": subsidy.source.publisher,
                "date": subsidy.source.date,
                "url": subsidy.source.url,
                "confidence": subsidy.source.confidence,
            },
        }
    if result.compensation_fen:
        out["compensation_fen"] = result.compensation_fen
    if result.schedule is not None:
        out["schedule"] = [
            {
                "name": stage.name,
                "percent": _fraction_text(stage.ratio * 100),
                "fen": sum(line.instalments[i][1] for line in result.lines),
            }
            for i, stage in enumerate(result.schedule.stages)
        ]
    if result.running:
        id_to_raw = dict(zip((line.id for line in result.lines), ids, strict=True))
        out["running"] = [
            {
                "name": r.name,
                "annual_fen": r.annual_fen,
                "shares": [{"id": id_to_raw[hid], "fen": fen} for hid, fen in r.fen_by_id],
            }
            for r in result.running
        ]
    if result.levers:
        rules = lever_rules()
        out["funding"] = {
            "totals": result.funding_totals,
            "levers": [
                {
                    "kind": k.value,
                    "name_zh": rules[k].name_zh,
                    "name_en": rules[k].name_en,
                    "rule_zh": rules[k].rule_zh,
                    "rule_en": rules[k].rule_en,
                    "when": rules[k].when,
                    "source": rules[k].source,
                    "confidence": rules[k].confidence,
                }
                for k in dict.fromkeys(lv.kind for lv in result.levers)
            ],
        }
    out["explanation"] = list(result.explanation)
    return out


def reject_request_keys(data: object) -> None:
    """A `colift costshare` request must be one object with only known fields."""
    if not isinstance(data, dict):
        raise BadInput("the request must be a JSON object with total_fen, scheme and households")
    reject_unknown(data, _TOP_KEYS | _NOTE_KEYS, "request")
