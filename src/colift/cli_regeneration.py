"""`colift regeneration add|show`: community regeneration (社区更新) after a lift runs."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from colift.cli_common import DatabaseOption, out, print_json, ready_engine, user_errors

regeneration_app = typer.Typer(
    help="Community regeneration after a lift runs: collective actions, conflicts, complaints.",
    no_args_is_help=True,
)

CompoundArg = Annotated[str, typer.Argument(help="The compound's code")]


def _day(text: str | None) -> date:
    from colift.errors import BadInput

    if text is None:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput("{value} is not a date: write it as YYYY-MM-DD", value=text) from None


@regeneration_app.command("add")
@user_errors
def add_cmd(
    compound: CompoundArg,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            help="stairwell_renovation (楼道改造), second_lift, shared_fund, volunteer_duty, "
            "other_action, conflict, complaint",
        ),
    ],
    title: Annotated[str, typer.Option("--title", "-t", help="What it was, in a few words")],
    on: Annotated[str | None, typer.Option("--on", help="Date, YYYY-MM-DD (default today)")] = None,
    households: Annotated[int, typer.Option(help="Households that took part")] = 0,
    of: Annotated[int, typer.Option("--of", help="Households asked or concerned")] = 0,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="The unit, e.g. 3-2")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the record as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Record a collective action, a conflict or a complaint in the compound."""
    from colift.coproduction.regeneration import KIND_NAMES_ZH, RegenerationEvent
    from colift.services.regeneration import parse_kind, record_regeneration

    event = RegenerationEvent(parse_kind(kind), _day(on), households, of, title.strip())
    saved = record_regeneration(ready_engine(database), compound, event, unit_label=unit)
    if as_json:
        print_json(saved.to_json())
        return
    out.print(
        f"已记录 {KIND_NAMES_ZH[saved.kind]}：{saved.title}（{saved.on.isoformat()}）",
        markup=False,
    )


@regeneration_app.command("show")
@user_errors
def show_cmd(
    compound: CompoundArg,
    today: Annotated[str | None, typer.Option("--on", help="Read as of this day")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the outcome as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """The compound's regeneration outcome: actions after the lift, conflicts, participation."""
    from colift.coproduction.regeneration import KIND_NAMES_ZH
    from colift.services.regeneration import compound_regeneration

    outcome = compound_regeneration(ready_engine(database), compound, _day(today))
    if as_json:
        print_json(outcome.to_json())
        return
    out.print(outcome.summary_zh(), markup=False, soft_wrap=True)
    for e in outcome.events:
        took = f"，{e.households}/{e.of_households}户参与" if e.of_households else ""
        out.print(
            f"  · {e.on.isoformat()} {KIND_NAMES_ZH[e.kind]}：{e.title}{took}",
            markup=False,
            soft_wrap=True,
        )


def register(app: typer.Typer) -> None:
    """Add `colift regeneration` to the main app."""
    app.add_typer(regeneration_app, name="regeneration")
