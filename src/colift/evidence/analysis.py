"""Reading the codings: frequencies by case attribute, co-occurrence, the path-model view, saturation.

Segments. Where a rule speaks of a *segment*, it is a maximal run of overlapping coded ranges
of one source (the rule of `agreement.derive_units`): codings that share a character belong to
one segment; a segment's codes are the codes of its codings. The segments of a source, in text
order, are *adjacent* when one follows the other with no segment between them.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import networkx as nx

from colift.evidence.agreement import Unit, derive_units
from colift.evidence.codebook import CONTRADICTS, FAILURE, Codebook, default_codebook
from colift.evidence.model import Case, Coding, Memo, Source

MISSING = "(none)"

# The chain of the path model (docs/path-model.md §1): stage name -> codebook subtrees in it.
PATH_STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("heterogeneity", ("heterogeneity",)),
    ("guidance", ("guidance",)),
    ("leadership_tools", ("leadership", "tools")),
    ("cooperation", ("cooperation",)),
    ("coproduction", ("outcome",)),
)
# Codes that mark a segment as contradicting rather than supporting.
CONTRADICTION_CODES: tuple[str, ...] = (CONTRADICTS, FAILURE)
# A memo on a segment marks contradiction when its text holds one of these (case ignored).
CONTRADICTION_WORDS: tuple[str, ...] = ("contradict", "相悖", "反例", "矛盾于模型")
_SEGMENT_TARGET = re.compile(r"^(?P<source>.+):(?P<start>\d+)[-:](?P<end>\d+)$")


def _scoped(codings: Iterable[Coding], coder: str | None) -> list[Coding]:
    return [c for c in codings if coder is None or c.coder == coder]


# ---------------------------------------------------------------- frequencies


def code_frequencies(
    codings: Iterable[Coding],
    sources: Iterable[Source],
    cases: Iterable[Case],
    attribute: str,
    *,
    coder: str | None = None,
    count: str = "codings",
    rollup: Codebook | None = None,
) -> dict[str, Counter[str]]:
    """Attribute value -> code -> count, e.g. codes by floor or by role.

    A source's values are those of its cases (`Source.case_ids` -> `Case.variables`); a
    source of several cases with different values counts once under each value, and a source
    with no value counts under "(none)". `count="codings"` counts codings, `"sources"` counts
    sources in which the code occurs at least once. With `rollup` (a codebook) a coding also
    counts for each ancestor of its code.
    """
    if count not in ("codings", "sources"):
        raise ValueError("count must be 'codings' or 'sources'")
    case_values = {c.id: c.variables.get(attribute) for c in cases}
    source_values: dict[str, set[str]] = {}
    for source in sources:
        values = {v for cid in source.case_ids if (v := case_values.get(cid)) is not None}
        source_values[source.id] = values or {MISSING}
    table: dict[str, Counter[str]] = defaultdict(Counter)
    seen: set[tuple[str, str, str]] = set()
    for coding in _scoped(codings, coder):
        codes = [coding.code]
        if rollup is not None and coding.code in rollup:
            codes += [a.id for a in rollup.ancestors(coding.code)]
        for value in source_values.get(coding.source_id, {MISSING}):
            for code in codes:
                if count == "sources":
                    key = (value, code, coding.source_id)
                    if key in seen:
                        continue
                    seen.add(key)
                table[value][code] += 1
    return dict(sorted(table.items()))


# ---------------------------------------------------------------- co-occurrence


@dataclass(frozen=True)
class Cooccurrence:
    """How often two codes were applied to overlapping ranges of the same source.

    `counts[(a, b)]` (a < b) is the number of pairs of codings, one of each code, that share at
    least one character; `frequency[c]` the number of codings of c.
    """

    codes: tuple[str, ...]
    counts: Mapping[tuple[str, str], int]
    frequency: Mapping[str, int]

    def get(self, a: str, b: str) -> int:
        return self.counts.get((a, b) if a <= b else (b, a), 0)

    def matrix(self) -> list[list[int]]:
        """Symmetric matrix in `codes` order; the diagonal holds each code's frequency."""
        return [
            [self.frequency.get(a, 0) if a == b else self.get(a, b) for b in self.codes]
            for a in self.codes
        ]

    def graph(self, codebook: Codebook | None = None, *, min_count: int = 1) -> Any:
        """A networkx Graph: a node per code (name, color, frequency), an edge per pair that
        co-occurs at least `min_count` times (weight = count)."""
        g = nx.Graph()
        for code in self.codes:
            attrs: dict[str, Any] = {"frequency": self.frequency.get(code, 0)}
            if codebook is not None and code in codebook:
                known = codebook.get(code)
                attrs.update(name=known.name, name_en=known.name_en, color=known.color)
            g.add_node(code, **attrs)
        for (a, b), n in self.counts.items():
            if n >= min_count:
                g.add_edge(a, b, weight=n)
        return g


def cooccurrence(codings: Iterable[Coding], *, coder: str | None = None) -> Cooccurrence:
    """Co-occurrence of codes over overlapping coded ranges (one sweep per source)."""
    by_source: dict[str, list[Coding]] = defaultdict(list)
    frequency: Counter[str] = Counter()
    for c in _scoped(codings, coder):
        by_source[c.source_id].append(c)
        frequency[c.code] += 1
    counts: Counter[tuple[str, str]] = Counter()
    for rows in by_source.values():
        rows.sort(key=lambda c: (c.start, c.end))
        active: list[Coding] = []
        for c in rows:
            active = [a for a in active if a.end > c.start]
            for a in active:
                if a.code != c.code:
                    counts[(a.code, c.code) if a.code < c.code else (c.code, a.code)] += 1
            active.append(c)
    return Cooccurrence(tuple(sorted(frequency)), dict(counts), dict(frequency))


def cooccurrence_graph(
    codings: Iterable[Coding], codebook: Codebook | None = None, *, min_count: int = 1
) -> Any:
    """Shortcut: `cooccurrence(codings).graph(codebook)`."""
    return cooccurrence(codings).graph(codebook, min_count=min_count)


# ---------------------------------------------------------------- the path model view


@dataclass(frozen=True)
class SegmentRef:
    source_id: str
    start: int
    end: int
    codes: tuple[str, ...]


@dataclass(frozen=True)
class PathLink:
    antecedent: str  # stage name
    consequent: str
    supporting: int  # segments
    contradicting: int
    support_examples: tuple[SegmentRef, ...] = ()
    contradict_examples: tuple[SegmentRef, ...] = ()


@dataclass(frozen=True)
class PathView:
    stages: tuple[str, ...]
    segments_per_stage: Mapping[str, int]
    links: tuple[PathLink, ...]
    segments: int = 0
    unplaced_codes: tuple[str, ...] = field(default=())  # codes in no stage (not in codebook)


def path_view(
    codings: Iterable[Coding],
    codebook: Codebook | None = None,
    *,
    memos: Iterable[Memo] = (),
    coder: str | None = None,
    adjacent: bool = True,
    examples: int = 3,
) -> PathView:
    """Support for and against each link of the chain heterogeneity → guidance →
    leaders/tools → cooperation → co-production.

    Stages: a code belongs to the stage whose codebook subtree holds it (`PATH_STAGES`);
    `outcome.failure` and `analytic.contradicts` are markers, in no stage. For each segment
    (see the module doc) its *window* is its own codes plus, with `adjacent`, those of the
    segments just before and after it in the same source.

    A segment **contradicts** a link A → B when it is itself marked — coded
    `analytic.contradicts` or `outcome.failure`, or the target of a memo on a segment whose
    text says so (`CONTRADICTION_WORDS`; memo target "source_id:start-end") — and its window
    holds a code of the antecedent A. Otherwise it **supports** A → B when it holds a code of A
    itself and its window holds a code of B. Each segment counts at most once per link.
    """
    cb = codebook if codebook is not None else default_codebook()
    rows = _scoped(codings, coder)
    stage_of = _stage_map(cb, {c.code for c in rows})
    stage_names = tuple(name for name, _ in PATH_STAGES)
    segments = derive_units(rows)
    seg_codes = _segment_codes(rows, segments)
    marked_by_memo = _memo_marks(memos, segments)

    per_stage: Counter[str] = Counter()
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, seg in enumerate(segments):
        by_source[seg.source_id].append(i)
        for stage in {stage_of[c] for c in seg_codes[i] if c in stage_of}:
            per_stage[stage] += 1
    window: list[set[str]] = [set() for _ in segments]
    for idx in by_source.values():
        for pos, i in enumerate(idx):
            stages = {stage_of[c] for c in seg_codes[i] if c in stage_of}
            if adjacent:
                for j in (pos - 1, pos + 1):
                    if 0 <= j < len(idx):
                        stages |= {stage_of[c] for c in seg_codes[idx[j]] if c in stage_of}
            window[i] = stages

    links: list[PathLink] = []
    for a, b in pairwise(stage_names):
        support: list[int] = []
        contra: list[int] = []
        for i in range(len(segments)):
            own = {stage_of[c] for c in seg_codes[i] if c in stage_of}
            marked = i in marked_by_memo or any(c in CONTRADICTION_CODES for c in seg_codes[i])
            if marked and a in window[i]:
                contra.append(i)
            elif not marked and a in own and b in window[i]:
                support.append(i)
        links.append(
            PathLink(
                antecedent=a,
                consequent=b,
                supporting=len(support),
                contradicting=len(contra),
                support_examples=tuple(_ref(segments[i], seg_codes[i]) for i in support[:examples]),
                contradict_examples=tuple(
                    _ref(segments[i], seg_codes[i]) for i in contra[:examples]
                ),
            )
        )
    unplaced = sorted(
        {c.code for c in rows if c.code not in stage_of and c.code not in CONTRADICTION_CODES}
    )
    return PathView(
        stages=stage_names,
        segments_per_stage={s: per_stage.get(s, 0) for s in stage_names},
        links=tuple(links),
        segments=len(segments),
        unplaced_codes=tuple(unplaced),
    )


def _stage_map(cb: Codebook, codes: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for code in codes:
        if code not in cb or code in CONTRADICTION_CODES:
            continue
        for name, roots in PATH_STAGES:
            if any(root in cb and cb.is_under(code, root) for root in roots):
                out[code] = name
                break
    return out


def _segment_codes(rows: Sequence[Coding], segments: Sequence[Unit]) -> list[set[str]]:
    starts: dict[str, list[int]] = defaultdict(list)
    index: dict[str, list[int]] = defaultdict(list)
    for i, seg in enumerate(segments):
        starts[seg.source_id].append(seg.start)
        index[seg.source_id].append(i)
    out: list[set[str]] = [set() for _ in segments]
    for c in rows:
        pos = bisect_right(starts[c.source_id], c.start) - 1
        if pos >= 0:
            out[index[c.source_id][pos]].add(c.code)
    return out


def _memo_marks(memos: Iterable[Memo], segments: Sequence[Unit]) -> set[int]:
    marks: set[int] = set()
    for memo in memos:
        if memo.target_kind != "segment":
            continue
        text = memo.text.lower()
        if not any(w in text for w in CONTRADICTION_WORDS):
            continue
        m = _SEGMENT_TARGET.match(memo.target.strip())
        if m is None:
            continue
        source, start, end = m["source"], int(m["start"]), int(m["end"])
        for i, seg in enumerate(segments):
            if seg.source_id == source and seg.start < end and start < seg.end:
                marks.add(i)
    return marks


def _ref(seg: Unit, codes: set[str]) -> SegmentRef:
    return SegmentRef(seg.source_id, seg.start, seg.end, tuple(sorted(codes)))


# ---------------------------------------------------------------- saturation


@dataclass(frozen=True)
class SaturationStep:
    index: int  # 1 for the first source added
    source_id: str
    new_codes: tuple[str, ...]  # codes first seen in this source
    codes_so_far: int


def saturation(
    codings: Iterable[Coding], order: Sequence[str], *, coder: str | None = None
) -> list[SaturationStep]:
    """New codes per source, taking the sources in `order` (the order they were added).

    A source without codings adds no code; codings of sources not in `order` are ignored.
    """
    codes_of: dict[str, set[str]] = defaultdict(set)
    for c in _scoped(codings, coder):
        codes_of[c.source_id].add(c.code)
    seen: set[str] = set()
    steps: list[SaturationStep] = []
    for i, source_id in enumerate(order, start=1):
        new = sorted(codes_of.get(source_id, set()) - seen)
        seen.update(new)
        steps.append(SaturationStep(i, source_id, tuple(new), len(seen)))
    return steps


def is_saturated(steps: Sequence[SaturationStep], *, window: int = 3) -> bool:
    """True when the last `window` sources added no new code (and there were that many)."""
    if window < 1:
        raise ValueError("window must be at least 1")
    return len(steps) >= window and all(not s.new_codes for s in steps[-window:])
