"""`colift evidence …`: thin Typer adapters over `services.evidence`.

Bad input (a missing file, an unknown code, a malformed request) is one line on stderr and
exit code 2, as everywhere in the colift command line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.table import Table

from colift.cli_common import DatabaseOption, err, out, print_json, ready_engine, user_errors
from colift.errors import BadInput

P = ParamSpec("P")
R = TypeVar("R")

evidence_app = typer.Typer(
    help="Evidence: code interviews and meeting records against the path model; REFI-QDA exchange.",
    no_args_is_help=True,
)

ActorOption = Annotated[str, typer.Option(help="Who does it, for the record")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON")]


def jsonable(value: Any) -> Any:
    from colift.services.evidence import as_plain

    return as_plain(value)


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


# ---------------------------------------------------------------- exchange


@evidence_app.command("import")
@user_errors
def import_cmd(
    file: Annotated[
        Path, typer.Argument(help=".qdpx project, .qdc codebook, or .txt/.md/.docx source")
    ],
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Project to import into (or to create)")
    ] = None,
    source_id: Annotated[str | None, typer.Option("--id", help="Id of a new source")] = None,
    kind: Annotated[
        str | None, typer.Option(help="interview, minutes, mediation, chat or other")
    ] = None,
    compound: Annotated[
        str | None,
        typer.Option("--compound", "-c", help="Compound of a new project (none: admins only)"),
    ] = None,
    actor: ActorOption = "researcher",
    database: DatabaseOption = None,
) -> None:
    """Import a REFI-QDA project or codebook, or a text source into a project."""
    from colift.services import evidence as ev

    suffix = file.suffix.lower()
    if suffix in (".qdpx", ".qdc"):
        try:
            data = file.read_bytes()
        except FileNotFoundError:
            raise BadInput("file not found: {file}", file=file) from None
        except OSError as exc:
            raise BadInput(
                "cannot read {file}: {strerror}", file=file, strerror=exc.strerror or exc
            ) from None
        engine = ready_engine(database)
        if suffix == ".qdpx":
            result = ev.import_project_qdpx(
                engine, data, name=project, actor=actor, compound=compound
            )
            p = result.project
            out.print(
                f"imported project {p.name}: {len(p.codebook)} codes, {len(p.sources)} sources, "
                f"{len(p.cases)} cases, {len(p.codings)} codings, {len(p.memos)} memos",
                markup=False,
            )
            warnings = result.warnings
        else:
            made, warnings = ev.import_codebook_qdc(
                engine, data, project or file.stem, actor=actor, compound=compound
            )
            out.print(f"codebook of {made.name}: {len(made.codebook)} codes", markup=False)
        for line in warnings:
            err.print(f"  note: {line}", markup=False, highlight=False, soft_wrap=True)
        return
    if not project:
        raise BadInput("name the project to import {name} into with --project", name=file.name)
    source = ev.import_source(
        ready_engine(database), project, file, source_id=source_id, kind=kind, actor=actor
    )
    out.print(
        f"source {source.id} ({source.kind}, {len(source.text)} characters) added to {project}",
        markup=False,
    )


@evidence_app.command("export")
@user_errors
def export_cmd(
    project: Annotated[
        str | None, typer.Argument(help="Project name (none: the default codebook, with --qdc)")
    ] = None,
    qdpx: Annotated[Path | None, typer.Option("--qdpx", help="Write the project as .qdpx")] = None,
    qdc: Annotated[Path | None, typer.Option("--qdc", help="Write the codebook as .qdc")] = None,
    database: DatabaseOption = None,
) -> None:
    """Write a REFI-QDA file that NVivo, ATLAS.ti, MAXQDA and QualCoder read."""
    from colift.services import evidence as ev

    if (qdpx is None) == (qdc is None):
        raise BadInput("give exactly one of --qdpx FILE or --qdc FILE")
    if qdpx is not None:
        if project is None:
            raise BadInput("name the project to export as .qdpx")
        data = ev.export_project_qdpx(ready_engine(database), project)
        target = qdpx
    else:
        assert qdc is not None
        engine = None if project is None else ready_engine(database)
        data = ev.export_codebook_qdc(engine, project)
        target = qdc
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise BadInput(
            "cannot write {target}: {strerror}", target=target, strerror=exc.strerror or exc
        ) from None
    out.print(f"wrote {target} ({len(data):,} bytes, validated against QDA-XML 1.0)", markup=False)


# ---------------------------------------------------------------- codebook and suggestions


@evidence_app.command("codebook")
@user_errors
def codebook_cmd(
    project: Annotated[
        str | None,
        typer.Option("--project", "-p", help="A project's codebook (default: the path model)"),
    ] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """The codebook: core category, axial categories and open codes."""
    from colift.evidence.codebook import default_codebook
    from colift.services import evidence as ev

    codebook = (
        default_codebook() if project is None else ev.codebook_of(ready_engine(database), project)
    )
    if as_json:
        print_json(
            {
                "codes": [
                    {"id": c.id, "name": c.name, "name_en": c.name_en, "parent": c.parent}
                    for c in codebook
                ]
            }
        )
        return
    table = Table("code", "名称", "name", "level")
    for code in codebook.walk():
        indent = "  " * codebook.depth(code.id)
        table.add_row(indent + code.id, code.name, code.name_en, code.level.value)
    out.print(table)


@evidence_app.command("suggest")
@user_errors
def suggest_cmd(
    file: Annotated[Path, typer.Argument(help='JSON: {"segments": [{"id": "s1", "text": "..."}]}')],
    as_json: JsonOption = False,
    top: Annotated[int, typer.Option(help="At most this many codes per segment")] = 5,
) -> None:
    """Suggest codes of the default codebook for text segments, with the words that triggered them."""
    from colift.evidence.codebook import default_codebook
    from colift.services import evidence as ev

    try:
        payload = json.loads(file.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise BadInput("file not found: {file}", file=file) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput("cannot read {file}: {exc}", file=file, exc=exc) from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            "{file} is not valid JSON: {msg} at line {lineno}",
            file=file,
            msg=exc.msg,
            lineno=exc.lineno,
        ) from None
    if top < 1:
        raise BadInput("--top must be at least 1")
    found = ev.suggest_segments(ev.suggestions_request(payload), top_k=top)
    if as_json:
        print_json(ev.suggestions_json(found))
        return
    codebook = default_codebook()
    table = Table("segment", "code", "名称", "score", "because 触发词")
    for segment in found:
        if not segment.suggestions:
            table.add_row(segment.id, "—", "", "", "")
        for i, s in enumerate(segment.suggestions):
            table.add_row(
                segment.id if i == 0 else "",
                s.code,
                codebook.get(s.code).name,
                f"{s.score:.2f}",
                "、".join(s.because),
            )
    out.print(table)


# ---------------------------------------------------------------- coding


@evidence_app.command("projects")
@user_errors
def projects_cmd(as_json: JsonOption = False, database: DatabaseOption = None) -> None:
    """The evidence projects with their sources, codings and coders."""
    from colift.services import evidence as ev

    found = ev.list_projects(ready_engine(database))
    if as_json:
        print_json({"projects": jsonable(found)})
        return
    table = Table("project", "compound", "sources", "codings", "coders")
    for p in found:
        whose = p.compound or ("shared / 共享" if p.shared else "admins only / 仅管理员")
        table.add_row(p.name, whose, str(p.sources), str(p.codings), ", ".join(p.coders))
    out.print(table)


@evidence_app.command("scope")
@user_errors
def scope_cmd(
    project: Annotated[str, typer.Argument(help="The project")],
    compound: Annotated[
        str | None,
        typer.Option("--compound", "-c", help="Give the project to this compound's workers"),
    ] = None,
    shared: Annotated[
        bool, typer.Option("--shared", help="No compound, open to every worker and street office")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Whose project: a compound's, shared, or (neither option) admins only."""
    from colift.services import evidence as ev

    found = ev.set_project_scope(ready_engine(database), project, compound=compound, shared=shared)
    whose = found.compound or ("shared / 共享" if found.shared else "admins only / 仅管理员")
    out.print(f"{found.name}: {whose}", markup=False)


@evidence_app.command("code")
@user_errors
def code_cmd(
    project: Annotated[str, typer.Argument(help="Project name")],
    source: Annotated[str, typer.Argument(help="Source id")],
    start: Annotated[int, typer.Argument(help="First character of the segment (0-based)")],
    end: Annotated[int, typer.Argument(help="One past its last character")],
    code: Annotated[str, typer.Argument(help="Code id, e.g. guidance.embedded")],
    coder: Annotated[str, typer.Option("--coder", help="Who codes")],
    remove: Annotated[bool, typer.Option("--remove", help="Take the coding back")] = False,
    database: DatabaseOption = None,
) -> None:
    """Code text[START:END] of a source with a code (or remove that coding)."""
    from colift.services import evidence as ev

    engine = ready_engine(database)
    if remove:
        ev.remove_coding(engine, project, source, start, end, code, coder)
        out.print(f"removed {code} from {source}:{start}-{end} ({coder})", markup=False)
        return
    ev.code_segment(engine, project, source, start, end, code, coder)
    text = ev.get_project(engine, project).source(source).text[start:end]
    out.print(f"{coder} coded {source}:{start}-{end} as {code}: 「{text[:60]}」", markup=False)


@evidence_app.command("agreement")
@user_errors
def agreement_cmd(
    project: Annotated[str, typer.Argument(help="Project name")],
    coder: Annotated[
        list[str] | None, typer.Option("--coder", help="Coders to compare (default: all)")
    ] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Inter-coder agreement: Cohen's kappa, Krippendorff's alpha, disagreements by segment."""
    from colift.services import evidence as ev

    report = ev.agreement_report(ready_engine(database), project, coders=coder or None)
    if as_json:
        print_json(jsonable(report))
        return
    out.print(
        f"coders {', '.join(report.coders)}: kappa {_fmt(report.kappa)}, "
        f"alpha {_fmt(report.alpha)}, agreement {_fmt(report.agreement)} "
        f"over {len(report.units)} segments and {len(report.codes)} codes",
        markup=False,
    )
    table = Table("source", "segment", "text", *report.coders)
    for d in report.disagreements:
        table.add_row(
            d.source_id,
            f"{d.start}-{d.end}",
            d.text[:30],
            *(", ".join(sorted(d.applied.get(c, ()))) for c in report.coders),
        )
    out.print(table)


@evidence_app.command("analyse")
@user_errors
def analyse_cmd(
    project: Annotated[str, typer.Argument(help="Project name")],
    coder: Annotated[str | None, typer.Option("--coder", help="Only this coder's codings")] = None,
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Code frequencies, co-occurrence, the path-model view and saturation."""
    from colift.services import evidence as ev

    report = ev.analysis_report(ready_engine(database), project, coder=coder)
    if as_json:
        print_json(jsonable(report))
        return
    table = Table("code", "codings")
    for code, n in list(report.code_totals.items())[:15]:
        table.add_row(code, str(n))
    out.print(table)
    path = Table("link", "supporting", "contradicting")
    for link in report.path.links:
        path.add_row(
            f"{link.antecedent} → {link.consequent}", str(link.supporting), str(link.contradicting)
        )
    out.print(path)
    sat = Table("#", "source", "new codes", "codes so far")
    for step in report.saturation:
        sat.add_row(
            str(step.index), step.source_id, str(len(step.new_codes)), str(step.codes_so_far)
        )
    out.print(sat)
    out.print("saturated" if report.saturated else "not saturated yet: new codes still appear")


@evidence_app.command("search")
@user_errors
def search_cmd(
    project: Annotated[str, typer.Argument(help="Project name")],
    query: Annotated[str, typer.Argument(help="Word or phrase, e.g. 采光")],
    as_json: JsonOption = False,
    database: DatabaseOption = None,
) -> None:
    """Find a word or phrase in every source of a project."""
    from colift.services import evidence as ev

    hits = ev.search_sources(ready_engine(database), project, query)
    if as_json:
        print_json({"hits": jsonable(hits)})
        return
    table = Table("source", "at", "context")
    for h in hits:
        context = f"…{h.before}【{h.match}】{h.after}…".replace("\n", " ").replace("\r", "")
        table.add_row(h.source_id, f"{h.start}-{h.end}", context)
    out.print(table)
    out.print(f"{len(hits)} hits for {query!r}", markup=False)
