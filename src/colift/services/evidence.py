"""Evidence use cases: one function per thing a researcher does, each one transaction.

Projects hold a codebook (the path model by default), sources with exact text, cases with
variables, codings by named coders, memos and the codebook's edit history. The pure work is in
`colift.evidence`; this module loads a project, applies one change, checks it and stores it.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from importlib.resources import files
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from colift.errors import BadInput, NotFound
from colift.evidence.agreement import AgreementReport, agreement
from colift.evidence.analysis import (
    Cooccurrence,
    PathView,
    SaturationStep,
    code_frequencies,
    cooccurrence,
    is_saturated,
    path_view,
    saturation,
)
from colift.evidence.codebook import (
    Codebook,
    CodebookEdit,
    default_codebook,
    merge,
    move,
    rename,
    split,
)
from colift.evidence.model import Case, Code, CodeLevel, Coding, Memo, Source
from colift.evidence.project import EvidenceProject, HistoryRecord, segment_target
from colift.evidence.refiqda import ImportResult, export_qdc, export_qdpx, import_qdc, import_qdpx
from colift.evidence.sources import source_from_bytes
from colift.evidence.suggest import SegmentSuggestions, Suggestion, suggest_uncoded, suggester
from colift.evidence.text import SearchHit, search
from colift.store import UnitOfWork
from colift.store.evidence import (
    EvidenceRepository,
    SuggestionDecision,
)
from colift.store.evidence import (
    ProjectScope as ProjectScope,
)
from colift.store.evidence import (
    ProjectSummary as ProjectSummary,
)

DEMO_PROJECT = "红星家属院加装电梯访谈"
DEMO_ACTOR = "colift demo"
CORPUS = "corpus"
MANIFEST = "manifest.toml"
ANALYSIS_ATTRIBUTES = ("role", "floor", "kind")


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _evidence(engine: Engine) -> Iterator[tuple[UnitOfWork, EvidenceRepository]]:
    with UnitOfWork(engine) as uow:
        yield uow, EvidenceRepository(uow.connection)


def _name(project: str) -> str:
    name = project.strip()
    if not name:
        raise BadInput("give the evidence project a name")
    if len(name) > 200:
        raise BadInput("a project name has at most 200 characters")
    return name


def as_plain(value: Any) -> Any:
    """Dataclasses, mappings, tuples, enums and datetimes as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {
            ("|".join(map(str, k)) if isinstance(k, tuple) else str(k)): as_plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [as_plain(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


# ---------------------------------------------------------------- projects


def list_projects(engine: Engine) -> list[ProjectSummary]:
    """Every evidence project with its number of sources, codings and coders."""
    with _evidence(engine) as (_, repo):
        return repo.list_projects()


def project_scope(engine: Engine, project: str) -> ProjectScope:
    """Whose project it is: its compound (code and street) or none, and whether it is shared."""
    with _evidence(engine) as (_, repo):
        return repo.scope(project.strip())


def set_project_scope(
    engine: Engine, project: str, *, compound: str | None, shared: bool = False
) -> ProjectScope:
    """Give a project to a compound (None: admins only), or share one without a compound with
    every worker and street office. Adapters let only admins call this."""
    if compound is not None and shared:
        raise BadInput(
            "a project of a compound is not shared: leave the compound empty to share it"
        )
    with _evidence(engine) as (uow, repo):
        found = repo.set_scope(project.strip(), compound=compound, shared=shared)
        uow.commit()
    return found


def get_project(engine: Engine, project: str) -> EvidenceProject:
    """The whole project: codebook, sources, cases, codings, memos, history."""
    with _evidence(engine) as (_, repo):
        return repo.load(project)


def create_project(
    engine: Engine,
    project: str,
    *,
    description: str = "",
    codebook: Codebook | None = None,
    actor: str,
    compound: str | None = None,
    shared: bool = False,
) -> EvidenceProject:
    """A new, empty project of `compound` (None: admins only, unless `shared`); its codebook is
    the path model unless another is given."""
    if compound is not None and shared:
        raise BadInput(
            "a project of a compound is not shared: leave the compound empty to share it"
        )
    made = EvidenceProject(
        name=_name(project),
        codebook=codebook if codebook is not None else default_codebook(),
        description=description,
    )
    with _evidence(engine) as (uow, repo):
        repo.create(made, actor=actor, at=_now(), compound=compound, shared=shared)
        uow.commit()
    return made


def delete_project(engine: Engine, project: str) -> None:
    """Remove a project and everything in it."""
    with _evidence(engine) as (uow, repo):
        repo.delete(project)
        uow.commit()


# ---------------------------------------------------------------- sources and cases


def import_source(
    engine: Engine,
    project: str,
    path: str | Path,
    *,
    source_id: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    create: bool = True,
    actor: str,
) -> Source:
    """Import a .txt, .md or .docx file as a source (its text exact); creates the project if new."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput("file not found: {path}", path=path) from None
    except OSError as exc:
        raise BadInput(
            "cannot read {path}: {strerror}", path=path, strerror=exc.strerror or exc
        ) from None
    return add_source(
        engine,
        project,
        data,
        path.name,
        source_id=source_id,
        name=name,
        kind=kind,
        create=create,
        actor=actor,
    )


def add_source(
    engine: Engine,
    project: str,
    data: bytes,
    filename: str,
    *,
    source_id: str | None = None,
    name: str | None = None,
    kind: str | None = None,
    language: str | None = None,
    create: bool = False,
    actor: str,
) -> Source:
    """Add an uploaded file (named `filename`, which picks the reader) as a source."""
    source = source_from_bytes(
        data, filename, source_id=source_id, name=name, kind=kind, language=language
    )
    with _evidence(engine) as (uow, repo):
        if create and not repo.exists(project):
            repo.create(EvidenceProject(_name(project), default_codebook()), actor=actor, at=_now())
        loaded = repo.load(project)
        loaded.add_source(source)
        repo.add_source(repo.project_id(project), source)
        uow.commit()
    return source


def add_case(
    engine: Engine,
    project: str,
    case_id: str,
    name: str,
    variables: Mapping[str, str] | None = None,
) -> Case:
    """A case (a person, household, unit) with its variables: role, floor, tenure, age band…"""
    case = Case(
        case_id.strip(),
        name.strip() or case_id.strip(),
        {k: str(v) for k, v in (variables or {}).items()},
    )
    for key in case.variables:
        if not key.strip():
            raise BadInput("case {id}: a variable needs a name", id=repr(case.id))
    with _evidence(engine) as (uow, repo):
        repo.load(project).add_case(case)
        repo.add_case(repo.project_id(project), case)
        uow.commit()
    return case


def link_source_to_case(engine: Engine, project: str, source_id: str, case_id: str) -> Source:
    """Say that a source speaks about (or for) a case."""
    with _evidence(engine) as (uow, repo):
        linked = repo.load(project).link_case(source_id, case_id)
        repo.update_source_links(repo.project_id(project), linked)
        uow.commit()
    return linked


def link_source(engine: Engine, project: str, source_id: str, kind: str, target: str) -> Source:
    """Link a source to a compound (code), unit (id or building-unit), activity or person.

    A compound must exist in the registry; a numeric unit id must be a unit.
    """
    with _evidence(engine) as (uow, repo):
        if kind == "compound":
            uow.compounds.get_by_code(target.strip())
        elif kind == "unit" and target.strip().isdigit():
            uow.units.info(int(target))
        linked = repo.load(project).link(source_id, kind, target)
        repo.update_source_links(repo.project_id(project), linked)
        uow.commit()
    return linked


# ---------------------------------------------------------------- coding and memos


def code_segment(
    engine: Engine,
    project: str,
    source_id: str,
    start: int,
    end: int,
    code: str,
    coder: str,
) -> Coding:
    """`coder` applies `code` to text[start:end] of a source."""
    coding = _coding(source_id, start, end, code, coder)
    with _evidence(engine) as (uow, repo):
        loaded = repo.load(project)
        loaded.add_coding(coding)
        repo.add_coding(repo.project_id(project), coding, at=_now())
        uow.commit()
    return coding


def _coding(source_id: str, start: int, end: int, code: str, coder: str) -> Coding:
    if not coder.strip():
        raise BadInput("a coding needs the name of its coder")
    try:
        return Coding(source_id, start, end, code.strip(), coder.strip())
    except ValueError as exc:
        raise BadInput(str(exc)) from None


def remove_coding(
    engine: Engine,
    project: str,
    source_id: str,
    start: int,
    end: int,
    code: str,
    coder: str,
) -> Coding:
    """Take back one coding."""
    coding = _coding(source_id, start, end, code, coder)
    with _evidence(engine) as (uow, repo):
        repo.load(project).remove_coding(coding)
        repo.remove_coding(repo.project_id(project), coding)
        uow.commit()
    return coding


def add_memo(
    engine: Engine,
    project: str,
    text: str,
    author: str,
    *,
    target_kind: str = "project",
    target: str = "",
    memo_id: str | None = None,
) -> Memo:
    """A memo on the project, a code, a source or a segment ("<source>:<start>-<end>")."""
    if not author.strip():
        raise BadInput("a memo needs its author")
    with _evidence(engine) as (uow, repo):
        loaded = repo.load(project)
        memo = Memo(
            memo_id or loaded.next_memo_id(), text, author.strip(), target_kind, target.strip()
        )
        loaded.add_memo(memo)
        repo.add_memo(repo.project_id(project), memo, at=_now())
        uow.commit()
    return memo


# ---------------------------------------------------------------- codebook


def codebook_of(engine: Engine | None, project: str | None) -> Codebook:
    """A project's codebook, or the default one (the path model) for None."""
    if project is None or engine is None:
        return default_codebook()
    with _evidence(engine) as (_, repo):
        return repo.codebook(repo.project_id(project))


def edit_codebook(
    engine: Engine,
    project: str,
    operation: str,
    code: str,
    *,
    actor: str,
    into: str | None = None,
    new_parent: str | None = None,
    name: str | None = None,
    name_en: str | None = None,
    new_id: str | None = None,
    new_codes: Sequence[Code] = (),
    keep: bool = False,
    note: str = "",
) -> HistoryRecord:
    """Merge, split, move or rename a code; codings follow and the edit goes to the history.

    merge: `code` into `into`; split: `code` into `new_codes` (keep it with `keep`);
    move: `code` under `new_parent` (None: to the top); rename: `name`, `name_en`, `new_id`.
    """
    with _evidence(engine) as (uow, repo):
        loaded = repo.load(project)
        edited, edit = _edit(
            loaded.codebook,
            operation,
            code,
            into=into,
            new_parent=new_parent,
            name=name,
            name_en=name_en,
            new_id=new_id,
            new_codes=new_codes,
            keep=keep,
            note=note,
        )
        at = _now()
        record = loaded.apply_edit(edited, edit, actor=actor, at=at)
        loaded.validate()
        pid = repo.project_id(project)
        repo.replace_codebook(pid, loaded.codebook)
        repo.replace_codings(pid, loaded.codings, at=at)
        for memo in loaded.memos.values():
            if memo.target_kind == "code":
                repo.retarget_memo(pid, memo)
        repo.add_history(pid, record)
        uow.commit()
    return record


def _edit(
    codebook: Codebook,
    operation: str,
    code: str,
    *,
    into: str | None,
    new_parent: str | None,
    name: str | None,
    name_en: str | None,
    new_id: str | None,
    new_codes: Sequence[Code],
    keep: bool,
    note: str,
) -> tuple[Codebook, CodebookEdit]:
    if operation == "merge":
        if not into:
            raise BadInput("merging needs the code to merge into")
        return merge(codebook, code, into, note=note)
    if operation == "split":
        return split(codebook, code, list(new_codes), keep=keep, note=note)
    if operation == "move":
        return move(codebook, code, new_parent or None, note=note)
    if operation == "rename":
        return rename(codebook, code, name=name, name_en=name_en, new_id=new_id, note=note)
    raise BadInput(
        "unknown codebook edit {operation}: use merge, split, move or rename",
        operation=repr(operation),
    )


def new_code(
    code_id: str, name: str, *, name_en: str = "", parent: str | None = None, definition: str = ""
) -> Code:
    """A new open code for a split (its parent is chosen by the split when None)."""
    return Code(code_id.strip(), name.strip(), name_en, parent, CodeLevel.OPEN, definition)


# ---------------------------------------------------------------- suggestions


@dataclass(frozen=True)
class SegmentSuggestion:
    id: str
    suggestions: tuple[Suggestion, ...]


def suggest_segments(
    segments: Sequence[Mapping[str, Any]], *, codebook: Codebook | None = None, top_k: int = 5
) -> list[SegmentSuggestion]:
    """Ranked codes for each {"id", "text"} segment, from the default codebook unless given."""
    ranker = suggester(codebook)
    out: list[SegmentSuggestion] = []
    seen: set[str] = set()
    for i, segment in enumerate(segments, start=1):
        if not isinstance(segment, Mapping):
            raise BadInput("segment {i} must be an object with 'id' and 'text'", i=i)
        sid, text = segment.get("id"), segment.get("text")
        if not isinstance(sid, str) or not sid.strip():
            raise BadInput("segment {i} needs an 'id' (a non-empty string)", i=i)
        if not isinstance(text, str):
            raise BadInput("segment {sid} needs a 'text' (a string)", sid=repr(sid))
        if sid in seen:
            raise BadInput("segment id {sid} is used twice", sid=repr(sid))
        seen.add(sid)
        out.append(SegmentSuggestion(sid, tuple(ranker.suggest(text, top_k=top_k))))
    return out


def suggestions_request(payload: Any) -> list[Mapping[str, Any]]:
    """The segments of a `{"segments": [{"id": ..., "text": ...}]}` request."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("segments"), list):
        raise BadInput('the request must be {"segments": [{"id": "s1", "text": "..."}]}')
    segments: list[Mapping[str, Any]] = payload["segments"]
    return segments


def suggestions_json(found: Sequence[SegmentSuggestion]) -> dict[str, Any]:
    """The JSON shape of `colift evidence suggest --json`."""
    return {
        "suggestions": [
            {
                "id": s.id,
                "codes": [
                    {"code": x.code, "score": x.score, "because": list(x.because)}
                    for x in s.suggestions
                ],
            }
            for s in found
        ]
    }


def suggest_for_segment(
    engine: Engine,
    project: str,
    source_id: str,
    start: int,
    end: int,
    *,
    top_k: int = 5,
) -> list[Suggestion]:
    """Codes for a segment of a source, minus those already applied or rejected there.

    Nothing is stored: a suggestion becomes a coding only when a coder accepts it.
    """
    with _evidence(engine) as (_, repo):
        loaded = repo.load(project)
        decided = repo.decisions(repo.project_id(project))
    text = loaded.source(source_id).text
    if not 0 <= start < end <= len(text):
        raise BadInput(
            "segment {start}-{end} lies outside {source_id} ({n_text} characters)",
            start=start,
            end=end,
            source_id=repr(source_id),
            n_text=len(text),
        )
    done = {
        c.code for c in loaded.codings if (c.source_id, c.start, c.end) == (source_id, start, end)
    }
    done |= {
        d.code
        for d in decided
        if (d.source_id, d.start, d.end) == (source_id, start, end) and not d.accepted
    }
    return suggester(loaded.codebook).suggest(text[start:end], top_k=top_k, exclude=done)


def decide_suggestion(
    engine: Engine,
    project: str,
    source_id: str,
    start: int,
    end: int,
    code: str,
    *,
    accepted: bool,
    coder: str,
    score: float = 0.0,
) -> Coding | None:
    """Record a coder's verdict on a suggested code; an accepted one becomes their coding."""
    coding = _coding(source_id, start, end, code, coder)
    at = _now()
    with _evidence(engine) as (uow, repo):
        loaded = repo.load(project)
        pid = repo.project_id(project)
        if accepted:
            loaded.add_coding(coding)
            repo.add_coding(pid, coding, at=at)
        else:
            problem = loaded.coding_problem(coding)
            if problem:
                raise BadInput(problem)
        repo.add_decision(
            pid,
            SuggestionDecision(
                source_id, start, end, coding.code, accepted, score, coding.coder, at
            ),
        )
        uow.commit()
    return coding if accepted else None


def suggestion_decisions(engine: Engine, project: str) -> list[SuggestionDecision]:
    with _evidence(engine) as (_, repo):
        return repo.decisions(repo.project_id(project))


# ---------------------------------------------------------------- agreement, analysis, search


def agreement_report(
    engine: Engine, project: str, *, coders: Sequence[str] | None = None
) -> AgreementReport:
    """Cohen's kappa, Krippendorff's alpha and disagreements segment by segment."""
    loaded = get_project(engine, project)
    return agreement(loaded.codings, coders=coders, sources=loaded.sources.values())


@dataclass(frozen=True)
class AnalysisReport:
    project: str
    frequencies: Mapping[str, Mapping[str, Mapping[str, int]]]  # attribute -> value -> code -> n
    code_totals: Mapping[str, int]
    cooccurrence: Cooccurrence
    path: PathView
    saturation: tuple[SaturationStep, ...]
    saturated: bool


def analysis_report(
    engine: Engine, project: str, *, coder: str | None = None, attributes: Sequence[str] = ()
) -> AnalysisReport:
    """Frequencies by case attribute, co-occurrence, the path-model view and saturation."""
    loaded = get_project(engine, project)
    sources = list(loaded.sources.values())
    cases = list(loaded.cases.values())
    wanted = list(attributes) or [
        a for a in ANALYSIS_ATTRIBUTES if any(a in c.variables for c in cases)
    ]
    frequencies = {
        a: {
            value: dict(counter)
            for value, counter in code_frequencies(
                loaded.codings, sources, cases, a, coder=coder
            ).items()
        }
        for a in wanted
    }
    totals = Counter(c.code for c in loaded.codings if coder is None or c.coder == coder)
    steps = saturation(loaded.codings, list(loaded.sources), coder=coder)
    return AnalysisReport(
        project=loaded.name,
        frequencies=frequencies,
        code_totals=dict(totals.most_common()),
        cooccurrence=cooccurrence(loaded.codings, coder=coder),
        path=path_view(loaded.codings, loaded.codebook, memos=loaded.memos.values(), coder=coder),
        saturation=tuple(steps),
        saturated=is_saturated(steps),
    )


def search_sources(
    engine: Engine, project: str, query: str, *, limit: int | None = 200
) -> list[SearchHit]:
    """Every place `query` occurs in the project's sources (Chinese-aware, jieba alignment)."""
    if not query.strip():
        raise BadInput("give a word or phrase to search for")
    loaded = get_project(engine, project)
    return search(
        loaded.sources.values(), query, tokens=True, codebook=loaded.codebook, limit=limit
    )


# ---------------------------------------------------------------- REFI-QDA exchange


def export_project_qdpx(engine: Engine, project: str) -> bytes:
    """The project as a `.qdpx` (validated against the QDA-XML project schema)."""
    return export_qdpx(get_project(engine, project))


def export_codebook_qdc(engine: Engine | None, project: str | None = None) -> bytes:
    """A project's codebook (or, with None, the default one) as a `.qdc`."""
    if project is None or engine is None:
        return export_qdc(default_codebook())
    loaded = get_project(engine, project)
    return export_qdc(loaded.codebook, loaded.guids)


def import_project_qdpx(
    engine: Engine,
    data: bytes,
    *,
    name: str | None = None,
    actor: str,
    compound: str | None = None,
    shared: bool = False,
) -> ImportResult:
    """A `.qdpx` from colift or another tool as a new project (named `name` or as in the file)
    of `compound` (None: admins only, unless `shared`)."""
    if compound is not None and shared:
        raise BadInput(
            "a project of a compound is not shared: leave the compound empty to share it"
        )
    result = import_qdpx(data, name=_name(name) if name else None)
    with _evidence(engine) as (uow, repo):
        repo.create(result.project, actor=actor, at=_now(), compound=compound, shared=shared)
        uow.commit()
    return result


def import_codebook_qdc(
    engine: Engine, data: bytes, project: str, *, actor: str, compound: str | None = None
) -> tuple[EvidenceProject, list[str]]:
    """A `.qdc` codebook: a new project with it (of `compound`), or the codebook of an existing
    project.

    An existing project keeps its codings only when every code they use is in the new codebook.
    """
    codebook, guids, warnings = import_qdc(data)
    name = _name(project)
    with _evidence(engine) as (uow, repo):
        if not repo.exists(name):
            made = EvidenceProject(name, codebook, guids=guids)
            repo.create(made, actor=actor, at=_now(), compound=compound)
            uow.commit()
            return made, warnings
        loaded = repo.load(name)
        missing = sorted({c.code for c in loaded.codings} - set(codebook.ids()))
        if missing:
            raise BadInput(
                "project {name} has codings of {missing}, which the new codebook lacks: merge or rename those codes first",
                name=repr(name),
                missing=", ".join(missing[:5]),
            )
        loaded.codebook = codebook
        loaded.guids = {
            **{k: v for k, v in loaded.guids.items() if not k.startswith("code:")},
            **guids,
        }
        loaded.validate()
        pid = repo.project_id(name)
        repo.replace_codebook(pid, codebook)
        repo.set_guids(pid, loaded.guids)
        record = HistoryRecord("import", {"codes": len(codebook), "origin": "qdc"}, actor, _now())
        loaded.history.append(record)
        repo.add_history(pid, record)
        uow.commit()
        return loaded, warnings


# ---------------------------------------------------------------- the demo corpus


def demo_project() -> EvidenceProject:
    """The demo evidence project from the packaged corpus (pure; nothing stored)."""
    corpus = files("colift.evidence") / CORPUS
    raw = tomllib.loads((corpus / MANIFEST).read_text(encoding="utf-8"))
    coders: dict[str, str] = raw["coders"]
    project = EvidenceProject(
        name=raw["project"],
        codebook=default_codebook(),
        description=raw["description"],
        users=list(coders.values()),
    )
    for entry in raw["case"]:
        project.add_case(Case(entry["id"], entry["name"], dict(entry["variables"])))
    for entry in raw["source"]:
        text = (corpus / entry["file"]).read_bytes().decode("utf-8")
        project.add_source(
            Source(entry["id"], entry["name"], text, kind=entry["kind"], language="zh")
        )
        for case_id in entry.get("cases", []):
            project.link_case(entry["id"], case_id)
        for kind, target in entry.get("links", {}).items():
            project.link(entry["id"], kind, target)

    def locate(source_id: str, quote: str) -> tuple[int, int]:
        text = project.source(source_id).text
        start = text.find(quote)
        if start < 0:
            raise NotFound(
                "demo corpus: {quote} is not in {source_id}", quote=repr(quote), source_id=source_id
            )
        return start, start + len(quote)

    for entry in raw["coding"]:
        start, end = locate(entry["source"], entry["quote"])
        for who in entry["coders"]:
            project.add_coding(Coding(entry["source"], start, end, entry["code"], coders[who]))
    for entry in raw["memo"]:
        target = entry.get("target", "")
        if entry["target_kind"] == "segment":
            start, end = locate(entry["source"], entry["quote"])
            target = segment_target(entry["source"], start, end)
        project.add_memo(
            Memo(entry["id"], entry["text"], coders[entry["author"]], entry["target_kind"], target)
        )
    project.codings.sort(key=lambda c: (list(project.sources).index(c.source_id), c.start, c.end))
    project.validate()
    return project


def seed_evidence_demo(engine: Engine, compound: str | None = None) -> bool:
    """Store the demo evidence project once, as `compound`'s; returns whether it was created now."""
    project = demo_project()
    with _evidence(engine) as (uow, repo):
        if repo.exists(project.name):
            return False
        repo.create(replace(project), actor=DEMO_ACTOR, at=_now(), compound=compound)
        uow.commit()
    return True


@dataclass(frozen=True)
class SourceView:
    """One source as its page shows it: the text, its codings and suggestions where uncoded."""

    project: EvidenceProject
    source: Source
    codings: tuple[Coding, ...]
    uncoded: tuple[SegmentSuggestions, ...]


def source_view(engine: Engine, project: str, source_id: str, *, top_k: int = 3) -> SourceView:
    """A source with its codings in order and ranked code suggestions for uncoded sentences."""
    loaded = get_project(engine, project)
    source = loaded.source(source_id)
    codings = tuple(
        sorted(
            (c for c in loaded.codings if c.source_id == source_id),
            key=lambda c: (c.start, c.end, c.code, c.coder),
        )
    )
    uncoded = suggest_uncoded(source, codings, loaded.codebook, top_k=top_k)
    return SourceView(loaded, source, codings, tuple(uncoded))
