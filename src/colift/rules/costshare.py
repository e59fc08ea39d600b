"""Who pays how much for one retrofit elevator (domain.md §3).

Money is integer fen, ratios are exact `Fraction`s, areas are `Decimal` m². Every split goes
through `apportion`, the largest-remainder method: shares add up exactly to the amount, each
within one fen of its exact value, and the result does not depend on the order of the input.
`evaluate_request` is the JSON contract the CLI and outside checks call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from colift.datafiles import reject_unknown
from colift.errors import BadInput
from colift.model.money import yuan as _yuan
from colift.rules.subsidy import SubsidyInput, SubsidyResult, load_subsidy_profile

if TYPE_CHECKING:
    from _typeshed import SupportsRichComparison

SCHEME_KINDS = ("floor-coefficient", "equal", "area")


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
            raise BadInput(f"scheme kind {self.kind!r} is unknown: use {', '.join(SCHEME_KINDS)}")
        if self.kind != "floor-coefficient" and (self.coefficients or self.default is not None):
            raise BadInput(
                f"scheme kind {self.kind} takes no coefficients: use kind floor-coefficient"
            )
        for floor, coefficient in self.coefficients.items():
            if coefficient < 0:
                raise BadInput(f"scheme coefficient for floor {floor} must not be negative")
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
                f"household {household.id}: area_m2 is missing, and the {scheme_name} "
                "shares by area"
            )
        area = Fraction(household.area_m2) if household.area_m2 is not None else Fraction(1)
        if self.kind == "equal":
            return Fraction(1)
        if self.kind == "area":
            return area
        coefficient = self.coefficients.get(household.floor, self.default)
        if coefficient is None:
            raise BadInput(
                f"household {household.id}: no coefficient for floor {household.floor} in the "
                f'{scheme_name}; add "{household.floor}" to coefficients or give a default'
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
                raise BadInput(f"schedule: stage name {name!r} appears twice")
        for stage in self.stages:
            if stage.ratio < 0:
                raise BadInput(f"schedule stage {stage.name}: percent must not be negative")
        total = sum((s.ratio for s in self.stages), Fraction(0))
        if total != 1:
            raise BadInput(f"schedule percents add up to {_fraction_text(total * 100)}, not 100")

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


@dataclass(frozen=True)
class RunningCost:
    """A yearly cost (maintenance, electricity); `scheme` None means the construction scheme."""

    name: str
    annual_fen: int
    scheme: CostScheme | None = None


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

    def by_id(self) -> dict[str, int]:
        return {line.id: line.fen for line in self.lines}


# ---------------------------------------------------------------------------------------------
# Sharing


def _check_fen(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a whole number of fen (1 yuan = 100 fen), got {value!r}")
    if value < 0:
        raise BadInput(f"{name} must not be negative, got {value}")
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
            f"every household weighs 0 in the {what} (exempt floors or coefficient 0), "
            f"so nobody can pay {_yuan(amount_fen)}"
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
            raise BadInput(f"household {h.id} appears twice: each id must be unique")
        seen.add(h.id)
        if isinstance(h.floor, bool) or not isinstance(h.floor, int) or h.floor < 1:
            raise BadInput(f"household {h.id}: floor {h.floor!r} must be 1 or higher")
        if h.area_m2 is not None and (not h.area_m2.is_finite() or h.area_m2 <= 0):
            raise BadInput(f"household {h.id}: area_m2 '{h.area_m2}' must be greater than 0")


def _compensation_by_id(
    households: Sequence[ShareInput], compensation: Sequence[Compensation]
) -> tuple[dict[str, int], list[str]]:
    paid = {h.id: 0 for h in households}
    notes: list[str] = []
    for number, comp in enumerate(compensation, start=1):
        where = f"compensation {number}"
        _check_fen(comp.fen_each, f"{where}: fen_each")
        if not comp.floors and not comp.households:
            raise BadInput(f"{where}: name the floors or the households that receive it")
        for hid in sorted(comp.households):
            if hid not in paid:
                raise BadInput(f"{where}: household {hid} is not in households")
        floors_present = {h.floor for h in households}
        for floor in sorted(comp.floors):
            if floor not in floors_present:
                raise BadInput(f"{where}: no household on floor {floor}")
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
) -> CostShareResult:
    """Share total − subsidy + compensation among the flats by `scheme`, to the fen.

    `subsidy` is an amount in fen or a computed `SubsidyResult`. Running costs are shared
    each by its own scheme; a schedule splits every share into instalments.
    """
    _check_households(households)
    _check_fen(total_fen, "total_fen")
    subsidy_fen = subsidy.fen if isinstance(subsidy, SubsidyResult) else subsidy
    _check_fen(subsidy_fen, "subsidy_fen")
    if subsidy_fen > total_fen:
        raise BadInput(
            f"subsidy {_yuan(subsidy_fen)} is more than the total cost {_yuan(total_fen)}"
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
            )
        )

    explanation = _explain(
        total_fen, subsidy, comp_total, payable, scheme, total_weight, shares, exact, comp_notes
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
    )


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
# The JSON contract

_TOP_KEYS = frozenset(
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
        "households",
        "compensation",
        "running",
        "schedule",
    }
)
# Descriptive fields a request file may carry; they do not change the numbers.
_NOTE_KEYS = frozenset({"name", "title", "unit", "note", "notes", "comment", "description"})
_SCHEME_KEYS = frozenset({"kind", "coefficients", "area_weighted", "default", "exempt_floors"})
_COMP_KEYS = frozenset({"floors", "households", "fen_each", "reason"})
_RUNNING_KEYS = frozenset({"name", "annual_fen", "scheme"})
_STAGE_KEYS = frozenset({"name", "percent"})


def _parse_ratio(value: object, where: str) -> Fraction:
    """An exact ratio from "0.7", 0.7 (read as its text), 7 or "7/10"; never through float."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | Fraction):
        raise BadInput(f"{where}: {value!r} is not a number")
    text = str(value).strip().removesuffix("%").strip()
    try:
        return Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise BadInput(f"{where}: {value!r} is not a number") from None


def _parse_fen(raw: Mapping[str, object], key: str, where: str = "") -> int | None:
    if key not in raw or raw[key] is None:
        return None
    return _check_fen(raw[key], f"{where}{key}")


def _parse_floor(value: object, where: str) -> int:
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{where} {value!r} is not a whole number")
    if value < 1:
        raise BadInput(f"{where} {value} must be 1 or higher")
    return value


def _parse_area(value: object, hid: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise BadInput(f"household {hid}: area_m2 {value!r} is not a number")
    try:
        area = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadInput(f"household {hid}: area_m2 {str(value)!r} is not a number") from None
    if not area.is_finite():
        raise BadInput(f"household {hid}: area_m2 {str(value)!r} is not a number")
    if area <= 0:
        raise BadInput(f"household {hid}: area_m2 '{value}' must be greater than 0")
    return area


def _parse_scheme(raw: object, where: str) -> CostScheme:
    example = '{"kind": "floor-coefficient"}, {"kind": "equal"} or {"kind": "area"}'
    if raw is None:
        raise BadInput(f"{where} is missing: give {example}")
    if not isinstance(raw, dict):
        raise BadInput(f"{where} must be an object such as {example}")
    reject_unknown(raw, _SCHEME_KEYS, where)
    kind_raw = raw.get("kind")
    if not isinstance(kind_raw, str):
        raise BadInput(f"{where}: kind is missing: use {', '.join(SCHEME_KINDS)}")
    kind = kind_raw.strip().lower().replace("_", "-")
    if kind not in SCHEME_KINDS:
        raise BadInput(f"{where} kind {kind_raw!r} is unknown: use {', '.join(SCHEME_KINDS)}")
    coefficients: dict[int, Fraction] = {}
    coeff_raw = raw.get("coefficients", {})
    if not isinstance(coeff_raw, dict):
        raise BadInput(f'{where}: coefficients must be an object such as {{"3": "0.7"}}')
    for key, value in coeff_raw.items():
        floor = _parse_floor(key, f"{where} coefficients: floor")
        coefficient = _parse_ratio(value, f"{where} coefficient for floor {floor}")
        if coefficient < 0:
            raise BadInput(f"{where} coefficient for floor {floor} must not be negative")
        coefficients[floor] = coefficient
    default: Fraction | None = None
    if raw.get("default") is not None:
        default = _parse_ratio(raw["default"], f"{where} default")
        if default < 0:
            raise BadInput(f"{where} default must not be negative")
    area_weighted = raw.get("area_weighted", True)
    if not isinstance(area_weighted, bool):
        raise BadInput(f"{where}: area_weighted must be true or false")
    if "area_weighted" in raw and kind != "floor-coefficient":
        raise BadInput(f"{where}: area_weighted applies to kind floor-coefficient only")
    if kind != "floor-coefficient" and (coefficients or default is not None):
        raise BadInput(f"{where}: kind {kind} takes no coefficients: use kind floor-coefficient")
    if kind == "floor-coefficient" and not coefficients and default is None:
        raise BadInput(f'{where}: kind floor-coefficient needs coefficients such as {{"3": "0.7"}}')
    exempt_raw = raw.get("exempt_floors", [])
    if not isinstance(exempt_raw, list):
        raise BadInput(f"{where}: exempt_floors must be a list of floors such as [1, 2]")
    exempt = frozenset(_parse_floor(f, f"{where} exempt_floors: floor") for f in exempt_raw)
    return CostScheme(kind, coefficients, area_weighted, default, exempt)


def _parse_households(raw: object) -> tuple[list[ShareInput], list[object]]:
    shape = 'list each flat as {"id": "301", "floor": 3, "area_m2": "56.30"}'
    if raw is None:
        raise BadInput(f"households is missing: {shape}")
    if not isinstance(raw, list):
        raise BadInput(f"households must be a list: {shape}")
    if not raw:
        raise BadInput(f"households is empty: {shape}")
    households: list[ShareInput] = []
    raw_ids: list[object] = []
    seen: set[str] = set()
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadInput(f"household number {number} in the list must be an object: {shape}")
        raw_id = item.get("id")
        if raw_id is None:
            raise BadInput(f"household number {number} in the list: id is missing")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
            raise BadInput(f"household number {number} in the list: id {raw_id!r} is not valid")
        hid = str(raw_id).strip()
        if hid in seen:
            raise BadInput(f"household {hid} appears twice: each id must be unique")
        seen.add(hid)
        if item.get("floor") is None:
            raise BadInput(f"household {hid}: floor is missing")
        floor = _parse_floor(item["floor"], f"household {hid}: floor")
        households.append(ShareInput(hid, floor, _parse_area(item.get("area_m2"), hid)))
        raw_ids.append(raw_id)
    return households, raw_ids


def _parse_compensation(raw: object) -> list[Compensation]:
    shape = '[{"floors": [1], "fen_each": 500000}]'
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise BadInput(f"compensation must be a list such as {shape}")
    result: list[Compensation] = []
    for number, item in enumerate(raw, start=1):
        where = f"compensation {number}"
        if not isinstance(item, dict):
            raise BadInput(f"{where} must be an object such as {shape[1:-1]}")
        reject_unknown(item, _COMP_KEYS, where)
        fen_each = _parse_fen(item, "fen_each", f"{where}: ")
        if fen_each is None:
            raise BadInput(f"{where}: fen_each is missing (fen paid to each flat)")
        floors_raw = item.get("floors", [])
        ids_raw = item.get("households", [])
        if not isinstance(floors_raw, list) or not isinstance(ids_raw, list):
            raise BadInput(f"{where}: floors and households must be lists")
        floors = frozenset(_parse_floor(f, f"{where}: floor") for f in floors_raw)
        for hid in ids_raw:
            if isinstance(hid, bool) or not isinstance(hid, str | int):
                raise BadInput(f"{where}: household {hid!r} is not a household id")
        reason = item.get("reason", "")
        if not isinstance(reason, str):
            raise BadInput(f"{where}: reason must be text")
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
            raise BadInput(f'{where} must be an object such as {{"annual_fen": 350000}}')
        reject_unknown(item, _RUNNING_KEYS, where)
        annual = _parse_fen(item, "annual_fen", f"{where}: ")
        if annual is None:
            raise BadInput(f"{where}: annual_fen is missing (the yearly cost in fen)")
        name = item.get("name", "running costs" if len(items) == 1 else f"running cost {number}")
        if not isinstance(name, str) or not name.strip():
            raise BadInput(f"{where}: name must be a non-empty text")
        item_scheme = (
            _parse_scheme(item["scheme"], f"{where} scheme") if "scheme" in item else scheme
        )
        result.append(RunningCost(name, annual, item_scheme))
    return result


def _parse_schedule(raw: object) -> PaymentSchedule | None:
    shape = '[{"name": "deposit", "percent": "30"}, ...]'
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise BadInput(f"schedule must be a list such as {shape}")
    stages: list[PaymentStage] = []
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise BadInput(f"schedule stage {number} must be an object such as {shape[1:-6]}")
        reject_unknown(item, _STAGE_KEYS, f"schedule stage {number}")
        name = item.get("name", f"stage {number}")
        if not isinstance(name, str) or not name.strip():
            raise BadInput(f"schedule stage {number}: name must be a non-empty text")
        if item.get("percent") is None:
            raise BadInput(f"schedule stage {name}: percent is missing")
        percent = _parse_ratio(item["percent"], f"schedule stage {name}: percent")
        if percent < 0:
            raise BadInput(f"schedule stage {name}: percent must not be negative")
        stages.append(PaymentStage(name, percent / 100))
    return PaymentSchedule(tuple(stages))


def _subsidy(
    data: Mapping[str, object], households: Sequence[ShareInput], total_fen: int
) -> int | SubsidyResult:
    named = [k for k in ("subsidy_profile", "subsidy") if data.get(k) is not None]
    profile_fields = [
        k for k in ("storeys", "equipment_fen", "pipeline_fen", "existing_shaft") if k in data
    ]
    if not named:
        if profile_fields:
            raise BadInput(f"{profile_fields[0]} is only used with subsidy_profile")
        fen = _parse_fen(data, "subsidy_fen")
        return 0 if fen is None else fen
    if len(named) > 1:
        raise BadInput("give subsidy_profile or subsidy, not both")
    if data.get("subsidy_fen") is not None:
        raise BadInput(f"give subsidy_fen or {named[0]}, not both")
    name = data[named[0]]
    if not isinstance(name, str):
        raise BadInput(
            f'{named[0]} must name a subsidy profile such as "shanghai"; '
            "give an amount as subsidy_fen"
        )
    profile = load_subsidy_profile(name)
    top = max(h.floor for h in households)
    storeys = top
    if data.get("storeys") is not None:
        storeys = _parse_floor(data["storeys"], "storeys")
        if storeys < top:
            highest = min(households, key=_tie_key)
            raise BadInput(
                f"storeys {storeys} is lower than household {highest.id}'s floor {highest.floor}"
            )
    shaft = data.get("existing_shaft", False)
    if not isinstance(shaft, bool):
        raise BadInput("existing_shaft must be true or false")
    subsidy_input = SubsidyInput(
        total_fen,
        storeys,
        equipment_fen=_parse_fen(data, "equipment_fen"),
        pipeline_fen=_parse_fen(data, "pipeline_fen"),
        existing_shaft=shaft,
    )
    return profile.compute(subsidy_input)


def plan_request(
    plan: Mapping[str, Any], households: Sequence[Mapping[str, Any]], storeys: int
) -> dict[str, Any]:
    """A stored cost plan applied to a unit's flats, as an `evaluate_request` input.

    A subsidy profile may depend on the building's storeys; the plan's own figure wins.
    """
    request = dict(plan)
    request["households"] = [dict(h) for h in households]
    if ("subsidy_profile" in request or "subsidy" in request) and "storeys" not in request:
        request["storeys"] = storeys
    return request


def evaluate_request(data: dict[str, object]) -> dict[str, object]:
    """Share one elevator's cost as the JSON contract says; BadInput names what to fix.

    Input keys: total_fen, scheme, households; optional subsidy_fen or subsidy_profile
    (alias subsidy) with storeys, equipment_fen, pipeline_fen, existing_shaft; compensation,
    running, schedule. Output: payable_fen and shares [{id, fen, ...}] in input order, plus
    details of whatever options were used.
    """
    if not isinstance(data, dict):
        raise BadInput("the request must be a JSON object with total_fen, scheme and households")
    reject_unknown(data, _TOP_KEYS | _NOTE_KEYS, "request")
    if data.get("total_fen") is None:
        raise BadInput(
            "total_fen is missing: give the whole cost in fen (1 yuan = 100 fen), "
            "e.g. 45000000 for ¥450,000"
        )
    total_fen = _check_fen(data["total_fen"], "total_fen")
    scheme = _parse_scheme(data.get("scheme"), "scheme")
    households, raw_ids = _parse_households(data.get("households"))
    subsidy = _subsidy(data, households, total_fen)
    compensation = _parse_compensation(data.get("compensation"))
    running = _parse_running(data.get("running"), scheme)
    schedule = _parse_schedule(data.get("schedule"))
    result = share_costs(
        households,
        total_fen,
        scheme,
        subsidy=subsidy,
        compensation=compensation,
        running=running,
        schedule=schedule,
    )

    shares: list[dict[str, object]] = []
    for raw_id, line in zip(raw_ids, result.lines, strict=True):
        entry: dict[str, object] = {
            "id": raw_id,
            "fen": line.fen,
            "floor": line.floor,
            "weight": _fraction_text(line.weight),
            "exact_fen": _fraction_text(line.exact),
        }
        if compensation:
            entry["compensation_fen"] = line.compensation_fen
            entry["net_fen"] = line.net_fen
        if schedule is not None:
            entry["instalments"] = [{"name": n, "fen": f} for n, f in line.instalments]
        if running:
            entry["running_fen"] = line.running_fen
        shares.append(entry)

    out: dict[str, object] = {
        "total_fen": result.total_fen,
        "subsidy_fen": result.subsidy_fen,
        "payable_fen": result.payable_fen,
        "shares": shares,
    }
    if isinstance(subsidy, SubsidyResult):
        profile = load_subsidy_profile(subsidy.profile_id)
        out["subsidy"] = {
            "profile": profile.id,
            "name_zh": profile.name_zh,
            "name_en": profile.name_en,
            "fen": subsidy.fen,
            "lines": [
                {"label": x.label, "fen": x.fen, "explanation": x.explanation}
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
    if compensation:
        out["compensation_fen"] = result.compensation_fen
    if schedule is not None:
        out["schedule"] = [
            {
                "name": stage.name,
                "percent": _fraction_text(stage.ratio * 100),
                "fen": sum(line.instalments[i][1] for line in result.lines),
            }
            for i, stage in enumerate(schedule.stages)
        ]
    if running:
        id_to_raw = dict(zip((h.id for h in households), raw_ids, strict=True))
        out["running"] = [
            {
                "name": r.name,
                "annual_fen": r.annual_fen,
                "shares": [{"id": id_to_raw[hid], "fen": fen} for hid, fen in r.fen_by_id],
            }
            for r in result.running
        ]
    out["explanation"] = list(result.explanation)
    return out
