"""Suggested codes for a text segment: a transparent lexicon of trigger words, no model.

How a segment is scored (every number can be read back from `Suggester.weights`):

1. **Scan.** One regular expression, built as a trie of every code's trigger words (lower
   case), finds the leftmost-longest trigger at each place of the segment in one pass. A match
   also stands for the shorter triggers inside it that belong to *other* codes: 党员楼栋长
   counts as 党员楼栋长 for embedded guidance (which lists it, so its own shorter 党员 is not
   counted again) and as 楼栋长 for the action leader. A Latin trigger only counts as a whole
   word. With `tokens=True` a match counts only when it starts and ends on a jieba token
   boundary (so 一楼 inside 第一楼栋 does not count); this runs jieba and is slower.
2. **Weigh.** A trigger listed by `df` of the `N` codes that have triggers weighs
   `idf = ln(1 + N / df)` (specific words count more), times a phrase boost
   `1 + 0.1 × (characters − 2)` for Chinese triggers of 3 to 6 characters (an exact match of a
   longer phrase is better evidence than a two-character word), times `1 + ln(count)` for a
   trigger found `count` times in the segment.
3. **Score.** A code's raw score is the sum over its triggers found; it is mapped to [0, 1)
   by `1 − exp(−raw / scale)` (`scale = 6`: one specific trigger scores about 0.5, two about
   0.75), so scores compare across segments. Codes are ranked by score, ties in codebook
   order; `because` lists the triggers found, strongest first.

Optional sentence embeddings are not used: nothing here downloads or loads a model.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from colift.evidence.codebook import Codebook, default_codebook
from colift.evidence.model import Code, Coding, Source
from colift.evidence.text import Span, sentences, tokenize

DEFAULT_SCALE = 6.0
_Trie = dict[str, "_Trie"]  # next character -> subtree; "" marks the end of a word
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]")


@dataclass(frozen=True)
class Suggestion:
    code: str
    score: float  # in [0, 1)
    because: tuple[str, ...]  # the trigger words found, strongest first


@dataclass(frozen=True)
class SegmentSuggestions:
    """Suggestions for one uncoded span of a source."""

    source_id: str
    span: Span
    suggestions: tuple[Suggestion, ...]


class Suggester:
    """Scores segments against one codebook's trigger words (build once, use many times)."""

    def __init__(self, codebook: Codebook | None = None, *, scale: float = DEFAULT_SCALE) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.codebook = codebook if codebook is not None else default_codebook()
        self.scale = scale
        self._order = {code.id: i for i, code in enumerate(self.codebook)}
        owners: dict[str, list[str]] = {}
        display: dict[str, str] = {}
        for code in self.codebook:
            for trig in code.triggers:
                key = trig.lower()
                if code.id not in owners.setdefault(key, []):
                    owners[key].append(code.id)
                display.setdefault(key, trig)
        n_codes = max(1, sum(1 for c in self.codebook if c.triggers))
        #: trigger (lower case) -> its weight for one occurrence
        self.weights: dict[str, float] = {
            t: math.log(1 + n_codes / len(codes)) * _phrase_boost(t) for t, codes in owners.items()
        }
        self._display = display
        # For each trigger, what one match of it stands for: (code, trigger) pairs.
        self._credits: dict[str, tuple[tuple[str, str], ...]] = {
            t: _credits(t, owners) for t in owners
        }
        self._latin = {t for t in owners if _WORD.match(t[0]) or _WORD.match(t[-1])}
        self._pattern = _trie_pattern(owners) if owners else None

    # -- scanning

    def matches(self, text: str, *, tokens: bool = False) -> dict[str, dict[str, int]]:
        """code -> trigger -> times found in `text` (trigger in its codebook spelling)."""
        found: dict[str, dict[str, int]] = {}
        if self._pattern is None or not text:
            return found
        low = text.lower()
        if len(low) != len(text):  # a few letters grow when lower-cased (İ): keep offsets
            low = "".join(ch if len(ch.lower()) != 1 else ch.lower() for ch in text)
        bounds: set[int] | None = None
        if tokens:
            bounds = {0, len(low)}
            for tok in tokenize(text, self.codebook):
                bounds.add(tok.start)
                bounds.add(tok.end)
        latin = self._latin
        credits = self._credits
        for m in self._pattern.finditer(low):
            trig = m.group()
            start, end = m.span()
            if trig in latin and not _whole_word(low, start, end, trig):
                continue
            if bounds is not None and (start not in bounds or end not in bounds):
                continue
            for code, t in credits[trig]:
                per = found.setdefault(code, {})
                per[t] = per.get(t, 0) + 1
        return found

    def score(self, found: Mapping[str, Mapping[str, int]]) -> list[Suggestion]:
        """Suggestions from `matches`' result, best first."""
        out: list[tuple[float, int, Suggestion]] = []
        for code, per in found.items():
            parts = sorted(
                ((self.weights[t] * (1 + math.log(n)), t) for t, n in per.items()),
                key=lambda p: (-p[0], p[1]),
            )
            raw = sum(w for w, _ in parts)
            score = 1 - math.exp(-raw / self.scale)
            because = tuple(self._display[t] for _, t in parts)
            out.append((-score, self._order[code], Suggestion(code, round(score, 4), because)))
        out.sort(key=lambda x: (x[0], x[1]))
        return [s for _, _, s in out]

    def suggest(
        self,
        text: str,
        *,
        top_k: int = 5,
        min_score: float = 0.0,
        tokens: bool = False,
        exclude: Iterable[str] = (),
    ) -> list[Suggestion]:
        """The `top_k` best codes for `text` scoring at least `min_score`, minus `exclude`."""
        skip = set(exclude)
        ranked = self.score(self.matches(text, tokens=tokens))
        kept = [s for s in ranked if s.code not in skip and s.score >= min_score]
        return kept[:top_k] if top_k > 0 else kept

    def suggest_many(
        self, texts: Sequence[str], *, top_k: int = 5, tokens: bool = False
    ) -> list[list[Suggestion]]:
        return [self.suggest(t, top_k=top_k, tokens=tokens) for t in texts]

    def explain(self, code_id: str) -> dict[str, float]:
        """The weight of each of a code's triggers (for display next to a suggestion)."""
        code: Code = self.codebook.get(code_id)
        return {t: round(self.weights[t.lower()], 4) for t in code.triggers}


def _phrase_boost(trigger: str) -> float:
    if _CJK.search(trigger) and len(trigger) > 2:
        return 1 + 0.1 * (min(len(trigger), 6) - 2)
    return 1.0


def _credits(trigger: str, owners: Mapping[str, list[str]]) -> tuple[tuple[str, str], ...]:
    """Codes credited when `trigger` is the longest match: its owners for itself, and every
    other code for its own longest triggers inside it (a code is credited once per match)."""
    credit: dict[str, str] = {code: trigger for code in owners[trigger]}
    inner = sorted(
        (t for t in owners if t != trigger and t in trigger and not _is_latin_part(t, trigger)),
        key=len,
        reverse=True,
    )
    for t in inner:
        for code in owners[t]:
            credit.setdefault(code, t)
    return tuple(credit.items())


def _is_latin_part(inner: str, outer: str) -> bool:
    """A Latin trigger inside a longer one counts only as a whole word of it."""
    if not (_WORD.match(inner[0]) or _WORD.match(inner[-1])):
        return False
    for m in re.finditer(re.escape(inner), outer):
        if _whole_word(outer, m.start(), m.end(), inner):
            return False
    return True


def _whole_word(text: str, start: int, end: int, trig: str) -> bool:
    if _WORD.match(trig[0]) and start > 0 and _WORD.match(text[start - 1]):
        return False
    return not (_WORD.match(trig[-1]) and end < len(text) and _WORD.match(text[end]))


def _trie_pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One regular expression matching the longest of `words` at each place (a trie, so the
    engine tries only the branch of the next character instead of every word in turn)."""
    trie: _Trie = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return re.compile(_trie_regex(trie))


def _trie_regex(node: _Trie) -> str:
    ends = "" in node
    branches = []
    for ch in sorted(k for k in node if k):
        branches.append(re.escape(ch) + _trie_regex(node[ch]))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends:
        # Optional and greedy: a longer word is tried first, the word ending here if it fails.
        return body + "?" if len(branches) == 1 and len(body) == 1 else "(?:" + body + ")?"
    return body


@cache
def _default_suggester() -> Suggester:
    return Suggester()


def suggester(codebook: Codebook | None = None) -> Suggester:
    """A suggester for `codebook` (the default codebook's is built once and shared)."""
    return _default_suggester() if codebook is None else Suggester(codebook)


def suggest(
    text: str,
    codebook: Codebook | None = None,
    *,
    top_k: int = 5,
    min_score: float = 0.0,
    tokens: bool = False,
) -> list[Suggestion]:
    """Ranked codes for `text`, each with the trigger words that suggested it."""
    return suggester(codebook).suggest(text, top_k=top_k, min_score=min_score, tokens=tokens)


def uncoded_spans(source: Source, codings: Iterable[Coding]) -> list[Span]:
    """The sentences of `source` that no coding of it overlaps."""
    merged: list[list[int]] = []
    for start, end in sorted((c.start, c.end) for c in codings if c.source_id == source.id):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[Span] = []
    i = 0
    for span in sentences(source.text):
        while i < len(merged) and merged[i][1] <= span.start:
            i += 1
        if i < len(merged) and merged[i][0] < span.end:
            continue  # a coded range overlaps this sentence
        out.append(span)
    return out


def suggest_uncoded(
    source: Source,
    codings: Iterable[Coding],
    codebook: Codebook | None = None,
    *,
    top_k: int = 3,
    min_score: float = 0.2,
    tokens: bool = False,
) -> list[SegmentSuggestions]:
    """For each uncoded sentence of `source` that anything fits, the codes that fit it best."""
    engine = suggester(codebook)
    out: list[SegmentSuggestions] = []
    for span in uncoded_spans(source, codings):
        found = engine.suggest(span.text, top_k=top_k, min_score=min_score, tokens=tokens)
        if found:
            out.append(SegmentSuggestions(source.id, span, tuple(found)))
    return out
