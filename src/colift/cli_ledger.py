"""The record on the command line: `colift ledger verify|head|export`, `colift round
open|close|void|list`, `colift erase`, `colift backup` and `colift restore`.

Thin adapters over `services/ledger.py`, `services/consent.py` and `services/backup.py`.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from colift.cli_common import (
    DatabaseOption,
    engine_for,
    err,
    fail,
    out,
    print_json,
    ready_engine,
    user_errors,
)
from colift.i18n import Message, bilingual, msg

ledger_app = typer.Typer(
    help="The append-only, hash-chained record of votes and decisions.", no_args_is_help=True
)
round_app = typer.Typer(
    help="Vote rounds of a unit: open, close, void, list.", no_args_is_help=True
)

CompoundOption = Annotated[str, typer.Option("--compound", "-c", help="The compound's code")]
UnitOption = Annotated[str, typer.Option("--unit", "-u", help="The unit, e.g. 3-2 or 3栋2单元")]
ActorOption = Annotated[str, typer.Option(help="Who acts, for the ledger")]


def say(text: Message) -> None:
    out.print(bilingual(text), markup=False, highlight=False, soft_wrap=True)


def _problem_lines(report: Any) -> list[str]:
    problem = report.problem
    lines = [f"colift: ledger BROKEN 账本已被改动: {bilingual(problem.text)}"]
    for name, value in (
        ("table 表", problem.table),
        ("row 行", problem.row),
        ("the ledger says 账本记载", problem.ledger_says),
        ("the table says 表中现为", problem.table_says),
        ("entry 记录", None if problem.seq is None else f"{problem.chain} #{problem.seq}"),
    ):
        if value is not None:
            lines.append(f"  {name}: {value}")
    return lines


# ---------------------------------------------------------------- ledger


@ledger_app.command("verify")
@user_errors
def ledger_verify(
    database: DatabaseOption = None,
    head: Annotated[
        list[str] | None,
        typer.Option("--head", help="A head hash kept outside (printed on paper): must be there"),
    ] = None,
    anchor: Annotated[
        list[Path] | None,
        typer.Option("--anchor", help="A file of saved heads (`colift ledger head --json`)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Recompute every chain and compare what the ledger implies with the tables; exit 1 at the
    first difference (table, row, what the ledger says, what the table says)."""
    from colift.services.ledger import check_head_text, read_anchors, verify_ledger

    anchors = [check_head_text(h) for h in head or []]
    for path in anchor or []:
        anchors.extend(read_anchors(path))
    report = verify_ledger(ready_engine(database), anchors)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.count,
                "rows_checked": report.rows_checked,
                "global_head": report.head_hash,
                "heads": [h.to_json() for h in report.heads],
                "sealed": report.sealed,
                "key_id": report.key_id,
                "erased": [{"chain": c, "seq": s} for c, s in report.erased],
                "anchors": report.anchors,
                "legacy_entries": report.legacy,
                "problem": None if report.problem is None else report.problem.to_json(),
            }
        )
        if not report.ok:
            raise typer.Exit(1)
        return
    if not report.ok:
        for line in _problem_lines(report):
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    say(
        msg(
            "ledger intact: {count} entries in {chains} chains; {rows} rows of the tables agree "
            "with them",
            count=report.count,
            chains=len(report.heads),
            rows=report.rows_checked,
        )
    )
    say(msg("global head: {hash}", hash=report.head_hash))
    if report.sealed:
        say(msg("every seal checked with ledger key {key}", key=report.key_id))
    else:
        say(
            msg(
                "seals NOT checked: no ledger key is configured here (COLIFT_LEDGER_KEY or "
                "COLIFT_LEDGER_KEY_FILE), so a forged entry at the end would go unseen"
            )
        )
    if report.anchors:
        say(msg("{n} anchored heads found in the chain", n=report.anchors))
    if report.legacy:
        say(msg("the chain before revision 0008: {n} entries, intact", n=report.legacy))
    if report.erased:
        listed = ", ".join(f"{c} #{s}" for c, s in report.erased)
        say(msg("entries whose free text was erased on request: {entries}", entries=listed))


@ledger_app.command("head")
@user_errors
def ledger_head_cmd(
    database: DatabaseOption = None,
    compound: Annotated[
        str | None,
        typer.Option("--compound", "-c", help="Only this compound's chain head (writes nothing)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the head as JSON")] = False,
    actor: ActorOption = "community worker",
) -> None:
    """Print the head to keep outside the database: the full hash, its number and time.

    Without --compound, every chain that moved since the last roll-up is first rolled up into
    the global chain, so the global head covers the whole record. Keep the JSON lines in a file
    and check later with `colift ledger verify --anchor FILE`.
    """
    from colift.services.ledger import ledger_head

    report = ledger_head(ready_engine(database), actor=actor, compound_code=compound)
    if as_json:
        sys_out = json.dumps(report.to_json(), ensure_ascii=False)
        typer.echo(sys_out)
        return
    head = report.head
    at = "—" if head.at is None else head.at.isoformat(timespec="seconds")
    say(msg("ledger head {hash}", hash=head.hash))
    say(msg("chain {chain}, entry {seq}, written {at}", chain=head.chain, seq=head.seq, at=at))
    if compound is None:
        for covered in report.covers:
            say(
                msg(
                    "  covers {chain} up to entry {seq} ({hash})",
                    chain=covered.chain,
                    seq=covered.seq,
                    hash=covered.hash[:16] + "…",
                )
            )


@ledger_app.command("export")
@user_errors
def ledger_export(
    unit: UnitOption,
    compound: CompoundOption,
    database: DatabaseOption = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="The JSON file to write (default: <code>-<unit>-ledger.json)"
        ),
    ] = None,
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also print the entries to a PDF beside it")
    ] = True,
) -> None:
    """Write one unit's evidence file: its entries with the proofs to check them offline (JSON,
    for the standalone verifier) and a printable PDF, for mediation or court."""
    from colift.services.consent import unit_by_label
    from colift.services.ledger import export_unit

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    evidence = export_unit(engine, compound, info.id)
    path = output or Path(f"{compound}-{unit.replace('/', '-')}-ledger.json")
    path.write_text(json.dumps(evidence.data, ensure_ascii=False, indent=1) + "\n", "utf-8")
    say(
        msg(
            "{path}: {count} entries of {unit}, {links} links to the head {hash}",
            path=path,
            count=len(evidence.entries),
            unit=evidence.unit_label,
            links=len(evidence.data["links"]),
            hash=evidence.head.hash,
        )
    )
    if pdf:
        from colift.services.documents import document_pdf
        from colift.web.render import render_print

        html = render_print("print/ledger_export.html", ev=evidence)
        pdf_path = path.with_suffix(".pdf")
        pdf_path.write_bytes(document_pdf(html))
        say(msg("{path}: the printable copy", path=pdf_path))


# ---------------------------------------------------------------- rounds


def _round_json(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "title": r.title,
        "scope": r.scope_kind.value,
        "scope_id": r.scope_id,
        "profile": r.profile,
        "status": r.status,
        "opened_on": r.opened_on.isoformat(),
        "closed_on": None if r.closed_on is None else r.closed_on.isoformat(),
        "closed_by": r.closed_by,
        "closed_head": r.closed_head,
        "tally": r.tally,
        "void_reason": r.void_reason,
    }


@round_app.command("open")
@user_errors
def round_open(
    unit: UnitOption,
    compound: CompoundOption,
    database: DatabaseOption = None,
    title: Annotated[str, typer.Option(help="e.g. 第二轮意愿征询")] = "",
    profile: Annotated[
        str | None, typer.Option(help="A consent rule id; default: the unit's own")
    ] = None,
    on: Annotated[str | None, typer.Option(help="The day it opens, YYYY-MM-DD")] = None,
    actor: ActorOption = "community worker",
) -> None:
    """Open the next vote round of a unit (after the last one was closed or voided)."""
    from colift.services.consent import open_vote_round, unit_by_label

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    opened = open_vote_round(
        engine, info.id, actor=actor, title=title, profile=profile, opened_on=_day(on)
    )
    say(
        msg(
            "vote round {id} of {unit} opened ({profile})",
            id=opened.id,
            unit=info.label,
            profile=opened.profile,
        )
    )


@round_app.command("close")
@user_errors
def round_close(
    unit: UnitOption,
    compound: CompoundOption,
    database: DatabaseOption = None,
    on: Annotated[str | None, typer.Option(help="The day it closes, YYYY-MM-DD")] = None,
    actor: ActorOption = "community worker",
    as_json: Annotated[bool, typer.Option("--json", help="Print the closed round as JSON")] = False,
) -> None:
    """Close the unit's open round: its final tally and the ledger head are recorded; later
    votes are refused."""
    from colift.services.consent import close_vote_round, current_unit_round, unit_by_label

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    ended = close_vote_round(
        engine, current_unit_round(engine, info.id).id, actor=actor, closed_on=_day(on)
    )
    if as_json:
        print_json({"round": _round_json(ended.round), "head": ended.head.to_json()})
        return
    tally = ended.round.tally or {}
    verdict = msg("PASSED") if tally.get("passed") else msg("NOT PASSED")
    say(
        msg(
            "vote round {id} of {unit} closed: {verdict}; {agree} of {total} owners agree "
            "({agree_area} of {total_area} m²)",
            id=ended.round.id,
            unit=info.label,
            verdict=verdict,
            agree=tally.get("agree_heads"),
            total=tally.get("total_heads"),
            agree_area=tally.get("agree_area"),
            total_area=tally.get("total_area"),
        )
    )
    say(msg("ledger head after the close: {hash}", hash=ended.head.hash))


@round_app.command("void")
@user_errors
def round_void(
    unit: UnitOption,
    compound: CompoundOption,
    reason: Annotated[str, typer.Option(help="Why the round is voided")],
    database: DatabaseOption = None,
    on: Annotated[str | None, typer.Option(help="The day, YYYY-MM-DD")] = None,
    actor: ActorOption = "community worker",
) -> None:
    """Void the unit's open round with a reason: its votes decide nothing."""
    from colift.services.consent import current_unit_round, unit_by_label, void_vote_round

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    ended = void_vote_round(
        engine, current_unit_round(engine, info.id).id, actor=actor, reason=reason, on=_day(on)
    )
    say(msg("vote round {id} of {unit} voided", id=ended.round.id, unit=info.label))
    say(msg("ledger head after voiding: {hash}", hash=ended.head.hash))


@round_app.command("list")
@user_errors
def round_list(
    unit: UnitOption,
    compound: CompoundOption,
    database: DatabaseOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rounds as JSON")] = False,
) -> None:
    """Every vote round over the unit, newest first, with how each ended."""
    from colift.services.consent import unit_by_label, unit_rounds

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    rounds = unit_rounds(engine, info.id)
    if as_json:
        print_json([_round_json(r) for r in rounds])
        return
    table = Table("#", "标题 title", "状态 status", "开始 opened", "结束 ended", "结果 result")
    for r in rounds:
        result = ""
        if r.tally:
            result = f"{r.tally.get('agree_heads')}/{r.tally.get('total_heads')} " + (
                "通过 passed" if r.tally.get("passed") else "未通过 not passed"
            )
        elif r.is_void:
            result = r.void_reason
        table.add_row(
            str(r.id), r.title, r.status, str(r.opened_on), str(r.closed_on or ""), result
        )
    out.print(table)


def _day(text: str | None) -> date | None:
    from colift.errors import BadInput

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput("{value} is not a date: write it as YYYY-MM-DD", value=text) from None


# ---------------------------------------------------------------- erase, backup, restore


@user_errors
def erase_cmd(
    unit: UnitOption,
    compound: CompoundOption,
    room: Annotated[str, typer.Option(help="The household's room, e.g. 502")],
    reason: Annotated[str, typer.Option(help="Why, e.g. the owner's written request of 3 May")],
    database: DatabaseOption = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Erase; without it, only show what would go")
    ] = False,
    actor: ActorOption = "community worker",
) -> None:
    """Erase the free text of one household (its objections' notes, the occupied-flat note) on
    request. The ledger keeps each text's digest, so `ledger verify` still passes."""
    from colift.services.consent import unit_by_label
    from colift.services.ledger import erase_household_text

    engine = ready_engine(database)
    info = unit_by_label(engine, compound, unit)
    done = erase_household_text(engine, info.id, room, actor=actor, reason=reason, apply=yes)
    entries = ", ".join(f"#{seq}" for _, seq in done.entries) or "—"
    facts = {
        "unit": done.unit_label,
        "room": done.room,
        "texts": done.texts,
        "objections": len(done.objections),
        "entries": entries,
    }
    if not done.applied:
        say(
            msg(
                "{unit} {room}: {texts} texts would be erased ({objections} objections' notes; "
                "ledger entries {entries}); say --yes to erase them",
                **facts,
            )
        )
        return
    say(
        msg(
            "{unit} {room}: {texts} texts erased ({objections} objections' notes; ledger entries "
            "{entries}); the erasure is ledger entry {seq}",
            seq=done.entry.seq if done.entry else "—",
            **facts,
        )
    )


@user_errors
def backup_cmd(
    file: Annotated[Path, typer.Argument(help="The new backup file (a SQLite database)")],
    database: DatabaseOption = None,
) -> None:
    """Write a consistent copy of the running database (SQLite or PostgreSQL) to FILE."""
    from colift.services.backup import backup_database

    report = backup_database(engine_for(database), file)
    say(
        msg(
            "backup written: {path} ({size} bytes, schema {revision}, {rows} rows)",
            path=report.path,
            size=report.bytes,
            revision=report.revision,
            rows=report.rows,
        )
    )
    _after_copy(report.ledger)


@user_errors
def restore_cmd(
    file: Annotated[Path, typer.Argument(help="A backup written by `colift backup`")],
    database: DatabaseOption = None,
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a database that already holds data")
    ] = False,
) -> None:
    """Restore FILE into the database (created if needed), then verify its ledger."""
    from colift.services.backup import restore_database

    report = restore_database(engine_for(database), file, replace=replace)
    if report.migrated_from:
        say(
            msg(
                "the backup was at schema {old}: migrated to {new}",
                old=report.migrated_from,
                new=report.revision,
            )
        )
    say(msg("restored {rows} rows from {path}", rows=report.rows, path=file))
    _after_copy(report.ledger)


def _after_copy(report: Any) -> None:
    if not report.ok:
        for line in _problem_lines(report):
            err.print(line, markup=False, highlight=False, soft_wrap=True)
        fail(bilingual(msg("the copy's ledger does not verify")), 1)
    say(
        msg(
            "ledger of the copy intact: {count} entries, global head {hash}",
            count=report.count,
            hash=report.head_hash,
        )
    )


def register(app: typer.Typer) -> None:
    """Add these commands to the main `colift` app."""
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(round_app, name="round")
    app.command("erase")(erase_cmd)
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)
