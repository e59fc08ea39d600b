"""The command line: thin Typer adapters over `services/` and the pure rules.

Every `ColiftError` becomes one line on stderr and exit code 2; nothing prints a traceback.
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
from rich.table import Table

from colift.errors import BadInput, ColiftError, RowError

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="colift",
    help="colift: co-production of elevator retrofits in old residential compounds (老旧小区加装电梯).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
consent_app = typer.Typer(
    help="Consent law: exact tallies under a city's rule.", no_args_is_help=True
)
ledger_app = typer.Typer(
    help="The append-only, hash-chained record of votes and decisions.", no_args_is_help=True
)
app.add_typer(consent_app, name="consent")
app.add_typer(ledger_app, name="ledger")

out = Console()
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
                err.print(f"  row {row}, {column}: {message}", markup=False, highlight=False)
            raise typer.Exit(2) from None
        except ColiftError as exc:
            fail(exc.message)
            raise  # unreachable: fail() always exits

    return wrapper


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


# ---------------------------------------------------------------- consent


@consent_app.command("evaluate")
@user_errors
def consent_evaluate(
    file: Annotated[Path, typer.Argument(help="JSON file: rule, households, objections, occupied")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Tally one scope's votes under a consent rule and say whether it passes, and why."""
    from colift.rules.consent import evaluate_request

    result = evaluate_request(read_json(file))
    if as_json:
        print_json(result)
        return
    verdict = "[green]PASSED 通过[/]" if result["passed"] else "[red]NOT PASSED 未通过[/]"
    out.print(f"rule {result['rule']} ({result['scope']}): {verdict}")
    for line in result["explanation"]:
        out.print(f"  • {line}", markup=False, soft_wrap=True)
    for reason in result["reasons"]:
        out.print(f"  ✗ {reason}", markup=False, soft_wrap=True)


@consent_app.command("profiles")
@user_errors
def consent_profiles() -> None:
    """List the consent rules colift knows, with their thresholds and sources."""
    from colift.rules.consent import available_profiles, load_profile

    table = Table("id", "规则 rule", "quorum", "approval", "conditions", "notice")
    for name in available_profiles():
        p = load_profile(name)
        q = p.quorum
        quorum = f"{q.area} area, {q.heads} heads {q.operator}" if q else "—"
        a = p.approval
        approval = f"{a.area} area, {a.heads} heads of {a.of.value} {a.operator}"
        cond = ", ".join(
            text
            for flag, text in (
                (p.no_unresolved_objection, "no objection"),
                (p.occupied_owners_must_agree, "occupied owners agree"),
            )
            if flag
        )
        table.add_row(p.id, p.name_zh, quorum, approval, cond or "—", f"{p.notice_days} d")
    out.print(table)


# ---------------------------------------------------------------- cost sharing


@app.command("costshare")
@user_errors
def costshare(
    file: Annotated[Path, typer.Argument(help="JSON file: total_fen, subsidy, scheme, households")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Split an elevator's cost between the households, to the fen."""
    from colift.rules.costshare import evaluate_request

    result = evaluate_request(read_json(file))
    if as_json:
        print_json(result)
        return
    shares = result["shares"]
    assert isinstance(shares, list)
    payable = result["payable_fen"]
    assert isinstance(payable, int)
    table = Table("户 household", "应付 pays (¥)", title=f"payable ¥{yuan(payable)}")
    for line in shares:
        table.add_row(str(line["id"]), yuan(int(line["fen"])))
    out.print(table)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


def main() -> None:
    app()


if __name__ == "__main__":
    main()
