"""Evidence for the model: which tools and guidance modes the coded interviews link to consent
or to more cooperation, in how many cases and segments (docs/calibration.md §5).

A segment (a maximal run of overlapping codings, as in `evidence.analysis.path_view`) **supports**
"X → consent" when it is coded with the tool or guidance code X and it, or the segment just
before or after it in the same source, is coded `outcome.consent`; likewise "X → cooperation"
with a cooperation level of consultation or above. It **contradicts** X when it is marked
(`analytic.contradicts` or `outcome.failure`) and X is in its window. Cases are those of the
segments' sources. The sentence beside the advisor's rationale reads, for example,
"在3个个案的7段访谈中，党员带头承诺之后出现了同意".

For calibration the same counts are a check: a tool the evidence links to consent should not
come out of a fit with no effect, and guidance under direct leadership should not come out less
trusted than informal tools alone (`check_posterior`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from colift.evidence.agreement import derive_units
from colift.evidence.analysis import SegmentRef, _ref, _segment_codes
from colift.evidence.model import Coding, Source

CONSENT = "outcome.consent"
COOPERATION = frozenset({"cooperation.consulted", "cooperation.collaborating"})
COOPERATION |= {"cooperation.coproducing"}
MARKERS = frozenset({"analytic.contradicts", "outcome.failure"})
OUTCOME_ZH = {"consent": "同意", "cooperation": "合作提升"}


@dataclass(frozen=True)
class Link:
    code: str  # tool.* or guidance.*
    name_zh: str
    outcome: str  # "consent" or "cooperation"
    cases: int
    segments: int
    contradicting: int
    examples: tuple[SegmentRef, ...] = ()
    project: str = ""

    @property
    def tool(self) -> str:
        return self.code.removeprefix("tool.")

    def sentence_zh(self) -> str:
        # A meeting's minutes can speak for several cases in one passage: then say so, rather
        # than "4 cases in 1 passage".
        where = (
            f"在{self.cases}个个案的{self.segments}段访谈中"
            if self.segments >= self.cases
            else f"在{self.segments}段访谈（涉及{self.cases}个个案）中"
        )
        return f"{where}，{self.name_zh}之后出现了{OUTCOME_ZH[self.outcome]}"

    def sentence_en(self) -> str:
        what = self.tool.removeprefix("guidance.").replace("_", " ")
        outcome = {"consent": "consent", "cooperation": "more cooperation"}[self.outcome]
        where = (
            f"in {self.segments} interview passages from {self.cases} cases"
            if self.segments >= self.cases
            else f"in {self.segments} interview passage(s) covering {self.cases} cases"
        )
        return f"{where}, {outcome} followed {what}"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "outcome": self.outcome,
            "cases": self.cases,
            "segments": self.segments,
            "contradicting": self.contradicting,
            "project": self.project,
            "sentence_zh": self.sentence_zh(),
            "sentence_en": self.sentence_en(),
            "examples": [
                {"source": e.source_id, "start": e.start, "end": e.end} for e in self.examples
            ],
        }


def links(
    codings: Iterable[Coding],
    sources: Mapping[str, Source],
    names_zh: Mapping[str, str],
    *,
    examples: int = 3,
    project: str = "",
) -> list[Link]:
    """Every tool or guidance code linked to consent or cooperation, most supported first."""
    rows = list(codings)
    segments = derive_units(rows)
    codes = _segment_codes(rows, segments)
    by_source: dict[str, list[int]] = defaultdict(list)
    for i, seg in enumerate(segments):
        by_source[seg.source_id].append(i)
    window: list[set[str]] = [set(c) for c in codes]
    for idx in by_source.values():
        for pos, i in enumerate(idx):
            for j in (pos - 1, pos + 1):
                if 0 <= j < len(idx):
                    window[i] |= codes[idx[j]]
    support: dict[tuple[str, str], list[int]] = defaultdict(list)
    contra: dict[str, int] = defaultdict(int)
    for i, own in enumerate(codes):
        actors = {c for c in own if c.startswith(("tool.", "guidance."))}
        if not actors:
            continue
        if own & MARKERS:
            for a in actors:
                contra[a] += 1
            continue
        for a in actors:
            if CONSENT in window[i]:
                support[(a, "consent")].append(i)
            if window[i] & COOPERATION:
                support[(a, "cooperation")].append(i)
    out = []
    for (code, outcome), idx in support.items():
        cases = {
            case
            for i in idx
            for case in (
                sources[segments[i].source_id].case_ids if segments[i].source_id in sources else ()
            )
        }
        out.append(
            Link(
                code,
                names_zh.get(code, code),
                outcome,
                len(cases) or len({segments[i].source_id for i in idx}),
                len(idx),
                contra.get(code, 0),
                tuple(_ref(segments[i], codes[i]) for i in idx[:examples]),
                project,
            )
        )
    return sorted(out, key=lambda x: (-x.segments, x.code, x.outcome))


def for_tool(found: Iterable[Link], tool: str) -> Link | None:
    """The strongest link of a catalogue tool (`tool.<name>`), consent before cooperation."""
    mine = [x for x in found if x.tool == tool and x.code.startswith("tool.")]
    mine.sort(key=lambda x: (x.outcome != "consent", -x.segments))
    return mine[0] if mine else None


def check_posterior(rows: Iterable[Mapping[str, Any]], found: Iterable[Link]) -> list[str]:
    """Where a calibrated posterior disagrees with what the coded interviews say."""
    by = {r["name"]: r for r in rows}
    found = list(found)
    notes: list[str] = []
    direct = sum(x.segments for x in found if x.code == "guidance.direct")
    both = "trust_direct" in by and "trust_alone" in by
    upside_down = both and by["trust_direct"]["interval90"][1] < by["trust_alone"]["interval90"][0]
    if direct and upside_down:
        notes.append(
            f"trust_direct below trust_alone, although {direct} segments link direct "
            "guidance to consent or cooperation"
        )
    tools = sum(x.segments for x in found if x.code.startswith("tool."))
    if tools and "persuasion_cap" in by and by["persuasion_cap"]["interval90"][1] < 0.05:
        notes.append(f"persuasion_cap near zero, although {tools} segments link tools to change")
    return notes
