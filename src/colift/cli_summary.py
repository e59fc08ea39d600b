"""`colift summary refresh|check`: the overviews' maintained per-unit lines (docs/deploy.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from colift.cli_common import DatabaseOption, out, ready_engine, user_errors

summary_app = typer.Typer(
    help="The per-unit summary the street, compound and city overviews read.",
    no_args_is_help=True,
)


@summary_app.command("refresh")
@user_errors
def refresh_cmd(
    database: DatabaseOption = None,
    batch: Annotated[int, typer.Option(min=1, help="Lines per transaction")] = 200,
) -> None:
    """Bring every stale or missing line up to date (after a bulk load or an upgrade)."""
    from colift.services.summary import refresh_all

    done = refresh_all(ready_engine(database), batch)
    out.print(f"{done} line(s) refreshed / 已更新 {done} 行")


@summary_app.command("check")
@user_errors
def check_cmd(database: DatabaseOption = None) -> None:
    """Recount every unit from scratch and compare with its stored line (slow; exit 1 if off)."""
    from colift.services.summary import CONSENT_KEYS, recount_all, unit_lines

    engine = ready_engine(database)
    stored, fresh = unit_lines(engine), recount_all(engine)
    off = []
    for unit_id, figures in fresh.items():
        line = stored.get(unit_id)
        keys = CONSENT_KEYS if line is not None and line.stale else tuple(figures)
        if line is None or any(line.figures()[k] != figures[k] for k in keys):
            off.append(unit_id)
    out.print(f"{len(fresh)} unit(s), {len(off)} line(s) differ / {len(off)} 行不符")
    if off:
        out.print("units: " + ", ".join(map(str, off[:50])))
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add these commands to the main `colift` app."""
    app.add_typer(summary_app, name="summary")
