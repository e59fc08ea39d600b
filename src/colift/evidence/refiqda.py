"""REFI-QDA exchange (QDA-XML 1.0): `.qdpx` projects and `.qdc` codebooks.

A `.qdpx` is a ZIP holding `project.qde` (XML in `urn:QDA-XML:project:1.0`) and `Sources/`
with one UTF-8 plain-text file per source, named by the source's GUID. Selection offsets are
character positions into exactly that text (`text[start:end]`, end exclusive), so CRLF line
ends count as two characters in both directions.

GUIDs are uuid5 of colift ids (re-exporting gives the same GUIDs); elements that came from
another tool keep that tool's GUIDs through `EvidenceProject.guids`. What QDA-XML has no place
for (a code's id, level, English name, notes, examples, triggers; a source's kind and links; a
memo's target) travels as one last line of the element's `<Description>`:

    [colift] {"id": "guidance.embedded", "level": "open", ...}

Other tools show it as text and keep it; colift reads it back, so import -> export -> import
loses no code, segment, memo or case. Every export is validated against the vendored XSDs.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cache
from importlib.resources import files
from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from colift.errors import BadInput
from colift.evidence.codebook import Codebook
from colift.evidence.model import Case, Code, CodeLevel, Coding, EvidenceSet, Memo, Source
from colift.evidence.project import (
    EvidenceProject,
    HistoryRecord,
    parse_segment_target,
    segment_target,
)

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_XSD = "Project.xsd"
CODEBOOK_XSD = "Codebook.xsd"
ORIGIN = "colift"
META_PREFIX = "[colift] "
# The namespace of colift's deterministic GUIDs (uuid5 of "<kind>:<colift id>").
GUID_NAMESPACE = uuid.UUID("6f0b6f2e-4c1d-5a8e-9d57-c011f7e0a001")
UNKNOWN_CODER = "unknown"

_GUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
)
_RGB = re.compile(r"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{3})$")


@dataclass
class ImportResult:
    """What an import read, and what it had to leave out (one line each)."""

    project: EvidenceProject
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- schemas


def schema_text(name: str) -> bytes:
    """The bytes of a vendored schema (`Project.xsd` or `Codebook.xsd`)."""
    return (files("colift.evidence") / "schemas" / name).read_bytes()


@cache
def _schema(name: str) -> Any:
    return etree.XMLSchema(etree.fromstring(schema_text(name)))


def schema_errors(xml: bytes, schema: str = PROJECT_XSD) -> list[str]:
    """Why `xml` does not validate against a vendored schema ([] when it does)."""
    try:
        document = etree.fromstring(xml, _parser())
    except etree.XMLSyntaxError as exc:
        return [f"not well-formed XML: {exc}"]
    checker = _schema(schema)
    if checker.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in checker.error_log]


def _validated(xml: bytes, schema: str) -> bytes:
    errors = schema_errors(xml, schema)
    if errors:
        raise BadInput(f"the export does not validate against {schema}: " + "; ".join(errors[:3]))
    return xml


def _parser() -> Any:
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


# ---------------------------------------------------------------- GUIDs and metadata


def derived_guid(key: str) -> str:
    """colift's GUID for an element key such as "code:guidance.embedded"."""
    return str(uuid.uuid5(GUID_NAMESPACE, key))


class _Guids:
    def __init__(self, kept: Mapping[str, str]) -> None:
        self.kept = kept

    def __call__(self, key: str) -> str:
        return self.kept.get(key) or derived_guid(key)


def _describe(text: str, meta: Mapping[str, Any]) -> str:
    line = META_PREFIX + json.dumps(dict(meta), ensure_ascii=False, sort_keys=True)
    return f"{text}\n\n{line}" if text else line


def _read_description(text: str | None) -> tuple[str, dict[str, Any]]:
    """(human text, colift metadata) of a Description; {} when it has no metadata line."""
    if not text:
        return "", {}
    lines = text.split("\n")
    last = lines[-1].strip()
    if not last.startswith(META_PREFIX.strip()):
        return text, {}
    try:
        meta = json.loads(last[len(META_PREFIX.strip()) :].strip())
    except json.JSONDecodeError:
        return text, {}
    if not isinstance(meta, dict):
        return text, {}
    human = "\n".join(lines[:-1]).rstrip("\n")
    return human, meta


def _local(element: Any) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return str(etree.QName(tag).localname)


def _kids(element: Any, name: str) -> Iterator[Any]:
    for child in element:
        if _local(child) == name:
            yield child


def _kid(element: Any, name: str) -> Any | None:
    return next(_kids(element, name), None)


def _text_of(element: Any, name: str) -> str | None:
    child = _kid(element, name)
    return None if child is None else (child.text or "")


def _norm_guid(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not _GUID.match(value):
        return None
    return value.strip("{}").lower()


# ---------------------------------------------------------------- export


def _sub(parent: Any, tag: str, ns: str, /, **attrs: str) -> Any:
    element = etree.SubElement(parent, f"{{{ns}}}{tag}")
    for key, value in attrs.items():
        element.set(key, value)
    return element


def _set_text(element: Any, text: str, what: str) -> None:
    try:
        element.text = text
    except ValueError:
        raise BadInput(
            "{what} contains control characters XML cannot carry; remove them and export again",
            what=what,
        ) from None


def _code_meta(code: Code, order: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"id": code.id, "level": code.level.value, "order": order}
    for key in ("name_en", "include", "exclude"):
        if getattr(code, key):
            meta[key] = getattr(code, key)
    if code.examples:
        meta["examples"] = list(code.examples)
    if code.triggers:
        meta["triggers"] = list(code.triggers)
    return meta


def _add_codes(
    parent: Any,
    codebook: Codebook,
    ns: str,
    guid: _Guids,
    code_notes: Mapping[str, list[str]] | None,
) -> None:
    order = {code_id: i for i, code_id in enumerate(codebook.ids())}
    first_root = codebook.roots()[0].id if codebook.roots() else None
    codes_el = _sub(parent, "Codes", ns)

    def add(container: Any, code: Code) -> None:
        attrs = {"guid": guid(f"code:{code.id}"), "name": code.name, "isCodable": "true"}
        if _RGB.match(code.color):
            attrs["color"] = code.color
        element = _sub(container, "Code", ns, **attrs)
        meta = _code_meta(code, order[code.id])
        if code.id == first_root:
            meta["codebook"] = {"name": codebook.name, "version": codebook.version}
        _set_text(
            _sub(element, "Description", ns), _describe(code.definition, meta), f"code {code.id}"
        )
        if code_notes is not None:
            for note_guid in code_notes.get(code.id, ()):
                _sub(element, "NoteRef", ns, targetGUID=note_guid)
        for child in codebook.children(code.id):
            add(element, child)

    for root in codebook.roots():
        add(codes_el, root)


def codebook_xml(codebook: Codebook, guids: Mapping[str, str] | None = None) -> bytes:
    """A `.qdc` document (QDA-XML codebook), validated against Codebook.xsd."""
    if len(codebook) == 0:
        raise BadInput("the codebook has no codes to export")
    root = etree.Element(f"{{{CODEBOOK_NS}}}CodeBook", nsmap={None: CODEBOOK_NS})
    root.set("origin", ORIGIN)
    _add_codes(root, codebook, CODEBOOK_NS, _Guids(guids or {}), None)
    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return _validated(xml, CODEBOOK_XSD)


def export_qdc(codebook: Codebook, guids: Mapping[str, str] | None = None) -> bytes:
    """The bytes of a `.qdc` file for `codebook`."""
    return codebook_xml(codebook, guids)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat()


def project_xml(project: EvidenceProject) -> tuple[bytes, dict[str, str]]:
    """`project.qde` and the plain-text files it names (zip path -> text), validated."""
    project.validate()
    ns = PROJECT_NS
    guid = _Guids(project.guids)
    root = etree.Element(f"{{{ns}}}Project", nsmap={None: ns})
    root.set("name", project.name)
    root.set("origin", ORIGIN)

    # Users: coders, memo authors and listed users, each once.
    users = project.coders()
    if users:
        users_el = _sub(root, "Users", ns)
        for name in users:
            _sub(users_el, "User", ns, guid=guid(f"user:{name}"), name=name)

    # Memos first in thought (their GUIDs are referenced from their targets).
    notes_on: dict[tuple[str, str], list[str]] = {}
    for memo in project.memos.values():
        notes_on.setdefault((memo.target_kind, memo.target), []).append(guid(f"memo:{memo.id}"))
    code_notes = {target: refs for (kind, target), refs in notes_on.items() if kind == "code"}

    if len(project.codebook):
        _add_codes(_sub(root, "CodeBook", ns), project.codebook, ns, guid, code_notes)

    variables = list(dict.fromkeys(v for c in project.cases.values() for v in c.variables))
    if variables:
        vars_el = _sub(root, "Variables", ns)
        for var in variables:
            _sub(
                vars_el,
                "Variable",
                ns,
                guid=guid(f"variable:{var}"),
                name=var,
                typeOfVariable="Text",
            )

    if project.cases:
        cases_el = _sub(root, "Cases", ns)
        for case in project.cases.values():
            case_el = _sub(cases_el, "Case", ns, guid=guid(f"case:{case.id}"), name=case.name)
            _set_text(
                _sub(case_el, "Description", ns), _describe("", {"id": case.id}), f"case {case.id}"
            )
            for var, value in case.variables.items():
                vv = _sub(case_el, "VariableValue", ns)
                _sub(vv, "VariableRef", ns, targetGUID=guid(f"variable:{var}"))
                _set_text(_sub(vv, "TextValue", ns), value, f"case {case.id} variable {var}")
            for source in project.sources.values():
                if case.id in source.case_ids:
                    _sub(case_el, "SourceRef", ns, targetGUID=guid(f"source:{source.id}"))

    texts: dict[str, str] = {}
    if project.sources:
        sources_el = _sub(root, "Sources", ns)
        for source in project.sources.values():
            _add_source(sources_el, project, source, guid, notes_on, texts)

    if project.memos:
        notes_el = _sub(root, "Notes", ns)
        for memo in project.memos.values():
            first_line = memo.text.strip().split("\n")[0].strip()
            attrs = {"guid": guid(f"memo:{memo.id}"), "name": first_line[:40] or memo.id}
            if memo.author:
                attrs["creatingUser"] = guid(f"user:{memo.author}")
            note = _sub(notes_el, "Note", ns, **attrs)
            meta = {
                "id": memo.id,
                "author": memo.author,
                "target_kind": memo.target_kind,
                "target": memo.target,
            }
            _set_text(_sub(note, "Description", ns), _describe("", meta), f"memo {memo.id}")
            _set_text(_sub(note, "PlainTextContent", ns), memo.text, f"memo {memo.id}")

    if project.sets:
        sets_el = _sub(root, "Sets", ns)
        for ps in project.sets.values():
            set_el = _sub(sets_el, "Set", ns, guid=guid(f"set:{ps.id}"), name=ps.name)
            _set_text(
                _sub(set_el, "Description", ns),
                _describe(ps.description, {"id": ps.id}),
                f"set {ps.id}",
            )
            for code in ps.codes:
                _sub(set_el, "MemberCode", ns, targetGUID=guid(f"code:{code}"))
            for source_id in ps.sources:
                _sub(set_el, "MemberSource", ns, targetGUID=guid(f"source:{source_id}"))

    project_meta: dict[str, Any] = {"users": list(project.users)}
    if project.history:
        project_meta["history"] = [
            {"operation": h.operation, "detail": dict(h.detail), "actor": h.actor, "at": _iso(h.at)}
            for h in project.history
        ]
    _set_text(
        _sub(root, "Description", ns),
        _describe(project.description, project_meta),
        "the project description",
    )
    for ref in notes_on.get(("project", ""), []):
        _sub(root, "NoteRef", ns, targetGUID=ref)

    xml = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    return _validated(xml, PROJECT_XSD), texts


def _add_source(
    parent: Any,
    project: EvidenceProject,
    source: Source,
    guid: _Guids,
    notes_on: Mapping[tuple[str, str], list[str]],
    texts: dict[str, str],
) -> None:
    ns = PROJECT_NS
    source_guid = guid(f"source:{source.id}")
    element = _sub(
        parent,
        "TextSource",
        ns,
        guid=source_guid,
        name=source.name,
        plainTextPath=f"internal://{source_guid}.txt",
    )
    texts[f"Sources/{source_guid}.txt"] = source.text
    meta: dict[str, Any] = {"id": source.id, "kind": source.kind, "language": source.language}
    if source.links:
        meta["links"] = dict(source.links)
    if len(source.case_ids) > 1:
        meta["cases"] = list(source.case_ids)  # their order; the links are the Cases' SourceRefs
    _set_text(_sub(element, "Description", ns), _describe("", meta), f"source {source.id}")

    # One selection per coded (or memo'd) span; one Coding in it per (code, coder).
    spans: dict[tuple[int, int], list[Coding]] = {}
    for coding in project.codings_of(source.id):
        spans.setdefault((coding.start, coding.end), []).append(coding)
    for memo in project.memos.values():
        if memo.target_kind == "segment":
            sid, start, end = parse_segment_target(memo.target)
            if sid == source.id:
                spans.setdefault((start, end), [])
    for (start, end), codings in sorted(spans.items()):
        key = f"{source.id}:{start}:{end}"
        attrs = {
            "guid": guid(f"selection:{key}"),
            "name": source.text[start:end][:40].replace("\r", " ").replace("\n", " "),
            "startPosition": str(start),
            "endPosition": str(end),
        }
        if codings:
            attrs["creatingUser"] = guid(f"user:{codings[0].coder}")
        selection = _sub(element, "PlainTextSelection", ns, **attrs)
        for coding in codings:
            coding_el = _sub(
                selection,
                "Coding",
                ns,
                guid=guid(f"coding:{key}:{coding.code}:{coding.coder}"),
                creatingUser=guid(f"user:{coding.coder}"),
            )
            _sub(coding_el, "CodeRef", ns, targetGUID=guid(f"code:{coding.code}"))
        for ref in notes_on.get(("segment", segment_target(source.id, start, end)), []):
            _sub(selection, "NoteRef", ns, targetGUID=ref)
    for ref in notes_on.get(("source", source.id), []):
        _sub(element, "NoteRef", ns, targetGUID=ref)


def export_qdpx(project: EvidenceProject) -> bytes:
    """The bytes of a `.qdpx` file: project.qde plus Sources/<guid>.txt, validated."""
    xml, texts = project_xml(project)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(_entry("project.qde"), xml)
        for path, text in texts.items():
            archive.writestr(_entry(path), text.encode("utf-8"))
    return buffer.getvalue()


def _entry(name: str) -> zipfile.ZipInfo:
    # A fixed timestamp: the same project exports to the same bytes.
    info = zipfile.ZipInfo(name, date_time=(2019, 3, 18, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


# ---------------------------------------------------------------- import


def _parse_xml(data: bytes, what: str) -> Any:
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise BadInput("{what} is not well-formed XML: {exc}", what=what, exc=exc) from None


class _Ids:
    """Unique, white-space-free colift ids for elements of another tool."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.taken: set[str] = set()

    def make(self, wanted: str | None, name: str, guid: str) -> str:
        if wanted and wanted not in self.taken and not any(c.isspace() for c in wanted):
            self.taken.add(wanted)
            return wanted
        base = re.sub(r"\s+", "_", name.strip())[:100] or f"{self.prefix}-{guid[:8]}"
        candidate = base
        if candidate in self.taken:
            candidate = f"{base}~{guid[:8]}"
        n = 2
        while candidate in self.taken:
            candidate = f"{base}~{guid[:8]}-{n}"
            n += 1
        self.taken.add(candidate)
        return candidate


def _read_codes(
    codes_el: Any, warnings: list[str]
) -> tuple[list[Code], dict[str, str], dict[str, str], dict[str, Any], list[tuple[str, str]]]:
    """Codes (pre-order), guid -> id, kept GUIDs, codebook name/version, (note guid, code id)."""
    ids = _Ids("code")
    codes: list[tuple[int | None, Code]] = []
    by_guid: dict[str, str] = {}
    kept: dict[str, str] = {}
    book: dict[str, Any] = {}
    note_refs: list[tuple[str, str]] = []

    def read(element: Any, parent: str | None) -> None:
        raw_guid = element.get("guid")
        guid = _norm_guid(raw_guid)
        name = (element.get("name") or "").strip()
        if guid is None:
            warnings.append(
                f"code {name or '(unnamed)'} has no valid guid: left out with its sub-codes"
            )
            return
        if guid in by_guid:
            warnings.append(f"code {name} repeats guid {guid}: left out")
            return
        definition, meta = _read_description(_text_of(element, "Description"))
        code_id = ids.make(_str(meta.get("id")), name or guid, guid)
        children = list(_kids(element, "Code"))
        level_raw = meta.get("level")
        try:
            level = CodeLevel(level_raw) if level_raw else None
        except ValueError:
            level = None
        if level is None:
            level = (
                CodeLevel.OPEN if not children else (CodeLevel.AXIAL if parent else CodeLevel.CORE)
            )
        color = (element.get("color") or "").strip()
        code = Code(
            id=code_id,
            name=name or code_id,
            name_en=_str(meta.get("name_en")) or "",
            parent=parent,
            level=level,
            definition=definition,
            include=_str(meta.get("include")) or "",
            exclude=_str(meta.get("exclude")) or "",
            examples=_strs(meta.get("examples")),
            triggers=_strs(meta.get("triggers")),
            color=_color(color) if color else "#888888",
        )
        order = meta.get("order")
        codes.append((order if isinstance(order, int) else None, code))
        by_guid[guid] = code_id
        if guid != derived_guid(f"code:{code_id}"):
            kept[f"code:{code_id}"] = raw_guid.strip() if raw_guid else guid
        if isinstance(meta.get("codebook"), dict):
            book.update(meta["codebook"])
        for ref in _kids(element, "NoteRef"):
            target = _norm_guid(ref.get("targetGUID"))
            if target:
                note_refs.append((target, code_id))
        for child in children:
            read(child, code_id)

    for element in _kids(codes_el, "Code"):
        read(element, None)
    if codes and all(order is not None for order, _ in codes):
        codes.sort(key=lambda pair: pair[0] or 0)
    return [c for _, c in codes], by_guid, kept, book, note_refs


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _strs(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(v for v in value if isinstance(v, str) and v.strip())
    return ()


def _color(value: str) -> str:
    if re.match(r"^#[0-9A-Fa-f]{6}$", value):
        return value.upper()
    if re.match(r"^#[0-9A-Fa-f]{3}$", value):
        return "#" + "".join(ch * 2 for ch in value[1:]).upper()
    return "#888888"


def _codebook_of(codes: list[Code], book: Mapping[str, Any], fallback_name: str) -> Codebook:
    return Codebook(
        codes,
        name=book["name"] if isinstance(book.get("name"), str) else fallback_name,
        version=_str(book.get("version")) or "",
    )


def import_qdc(data: bytes) -> tuple[Codebook, dict[str, str], list[str]]:
    """A codebook from `.qdc` bytes, the GUIDs to keep for re-export, and warnings."""
    root = _parse_xml(data, "the codebook file")
    if _local(root) != "CodeBook":
        raise BadInput(
            "a .qdc file holds a <CodeBook>, this one holds <{local}>", local=_local(root)
        )
    codes_el = _kid(root, "Codes")
    if codes_el is None:
        raise BadInput("the codebook file has no <Codes>")
    warnings: list[str] = []
    codes, _, kept, book, _ = _read_codes(codes_el, warnings)
    warnings += foreign_elements(root, keeps_sets=False)
    if not codes:
        raise BadInput("the codebook file has no codes colift can read")
    return _codebook_of(codes, book, root.get("origin") or ""), kept, warnings


# What colift reads of a project and of a text source; anything else is reported, not dropped
# silently (REFI-QDA Sets, Links and Graphs, and elements a tool adds of its own).
_PROJECT_READ = frozenset(
    {"Users", "CodeBook", "Variables", "Cases", "Sources", "Notes", "Description", "NoteRef"}
    | {"Sets"}
)
_SOURCE_READ = frozenset(
    {"Description", "PlainTextContent", "PlainTextSelection", "Coding", "NoteRef"}
    | {"VariableValue"}
)


def _set_line(element: Any) -> str:
    members = {
        kind: sum(1 for _ in _kids(element, f"Member{kind}")) for kind in ("Code", "Source", "Note")
    }
    held = ", ".join(f"{n} {k.lower()}s" for k, n in members.items() if n) or "no members"
    return f"set {element.get('name') or '(unnamed)'!r} ({held})"


def foreign_elements(root: Any, *, keeps_sets: bool = True) -> list[str]:
    """One warning per element of a project (or codebook) colift does not keep; a codebook
    file's Sets are reported (`keeps_sets=False`), a project's are read by `_read_sets`."""
    out: list[str] = []
    for child in root:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = _local(child)
        if name == "Sets":
            if keeps_sets:
                continue
            sets = [_set_line(s) for s in _kids(child, "Set")]
            if sets:
                out.append(f"{len(sets)} REFI-QDA set(s) not kept: " + "; ".join(sets))
        elif name in ("Links", "Graphs"):
            n = sum(1 for c in child if isinstance(c.tag, str))
            if n:
                out.append(f"{n} element(s) of <{name}> not kept: colift does not model them")
        elif name not in _PROJECT_READ and name != "Codes":
            out.append(f"<{name}> not kept: colift does not model it")
        if name == "Sources":
            for source in child:
                if not isinstance(source.tag, str) or _local(source) != "TextSource":
                    continue
                extra = sorted({_local(c) for c in source if isinstance(c.tag, str)} - _SOURCE_READ)
                for tag in extra:
                    label = source.get("name") or source.get("guid") or "(unnamed)"
                    out.append(f"text source {label!r}: <{tag}> not kept")
    return out


def _open_qdpx(data: bytes) -> tuple[zipfile.ZipFile, str]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadInput("a .qdpx file is a ZIP archive; this file is not one") from None
    qde = [n for n in archive.namelist() if n.lower().endswith(".qde")]
    if not qde:
        raise BadInput("the .qdpx archive holds no project.qde")
    preferred = [n for n in qde if n.lower() in ("project.qde", "./project.qde")]
    return archive, (preferred or qde)[0]


def _zip_text(archive: zipfile.ZipFile, path: str) -> str | None:
    """The text of a source file inside the archive, by internal:// or any path's file name."""
    if "://" in path:
        path = path.split("://", 1)[1]
    base = path.replace("\\", "/").rsplit("/", 1)[-1]
    names = {n.lower(): n for n in archive.namelist()}
    for candidate in (f"sources/{base}", base, path):
        name = names.get(candidate.lower())
        if name is not None:
            raw = archive.read(name)
            try:
                return raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                return raw.decode("gb18030", errors="replace")
    return None


def import_qdpx(data: bytes, *, name: str | None = None) -> ImportResult:
    """An `EvidenceProject` from `.qdpx` bytes written by colift or another REFI-QDA tool.

    Sources without plain text (pictures, PDFs, audio), codings pointing nowhere, and every
    element colift does not model (REFI-QDA Sets, Links, Graphs, a tool's own elements) are
    left out with a warning each.
    """
    archive, qde_name = _open_qdpx(data)
    with archive:
        root = _parse_xml(archive.read(qde_name), "project.qde")
        if _local(root) != "Project":
            raise BadInput(
                "project.qde should hold a <Project>, it holds <{local}>", local=_local(root)
            )
        return _read_project(root, archive, name)


def _read_project(root: Any, archive: zipfile.ZipFile, name: str | None) -> ImportResult:
    warnings: list[str] = []
    kept: dict[str, str] = {}

    users: dict[str, str] = {}
    users_el = _kid(root, "Users")
    if users_el is not None:
        for user in _kids(users_el, "User"):
            guid = _norm_guid(user.get("guid"))
            if guid is None:
                continue
            uname = (user.get("name") or user.get("id") or "").strip() or f"user-{guid[:8]}"
            users[guid] = uname
            if guid != derived_guid(f"user:{uname}"):
                kept[f"user:{uname}"] = user.get("guid").strip()

    codes: list[Code] = []
    code_by_guid: dict[str, str] = {}
    book: dict[str, Any] = {}
    note_targets: dict[str, tuple[str, str]] = {}
    codebook_el = _kid(root, "CodeBook")
    codes_el = None if codebook_el is None else _kid(codebook_el, "Codes")
    if codes_el is not None:
        codes, code_by_guid, code_kept, book, code_notes = _read_codes(codes_el, warnings)
        kept.update(code_kept)
        for note_guid, code_id in code_notes:
            note_targets.setdefault(note_guid, ("code", code_id))
    project_name = name or (root.get("name") or "").strip() or "imported"
    codebook = _codebook_of(codes, book, project_name)

    variables: dict[str, str] = {}
    vars_el = _kid(root, "Variables")
    if vars_el is not None:
        for var in _kids(vars_el, "Variable"):
            guid = _norm_guid(var.get("guid"))
            vname = (var.get("name") or "").strip()
            if guid and vname:
                variables[guid] = vname
                if guid != derived_guid(f"variable:{vname}"):
                    kept[f"variable:{vname}"] = var.get("guid").strip()

    # Cases (their source links are resolved once sources are read).
    case_ids = _Ids("case")
    cases: dict[str, Case] = {}
    case_sources: dict[str, list[str]] = {}
    cases_el = _kid(root, "Cases")
    if cases_el is not None:
        for case_el in _kids(cases_el, "Case"):
            guid = _norm_guid(case_el.get("guid"))
            if guid is None:
                warnings.append("a case without a valid guid was left out")
                continue
            cname = (case_el.get("name") or "").strip()
            _, meta = _read_description(_text_of(case_el, "Description"))
            case_id = case_ids.make(_str(meta.get("id")), cname or guid, guid)
            values: dict[str, str] = {}
            for vv in _kids(case_el, "VariableValue"):
                ref = _kid(vv, "VariableRef")
                var_guid = None if ref is None else _norm_guid(ref.get("targetGUID"))
                var_name = variables.get(var_guid or "")
                if var_name is None:
                    continue
                for child in vv:
                    if _local(child).endswith("Value") and _local(child) != "VariableRef":
                        values[var_name] = (child.text or "").strip()
            cases[case_id] = Case(case_id, cname or case_id, values)
            case_sources[case_id] = [
                g
                for g in (_norm_guid(r.get("targetGUID")) for r in _kids(case_el, "SourceRef"))
                if g
            ]
            if guid != derived_guid(f"case:{case_id}"):
                kept[f"case:{case_id}"] = case_el.get("guid").strip()

    # Sources, their selections and codings.
    source_ids = _Ids("source")
    sources: dict[str, Source] = {}
    source_by_guid: dict[str, str] = {}
    codings: list[Coding] = []
    case_order: dict[str, list[str]] = {}
    sources_el = _kid(root, "Sources")
    if sources_el is not None:
        for element in sources_el:
            kind = _local(element)
            if not kind:
                continue
            if kind != "TextSource":
                label = element.get("name") or element.get("guid") or kind
                warnings.append(f"{kind} {label!r} left out: colift codes text sources only")
                continue
            read = _read_source(element, archive, source_ids, users, code_by_guid, warnings)
            if read is None:
                continue
            source, guid, its_codings, notes = read
            sources[source.id] = source
            if source.case_ids:  # the order colift wrote; links come from the cases
                case_order[source.id] = list(source.case_ids)
                sources[source.id] = replace(source, case_ids=())
            source_by_guid[guid] = source.id
            codings.extend(its_codings)
            for note_guid, target in notes:
                note_targets.setdefault(note_guid, target)
            if guid != derived_guid(f"source:{source.id}"):
                kept[f"source:{source.id}"] = element.get("guid").strip()

    for case_id, refs in case_sources.items():
        for ref in refs:
            source_id = source_by_guid.get(ref)
            if source_id is None:
                continue
            source = sources[source_id]
            if case_id not in source.case_ids:
                sources[source_id] = replace(source, case_ids=(*source.case_ids, case_id))
    for source_id, order in case_order.items():
        source = sources[source_id]
        rank = {case_id: i for i, case_id in enumerate(order)}
        ordered = sorted(source.case_ids, key=lambda c: rank.get(c, len(rank)))
        sources[source_id] = replace(source, case_ids=tuple(ordered))

    for project_ref in _kids(root, "NoteRef"):
        project_note = _norm_guid(project_ref.get("targetGUID"))
        if project_note:
            note_targets.setdefault(project_note, ("project", ""))

    memos = _read_notes(root, archive, users, note_targets, kept, warnings)

    description, meta = _read_description(_text_of(root, "Description"))
    user_list = list(_strs(meta.get("users"))) or list(users.values())
    history = [
        HistoryRecord(
            operation=str(h.get("operation", "")),
            detail=dict(h["detail"]) if isinstance(h.get("detail"), dict) else {},
            actor=str(h.get("actor") or ""),
            at=_parse_at(h.get("at")),
        )
        for h in meta.get("history", [])
        if isinstance(h, dict)
    ]
    warnings += foreign_elements(root)
    sets = _read_sets(root, code_by_guid, source_by_guid, kept, warnings)
    project = EvidenceProject(
        name=project_name,
        codebook=codebook,
        sources=sources,
        cases=cases,
        codings=_dedupe(codings),
        memos=memos,
        history=history,
        users=list(dict.fromkeys(user_list)),
        description=description,
        guids=kept,
        sets=sets,
    )
    project.validate()
    return ImportResult(project, warnings)


def _read_sets(
    root: Any,
    code_by_guid: Mapping[str, str],
    source_by_guid: Mapping[str, str],
    kept: dict[str, str],
    warnings: list[str],
) -> dict[str, EvidenceSet]:
    """REFI-QDA Sets of codes and sources; members colift does not hold are reported."""
    out: dict[str, EvidenceSet] = {}
    sets_el = _kid(root, "Sets")
    if sets_el is None:
        return out
    ids = _Ids("set")
    for set_el in _kids(sets_el, "Set"):
        guid = _norm_guid(set_el.get("guid"))
        name = (set_el.get("name") or "").strip() or "set"
        if guid is None:
            warnings.append(f"set {name!r} has no valid guid: left out")
            continue
        description, meta = _read_description(_text_of(set_el, "Description"))
        set_id = ids.make(_str(meta.get("id")), name, guid)
        codes: list[str] = []
        sources: list[str] = []
        missing = 0
        for kind, known, into in (
            ("MemberCode", code_by_guid, codes),
            ("MemberSource", source_by_guid, sources),
        ):
            for member in _kids(set_el, kind):
                found = known.get(_norm_guid(member.get("targetGUID")) or "")
                if found is None:
                    missing += 1
                else:
                    into.append(found)
        notes = sum(1 for _ in _kids(set_el, "MemberNote"))
        if missing:
            warnings.append(f"set {name!r}: {missing} member(s) colift did not import left out")
        if notes:
            warnings.append(f"set {name!r}: {notes} note member(s) not kept")
        if guid != derived_guid(f"set:{set_id}"):
            kept[f"set:{set_id}"] = set_el.get("guid").strip()
        out[set_id] = EvidenceSet(
            set_id,
            name,
            description,
            tuple(dict.fromkeys(codes)),
            tuple(dict.fromkeys(sources)),
        )
    return out


def _parse_at(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _dedupe(codings: Iterable[Coding]) -> list[Coding]:
    return list(dict.fromkeys(codings))


def _read_source(
    element: Any,
    archive: zipfile.ZipFile,
    ids: _Ids,
    users: Mapping[str, str],
    codes: Mapping[str, str],
    warnings: list[str],
) -> tuple[Source, str, list[Coding], list[tuple[str, tuple[str, str]]]] | None:
    guid = _norm_guid(element.get("guid"))
    sname = (element.get("name") or "").strip()
    if guid is None:
        warnings.append(f"text source {sname or '(unnamed)'} has no valid guid: left out")
        return None
    text: str | None = None
    path = element.get("plainTextPath")
    if path:
        text = _zip_text(archive, path)
    if text is None:
        inline = _kid(element, "PlainTextContent")
        if inline is not None:
            text = inline.text or ""
    if not text:
        warnings.append(
            f"text source {sname or guid!r} left out: its plain text is not in the archive"
        )
        return None
    _, meta = _read_description(_text_of(element, "Description"))
    source_id = ids.make(_str(meta.get("id")), sname or guid, guid)
    links = meta.get("links")
    source = Source(
        id=source_id,
        name=sname or source_id,
        text=text,
        kind=_str(meta.get("kind")) or "other",
        language=_str(meta.get("language")) or "zh",
        links={str(k): str(v) for k, v in links.items()} if isinstance(links, dict) else {},
        case_ids=_strs(meta.get("cases")),
    )
    codings: list[Coding] = []
    notes: list[tuple[str, tuple[str, str]]] = []

    def add_coding(coding_el: Any, start: int, end: int, fallback_user: str | None) -> None:
        ref = _kid(coding_el, "CodeRef")
        code_guid = None if ref is None else _norm_guid(ref.get("targetGUID"))
        code_id = codes.get(code_guid or "")
        if code_id is None:
            warnings.append(f"a coding in {source_id} names no known code: left out")
            return
        user_guid = _norm_guid(coding_el.get("creatingUser")) or fallback_user
        coder = users.get(user_guid or "", UNKNOWN_CODER)
        codings.append(Coding(source_id, start, end, code_id, coder))

    for selection in _kids(element, "PlainTextSelection"):
        try:
            start = int(selection.get("startPosition", ""))
            end = int(selection.get("endPosition", ""))
        except ValueError:
            warnings.append(f"a selection in {source_id} has no valid positions: left out")
            continue
        if not 0 <= start < end <= len(text):
            warnings.append(
                f"selection {start}-{end} in {source_id} lies outside its {len(text)} characters: left out"
            )
            continue
        selection_user = _norm_guid(selection.get("creatingUser"))
        for coding_el in _kids(selection, "Coding"):
            add_coding(coding_el, start, end, selection_user)
        for ref in _kids(selection, "NoteRef"):
            target = _norm_guid(ref.get("targetGUID"))
            if target:
                notes.append((target, ("segment", segment_target(source_id, start, end))))
    for coding_el in _kids(element, "Coding"):  # a coding of the whole source
        add_coding(coding_el, 0, len(text), _norm_guid(element.get("creatingUser")))
    for ref in _kids(element, "NoteRef"):
        target = _norm_guid(ref.get("targetGUID"))
        if target:
            notes.append((target, ("source", source_id)))
    return source, guid, codings, notes


def _read_notes(
    root: Any,
    archive: zipfile.ZipFile,
    users: Mapping[str, str],
    targets: Mapping[str, tuple[str, str]],
    kept: dict[str, str],
    warnings: list[str],
) -> dict[str, Memo]:
    memos: dict[str, Memo] = {}
    notes_el = _kid(root, "Notes")
    if notes_el is None:
        return memos
    ids = _Ids("memo")
    for note in _kids(notes_el, "Note"):
        guid = _norm_guid(note.get("guid"))
        if guid is None:
            warnings.append("a note without a valid guid was left out")
            continue
        text: str | None = None
        inline = _kid(note, "PlainTextContent")
        if inline is not None:
            text = inline.text or ""
        elif note.get("plainTextPath"):
            text = _zip_text(archive, note.get("plainTextPath"))
        if not text or not text.strip():
            warnings.append(f"note {note.get('name') or guid!r} has no text: left out")
            continue
        _, meta = _read_description(_text_of(note, "Description"))
        memo_id = ids.make(_str(meta.get("id")), f"memo-{guid[:8]}", guid)
        kind, target = targets.get(guid, ("project", ""))
        if _str(meta.get("target_kind")) is not None:
            kind = str(meta["target_kind"])
            target = _str(meta.get("target")) or ""
        author = _str(meta.get("author"))
        if author is None:
            author = users.get(_norm_guid(note.get("creatingUser")) or "", UNKNOWN_CODER)
        memos[memo_id] = Memo(memo_id, text, author, kind, target)
        if guid != derived_guid(f"memo:{memo_id}"):
            kept[f"memo:{memo_id}"] = note.get("guid").strip()
    return memos


def is_qdpx(data: bytes) -> bool:
    """True for a ZIP archive (what a .qdpx is)."""
    return data[:4] == b"PK\x03\x04"
