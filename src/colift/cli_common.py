"""What every `colift` command shares: consoles, the database option, and user errors.

Errors a user can fix are one line on stderr (a bad roster adds one line per row) and exit code
2, never a traceback.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from sqlalchemy import Engine

from colift.errors import BadInput, ColiftError, RowError
from colift.i18n import bilingual

P = ParamSpec("P")
R = TypeVar("R")

# Reports are tables: keep them readable when output is piped (Rich would assume 80 columns).
out = Console(width=None if sys.stdout.isatty() else 150)
err = Console(stderr=True)

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database", "-d", help="Database URL; default COLIFT_DATABASE_URL or sqlite:///colift.db"
    ),
]


def fail(message: str, code: int = 2) -> None:
    err.print(f"colift: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can fix into one line and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except RowError as exc:
            err.print(f"colift: {exc.message}", markup=False, highlight=False, soft_wrap=True)
            for row, column, message in exc.errors:
                err.print(
                    f"  row {row}, {column}: {bilingual(message)}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
            raise typer.Exit(2) from None
        except ColiftError as exc:
            fail(exc.message)
            raise  # unreachable: fail() always exits

    return wrapper


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput("file not found: {path}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput("cannot read {path}: {exc}", path=path, exc=exc) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(
            "{path} is not valid JSON: {msg} at line {lineno}",
            path=path,
            msg=exc.msg,
            lineno=exc.lineno,
        ) from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def engine_for(database: str | None) -> Engine:
    from colift.store import make_engine

    return make_engine(database)


def ready_engine(database: str | None) -> Engine:
    """An engine on a database that exists and is at the current schema."""
    from colift.store import current_revision, head_revision

    engine = engine_for(database)
    if current_revision(engine) != head_revision():
        raise BadInput("the database is not set up or is out of date: run `colift init` first")
    return engine


# ---------------------------------------------------------------- database


UnitRef = Annotated[
    str | None,
    typer.Option(
        "--unit",
        "-u",
        help="The unit: its code, e.g. 2-1 or 2栋1单元 (with -c CODE when the database holds "
        "several compounds), or its numeric id",
    ),
]
CompoundRef = Annotated[
    str | None,
    typer.Option("--compound", "-c", help="The compound's code, for a unit given as 2-1"),
]


def unit_id_of(engine: Engine, unit: str, compound: str | None = None) -> int:
    """A unit named the way people name it (2-1, 2栋1单元) or by its id, as its id.

    Without `compound` the database's only compound is meant; with several, -c is needed."""
    text = unit.strip()
    if text.isdigit():
        return int(text)
    from colift.services.consent import unit_by_label
    from colift.services.registry import list_compounds

    if compound is None:
        codes = [code for code, _ in list_compounds(engine)]
        if len(codes) != 1:
            raise BadInput(
                "unit {unit}: name the compound with -c CODE (one of: {codes})",
                unit=text,
                codes=", ".join(codes) or "-",
            )
        compound = codes[0]
    return unit_by_label(engine, compound, text).id
