"""Intercoder agreement: Cohen's kappa and Krippendorff's alpha over coded segments.

**Unit of analysis.** A unit is a stretch of one source; each coder judges each unit, for each
code, as coded (1) or not (0). Units come from one of two rules:

* *Derived units* (default). Per source, the ranges of every coding in scope, of every
  coder, are joined into maximal runs of overlapping ranges (sharing at least one character;
  ranges that merely touch, 0-5 and 5-9, stay apart). Each run is one unit, and a coder
  applied a code to it when one of the coder's codings of that code lies in the run. So two
  coders who marked 10-40 and 15-45 with the same code agree on one unit 10-45; a stretch
  nobody coded is not a unit (agreement is measured on what was coded). Long codings can chain
  runs together; give explicit units when that matters.
* *Given units* (`units=`, e.g. the sentences of each source from `text.sentences`). A coding
  applies to a unit when they share at least one character and the shared part is at least
  `min_overlap` (default one half) of the shorter of the two.

A coder who did not code a source at all (`coverage`) has missing values for its units, which
Krippendorff's alpha allows; Cohen's kappa uses only units both coders judged.

**Figures.** Per code: kappa (exactly two coders) and alpha (two or more) over that code's
presence/absence on every unit. Overall: the same statistics pooled over every (unit, code)
decision, plus the mean of the per-code kappas. A statistic whose expected disagreement is zero
(every judgement the same value) is undefined and reported as None.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from colift.errors import BadInput
from colift.evidence.model import Coding, Source


@dataclass(frozen=True, order=True)
class Unit:
    source_id: str
    start: int
    end: int


@dataclass(frozen=True)
class CodeAgreement:
    code: str
    units: int  # units judged by at least two coders
    applied: Mapping[str, int]  # coder -> units the coder applied the code to
    agreement: float | None  # share of units on which all coders who judged agree
    kappa: float | None  # Cohen's kappa, exactly two coders
    alpha: float | None  # Krippendorff's alpha, nominal


@dataclass(frozen=True)
class Disagreement:
    """A unit where the coders differ on at least one code."""

    source_id: str
    start: int
    end: int
    text: str  # the unit's text when the sources were given, else ""
    applied: Mapping[
        str, tuple[str, ...]
    ]  # coder -> codes applied; coders who did not judge: absent
    differing: tuple[str, ...]  # codes some coders applied and others did not


@dataclass(frozen=True)
class AgreementReport:
    coders: tuple[str, ...]
    codes: tuple[str, ...]
    units: tuple[Unit, ...]
    per_code: Mapping[str, CodeAgreement]
    kappa: float | None  # pooled over every (unit, code) decision, two coders
    mean_kappa: float | None  # mean of the defined per-code kappas
    alpha: float | None  # pooled over every (unit, code) decision
    agreement: float | None  # share of (unit, code) decisions all coders agree on
    disagreements: tuple[Disagreement, ...]


# ---------------------------------------------------------------- the statistics


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two coders' labels for the same units, nominal categories.

    kappa = (p_o - p_e) / (1 - p_e), p_o the observed share of agreement, p_e the agreement
    expected from each coder's own category shares. None when p_e = 1.
    """
    if len(a) != len(b):
        raise ValueError(f"the coders judged {len(a)} and {len(b)} units: they must be equal")
    n = len(a)
    if n == 0:
        return None
    p_o = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    ca, cb = Counter(a), Counter(b)
    p_e = sum(ca[c] * cb[c] for c in ca) / (n * n)
    if p_e >= 1:
        return None
    return (p_o - p_e) / (1 - p_e)


def krippendorff_alpha(data: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha, nominal metric, from reliability data with missing values.

    `data[coder][unit]` is a value or None (not judged). Units with fewer than two values are
    not pairable and are left out. With the coincidence matrix o (each unit of m values adds
    1/(m-1) for each ordered pair of values from different coders), n_c its margins and n their
    sum: alpha = 1 - (n - 1) * sum_{c!=k} o_ck / sum_{c!=k} n_c n_k. None when no pairable
    value differs from another in expectation (a single category).
    """
    if not data:
        return None
    width = len(data[0])
    if any(len(row) != width for row in data):
        raise ValueError("every coder's row must have one entry per unit")
    o: defaultdict[tuple[Hashable, Hashable], float] = defaultdict(float)
    for u in range(width):
        values = [row[u] for row in data if row[u] is not None]
        m = len(values)
        if m < 2:
            continue
        counts = Counter(values)
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nc - 1) if c == k else nc * nk
                if pairs:
                    o[(c, k)] += pairs / (m - 1)
    margins: defaultdict[Hashable, float] = defaultdict(float)
    for (c, _k), v in o.items():
        margins[c] += v
    n = sum(margins.values())
    disagree_expected = n * n - sum(v * v for v in margins.values())
    if n <= 1 or disagree_expected <= 1e-12:
        return None
    disagree_observed = sum(v for (c, k), v in o.items() if c != k)
    return 1 - (n - 1) * disagree_observed / disagree_expected


# ---------------------------------------------------------------- units


def derive_units(codings: Iterable[Coding]) -> list[Unit]:
    """Maximal runs of overlapping coded ranges per source (the default unit rule)."""
    by_source: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for c in codings:
        by_source[c.source_id].append((c.start, c.end))
    units: list[Unit] = []
    for source_id in sorted(by_source):
        run_start, run_end = -1, -1
        for start, end in sorted(by_source[source_id]):
            if run_end > start:  # shares a character with the current run
                run_end = max(run_end, end)
                continue
            if run_end > run_start >= 0:
                units.append(Unit(source_id, run_start, run_end))
            run_start, run_end = start, end
        if run_end > run_start >= 0:
            units.append(Unit(source_id, run_start, run_end))
    return units


def _applies(unit: Unit, coding: Coding, min_overlap: float) -> bool:
    shared = min(unit.end, coding.end) - max(unit.start, coding.start)
    shorter = min(unit.end - unit.start, coding.end - coding.start)
    return shared >= 1 and shared >= min_overlap * shorter


def judgements(
    codings: Iterable[Coding],
    units: Sequence[Unit],
    *,
    min_overlap: float = 0.5,
) -> dict[Unit, dict[str, set[str]]]:
    """unit -> coder -> codes the coder applied to it (coders with no code there are absent)."""
    by_source: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_source[unit.source_id].append(unit)
    out: dict[Unit, dict[str, set[str]]] = {u: {} for u in units}
    for coding in codings:
        for unit in by_source.get(coding.source_id, ()):
            if _applies(unit, coding, min_overlap):
                out[unit].setdefault(coding.coder, set()).add(coding.code)
    return out


# ---------------------------------------------------------------- the report


def agreement(
    codings: Iterable[Coding],
    *,
    coders: Sequence[str] | None = None,
    codes: Iterable[str] | None = None,
    units: Sequence[Unit] | None = None,
    sources: Iterable[Source] | Mapping[str, str] | None = None,
    coverage: Mapping[str, Iterable[str]] | None = None,
    min_overlap: float = 0.5,
) -> AgreementReport:
    """Agreement of `coders` (default: every coder in `codings`) on `codes` (default: every
    code used). `coverage` maps a coder to the source ids the coder coded; a coder judges
    every source when not listed. `sources` (objects or id -> text) fill in disagreement text.
    """
    if not 0 < min_overlap <= 1:
        raise BadInput("min_overlap must be in (0, 1], got {min_overlap}", min_overlap=min_overlap)
    rows = list(codings)
    coder_ids = tuple(coders) if coders is not None else tuple(sorted({c.coder for c in rows}))
    if len(coder_ids) < 2:
        raise BadInput(
            "agreement needs at least two coders, got {n_coder_ids}", n_coder_ids=len(coder_ids)
        )
    if len(set(coder_ids)) != len(coder_ids):
        raise BadInput("a coder is listed twice")
    wanted = set(coder_ids)
    scope = set(codes) if codes is not None else None
    rows = [c for c in rows if c.coder in wanted and (scope is None or c.code in scope)]
    code_ids = tuple(sorted(scope if scope is not None else {c.code for c in rows}))
    unit_list = tuple(sorted(units)) if units is not None else tuple(derive_units(rows))
    judged = judgements(rows, unit_list, min_overlap=min_overlap)
    covered = {k: set(v) for k, v in (coverage or {}).items()}

    def value(unit: Unit, coder: str, code: str) -> int | None:
        if coder in covered and unit.source_id not in covered[coder]:
            return None
        return 1 if code in judged[unit].get(coder, ()) else 0

    per_code: dict[str, CodeAgreement] = {}
    pooled: list[list[int | None]] = [[] for _ in coder_ids]
    for code in code_ids:
        data = [[value(u, k, code) for u in unit_list] for k in coder_ids]
        for i, row in enumerate(data):
            pooled[i].extend(row)
        per_code[code] = _code_agreement(code, coder_ids, data)
    kappas = [a.kappa for a in per_code.values() if a.kappa is not None]
    texts = _texts(sources)
    return AgreementReport(
        coders=coder_ids,
        codes=code_ids,
        units=unit_list,
        per_code=per_code,
        kappa=_pair_kappa(pooled) if len(coder_ids) == 2 else None,
        mean_kappa=sum(kappas) / len(kappas) if kappas else None,
        alpha=krippendorff_alpha(pooled),
        agreement=_share_agreeing(pooled),
        disagreements=tuple(_disagreements(unit_list, coder_ids, code_ids, value, texts)),
    )


def _code_agreement(
    code: str, coder_ids: Sequence[str], data: list[list[int | None]]
) -> CodeAgreement:
    width = len(data[0]) if data else 0
    judged_units = sum(1 for u in range(width) if sum(r[u] is not None for r in data) >= 2)
    return CodeAgreement(
        code=code,
        units=judged_units,
        applied={k: sum(1 for v in row if v == 1) for k, row in zip(coder_ids, data, strict=True)},
        agreement=_share_agreeing(data),
        kappa=_pair_kappa(data) if len(coder_ids) == 2 else None,
        alpha=krippendorff_alpha(data),
    )


def _pair_kappa(data: list[list[int | None]]) -> float | None:
    a, b = data
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    return cohen_kappa([x for x, _ in both], [y for _, y in both])


def _share_agreeing(data: list[list[int | None]]) -> float | None:
    width = len(data[0]) if data else 0
    judged = agreeing = 0
    for u in range(width):
        values = {r[u] for r in data if r[u] is not None}
        count = sum(1 for r in data if r[u] is not None)
        if count >= 2:
            judged += 1
            agreeing += len(values) == 1
    return agreeing / judged if judged else None


def _texts(sources: Iterable[Source] | Mapping[str, str] | None) -> dict[str, str]:
    if sources is None:
        return {}
    if isinstance(sources, Mapping):
        return {str(k): str(v) for k, v in sources.items()}
    return {s.id: s.text for s in sources}


def _disagreements(
    unit_list: Sequence[Unit],
    coder_ids: Sequence[str],
    code_ids: Sequence[str],
    value: Callable[[Unit, str, str], int | None],
    texts: Mapping[str, str],
) -> list[Disagreement]:
    out: list[Disagreement] = []
    for unit in unit_list:
        differing = []
        applied: dict[str, list[str]] = {k: [] for k in coder_ids}
        judged_by: set[str] = set()
        for code in code_ids:
            seen = set()
            for k in coder_ids:
                v = value(unit, k, code)
                if v is None:
                    continue
                judged_by.add(k)
                seen.add(v)
                if v == 1:
                    applied[k].append(code)
            if len(seen) > 1:
                differing.append(code)
        if differing:
            text = texts.get(unit.source_id, "")[unit.start : unit.end]
            out.append(
                Disagreement(
                    source_id=unit.source_id,
                    start=unit.start,
                    end=unit.end,
                    text=text,
                    applied={k: tuple(v) for k, v in applied.items() if k in judged_by},
                    differing=tuple(differing),
                )
            )
    return out
