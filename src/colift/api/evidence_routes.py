"""The /evidence endpoints: projects, sources, cases, codings, memos, codebook, suggestions,
agreement, analysis, search and REFI-QDA export/import.

Researchers' work, scoped like everything else: a project belongs to a compound, whose workers
read and write it and whose street office reads it; a project without a compound is admins'
only unless an admin shared it. Residents and unit leaders are refused (403).
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, Field

from colift.errors import BadInput, NotFound
from colift.http.auth import CurrentPrincipal, forbidden
from colift.http.errors import ERROR_RESPONSES
from colift.http.units import EngineDep
from colift.services import evidence as ev
from colift.services.access import (
    Principal,
    can_create_project,
    can_read_evidence,
    can_read_project,
    can_write_evidence,
    can_write_project,
    is_admin,
)

evidence_router = APIRouter(prefix="/evidence", tags=["evidence"], responses=ERROR_RESPONSES)


def _file(media_type: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answer of an endpoint that sends a file."""
    return {200: {"content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}}


def reader(principal: CurrentPrincipal) -> Principal:
    if not can_read_evidence(principal):
        raise forbidden("read research evidence")
    return principal


def writer(principal: CurrentPrincipal) -> Principal:
    if not can_write_evidence(principal):
        raise forbidden("change research evidence")
    return principal


Reader = Annotated[Principal, Depends(reader)]
Writer = Annotated[Principal, Depends(writer)]


def project_reader(project: str, engine: EngineDep, principal: Reader) -> Principal:
    """A project of the caller's compound (or street), a shared one, or any for an admin."""
    if not can_read_project(principal, ev.project_scope(engine, project)):
        raise forbidden("read the research evidence of another compound")
    return principal


def project_writer(project: str, engine: EngineDep, principal: Writer) -> Principal:
    """A project of the caller's own compound, a shared one, or any for an admin."""
    if not can_write_project(principal, ev.project_scope(engine, project)):
        raise forbidden("change the research evidence of another compound")
    return principal


def admin(principal: CurrentPrincipal) -> Principal:
    if not is_admin(principal):
        raise forbidden("change whose research project this is")
    return principal


Admin = Annotated[Principal, Depends(admin)]


def existing_or_new_writer(project: str, engine: EngineDep, principal: Writer) -> Principal:
    """An existing project the caller may change; a new name passes (checked as a creation)."""
    try:
        scope = ev.project_scope(engine, project)
    except NotFound:
        return principal
    if not can_write_project(principal, scope):
        raise forbidden("change the research evidence of another compound")
    return principal


ExistingOrNewWriter = Annotated[Principal, Depends(existing_or_new_writer)]
ProjectReader = Annotated[Principal, Depends(project_reader)]
ProjectWriter = Annotated[Principal, Depends(project_writer)]


def new_project_scope(who: Principal, compound: str | None, shared: bool) -> str | None:
    """The compound a new project belongs to: a worker's own unless an admin names another."""
    if not can_create_project(who, compound, shared):
        raise forbidden("make research projects for another compound, or shared ones")
    if not is_admin(who) and compound is None:
        return who.compound
    return compound


class NewScope(BaseModel):
    compound: str | None = Field(
        None,
        max_length=64,
        description="The compound whose workers use the project (a worker's own by default; "
        "only an admin names another, or leaves it empty for an admins-only project)",
    )
    shared: bool = Field(
        False, description="Admins only: a project without a compound, open to every worker"
    )


class ProjectIn(NewScope):
    name: str = Field(min_length=1, max_length=200)
    description: str = ""


class ScopeIn(NewScope):
    pass


class SourceIn(BaseModel):
    filename: str = Field(min_length=1, description="e.g. 访谈.txt, minutes.md, notes.docx")
    text: str | None = Field(None, description="The text (for .txt and .md)")
    content_base64: str | None = Field(None, description="The file's bytes (for .docx)")
    id: str | None = None
    name: str | None = None
    kind: str | None = None


class CaseIn(BaseModel):
    id: str = Field(min_length=1)
    name: str = ""
    variables: dict[str, str] = Field(default_factory=dict)


class CaseLinkIn(BaseModel):
    case: str = Field(min_length=1)


class SourceLinkIn(BaseModel):
    kind: str = Field(description="compound, unit, activity or person")
    target: str = Field(min_length=1)


class CodingIn(BaseModel):
    source: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    code: str
    coder: str | None = Field(None, description="Default: the caller")


class MemoIn(BaseModel):
    text: str = Field(min_length=1)
    target_kind: str = "project"
    target: str = ""
    author: str | None = None


class CodebookEditIn(BaseModel):
    operation: str = Field(description="merge, split, move or rename")
    code: str
    into: str | None = None
    new_parent: str | None = None
    name: str | None = None
    name_en: str | None = None
    new_id: str | None = None
    new_codes: list[dict[str, str]] = Field(default_factory=list)
    keep: bool = False
    note: str = ""


class SegmentIn(BaseModel):
    id: str
    text: str


class SuggestIn(BaseModel):
    segments: list[SegmentIn]


class SegmentRefIn(BaseModel):
    source: str
    start: int = Field(ge=0)
    end: int = Field(gt=0)


class DecisionIn(SegmentRefIn):
    code: str
    accepted: bool
    score: float = 0.0
    coder: str | None = None


class ImportIn(NewScope):
    content_base64: str
    name: str | None = None


def _bytes(encoded: str) -> bytes:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("content_base64 is not valid base64") from None


def _json(value: Any) -> Any:
    return jsonable_encoder(ev.as_plain(value))


# ---------------------------------------------------------------- projects


@evidence_router.get("/projects")
def projects(engine: EngineDep, who: Reader) -> dict[str, Any]:
    """The projects the caller may read: their compound's (street's), shared ones; all for admins."""
    mine = [
        p
        for p in ev.list_projects(engine)
        if can_read_project(who, ev.ProjectScope(p.name, p.compound, p.street, p.shared))
    ]
    return {"projects": _json(mine)}


@evidence_router.post("/projects", status_code=201)
def create_project(body: ProjectIn, engine: EngineDep, who: Writer) -> dict[str, Any]:
    """A worker's project belongs to their compound; an admin names a compound, or none (admins
    only), or none and `shared` (every worker and street office)."""
    compound = new_project_scope(who, body.compound, body.shared)
    made = ev.create_project(
        engine,
        body.name,
        description=body.description,
        actor=who.name,
        compound=compound,
        shared=body.shared,
    )
    return {"name": made.name, "codes": len(made.codebook), "compound": compound}


@evidence_router.put("/projects/{project}/scope")
def set_scope(project: str, body: ScopeIn, engine: EngineDep, _: Admin) -> dict[str, Any]:
    """Give a project to a compound, take it back to admins only, or share it (admins only)."""
    return _json(ev.set_project_scope(engine, project, compound=body.compound, shared=body.shared))  # type: ignore[no-any-return]


@evidence_router.get("/projects/{project}")
def project(project: str, engine: EngineDep, _: ProjectReader) -> dict[str, Any]:
    p = ev.get_project(engine, project)
    return {
        "name": p.name,
        "description": p.description,
        "sources": [
            {
                "id": s.id,
                "name": s.name,
                "kind": s.kind,
                "language": s.language,
                "length": len(s.text),
                "cases": list(s.case_ids),
                "links": dict(s.links),
            }
            for s in p.sources.values()
        ],
        "cases": _json(list(p.cases.values())),
        "coders": p.coders(),
        "codings": len(p.codings),
        "memos": _json(list(p.memos.values())),
        "history": _json(p.history),
    }


# ---------------------------------------------------------------- sources and cases


@evidence_router.post("/projects/{project}/sources", status_code=201)
def add_source(
    project: str, body: SourceIn, engine: EngineDep, who: ProjectWriter
) -> dict[str, Any]:
    if (body.text is None) == (body.content_base64 is None):
        raise BadInput("send the source as text or as content_base64, not both or neither")
    data = body.text.encode("utf-8") if body.text is not None else _bytes(body.content_base64 or "")
    source = ev.add_source(
        engine,
        project,
        data,
        body.filename,
        source_id=body.id,
        name=body.name,
        kind=body.kind,
        actor=who.name,
    )
    return {"id": source.id, "kind": source.kind, "length": len(source.text)}


@evidence_router.get("/projects/{project}/sources/{source}")
def source(project: str, source: str, engine: EngineDep, _: ProjectReader) -> dict[str, Any]:
    p = ev.get_project(engine, project)
    s = p.source(source)
    return {
        "id": s.id,
        "name": s.name,
        "kind": s.kind,
        "language": s.language,
        "text": s.text,
        "cases": list(s.case_ids),
        "links": dict(s.links),
        "codings": _json(p.codings_of(s.id)),
    }


@evidence_router.post("/projects/{project}/sources/{source}/cases")
def link_case(
    project: str, source: str, body: CaseLinkIn, engine: EngineDep, _: ProjectWriter
) -> dict[str, Any]:
    linked = ev.link_source_to_case(engine, project, source, body.case)
    return {"id": linked.id, "cases": list(linked.case_ids)}


@evidence_router.post("/projects/{project}/sources/{source}/links")
def link_source(
    project: str, source: str, body: SourceLinkIn, engine: EngineDep, _: ProjectWriter
) -> dict[str, Any]:
    linked = ev.link_source(engine, project, source, body.kind, body.target)
    return {"id": linked.id, "links": dict(linked.links)}


@evidence_router.post("/projects/{project}/cases", status_code=201)
def add_case(project: str, body: CaseIn, engine: EngineDep, _: ProjectWriter) -> dict[str, Any]:
    made = ev.add_case(engine, project, body.id, body.name, body.variables)
    return _json(made)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- coding and memos


@evidence_router.get("/projects/{project}/codings")
def codings(
    project: str,
    engine: EngineDep,
    _: ProjectReader,
    source: str | None = None,
    coder: str | None = None,
) -> dict[str, Any]:
    p = ev.get_project(engine, project)
    rows = [
        c
        for c in p.codings
        if (source is None or c.source_id == source) and (coder is None or c.coder == coder)
    ]
    return {"codings": _json(rows)}


@evidence_router.post("/projects/{project}/codings", status_code=201)
def code_segment(
    project: str, body: CodingIn, engine: EngineDep, who: ProjectWriter
) -> dict[str, Any]:
    made = ev.code_segment(
        engine, project, body.source, body.start, body.end, body.code, body.coder or who.name
    )
    return _json(made)  # type: ignore[no-any-return]


@evidence_router.post("/projects/{project}/codings/remove")
def remove_coding(
    project: str, body: CodingIn, engine: EngineDep, who: ProjectWriter
) -> dict[str, Any]:
    gone = ev.remove_coding(
        engine, project, body.source, body.start, body.end, body.code, body.coder or who.name
    )
    return {"removed": _json(gone)}


@evidence_router.post("/projects/{project}/memos", status_code=201)
def add_memo(project: str, body: MemoIn, engine: EngineDep, who: ProjectWriter) -> dict[str, Any]:
    memo = ev.add_memo(
        engine,
        project,
        body.text,
        body.author or who.name,
        target_kind=body.target_kind,
        target=body.target,
    )
    return _json(memo)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- codebook


@evidence_router.get("/codebook")
def default_codebook(_: Reader) -> dict[str, Any]:
    return {"codes": _json(list(ev.codebook_of(None, None)))}


@evidence_router.get("/projects/{project}/codebook")
def project_codebook(project: str, engine: EngineDep, _: ProjectReader) -> dict[str, Any]:
    return {"codes": _json(list(ev.codebook_of(engine, project)))}


@evidence_router.post("/projects/{project}/codebook/edits")
def edit_codebook(
    project: str, body: CodebookEditIn, engine: EngineDep, who: ProjectWriter
) -> dict[str, Any]:
    new_codes = []
    for raw in body.new_codes:
        if not raw.get("id") or not raw.get("name"):
            raise BadInput("each new code of a split needs an id and a name")
        new_codes.append(
            ev.new_code(
                raw["id"],
                raw["name"],
                name_en=raw.get("name_en", ""),
                parent=raw.get("parent"),
                definition=raw.get("definition", ""),
            )
        )
    record = ev.edit_codebook(
        engine,
        project,
        body.operation,
        body.code,
        actor=who.name,
        into=body.into,
        new_parent=body.new_parent,
        name=body.name,
        name_en=body.name_en,
        new_id=body.new_id,
        new_codes=new_codes,
        keep=body.keep,
        note=body.note,
    )
    return _json(record)  # type: ignore[no-any-return]


# ---------------------------------------------------------------- suggestions


@evidence_router.post("/suggest")
def suggest(body: SuggestIn, _: Reader) -> dict[str, Any]:
    found = ev.suggest_segments([s.model_dump() for s in body.segments])
    return ev.suggestions_json(found)


@evidence_router.get("/projects/{project}/suggestions")
def segment_suggestions(
    project: str, source: str, start: int, end: int, engine: EngineDep, _: ProjectReader
) -> dict[str, Any]:
    found = ev.suggest_for_segment(engine, project, source, start, end)
    return {"suggestions": _json(found)}


@evidence_router.post("/projects/{project}/suggestions/decisions", status_code=201)
def decide(project: str, body: DecisionIn, engine: EngineDep, who: ProjectWriter) -> dict[str, Any]:
    made = ev.decide_suggestion(
        engine,
        project,
        body.source,
        body.start,
        body.end,
        body.code,
        accepted=body.accepted,
        coder=body.coder or who.name,
        score=body.score,
    )
    return {"accepted": body.accepted, "coding": _json(made)}


# ---------------------------------------------------------------- reports


@evidence_router.get("/projects/{project}/agreement")
def agreement(project: str, engine: EngineDep, _: ProjectReader) -> dict[str, Any]:
    return _json(ev.agreement_report(engine, project))  # type: ignore[no-any-return]


@evidence_router.get("/projects/{project}/analysis")
def analysis(
    project: str, engine: EngineDep, _: ProjectReader, coder: str | None = None
) -> dict[str, Any]:
    report = ev.analysis_report(engine, project, coder=coder)
    body: dict[str, Any] = _json(report)
    body["cooccurrence"] = {
        "codes": list(report.cooccurrence.codes),
        "pairs": [
            {"a": a, "b": b, "count": n} for (a, b), n in sorted(report.cooccurrence.counts.items())
        ],
    }
    return body


@evidence_router.get("/projects/{project}/search")
def search(project: str, q: str, engine: EngineDep, _: ProjectReader) -> dict[str, Any]:
    return {"hits": _json(ev.search_sources(engine, project, q))}


# ---------------------------------------------------------------- REFI-QDA


@evidence_router.get(
    "/projects/{project}/export.qdpx", response_class=Response, responses=_file("application/zip")
)
def export_qdpx(project: str, engine: EngineDep, _: ProjectReader) -> Response:
    data = ev.export_project_qdpx(engine, project)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="project.qdpx"'},
    )


@evidence_router.get(
    "/projects/{project}/export.qdc", response_class=Response, responses=_file("application/xml")
)
def export_project_qdc(project: str, engine: EngineDep, _: ProjectReader) -> Response:
    return _qdc(ev.export_codebook_qdc(engine, project))


@evidence_router.get("/codebook.qdc", response_class=Response, responses=_file("application/xml"))
def export_default_qdc(_: Reader) -> Response:
    return _qdc(ev.export_codebook_qdc(None))


def _qdc(data: bytes) -> Response:
    return Response(
        data,
        media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="codebook.qdc"'},
    )


@evidence_router.post("/import/qdpx", status_code=201)
def import_qdpx(body: ImportIn, engine: EngineDep, who: Writer) -> dict[str, Any]:
    compound = new_project_scope(who, body.compound, body.shared)
    result = ev.import_project_qdpx(
        engine,
        _bytes(body.content_base64),
        name=body.name,
        actor=who.name,
        compound=compound,
        shared=body.shared,
    )
    p = result.project
    return {
        "name": p.name,
        "codes": len(p.codebook),
        "sources": len(p.sources),
        "cases": len(p.cases),
        "codings": len(p.codings),
        "memos": len(p.memos),
        "warnings": result.warnings,
    }


@evidence_router.post("/projects/{project}/import/qdc")
def import_qdc(
    project: str, body: ImportIn, engine: EngineDep, who: ExistingOrNewWriter
) -> dict[str, Any]:
    """The codebook of a project the caller may change, or a new project of their compound."""
    try:
        compound = ev.project_scope(engine, project).compound
    except NotFound:
        compound = new_project_scope(who, body.compound, body.shared)
    made, warnings = ev.import_codebook_qdc(
        engine, _bytes(body.content_base64), project, actor=who.name, compound=compound
    )
    return {"name": made.name, "codes": len(made.codebook), "warnings": warnings}
