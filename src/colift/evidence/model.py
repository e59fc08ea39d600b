"""The evidence vocabulary as plain values: codes, sources, cases, codings and memos.

Offsets are character positions (Python `str` indices) into a source's exact plain text, the
same positions REFI-QDA's `PlainTextSelection` uses, so they stay stable for Chinese text and
for CRLF line ends (kept as two characters, never normalised).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class CodeLevel(StrEnum):
    CORE = "core"  # 核心范畴
    AXIAL = "axial"  # 主范畴 / 副范畴
    OPEN = "open"  # 初始概念


@dataclass(frozen=True)
class Code:
    """One code of a codebook; `id` is stable ("guidance.embedded"), `parent` another code's id."""

    id: str
    name: str  # zh-CN
    name_en: str
    parent: str | None = None
    level: CodeLevel = CodeLevel.OPEN
    definition: str = ""
    include: str = ""  # inclusion note
    exclude: str = ""  # exclusion note
    examples: tuple[str, ...] = ()
    triggers: tuple[str, ...] = ()  # lexicon words that suggest this code
    color: str = "#888888"


@dataclass(frozen=True)
class Case:
    """A person, household, unit or compound that sources speak about, with its variables."""

    id: str
    name: str
    variables: dict[str, str] = field(default_factory=dict)  # role, floor, tenure, age_band…


@dataclass(frozen=True)
class Source:
    """A text source; `text` is exact and never normalised."""

    id: str
    name: str
    text: str
    kind: str = "interview"  # interview / minutes / mediation / chat / other
    language: str = "zh"
    case_ids: tuple[str, ...] = ()
    links: dict[str, str] = field(default_factory=dict)  # compound/unit/activity/person ids


@dataclass(frozen=True)
class Coding:
    """`code` applied by `coder` to `text[start:end]` of a source."""

    source_id: str
    start: int
    end: int
    code: str
    coder: str

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a segment needs 0 <= start < end, got {self.start}..{self.end}")


@dataclass(frozen=True)
class Memo:
    """A memo on the project, a code, a source or a segment (`target` names which)."""

    id: str
    text: str
    author: str
    target_kind: str = "project"  # project / code / source / segment
    target: str = ""


@dataclass(frozen=True)
class EvidenceSet:
    """A named group of codes and sources (a REFI-QDA Set: MAXQDA document sets, NVivo sets,
    ATLAS.ti groups), kept so that an exchange loses none of them."""

    id: str
    name: str
    description: str = ""
    codes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
