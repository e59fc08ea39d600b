"""An evidence project in memory: codebook, sources, cases, codings, memos, history, coders.

Pure: services load one from the store, change it, `validate()` it and save it; the REFI-QDA
exchange reads and writes it. Memos on a segment name it as `segment_target(source, start,
end)`, e.g. "interview-secretary:120-168".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from colift.errors import BadInput, NotFound
from colift.evidence.codebook import Codebook, CodebookEdit
from colift.evidence.model import Case, Coding, EvidenceSet, Memo, Source

MEMO_TARGETS = ("project", "code", "source", "segment")
LINK_KINDS = ("compound", "unit", "activity", "person")
# Case attributes the analysis knows by name; others are allowed and kept as text.
CASE_VARIABLES = ("role", "floor", "tenure", "age_band")

_SEGMENT = re.compile(r"^(?P<source>.+):(?P<start>\d+)-(?P<end>\d+)$")
_MAX_PROBLEMS = 5


def segment_target(source_id: str, start: int, end: int) -> str:
    """The memo target naming `text[start:end]` of a source."""
    return f"{source_id}:{start}-{end}"


def parse_segment_target(target: str) -> tuple[str, int, int]:
    """(source id, start, end) of a segment memo target; BadInput when it is malformed."""
    match = _SEGMENT.match(target)
    if match is None:
        raise BadInput(
            "segment {target} should look like <source id>:<start>-<end>", target=repr(target)
        )
    return match["source"], int(match["start"]), int(match["end"])


@dataclass(frozen=True)
class HistoryRecord:
    """One codebook edit as kept in a project's history."""

    operation: str
    detail: Mapping[str, Any]
    actor: str = ""
    at: datetime | None = None

    @classmethod
    def from_edit(cls, edit: CodebookEdit, actor: str, at: datetime | None) -> HistoryRecord:
        return cls(edit.op.value, edit.to_dict(), actor, at)


@dataclass
class EvidenceProject:
    """Everything one study holds; `guids` keeps other tools' REFI-QDA identities by key."""

    name: str
    codebook: Codebook
    sources: dict[str, Source] = field(default_factory=dict)
    cases: dict[str, Case] = field(default_factory=dict)
    codings: list[Coding] = field(default_factory=list)
    memos: dict[str, Memo] = field(default_factory=dict)
    history: list[HistoryRecord] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    description: str = ""
    guids: dict[str, str] = field(default_factory=dict)
    sets: dict[str, EvidenceSet] = field(default_factory=dict)

    # -- reading

    def source(self, source_id: str) -> Source:
        found = self.sources.get(source_id)
        if found is None:
            known = ", ".join(list(self.sources)[:8]) or "none yet"
            raise NotFound(
                "project {name} has no source {source_id} (sources: {known})",
                name=repr(self.name),
                source_id=repr(source_id),
                known=known,
            )
        return found

    def case(self, case_id: str) -> Case:
        found = self.cases.get(case_id)
        if found is None:
            known = ", ".join(list(self.cases)[:8]) or "none yet"
            raise NotFound(
                "project {name} has no case {case_id} (cases: {known})",
                name=repr(self.name),
                case_id=repr(case_id),
                known=known,
            )
        return found

    def coders(self) -> list[str]:
        """Everyone who codes or writes memos here: the users first, then others as met."""
        names = [
            *self.users,
            *(c.coder for c in self.codings),
            *(m.author for m in self.memos.values()),
        ]
        return [n for n in dict.fromkeys(names) if n]

    def codings_of(self, source_id: str) -> list[Coding]:
        return [c for c in self.codings if c.source_id == source_id]

    def segment_text(self, coding: Coding) -> str:
        return self.source(coding.source_id).text[coding.start : coding.end]

    # -- checking

    def coding_problem(self, coding: Coding) -> str | None:
        """Why a coding cannot belong to this project, or None."""
        source = self.sources.get(coding.source_id)
        if source is None:
            return f"coding names source {coding.source_id!r}, which is not in the project"
        if coding.end > len(source.text):
            return (
                f"segment {coding.start}-{coding.end} lies outside source {source.id!r}, "
                f"whose text has {len(source.text)} characters"
            )
        if coding.code not in self.codebook:
            return f"code {coding.code!r} is not in the codebook of project {self.name!r}"
        if not coding.coder.strip():
            return "a coding needs the name of its coder"
        return None

    def memo_problem(self, memo: Memo) -> str | None:
        if memo.target_kind not in MEMO_TARGETS:
            return f"memo {memo.id!r}: target kind {memo.target_kind!r} is not one of {', '.join(MEMO_TARGETS)}"
        if not memo.text.strip():
            return f"memo {memo.id!r} has no text"
        if memo.target_kind == "code" and memo.target not in self.codebook:
            return f"memo {memo.id!r} is on code {memo.target!r}, which is not in the codebook"
        if memo.target_kind == "source" and memo.target not in self.sources:
            return f"memo {memo.id!r} is on source {memo.target!r}, which is not in the project"
        if memo.target_kind == "segment":
            try:
                source_id, start, end = parse_segment_target(memo.target)
            except BadInput as exc:
                return f"memo {memo.id!r}: {exc.message}"
            source = self.sources.get(source_id)
            if source is None:
                return f"memo {memo.id!r} is on a segment of {source_id!r}, which is not in the project"
            if not 0 <= start < end <= len(source.text):
                return f"memo {memo.id!r}: segment {start}-{end} lies outside source {source_id!r}"
        return None

    def problems(self) -> list[str]:
        """Every inconsistency: codings, case links, source links, memos, code-free coders."""
        found: list[str] = []
        for source in self.sources.values():
            if not source.text:
                found.append(f"source {source.id!r} has no text")
            for case_id in source.case_ids:
                if case_id not in self.cases:
                    found.append(
                        f"source {source.id!r} names case {case_id!r}, which is not in the project"
                    )
            for kind in source.links:
                if kind not in LINK_KINDS:
                    found.append(
                        f"source {source.id!r}: link kind {kind!r} is not one of {', '.join(LINK_KINDS)}"
                    )
        seen: set[tuple[str, int, int, str, str]] = set()
        for coding in self.codings:
            problem = self.coding_problem(coding)
            if problem:
                found.append(problem)
            key = (coding.source_id, coding.start, coding.end, coding.code, coding.coder)
            if key in seen:
                found.append(
                    f"{coding.coder} coded {coding.source_id}:{coding.start}-{coding.end} "
                    f"as {coding.code} twice"
                )
            seen.add(key)
        for memo in self.memos.values():
            problem = self.memo_problem(memo)
            if problem:
                found.append(problem)
        return found

    def validate(self) -> None:
        """BadInput listing the first problems, when there are any."""
        found = self.problems()
        if found:
            more = f" (and {len(found) - _MAX_PROBLEMS} more)" if len(found) > _MAX_PROBLEMS else ""
            raise BadInput(f"project {self.name!r}: " + "; ".join(found[:_MAX_PROBLEMS]) + more)

    # -- changing (each checks what it adds)

    def add_source(self, source: Source) -> Source:
        if source.id in self.sources:
            raise BadInput(
                "project {name} already has a source {id}; choose another id",
                name=repr(self.name),
                id=repr(source.id),
            )
        if not source.text.strip():
            raise BadInput("source {id} has no text to code", id=repr(source.id))
        self.sources[source.id] = source
        return source

    def add_case(self, case: Case) -> Case:
        if not case.id.strip():
            raise BadInput("a case needs an id")
        if case.id in self.cases:
            raise BadInput(
                "project {name} already has a case {id}", name=repr(self.name), id=repr(case.id)
            )
        self.cases[case.id] = case
        return case

    def link_case(self, source_id: str, case_id: str) -> Source:
        source = self.source(source_id)
        self.case(case_id)
        if case_id in source.case_ids:
            return source
        linked = replace(source, case_ids=(*source.case_ids, case_id))
        self.sources[source_id] = linked
        return linked

    def link(self, source_id: str, kind: str, target: str) -> Source:
        if kind not in LINK_KINDS:
            raise BadInput(
                "a source links to one of {LINK_KINDS}, not {kind}",
                LINK_KINDS=", ".join(LINK_KINDS),
                kind=repr(kind),
            )
        if not target.strip():
            raise BadInput("name the {kind} the source is linked to", kind=kind)
        source = self.source(source_id)
        linked = replace(source, links={**source.links, kind: target.strip()})
        self.sources[source_id] = linked
        return linked

    def add_coding(self, coding: Coding) -> Coding:
        problem = self.coding_problem(coding)
        if problem:
            raise BadInput(problem)
        if coding in self.codings:
            raise BadInput(
                "{coder} already coded {source_id}:{start}-{end} as {code}",
                coder=coding.coder,
                source_id=coding.source_id,
                start=coding.start,
                end=coding.end,
                code=coding.code,
            )
        self.codings.append(coding)
        if coding.coder not in self.users:
            self.users.append(coding.coder)
        return coding

    def remove_coding(self, coding: Coding) -> Coding:
        if coding not in self.codings:
            raise NotFound(
                "{coder} has no coding {code} on {source_id}:{start}-{end}",
                coder=coding.coder,
                code=coding.code,
                source_id=coding.source_id,
                start=coding.start,
                end=coding.end,
            )
        self.codings.remove(coding)
        return coding

    def add_memo(self, memo: Memo) -> Memo:
        if memo.id in self.memos:
            raise BadInput(
                "project {name} already has a memo {id}", name=repr(self.name), id=repr(memo.id)
            )
        problem = self.memo_problem(memo)
        if problem:
            raise BadInput(problem)
        self.memos[memo.id] = memo
        return memo

    def next_memo_id(self) -> str:
        n = len(self.memos) + 1
        while f"memo-{n}" in self.memos:
            n += 1
        return f"memo-{n}"

    def apply_edit(
        self, codebook: Codebook, edit: CodebookEdit, *, actor: str, at: datetime | None
    ) -> HistoryRecord:
        """Take the edited codebook: codings and code memos follow `edit.remap`; the edit is logged.

        Codings of a split code that was removed (`edit.recode`) are refused: re-code them first.
        """
        stranded = [c for c in self.codings if c.code in edit.recode]
        if stranded:
            raise BadInput(
                "{n_stranded} codings still use {edit}: re-code them to the new codes first, or split with keep so the old code stays",
                n_stranded=len(stranded),
                edit=", ".join(edit.recode),
            )
        remap = dict(edit.remap)
        recoded: list[Coding] = []
        for c in self.codings:
            moved = replace(c, code=remap.get(c.code, c.code))
            if moved not in recoded:  # a merge can make two codings one
                recoded.append(moved)
        self.codings = recoded
        self.memos = {
            k: replace(m, target=remap.get(m.target, m.target)) if m.target_kind == "code" else m
            for k, m in self.memos.items()
        }
        self.codebook = codebook
        record = HistoryRecord.from_edit(edit, actor, at)
        self.history.append(record)
        return record


def ordered_unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
