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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from colift.datafiles import load_toml, reject_unknown
from colift.errors import BadInput, NotFound
from colift.i18n import Label, Message, msg
from colift.model.voting import ObjectionStatus, Vote
from colift.rules.periods import Counting, FirstDay, NoticeRule

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


class Confidence(StrEnum):
    """How far a profile's figures were checked (docs/cities.md)."""

    CONFIRMED = "confirmed"  # the rule's own text, or an official page quoting it, was read
    SECONDARY = "secondary"  # read in a press report, a compilation or a reprint
    ASSUMPTION = "assumption"  # nothing read says it: inferred, and marked as such


class ObjectionsBlock(StrEnum):
    """Which unresolved written objections keep the public notice from being passed."""

    ANY = "any"  # every unresolved objection, whenever raised (older "no objection" rules)
    DURING_NOTICE = "during-notice"  # those raised during the notice (real-name, written)
    NONE = "none"  # none by itself: the approving authority weighs them


@dataclass(frozen=True)
class Source:
    """What a profile cites: a document, a page or an article, and how far it was read."""

    title: str
    url: str = ""
    publisher: str = ""
    date: str = ""
    confidence: str = ""
    note: str = ""


@dataclass(frozen=True)
class WorkflowRule:
    """The steps the law or the city asks for, which the stage gates read (docs/workflow.md)."""

    plan_before_vote: bool = False  # design and pipeline survey recorded before the vote
    structural_appraisal: bool = False  # 房屋安全鉴定 before the public notice
    installation_notice: bool = True  # 特种设备安全法 art. 23: written notice before works
    supervision_inspection: bool = True  # art. 25: 监督检验 before acceptance


CIVIL_CODE_IN_FORCE = date(2021, 1, 1)
# Civil Code art. 278: the floor no local rule may go below after 2021-01-01.
_CIVIL_QUORUM = Fraction(2, 3)
_CIVIL_APPROVAL = Fraction(3, 4)


@dataclass(frozen=True)
class ConsentProfile:
    """A consent rule as data. `quorum` is None where the rule has no turnout step.

    `key` is the name people use for the rule of a place ("beijing"); `id` names one dated
    version of it ("beijing-2023"). `sha256` is the hash of the file it was read from, so a
    vote round can pin exactly the rule it was counted under.
    """

    id: str
    key: str
    name_zh: str
    name_en: str
    jurisdiction: str
    quorum: Step | None
    approval: Step
    no_unresolved_objection: bool
    occupied_owners_must_agree: bool
    notice: NoticeRule
    default_scope: Scope
    sources: tuple[Source, ...]
    notes: str = ""
    jurisdiction_en: str = ""
    issuer: str = ""
    document_number: str = ""
    in_force_from: date | None = None
    in_force_until: date | None = None  # the last day in force, inclusive; None: still in force
    confidence: Confidence = Confidence.ASSUMPTION
    objections_block: ObjectionsBlock = ObjectionsBlock.DURING_NOTICE
    litigation_blocks_notice: bool = False
    workflow: WorkflowRule = field(default_factory=WorkflowRule)
    sha256: str = ""

    @property
    def notice_days(self) -> int:
        return self.notice.days

    def in_force_on(self, day: date) -> bool:
        if self.in_force_from is not None and day < self.in_force_from:
            return False
        return self.in_force_until is None or day <= self.in_force_until

    def laxer_than_civil_code(self) -> tuple[Message, ...]:
        """Why some vote that fails Civil Code art. 278 would pass this rule; () if none can.

        Per basis (area, heads): a rule counted of those taking part needs a quorum of at
        least 2/3 and an approval of at least 3/4; a rule counted of all owners needs at least
        3/4 of all to agree (then turnout is at least 3/4 too). Ratios compare exactly.
        """
        reasons: list[Message] = []
        for basis, label in (("area", Label("面积", "area")), ("heads", Label("人数", "heads"))):
            approval = getattr(self.approval, basis)
            quorum = getattr(self.quorum, basis) if self.quorum is not None else None
            if approval is None:
                reasons.append(msg("no approval threshold on {basis}", basis=label))
            elif self.approval.of is Basis.TOTAL:
                if approval < _CIVIL_APPROVAL:
                    reasons.append(
                        msg(
                            "{ratio} of all owners' {basis} agreeing is below 3/4",
                            ratio=str(approval),
                            basis=label,
                        )
                    )
            else:
                if quorum is None or quorum < _CIVIL_QUORUM:
                    reasons.append(
                        msg(
                            "a quorum of {ratio} on {basis} is below 2/3",
                            ratio=str(quorum or 0),
                            basis=label,
                        )
                    )
                if approval < _CIVIL_APPROVAL:
                    reasons.append(
                        msg(
                            "{ratio} of those taking part agreeing on {basis} is below 3/4",
                            ratio=str(approval),
                            basis=label,
                        )
                    )
        return tuple(reasons)

    def civil_code_warning(self, on: date) -> Message | None:
        """A warning when this rule is laxer than art. 278 and used for a day after 2021."""
        if on < CIVIL_CODE_IN_FORCE:
            return None
        why = self.laxer_than_civil_code()
        if not why:
            return None
        return msg(
            "{rule} is laxer than Civil Code art. 278 ({why}), which prevails from 2021-01-01: "
            "a vote counted under it on {on} may not stand at law; count it under the rule in "
            "force that day",
            rule=Label(self.name_zh, self.name_en),
            why=Label(
                "；".join(w.render("zh-CN") for w in why), "; ".join(w.render("en") for w in why)
            ),
            on=on.isoformat(),
        )


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
    on: date | None = None  # the day the rule was applied for (the vote's day)
    warnings: tuple[Message, ...] = ()  # shown wherever the verdict is shown
    resolution_note: Message | None = None

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

    def all_warnings(self) -> tuple[Message, ...]:
        """The Civil-Code warning and how the rule's name was resolved, for every display."""
        return self.warnings + ((self.resolution_note,) if self.resolution_note else ())

    def margin(self) -> dict[str, Any]:
        """The largest shortfall in heads and in m² across the unmet checks."""
        heads = max((c.short_by for c in self.checks if c.basis == "heads"), default=0)
        area = max((c.short_by for c in self.checks if c.basis == "area"), default=0)
        return {"heads": heads, "area_m2": format_area(area, round_up=True)}

    def to_json(self) -> dict[str, Any]:
        c = self.counts
        p = self.profile
        return {
            "rule": p.id,
            "rule_key": p.key,
            "rule_name_zh": p.name_zh,
            "rule_name_en": p.name_en,
            "rule_confidence": p.confidence.value,
            "rule_in_force": [
                p.in_force_from.isoformat() if p.in_force_from else None,
                p.in_force_until.isoformat() if p.in_force_until else None,
            ],
            "rule_sha256": p.sha256,
            "on": self.on.isoformat() if self.on else None,
            "warnings": [
                {"zh": w.render("zh-CN"), "en": w.render("en")} for w in self.all_warnings()
            ],
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


MAX_AREA_TEXT = 32
MIN_AREA_M2 = Decimal(1)
MAX_AREA_M2 = Decimal(1000)


def area_to_cm2(value: object, what: str = "area_m2") -> int:
    """Parse an area in m² (string, int or Decimal) to exact integer cm²."""
    if isinstance(value, bool) or value is None:
        raise BadInput("{what} {value} is not a number", what=what, value=repr(value))
    if isinstance(value, float):
        value = repr(value)  # the shortest text that reads back as the same float
    text = str(value).strip()
    # refused before parsing: "1e3000000" is a valid Decimal that no arithmetic survives
    if len(text) > MAX_AREA_TEXT or "e" in text.lower():
        raise BadInput(
            "{what}: {value} is not an area in m² (a plain number, at most {most} characters)",
            what=what,
            value=repr(text[:MAX_AREA_TEXT]),
            most=MAX_AREA_TEXT,
        )
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise BadInput("{what} {value} is not a number", what=what, value=repr(value)) from None
    if not area.is_finite():
        raise BadInput("{what} {value} is not a number", what=what, value=repr(value))
    if area <= 0:
        raise BadInput("{what} {value} must be a positive area in m²", what=what, value=repr(value))
    if not MIN_AREA_M2 <= area <= MAX_AREA_M2:
        raise BadInput(
            "{what}: {value} m² is not the area of a flat (1 to 1,000 m²)", what=what, value=text
        )
    cm2 = area * CM2_PER_M2
    if cm2 != cm2.to_integral_value():
        raise BadInput("{what} {value} has more than 4 decimals", what=what, value=repr(value))
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

_TOP_KEYS = frozenset(
    {
        "id",
        "key",
        "name_zh",
        "name_en",
        "jurisdiction",
        "jurisdiction_en",
        "issuer",
        "document_number",
        "in_force_from",
        "in_force_until",
        "confidence",
        "default_scope",
        "notes",
        "quorum",
        "approval",
        "conditions",
        "notice",
        "workflow",
        "sources",
    }
)
_STEP_KEYS = frozenset({"of", "area", "heads", "operator"})
_CONDITION_KEYS = frozenset(
    {
        "no_unresolved_objection",
        "occupied_owners_must_agree",
        "objections_block",
        "litigation_blocks_notice",
    }
)
_NOTICE_KEYS = frozenset({"days", "counting", "first_day", "source", "confidence"})
_WORKFLOW_KEYS = frozenset(
    {"plan_before_vote", "structural_appraisal", "installation_notice", "supervision_inspection"}
)
_SOURCE_KEYS = frozenset({"title", "url", "publisher", "date", "confidence", "note", "in_force"})


def _profile_files() -> dict[str, Traversable]:
    return dict(_listed_profile_files())


@cache
def _listed_profile_files() -> tuple[tuple[str, Traversable], ...]:
    """The packaged profile files, listed once: every count resolves its rule by name."""
    root = files("colift.rules") / "profiles" / "consent"
    return tuple(
        (p.name[: -len(".toml")], p) for p in root.iterdir() if p.name.endswith(".toml")
    )


def available_profiles() -> list[str]:
    """Ids of the packaged profiles (every dated version), sorted."""
    return sorted(_profile_files())


def _fraction(text: object, where: str) -> Fraction:
    if isinstance(text, bool) or not isinstance(text, str | int) or len(str(text)) > 20:
        raise BadInput(
            '{where}: {value} is not a fraction like "2/3"', where=where, value=repr(text)
        )
    try:
        value = Fraction(str(text))
    except (ValueError, ZeroDivisionError):
        raise BadInput(
            '{where}: {value} is not a fraction like "2/3"', where=where, value=repr(text)
        ) from None
    if not 0 < value <= 1:
        raise BadInput("{where}: {value} must be between 0 and 1", where=where, value=repr(text))
    return value


def _table(
    data: Mapping[str, Any], key: str, where: str, allowed: frozenset[str]
) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise BadInput("{where}: [{key}] must be a table", where=where, key=key)
    reject_unknown(value, allowed, f"{where} [{key}]")
    return value


def _flag(data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise BadInput("{where}: {key} must be true or false", where=where, key=key)
    return value


def _day(data: Mapping[str, Any], key: str, where: str) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BadInput("{where}: {key} must be a date such as 2021-01-01", where=where, key=key)
    return value


def _choice(value: object, kind: type[StrEnum], where: str) -> Any:
    try:
        return kind(str(value))
    except ValueError:
        choices = ", ".join(k.value for k in kind)
        raise BadInput(
            "{where}: {value} is not one of {choices}",
            where=where,
            value=repr(value),
            choices=choices,
        ) from None


def _step(data: object, where: str) -> Step:
    if not isinstance(data, Mapping):
        raise BadInput("{where} must be a table", where=where)
    reject_unknown(data, _STEP_KEYS, where)
    operator = str(data.get("operator", "以上"))
    if operator not in INCLUSIVE_WORDS | EXCLUSIVE_WORDS:
        raise BadInput(
            "{where}: operator {operator} must be 以上 (≥) or 超过 (>)",
            where=where,
            operator=repr(operator),
        )
    of = _choice(data.get("of", "total"), Basis, f"{where}: of")
    area = _fraction(data["area"], f"{where}.area") if "area" in data else None
    heads = _fraction(data["heads"], f"{where}.heads") if "heads" in data else None
    if area is None and heads is None:
        raise BadInput("{where}: give 'area', 'heads' or both", where=where)
    return Step(of=of, area=area, heads=heads, operator=operator)


def _text(data: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
    value = data.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadInput("{where}: {key} must be a non-empty text", where=where, key=key)
    return value.strip()


def parse_profile(
    data: Mapping[str, Any], origin: str = "profile", sha256: str = ""
) -> ConsentProfile:
    """Build a profile from parsed TOML; an unknown or malformed field is a BadInput naming it."""
    where = f"consent profile {origin}"
    reject_unknown(data, _TOP_KEYS, where)
    for required in ("id", "name_zh", "name_en", "approval"):
        if required not in data:
            raise BadInput("{where}: missing field {field}", where=where, field=repr(required))
    approval = _step(data["approval"], f"{where}: approval")
    quorum = _step(data["quorum"], f"{where}: quorum") if "quorum" in data else None
    if quorum is not None and quorum.of is not Basis.TOTAL:
        raise BadInput("{where}: quorum must be counted 'of' the total", where=where)
    conditions = _table(data, "conditions", where, _CONDITION_KEYS)
    notice = _table(data, "notice", where, _NOTICE_KEYS)
    workflow = _table(data, "workflow", where, _WORKFLOW_KEYS)
    sources_raw = data.get("sources", [])
    if not isinstance(sources_raw, list) or not sources_raw:
        raise BadInput("{where}: cite at least one source as [[sources]]", where=where)
    sources = []
    for n, raw in enumerate(sources_raw, start=1):
        if not isinstance(raw, Mapping):
            raise BadInput("{where}: source {n} must be a table", where=where, n=n)
        reject_unknown(raw, _SOURCE_KEYS, f"{where} source {n}")
        sources.append(
            Source(
                title=_text(raw, "title", f"{where} source {n}", required=True),
                url=_text(raw, "url", f"{where} source {n}"),
                publisher=_text(raw, "publisher", f"{where} source {n}"),
                date=str(raw.get("date", "")),
                confidence=_choice(
                    raw.get("confidence", "secondary"),
                    Confidence,
                    f"{where} source {n}: confidence",
                ).value,
                note=_text(raw, "note", f"{where} source {n}"),
            )
        )
    days = notice.get("days", 10)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise BadInput("{where} [notice]: days must be a whole number from 1 to 366", where=where)
    no_objection = _flag(conditions, "no_unresolved_objection", where, False)
    default_block = ObjectionsBlock.ANY if no_objection else ObjectionsBlock.DURING_NOTICE
    in_force_from = _day(data, "in_force_from", where)
    in_force_until = _day(data, "in_force_until", where)
    if in_force_from and in_force_until and in_force_until < in_force_from:
        raise BadInput("{where}: in_force_until is before in_force_from", where=where)
    profile_id = _text(data, "id", where, required=True)
    return ConsentProfile(
        id=profile_id,
        key=_text(data, "key", where) or profile_id,
        name_zh=_text(data, "name_zh", where, required=True),
        name_en=_text(data, "name_en", where, required=True),
        jurisdiction=_text(data, "jurisdiction", where),
        jurisdiction_en=_text(data, "jurisdiction_en", where),
        issuer=_text(data, "issuer", where),
        document_number=_text(data, "document_number", where),
        in_force_from=in_force_from,
        in_force_until=in_force_until,
        confidence=_choice(
            data.get("confidence", "assumption"), Confidence, f"{where}: confidence"
        ),
        quorum=quorum,
        approval=approval,
        no_unresolved_objection=no_objection,
        occupied_owners_must_agree=_flag(conditions, "occupied_owners_must_agree", where, False),
        objections_block=_choice(
            conditions.get("objections_block", default_block.value),
            ObjectionsBlock,
            f"{where} [conditions]: objections_block",
        ),
        litigation_blocks_notice=_flag(conditions, "litigation_blocks_notice", where, False),
        notice=NoticeRule(
            days=days,
            counting=_choice(
                notice.get("counting", "calendar"), Counting, f"{where} [notice]: counting"
            ),
            first_day=_choice(
                notice.get("first_day", "next-day"), FirstDay, f"{where} [notice]: first_day"
            ),
            source=_text(notice, "source", where),
            confidence=_choice(
                notice.get("confidence", "assumption"), Confidence, f"{where} [notice]: confidence"
            ).value,
        ),
        default_scope=_choice(data.get("default_scope", "unit"), Scope, f"{where}: default_scope"),
        workflow=WorkflowRule(
            plan_before_vote=_flag(workflow, "plan_before_vote", where, False),
            structural_appraisal=_flag(workflow, "structural_appraisal", where, False),
            installation_notice=_flag(workflow, "installation_notice", where, True),
            supervision_inspection=_flag(workflow, "supervision_inspection", where, True),
        ),
        sources=tuple(sources),
        notes=str(data.get("notes", "")).strip(),
        sha256=sha256,
    )


def load_profile_file(path: Path | str) -> ConsentProfile:
    """A consent profile from a TOML file a city wrote (the command line only; never the API)."""
    document = load_toml(Path(path), "consent profile")
    return parse_profile(document.data, origin=document.origin, sha256=document.sha256)


@cache
def _packaged(profile_id: str) -> ConsentProfile:
    document = load_toml(_profile_files()[profile_id], "consent profile")
    profile = parse_profile(document.data, origin=document.origin, sha256=document.sha256)
    if profile.id != profile_id:
        raise BadInput(
            "consent profile {file}: id {id} must match the file name",
            file=document.origin,
            id=repr(profile.id),
        )
    return profile


def all_profiles() -> list[ConsentProfile]:
    """Every packaged profile, every dated version."""
    return [_packaged(name) for name in available_profiles()]


def rule_keys() -> list[str]:
    """The names that resolve by date ("beijing", "cn", ...), sorted."""
    return sorted({p.key for p in all_profiles()})


@dataclass(frozen=True)
class Resolution:
    """Which dated rule a name stands for on a day, and why."""

    requested: str
    on: date
    profile: ConsentProfile
    note: Message | None = None  # set when the name fell back to the national rule


def resolve_profile(name: str, on: date | None = None) -> Resolution:
    """The rule `name` means on `on` (default today): a dated id as it is, a key by date.

    A place with no rule of its own in force that day falls back to the national rule in force
    (the Civil Code applies everywhere); the resolution says so.
    """
    day = on or date.today()
    if not isinstance(name, str) or not name.strip():
        raise BadInput("a consent rule needs a name, e.g. cn-civil-code-278 or beijing")
    name = name.strip()
    packaged = _profile_files()
    if name in packaged:
        return Resolution(name, day, _packaged(name))
    versions = [p for p in all_profiles() if p.key == name]
    if not versions:
        raise NotFound(
            "unknown consent rule {name}: known rules are {keys}, or a dated id such as {ids}",
            name=repr(name),
            keys=", ".join(rule_keys()),
            ids=", ".join(available_profiles()),
        )
    in_force = [p for p in versions if p.in_force_on(day)]
    if in_force:
        return Resolution(name, day, max(in_force, key=lambda p: p.in_force_from or date.min))
    national = [p for p in all_profiles() if p.key == NATIONAL_KEY and p.in_force_on(day)]
    if not national:
        raise NotFound(
            "no consent rule {name} was in force on {on}; dated versions: {ids}",
            name=repr(name),
            on=day.isoformat(),
            ids=", ".join(sorted(p.id for p in versions)),
        )
    fallback = national[0]
    return Resolution(
        name,
        day,
        fallback,
        msg(
            "no {place} rule of its own is on file for {on}: the national rule {rule} applies",
            place=name,
            on=day.isoformat(),
            rule=Label(fallback.name_zh, fallback.name_en),
        ),
    )


NATIONAL_KEY = "cn"


def load_profile(name: str, on: date | None = None) -> ConsentProfile:
    """The rule `name` stands for on `on` (default today); see `resolve_profile`."""
    return resolve_profile(name, on).profile


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
            raise BadInput("household {id} is listed twice", id=flat.id)
        by_id[flat.id] = flat
        key = flat.head_key
        seen = owner_vote.get(key)
        if seen is None:
            owner_vote[key] = flat.vote
            owner_flat[key] = flat.id
        elif seen is not flat.vote:
            who = "the developer" if key == DEVELOPER_OWNER else f"owner {flat.owner!r}"
            raise BadInput(
                "{who} votes {value} for {owner_flat} but {value2} for {id}: one owner casts one vote for all their flats",
                who=who,
                value=seen.value,
                owner_flat=owner_flat[key],
                value2=flat.vote.value,
                id=flat.id,
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
            raise BadInput(
                "objection names household {household}, which is not in the list",
                household=obj.household,
            )
        if obj.status.unresolved:
            unresolved.append(obj)
    not_agreeing: list[str] = []
    for hid in occupied:
        if hid not in by_id:
            raise BadInput("occupied flat {hid} is not in the household list", hid=hid)
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
    profile: ConsentProfile,
    counts: ConsentCounts,
    scope: Scope | None = None,
    on: date | None = None,
) -> ConsentResult:
    """Apply a profile to counts: every check, the margin, the blocking reasons and the
    warnings (a rule laxer than Civil Code art. 278 applied to a day after 2021-01-01).

    `on` is the day the vote is counted for (default today)."""
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
        on=on,
        warnings=tuple(w for w in (profile.civil_code_warning(on or date.today()),) if w),
    )


def evaluate(
    profile: ConsentProfile,
    flats: Sequence[Flat],
    objections: Iterable[Objection] = (),
    occupied: Iterable[str] = (),
    scope: Scope | None = None,
    on: date | None = None,
) -> ConsentResult:
    return decide(profile, count_votes(flats, objections, occupied), scope, on)


# ---------------------------------------------------------------- the JSON contract


def _parse_vote(value: object, hid: str) -> Vote:
    from colift.model.voting import parse_vote

    if value is None:
        return Vote.ABSENT
    if not isinstance(value, str):
        raise BadInput(
            'household {hid}: vote {value} must be a word like "agree"', hid=hid, value=repr(value)
        )
    try:
        return parse_vote(value)
    except ValueError as exc:
        raise BadInput("household {hid}: {exc}", hid=hid, exc=exc) from None


def _parse_status(value: object, hid: str) -> ObjectionStatus:
    from colift.model.voting import parse_objection_status

    try:
        return parse_objection_status(str(value if value is not None else "open"))
    except ValueError as exc:
        raise BadInput("objection of household {hid}: {exc}", hid=hid, exc=exc) from None


def request_flats(data: Mapping[str, Any]) -> list[Flat]:
    """The `households` list of the contract as flats; bad entries raise BadInput."""
    rows = data.get("households")
    if not isinstance(rows, list) or not rows:
        raise BadInput("'households' must be a non-empty list")
    flats = []
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise BadInput("household #{n} must be an object with id, area_m2 and vote", n=n)
        if row.get("id") in (None, ""):
            raise BadInput("household #{n} has no id", n=n)
        hid = str(row["id"])
        if "area_m2" not in row:
            raise BadInput("household {hid}: area_m2 is missing", hid=hid)
        floor = row.get("floor")
        if floor is not None and (isinstance(floor, bool) or not isinstance(floor, int)):
            raise BadInput(
                "household {hid}: floor {floor} must be a whole number", hid=hid, floor=repr(floor)
            )
        if floor is not None and floor < 1:
            raise BadInput(
                "household {hid}: floor {floor} must be 1 or higher", hid=hid, floor=floor
            )
        owner = row.get("owner")
        developer = row.get("developer_unsold", False)
        if not isinstance(developer, bool):
            raise BadInput("household {hid}: developer_unsold must be true or false", hid=hid)
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


def _parse_day(value: object, what: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) > 10:
        raise BadInput(
            "{what} {value} must be a date such as 2026-03-01", what=what, value=repr(value)
        )
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(
            "{what} {value} must be a date such as 2026-03-01", what=what, value=repr(value)
        ) from None


_REQUEST_KEYS = frozenset({"rule", "on", "scope", "households", "objections", "occupied"})
_NOTE_KEYS = frozenset({"name", "title", "unit", "note", "notes", "comment", "description"})


def evaluate_request(
    data: Mapping[str, Any], on: date | None = None, profile: ConsentProfile | None = None
) -> dict[str, Any]:
    """The `colift consent evaluate FILE --json` contract: a request dict in, a result dict out.

    `rule` is a rule's name ("beijing": the rule in force on the day counted) or a dated id
    ("beijing-2020"), never a file path; the day is `on` (the command's --on), else the file's
    "on", else today. A city's own profile file comes in as `profile` (the command line only).
    """
    if not isinstance(data, Mapping):
        raise BadInput("the file must hold one JSON object with 'rule' and 'households'")
    reject_unknown(data, _REQUEST_KEYS | _NOTE_KEYS, "request")
    day = on or (_parse_day(data["on"], "'on'") if data.get("on") is not None else date.today())
    note: Message | None = None
    if profile is None:
        rule = data.get("rule", "cn-civil-code-278")
        if not isinstance(rule, str) or len(rule) > 100:
            raise BadInput("'rule' must be the name of a consent rule")
        try:
            resolution = resolve_profile(rule, day)
        except NotFound as exc:
            raise BadInput(exc.text) from None
        profile, note = resolution.profile, resolution.note
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
            raise BadInput("objection #{n} must name its household", n=n)
        hid = str(o["household"])
        objections.append(Objection(hid, _parse_status(o.get("status"), hid)))
    occupied = data.get("occupied") or []
    if not isinstance(occupied, list):
        raise BadInput("'occupied' must be a list of household ids")
    result = evaluate(profile, flats, objections, [str(h) for h in occupied], scope, day)
    if note is not None:
        result = replace(result, resolution_note=note)
    return result.to_json()


def _step_text(step: Step | None) -> str:
    if step is None:
        return "none"
    parts = [f"{b} {getattr(step, b)}" for b in ("area", "heads") if getattr(step, b) is not None]
    return f"{' and '.join(parts)} of {step.of.value} ({step.operator})"


def profile_json(profile: ConsentProfile, on: date | None = None) -> dict[str, Any]:
    """Everything a profile says, for `colift consent profiles` and its --json."""
    day = on or date.today()
    w = profile.workflow
    conditions = [
        text
        for flag, text in (
            (profile.no_unresolved_objection, "no unresolved objection"),
            (profile.occupied_owners_must_agree, "occupied owners agree"),
            (profile.litigation_blocks_notice, "a lawsuit blocks the notice"),
        )
        if flag
    ]
    conditions.append(f"objections that block the notice: {profile.objections_block.value}")
    steps = [
        text
        for flag, text in (
            (w.plan_before_vote, "design and pipeline survey before the vote"),
            (w.structural_appraisal, "structural safety appraisal before the notice"),
            (w.installation_notice, "installation notice before works"),
            (w.supervision_inspection, "supervision inspection before acceptance"),
        )
        if flag
    ]
    return {
        "id": profile.id,
        "key": profile.key,
        "name_zh": profile.name_zh,
        "name_en": profile.name_en,
        "jurisdiction": profile.jurisdiction,
        "jurisdiction_en": profile.jurisdiction_en,
        "issuer": profile.issuer,
        "document_number": profile.document_number,
        "in_force_from": profile.in_force_from.isoformat() if profile.in_force_from else None,
        "in_force_until": profile.in_force_until.isoformat() if profile.in_force_until else None,
        "in_force_on_day": profile.in_force_on(day),
        "confidence": profile.confidence.value,
        "default_scope": profile.default_scope.value,
        "quorum_text": _step_text(profile.quorum),
        "approval_text": _step_text(profile.approval),
        "quorum": None
        if profile.quorum is None
        else {
            "of": profile.quorum.of.value,
            "area": str(profile.quorum.area) if profile.quorum.area else None,
            "heads": str(profile.quorum.heads) if profile.quorum.heads else None,
            "operator": profile.quorum.operator,
        },
        "approval": {
            "of": profile.approval.of.value,
            "area": str(profile.approval.area) if profile.approval.area else None,
            "heads": str(profile.approval.heads) if profile.approval.heads else None,
            "operator": profile.approval.operator,
        },
        "conditions": {
            "no_unresolved_objection": profile.no_unresolved_objection,
            "occupied_owners_must_agree": profile.occupied_owners_must_agree,
            "objections_block": profile.objections_block.value,
            "litigation_blocks_notice": profile.litigation_blocks_notice,
        },
        "conditions_text": "; ".join(conditions),
        "notice": {
            "days": profile.notice.days,
            "counting": profile.notice.counting.value,
            "first_day": profile.notice.first_day.value,
            "text_zh": profile.notice.describe_zh(),
            "text_en": profile.notice.describe_en(),
            "source": profile.notice.source,
            "confidence": profile.notice.confidence,
        },
        "workflow": {
            "plan_before_vote": w.plan_before_vote,
            "structural_appraisal": w.structural_appraisal,
            "installation_notice": w.installation_notice,
            "supervision_inspection": w.supervision_inspection,
        },
        "workflow_text": "; ".join(steps) or "no steps required",
        "laxer_than_civil_code": [m.render("en") for m in profile.laxer_than_civil_code()],
        "sources": [
            {
                "title": s.title,
                "url": s.url,
                "publisher": s.publisher,
                "date": s.date,
                "confidence": s.confidence,
                "note": s.note,
            }
            for s in profile.sources
        ],
        "notes": profile.notes,
        "sha256": profile.sha256,
    }
