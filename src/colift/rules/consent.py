"""Consent law as exact tallies: who counts, what counts, and whether the thresholds are met.

Heads and areas are counted as the Supreme People's Court interpretation on building
co-ownership (arts. 8-9) says: one flat is one owner, except that one buyer of several flats is
one owner and all developer-held (unsold or undelivered) flats together are one owner. Areas are
counted in integer square centimetres and thresholds are compared by cross-multiplying integers,
so no comparison ever goes through a float. City rules are profiles (TOML files under
`profiles/consent/`), read by `load_profile`.

The tally is split in two so that every caller shares one decision:
`count_votes` turns flats into `ConsentCounts`; `decide` turns counts into a verdict. The store's
set-based city tally builds `ConsentCounts` in SQL and calls the same `decide`.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

from colift.errors import BadInput, NotFound
from colift.model.voting import ObjectionStatus, Vote

CM2_PER_M2 = 10_000
DEVELOPER_OWNER = "__developer__"

# Civil Code art. 1259: these words include the number itself; the others exclude it.
INCLUSIVE_WORDS = frozenset({"以上", "以下", "以内", "届满", ">="})
EXCLUSIVE_WORDS = frozenset({"超过", "不满", "以外", ">"})


class Scope(StrEnum):
    UNIT = "unit"
    BUILDING = "building"
    COMPOUND = "compound"


class Basis(StrEnum):
    TOTAL = "total"  # all owners and all exclusive area in scope
    PARTICIPATING = "participating"  # those who took part in the vote


@dataclass(frozen=True)
class Step:
    """One double threshold: area share and head share, each compared with `operator`."""

    of: Basis
    area: Fraction | None
    heads: Fraction | None
    operator: str

    @property
    def inclusive(self) -> bool:
        return self.operator in INCLUSIVE_WORDS


@dataclass(frozen=True)
class Source:
    title: str
    publisher: str = ""
    date: str = ""
    confidence: str = ""


@dataclass(frozen=True)
class ConsentProfile:
    """A consent rule as data. `quorum` is None where the rule has no turnout step."""

    id: str
    name_zh: str
    name_en: str
    jurisdiction: str
    quorum: Step | None
    approval: Step
    no_unresolved_objection: bool
    occupied_owners_must_agree: bool
    notice_days: int
    notice_days_source: str
    default_scope: Scope
    sources: tuple[Source, ...]
    notes: str = ""


@dataclass(frozen=True)
class Flat:
    """One exclusive part as the tally sees it. `owner` is the owner of record's key."""

    id: str
    area_cm2: int
    owner: str
    vote: Vote
    developer_held: bool = False
    floor: int | None = None

    @property
    def head_key(self) -> str:
        return DEVELOPER_OWNER if self.developer_held else self.owner


@dataclass(frozen=True)
class Objection:
    household: str
    status: ObjectionStatus


@dataclass(frozen=True)
class ConsentCounts:
    """Everything `decide` needs; areas in integer cm²."""

    total_area_cm2: int
    participating_area_cm2: int
    agree_area_cm2: int
    total_heads: int
    participating_heads: int
    agree_heads: int
    unresolved_objections: tuple[Objection, ...] = ()
    occupied_not_agreeing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One threshold comparison with its figures and how far it is from being met."""

    step: str  # "quorum" or "approval"
    basis: str  # "area" or "heads"
    counted: str  # "participating" or "agree"
    of: Basis
    numerator: int  # cm² for area, owners for heads
    denominator: int
    required: Fraction
    operator: str
    met: bool
    short_by: int  # cm² or owners still needed (0 when met)

    def describe(self) -> str:
        what = "owners" if self.basis == "heads" else "m²"
        num = self.numerator if self.basis == "heads" else format_area(self.numerator)
        den = self.denominator if self.basis == "heads" else format_area(self.denominator)
        base = "all" if self.of is Basis.TOTAL else "participating"
        verb = "taking part" if self.counted == "participating" else "agreeing"
        cmp = "≥" if self.operator in INCLUSIVE_WORDS else ">"
        text = (
            f"{self.step}: {verb} {self.basis} {num} of {base} {den} {what} "
            f"(needs {cmp} {self.required} {self.operator}): {'met' if self.met else 'not met'}"
        )
        if not self.met:
            text += f", {self.shortfall_text()}"
        return text

    def shortfall_text(self) -> str:
        who = "taking part" if self.counted == "participating" else "agreeing"
        if self.basis == "heads":
            n = self.short_by
            return f"{n} more owner{'s' if n != 1 else ''} {who} needed"
        return f"{format_area(self.short_by, round_up=True)} m² more {who} needed"


@dataclass(frozen=True)
class ConsentResult:
    profile: ConsentProfile
    scope: Scope
    counts: ConsentCounts
    checks: tuple[Check, ...]
    quorum_met: bool | None
    approval_met: bool
    objections_clear: bool
    occupied_clear: bool
    reasons: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return (
            self.quorum_met is not False
            and self.approval_met
            and self.objections_clear
            and self.occupied_clear
        )

    def explanation(self) -> list[str]:
        """Every check, met or not, in reading order."""
        lines = [c.describe() for c in self.checks]
        if self.profile.no_unresolved_objection:
            n = len(self.counts.unresolved_objections)
            lines.append(f"no unresolved objection required: {n} unresolved")
        if self.profile.occupied_owners_must_agree:
            n = len(self.counts.occupied_not_agreeing)
            lines.append(f"owners of occupied flats must agree: {n} have not")
        return lines

    def margin(self) -> dict[str, Any]:
        """The largest shortfall in heads and in m² across the unmet checks."""
        heads = max((c.short_by for c in self.checks if c.basis == "heads"), default=0)
        area = max((c.short_by for c in self.checks if c.basis == "area"), default=0)
        return {"heads": heads, "area_m2": format_area(area, round_up=True)}

    def to_json(self) -> dict[str, Any]:
        c = self.counts
        return {
            "rule": self.profile.id,
            "scope": self.scope.value,
            "passed": self.passed,
            "quorum_met": self.quorum_met,
            "approval_met": self.approval_met,
            "total_area": format_area(c.total_area_cm2),
            "participating_area": format_area(c.participating_area_cm2),
            "agree_area": format_area(c.agree_area_cm2),
            "total_heads": c.total_heads,
            "participating_heads": c.participating_heads,
            "agree_heads": c.agree_heads,
            "reasons": list(self.reasons),
            "checks": [
                {
                    "step": k.step,
                    "basis": k.basis,
                    "of": k.of.value,
                    "counted": k.counted,
                    "value": k.numerator if k.basis == "heads" else format_area(k.numerator),
                    "of_value": (
                        k.denominator if k.basis == "heads" else format_area(k.denominator)
                    ),
                    "required": str(k.required),
                    "operator": k.operator,
                    "met": k.met,
                    "short_by": (
                        k.short_by if k.basis == "heads" else format_area(k.short_by, True)
                    ),
                }
                for k in self.checks
            ],
            "margin": self.margin(),
            "unresolved_objections": [o.household for o in c.unresolved_objections],
            "occupied_not_agreeing": list(c.occupied_not_agreeing),
            "explanation": self.explanation(),
        }


# ---------------------------------------------------------------- areas


def area_to_cm2(value: object, what: str = "area_m2") -> int:
    """Parse an area in m² (string, int or Decimal) to exact integer cm²."""
    if isinstance(value, bool) or value is None:
        raise BadInput(f"{what} {value!r} is not a number")
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as the same float
    try:
        area = Decimal(str(value).strip())
    except InvalidOperation:
        raise BadInput(f"{what} {value!r} is not a number") from None
    if not area.is_finite():
        raise BadInput(f"{what} {value!r} is not a number")
    if area <= 0:
        raise BadInput(f"{what} {value!r} must be a positive area in m²")
    cm2 = area * CM2_PER_M2
    if cm2 != cm2.to_integral_value():
        raise BadInput(f"{what} {value!r} has more than 4 decimals")
    return int(cm2)


def format_area(cm2: int, round_up: bool = False) -> str:
    """cm² as m² text with at least 2 decimals; `round_up` rounds a shortfall up to 0.01 m²."""
    m2 = Decimal(cm2) / CM2_PER_M2
    if round_up:
        return str(m2.quantize(Decimal("0.01"), rounding=ROUND_CEILING))
    two = m2.quantize(Decimal("0.01"))
    return str(two) if two == m2 else str(m2.normalize())


# ---------------------------------------------------------------- profiles

PROFILE_DIR = "profiles/consent"


def _profile_files() -> dict[str, Any]:
    root = files("colift.rules") / "profiles" / "consent"
    return {p.name[: -len(".toml")]: p for p in root.iterdir() if p.name.endswith(".toml")}


def available_profiles() -> list[str]:
    return sorted(_profile_files())


def _fraction(text: object, where: str) -> Fraction:
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        raise BadInput(f'{where}: {text!r} is not a fraction like "2/3"') from None
    if not 0 < value <= 1:
        raise BadInput(f"{where}: {text!r} must be between 0 and 1")
    return value


def _step(data: Mapping[str, Any], where: str) -> Step:
    operator = str(data.get("operator", "以上"))
    if operator not in INCLUSIVE_WORDS | EXCLUSIVE_WORDS:
        raise BadInput(f"{where}: operator {operator!r} must be 以上 (≥) or 超过 (>)")
    try:
        of = Basis(str(data.get("of", "total")))
    except ValueError:
        raise BadInput(f"{where}: 'of' must be 'total' or 'participating'") from None
    area = _fraction(data["area"], f"{where}.area") if "area" in data else None
    heads = _fraction(data["heads"], f"{where}.heads") if "heads" in data else None
    if area is None and heads is None:
        raise BadInput(f"{where}: give 'area', 'heads' or both")
    return Step(of=of, area=area, heads=heads, operator=operator)


def parse_profile(data: Mapping[str, Any], origin: str = "profile") -> ConsentProfile:
    """Build a profile from parsed TOML; a malformed file is a BadInput naming the field."""
    try:
        approval = _step(data["approval"], f"{origin}: approval")
        quorum = _step(data["quorum"], f"{origin}: quorum") if "quorum" in data else None
        if quorum is not None and quorum.of is not Basis.TOTAL:
            raise BadInput(f"{origin}: quorum must be counted 'of' the total")
        conditions = data.get("conditions", {})
        notice = data.get("notice", {})
        return ConsentProfile(
            id=str(data["id"]),
            name_zh=str(data["name_zh"]),
            name_en=str(data["name_en"]),
            jurisdiction=str(data.get("jurisdiction", "")),
            quorum=quorum,
            approval=approval,
            no_unresolved_objection=bool(conditions.get("no_unresolved_objection", False)),
            occupied_owners_must_agree=bool(conditions.get("occupied_owners_must_agree", False)),
            notice_days=int(notice.get("days", 20)),
            notice_days_source=str(notice.get("source", "assumption")),
            default_scope=Scope(str(data.get("default_scope", "unit"))),
            sources=tuple(
                Source(
                    title=str(s["title"]),
                    publisher=str(s.get("publisher", "")),
                    date=str(s.get("date", "")),
                    confidence=str(s.get("confidence", "")),
                )
                for s in data.get("sources", [])
            ),
            notes=str(data.get("notes", "")).strip(),
        )
    except KeyError as exc:
        raise BadInput(f"{origin}: missing field {exc.args[0]!r}") from None
    except ValueError as exc:
        raise BadInput(f"{origin}: {exc}") from None


@cache
def load_profile(name: str) -> ConsentProfile:
    """A packaged profile by id, or a TOML file by path (for a city's own rule)."""
    path = Path(name)
    if name.endswith(".toml") and path.is_file():
        with path.open("rb") as fh:
            return parse_profile(tomllib.load(fh), origin=path.name)
    found = _profile_files().get(name)
    if found is None:
        known = ", ".join(available_profiles())
        raise NotFound(f"unknown consent rule {name!r}: known rules are {known}")
    return parse_profile(tomllib.loads(found.read_text(encoding="utf-8")), origin=name)


# ---------------------------------------------------------------- counting


def count_votes(
    flats: Iterable[Flat],
    objections: Iterable[Objection] = (),
    occupied: Iterable[str] = (),
) -> ConsentCounts:
    """Count heads and areas (SPC arts. 8-9). One owner must cast one vote for all their flats."""
    owner_vote: dict[str, Vote] = {}
    owner_flat: dict[str, str] = {}
    by_id: dict[str, Flat] = {}
    total_area = part_area = agree_area = 0
    for flat in flats:
        if flat.id in by_id:
            raise BadInput(f"household {flat.id} is listed twice")
        by_id[flat.id] = flat
        key = flat.head_key
        seen = owner_vote.get(key)
        if seen is None:
            owner_vote[key] = flat.vote
            owner_flat[key] = flat.id
        elif seen is not flat.vote:
            who = "the developer" if key == DEVELOPER_OWNER else f"owner {flat.owner!r}"
            raise BadInput(
                f"{who} votes {seen.value} for {owner_flat[key]} but {flat.vote.value} for "
                f"{flat.id}: one owner casts one vote for all their flats"
            )
        total_area += flat.area_cm2
        if flat.vote.participates:
            part_area += flat.area_cm2
            if flat.vote is Vote.AGREE:
                agree_area += flat.area_cm2
    if not by_id:
        raise BadInput("no households to count: the list is empty")
    votes = list(owner_vote.values())
    unresolved: list[Objection] = []
    for obj in objections:
        if obj.household not in by_id:
            raise BadInput(f"objection names household {obj.household}, which is not in the list")
        if obj.status.unresolved:
            unresolved.append(obj)
    not_agreeing: list[str] = []
    for hid in occupied:
        if hid not in by_id:
            raise BadInput(f"occupied flat {hid} is not in the household list")
        if by_id[hid].vote is not Vote.AGREE:
            not_agreeing.append(hid)
    return ConsentCounts(
        total_area_cm2=total_area,
        participating_area_cm2=part_area,
        agree_area_cm2=agree_area,
        total_heads=len(votes),
        participating_heads=sum(1 for v in votes if v.participates),
        agree_heads=sum(1 for v in votes if v is Vote.AGREE),
        unresolved_objections=tuple(sorted(unresolved, key=lambda o: o.household)),
        occupied_not_agreeing=tuple(sorted(not_agreeing)),
    )


# ---------------------------------------------------------------- deciding


def meets(numerator: int, denominator: int, required: Fraction, inclusive: bool) -> bool:
    """numerator/denominator ≥ required (or >), by integer cross-multiplication."""
    lhs = numerator * required.denominator
    rhs = required.numerator * denominator
    return lhs >= rhs if inclusive else lhs > rhs


def shortfall(numerator: int, denominator: int, required: Fraction, inclusive: bool) -> int:
    """The smallest whole number to add to the numerator (denominator fixed) to meet the ratio."""
    p, q = required.numerator, required.denominator
    target = -((-p * denominator) // q) if inclusive else (p * denominator) // q + 1
    return max(0, target - numerator)


def _checks(step: Step, name: str, counted: str, c: ConsentCounts) -> list[Check]:
    if counted == "participating":
        num_area, num_heads = c.participating_area_cm2, c.participating_heads
    else:
        num_area, num_heads = c.agree_area_cm2, c.agree_heads
    if step.of is Basis.TOTAL:
        den_area, den_heads = c.total_area_cm2, c.total_heads
    else:
        den_area, den_heads = c.participating_area_cm2, c.participating_heads
    out = []
    for basis, num, den, req in (
        ("area", num_area, den_area, step.area),
        ("heads", num_heads, den_heads, step.heads),
    ):
        if req is None:
            continue
        # Nobody taking part cannot approve anything: 0 of 0 does not meet a ratio.
        ok = den > 0 and meets(num, den, req, step.inclusive)
        short = 0 if ok else max(1, shortfall(num, den, req, step.inclusive))
        out.append(Check(name, basis, counted, step.of, num, den, req, step.operator, ok, short))
    return out


def verdict(profile: ConsentProfile, c: ConsentCounts) -> bool:
    """Only the pass/fail answer, for tallies over many units at once."""
    q = profile.quorum
    if q is not None:
        for req, num, den in (
            (q.area, c.participating_area_cm2, c.total_area_cm2),
            (q.heads, c.participating_heads, c.total_heads),
        ):
            if req is not None and not (den > 0 and meets(num, den, req, q.inclusive)):
                return False
    a = profile.approval
    total = a.of is Basis.TOTAL
    for req, num, den in (
        (a.area, c.agree_area_cm2, c.total_area_cm2 if total else c.participating_area_cm2),
        (a.heads, c.agree_heads, c.total_heads if total else c.participating_heads),
    ):
        if req is not None and not (den > 0 and meets(num, den, req, a.inclusive)):
            return False
    if profile.no_unresolved_objection and c.unresolved_objections:
        return False
    return not (profile.occupied_owners_must_agree and c.occupied_not_agreeing)


def decide(
    profile: ConsentProfile, counts: ConsentCounts, scope: Scope | None = None
) -> ConsentResult:
    """Apply a profile to counts: every check, the margin and the blocking reasons."""
    checks: list[Check] = []
    quorum_met: bool | None = None
    if profile.quorum is not None:
        q = _checks(profile.quorum, "quorum", "participating", counts)
        quorum_met = all(k.met for k in q)
        checks += q
    a = _checks(profile.approval, "approval", "agree", counts)
    approval_met = all(k.met for k in a)
    checks += a
    reasons = [k.describe() for k in checks if not k.met]
    objections_clear = True
    if profile.no_unresolved_objection and counts.unresolved_objections:
        objections_clear = False
        for o in counts.unresolved_objections:
            reasons.append(
                f"objection by {o.household} is unresolved (status {o.status.value}); "
                f"{profile.id} requires that no other owner objects"
            )
    occupied_clear = True
    if profile.occupied_owners_must_agree and counts.occupied_not_agreeing:
        occupied_clear = False
        for hid in counts.occupied_not_agreeing:
            reasons.append(
                f"the owner of {hid}, whose flat the plan occupies, has not agreed; "
                f"{profile.id} requires their agreement"
            )
    return ConsentResult(
        profile=profile,
        scope=scope or profile.default_scope,
        counts=counts,
        checks=tuple(checks),
        quorum_met=quorum_met,
        approval_met=approval_met,
        objections_clear=objections_clear,
        occupied_clear=occupied_clear,
        reasons=tuple(reasons),
    )


def evaluate(
    profile: ConsentProfile,
    flats: Sequence[Flat],
    objections: Iterable[Objection] = (),
    occupied: Iterable[str] = (),
    scope: Scope | None = None,
) -> ConsentResult:
    return decide(profile, count_votes(flats, objections, occupied), scope)


# ---------------------------------------------------------------- the JSON contract


def _parse_vote(value: object, hid: str) -> Vote:
    from colift.model.voting import parse_vote

    if value is None:
        return Vote.ABSENT
    if not isinstance(value, str):
        raise BadInput(f'household {hid}: vote {value!r} must be a word like "agree"')
    try:
        return parse_vote(value)
    except ValueError as exc:
        raise BadInput(f"household {hid}: {exc}") from None


def _parse_status(value: object, hid: str) -> ObjectionStatus:
    from colift.model.voting import parse_objection_status

    try:
        return parse_objection_status(str(value if value is not None else "open"))
    except ValueError as exc:
        raise BadInput(f"objection of household {hid}: {exc}") from None


def request_flats(data: Mapping[str, Any]) -> list[Flat]:
    """The `households` list of the contract as flats; bad entries raise BadInput."""
    rows = data.get("households")
    if not isinstance(rows, list) or not rows:
        raise BadInput("'households' must be a non-empty list")
    flats = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise BadInput(f"household #{n} must be an object with id, area_m2 and vote")
        if row.get("id") in (None, ""):
            raise BadInput(f"household #{n} has no id")
        hid = str(row["id"])
        if "area_m2" not in row:
            raise BadInput(f"household {hid}: area_m2 is missing")
        floor = row.get("floor")
        if floor is not None and (isinstance(floor, bool) or not isinstance(floor, int)):
            raise BadInput(f"household {hid}: floor {floor!r} must be a whole number")
        if floor is not None and floor < 1:
            raise BadInput(f"household {hid}: floor {floor} must be 1 or higher")
        owner = row.get("owner")
        developer = row.get("developer_unsold", False)
        if not isinstance(developer, bool):
            raise BadInput(f"household {hid}: developer_unsold must be true or false")
        flats.append(
            Flat(
                id=hid,
                area_cm2=area_to_cm2(row["area_m2"], f"household {hid}: area_m2"),
                # SPC art. 9: without a named owner, one flat is one owner.
                owner=str(owner) if owner not in (None, "") else f"flat:{hid}",
                vote=_parse_vote(row.get("vote"), hid),
                developer_held=developer,
                floor=floor,
            )
        )
    return flats


def evaluate_request(data: Mapping[str, Any]) -> dict[str, Any]:
    """The `colift consent evaluate FILE --json` contract: a request dict in, a result dict out."""
    if not isinstance(data, Mapping):
        raise BadInput("the file must hold one JSON object with 'rule' and 'households'")
    rule = data.get("rule", "cn-civil-code-278")
    if not isinstance(rule, str):
        raise BadInput("'rule' must be the name of a consent rule")
    try:
        profile = load_profile(rule)
    except NotFound as exc:
        raise BadInput(exc.message) from None
    scope: Scope | None = None
    if "scope" in data:
        try:
            scope = Scope(str(data["scope"]))
        except ValueError:
            raise BadInput("'scope' must be unit, building or compound") from None
    flats = request_flats(data)
    objections = []
    for n, o in enumerate(data.get("objections") or [], start=1):
        if not isinstance(o, Mapping) or o.get("household") in (None, ""):
            raise BadInput(f"objection #{n} must name its household")
        hid = str(o["household"])
        objections.append(Objection(hid, _parse_status(o.get("status"), hid)))
    occupied = data.get("occupied") or []
    if not isinstance(occupied, list):
        raise BadInput("'occupied' must be a list of household ids")
    return evaluate(profile, flats, objections, [str(h) for h in occupied], scope).to_json()
