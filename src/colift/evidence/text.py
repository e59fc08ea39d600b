"""Text of the sources: Chinese tokens (jieba), sentences and search, all with exact offsets.

Every offset is a Python `str` index into the source's exact text: nothing is normalised, a
CRLF line end stays two characters, so a position found here is the position a `Coding` or a
REFI-QDA `PlainTextSelection` uses.

The jieba tokenizer knows the codebook's trigger words and a short domain vocabulary
(`DOMAIN_WORDS`), so that terms such as 加装电梯, 低层住户 or 协商议事 stay one token.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import jieba

from colift.evidence.codebook import Codebook, default_codebook
from colift.evidence.model import Source

# Words of the field that jieba's general dictionary splits; the codebook's triggers are added too.
DOMAIN_WORDS: tuple[str, ...] = (
    "加装电梯",
    "老旧小区",
    "低层住户",
    "高层住户",
    "协商议事",
    "议事协商",
    "楼栋长",
    "单元长",
    "业委会",
    "居委会",
    "物业公司",
    "电梯井",
    "井道",
    "共管账户",
    "意愿征询",
    "入户走访",
    "党员楼栋长",
    "楼栋党小组",
    "社区党委",
    "小区党支部",
    "征询表",
    "同意书",
    "维保费",
)

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD_CHAR = re.compile(r"[A-Za-z0-9]")
# A sentence ends after 。！？!?；; (with closing quotes/brackets) or at a line end.
_SENTENCE_END = re.compile(r"[。！？!?；;…]+[”’」』）)\]]*|\r\n|\n|\r")

_lock = threading.Lock()
_tokenizers: dict[frozenset[str], Any] = {}
_recent: dict[int, tuple[Codebook | None, Any]] = {}


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Span:
    """`text` is exactly `source_text[start:end]`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SearchHit:
    """One occurrence of a query: `source.text[start:end] == match`; `before`/`after` are context."""

    source_id: str
    start: int
    end: int
    match: str
    before: str
    after: str
    aligned: bool | None = None  # on jieba token boundaries (only when searched with tokens=True)

    @property
    def context(self) -> str:
        return self.before + self.match + self.after

    @property
    def context_start(self) -> int:
        return self.start - len(self.before)

    def snippet(self, mark: tuple[str, str] = ("【", "】")) -> str:
        """One line for display: white space runs folded, the match marked."""
        fold = " ".join
        return (
            fold(self.before.split())
            + mark[0]
            + fold(self.match.split())
            + mark[1]
            + fold(self.after.split())
        )


def vocabulary(codebook: Codebook | None = None) -> frozenset[str]:
    """The words added to jieba: domain words plus the codebook's Chinese trigger words."""
    cb = codebook if codebook is not None else default_codebook()
    words = set(DOMAIN_WORDS)
    for code in cb:
        words.update(t for t in code.triggers if _CJK.search(t) and not any(c.isspace() for c in t))
    return frozenset(words)


def tokenizer(codebook: Codebook | None = None) -> Any:
    """A jieba tokenizer that knows the codebook's vocabulary (one per vocabulary, cached)."""
    key = id(codebook)
    with _lock:
        recent = _recent.get(key)
        if recent is not None and recent[0] is codebook:
            return recent[1]
    words = vocabulary(codebook)
    with _lock:
        tk = _tokenizers.get(words)
        if tk is None:
            jieba.setLogLevel(logging.WARNING)
            tk = jieba.Tokenizer()
            tk.initialize()
            for word in sorted(words, key=len):
                # suggest_freq(tune=True) adds the word with a frequency just high enough
                # to keep it whole.
                tk.suggest_freq(word, tune=True)
            _tokenizers[words] = tk
        if len(_recent) >= 8:
            _recent.clear()
        _recent[key] = (codebook, tk)  # the codebook is kept alive, so its id stays its own
        return tk


def tokenize(
    text: str, codebook: Codebook | None = None, *, keep_space: bool = False
) -> list[Token]:
    """jieba tokens with exact offsets; white-space tokens dropped unless `keep_space`."""
    tk = tokenizer(codebook)
    out: list[Token] = []
    for word, start, end in tk.tokenize(text, HMM=True):
        if keep_space or not word.isspace():
            out.append(Token(word, start, end))
    return out


def sentences(text: str) -> list[Span]:
    """Sentences and lines with exact offsets, white space trimmed from both ends."""
    out: list[Span] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end() if not m.group().isspace() else m.start()
        _add_trimmed(text, start, end, out)
        start = m.end()
    _add_trimmed(text, start, len(text), out)
    return out


def paragraphs(text: str) -> list[Span]:
    """Blocks separated by blank lines (any line-end style), trimmed, exact offsets."""
    out: list[Span] = []
    start = 0
    for m in re.finditer(r"(?:\r\n|\n|\r(?!\n))[ \t\u3000]*(?:\r\n|\n|\r(?!\n))\s*", text):
        _add_trimmed(text, start, m.start(), out)
        start = m.end()
    _add_trimmed(text, start, len(text), out)
    return out


def _add_trimmed(text: str, start: int, end: int, out: list[Span]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        out.append(Span(start, end, text[start:end]))


# ---------------------------------------------------------------- search


def query_pattern(query: str) -> re.Pattern[str]:
    """The regular expression `search` uses for `query`.

    The query's characters in order, ignoring case. Between two Chinese characters, and
    between the query's terms (split at white space), the text may hold white space, line ends
    included: so a plain run of text (…要加装电梯的…), a term broken by a line end
    (加装\r\n电梯) and a token sequence written with spaces (加装 电梯) are all found, whatever
    jieba would make of them. Two Latin terms need white space between them; a query that
    begins or ends with a Latin letter or digit matches whole words only on that side.
    """
    terms = query.split()
    if not terms:
        raise ValueError("the search query is empty")
    parts: list[str] = []
    prev = ""
    for ti, term in enumerate(terms):
        for ci, ch in enumerate(term):
            if prev:
                if ci == 0 and ti > 0:
                    latin = _WORD_CHAR.match(prev) and _WORD_CHAR.match(ch)
                    parts.append(r"\s+" if latin else r"\s*")
                elif _CJK.match(prev) and _CJK.match(ch):
                    parts.append(r"\s*")
            parts.append(re.escape(ch))
            prev = ch
    pattern = "".join(parts)
    if _WORD_CHAR.match(terms[0][0]):
        pattern = r"(?<![A-Za-z0-9])" + pattern
    if _WORD_CHAR.match(terms[-1][-1]):
        pattern += r"(?![A-Za-z0-9])"
    return re.compile(pattern, re.IGNORECASE)


def search(
    sources: Iterable[Source],
    query: str,
    *,
    context: int = 20,
    tokens: bool = False,
    codebook: Codebook | None = None,
    limit: int | None = None,
) -> list[SearchHit]:
    """Every occurrence of `query` in `sources`, in source order then by position.

    With `tokens=True` each hit also says (`aligned`) whether it starts and ends on jieba token
    boundaries of its sentence: 一楼 inside 第一楼栋 is found but not aligned.
    """
    pattern = query_pattern(query)
    hits: list[SearchHit] = []
    for source in sources:
        for hit in _search_text(source.id, source.text, pattern, context):
            if tokens:
                hit = replace(hit, aligned=_aligned(source.text, hit.start, hit.end, codebook))
            hits.append(hit)
            if limit is not None and len(hits) >= limit:
                return hits
    return hits


def _search_text(
    source_id: str, text: str, pattern: re.Pattern[str], context: int
) -> Iterator[SearchHit]:
    for m in pattern.finditer(text):
        start, end = m.span()
        if start == end:
            continue
        lo = max(0, start - context)
        hi = min(len(text), end + context)
        yield SearchHit(source_id, start, end, text[start:end], text[lo:start], text[end:hi])


def _aligned(text: str, start: int, end: int, codebook: Codebook | None) -> bool:
    lo = start
    while lo > 0 and not _SENTENCE_END.match(text, lo - 1):
        lo -= 1
    hi = end
    while hi < len(text) and not _SENTENCE_END.match(text, hi):
        hi += 1
    bounds = {lo, hi}
    for tok in tokenize(text[lo:hi], codebook, keep_space=True):
        bounds.add(lo + tok.start)
        bounds.add(lo + tok.end)
    return start in bounds and end in bounds


def count_terms(texts: Sequence[str], codebook: Codebook | None = None) -> dict[str, int]:
    """Token frequencies over `texts` (white space and punctuation left out)."""
    counts: dict[str, int] = {}
    for text in texts:
        for tok in tokenize(text, codebook):
            if any(ch.isalnum() for ch in tok.text):
                counts[tok.text] = counts.get(tok.text, 0) + 1
    return counts
