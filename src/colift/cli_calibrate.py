"""Calibration on the command line: `colift calibrate`, `colift params list|show|adopt`.

Thin adapters over `services/calibration.py`; see docs/calibration.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from colift.cli_common import (
    DatabaseOption,
    engine_for,
    out,
    print_json,
    ready_engine,
    user_errors,
)
from colift.errors import BadInput

params_app = typer.Typer(
    help="Named parameter sets of the simulation (calibrated or hand-made).", no_args_is_help=True
)


@user_errors
def calibrate_cmd(
    compound: Annotated[
        list[str] | None, typer.Option("--compound", "-c", help="A compound's code (repeatable)")
    ] = None,
    street: Annotated[str | None, typer.Option(help="Every compound on this street")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every compound")] = False,
    name: Annotated[
        str | None, typer.Option("--save", help="Save the posterior medians under this name")
    ] = None,
    particles: Annotated[int, typer.Option(help="Particles per ABC-SMC generation")] = 100,
    generations: Annotated[int, typer.Option(help="ABC-SMC generations")] = 4,
    parameter: Annotated[
        list[str] | None,
        typer.Option("--parameter", "-p", help="Calibrate only these (repeatable)"),
    ] = None,
    test_share: Annotated[float, typer.Option(help="Share of units held out")] = 0.25,
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
    workers: Annotated[
        int, typer.Option(help="0 runs here; 1 or more starts a local Dask cluster")
    ] = 0,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler")
    ] = None,
    evidence_prior: Annotated[
        bool, typer.Option(help="Let the coded interviews narrow the prior (docs/calibration.md)")
    ] = False,
    activities: Annotated[
        bool,
        typer.Option(
            "--activities/--dates-only",
            help="Fit what the record holds on the way (how each unit was led, its objections, "
            "technical issues and stance changes), or the stage dates alone "
            "(docs/calibration.md §1)",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Fit the simulation to the recorded units (ABC-SMC) and check it on held-out units."""
    from colift.services.calibration import calibrate

    if sum((bool(compound), street is not None, everything)) != 1:
        raise BadInput("give one of -c CODE…, --street S or --all")
    engine = ready_engine(database)
    result = calibrate(
        engine,
        compound or (),
        street=street,
        everything=everything,
        name=name,
        particles=particles,
        generations=generations,
        seed=seed,
        test_share=test_share,
        parameters=parameter or (),
        scheduler=scheduler,
        workers=workers,
        evidence_prior=evidence_prior,
        activities=activities,
    )
    if as_json:
        print_json(result)
        return
    print_calibration(result)


def print_calibration(result: dict[str, Any]) -> None:
    out.print(
        f"ABC-SMC on {result['units']} units 个单元 ({', '.join(result['compounds'])}): "
        f"{result['simulations']} simulations, {result['wall_s']:.1f} s",
        markup=False,
    )
    table = Table(
        "parameter 参数",
        "default 默认",
        "median 中位数",
        "90% interval 区间",
        "width 宽度/先验",
        "informed",
        "informed by 信息来源",
    )
    for r in result["parameters"]:
        lo, hi = r["interval90"]
        sources = ", ".join(x["summary"] for x in r.get("informed_by", [])[:2]) or "—"
        table.add_row(
            r["name"],
            f"{r['default']:.3g}",
            f"{r['median']:.3g}",
            f"{lo:.3g} – {hi:.3g}",
            f"{r['width_ratio']:.2f}",
            "yes 数据有信息" if r["informed"] else "no 数据不足",
            sources,
        )
    out.print(table)
    used = result.get("summaries_used")
    if used is not None:
        out.print(f"summaries used 所用统计量: {', '.join(used)}", markup=False)
    held = result["heldout"]
    out.print(f"held-out check 留出检验 on {held['units']} units:", markup=False)
    for key in ("brier_consent", "mae_weeks_to_consent", "stage_accuracy"):
        out.print(
            f"  {key}: calibrated {held['calibrated'][key]:.3f}, "
            f"uncalibrated {held['uncalibrated'][key]:.3f}",
            markup=False,
        )
    if "saved" in result:
        out.print(f"saved as 已保存为 {result['saved']['name']}", markup=False)


@params_app.command("list")
@user_errors
def params_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """The stored parameter sets."""
    from colift.services.calibration import list_param_sets

    sets = list_param_sets(ready_engine(database))
    if as_json:
        print_json(sets)
        return
    table = Table("name 名称", "method", "units", "created", "adopted 采用")
    for s in sets:
        table.add_row(
            s["name"],
            s["method"],
            str(s["units"]),
            s["created_at"][:16],
            "✓" if s["adopted"] else "",
        )
    out.print(table)


@params_app.command("show")
@user_errors
def params_show(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """A parameter set's values and provenance."""
    from colift.services.calibration import show_param_set

    shown = show_param_set(ready_engine(database), name)
    if as_json:
        print_json(shown)
        return
    out.print(f"{shown['name']} ({shown['method']}, {shown['units']} units)", markup=False)
    for key, value in shown["values"].items():
        out.print(f"  {key} = {value:.4g}", markup=False)


@params_app.command("adopt")
@user_errors
def params_adopt(name: str, database: DatabaseOption = None) -> None:
    """Use this set wherever no other is named (simulate, advise, the what-if panel)."""
    from colift.services.calibration import adopt_param_set

    adopted = adopt_param_set(ready_engine(database), name)
    out.print(f"adopted 已采用 {adopted['name']}", markup=False)


def sensitivity_cmd(
    file: Path | None,
    unit: int | None,
    document: dict[str, Any] | None,
    unit_args: tuple[list[str], int, int],
    weeks: int | None,
    samples: int,
    options: dict[str, Any],
    as_json: bool,
    plot: Path | None,
) -> None:
    """`colift simulate FILE --sensitivity`: Sobol indices, a table or JSON, and a chart."""
    from colift.calibrate.sensitivity import plot_sobol
    from colift.cli_common import read_json
    from colift.services.calibration import sensitivity

    if file is None or unit is not None:
        raise BadInput("--sensitivity needs a FILE: a unit scenario (.toml) or a unit file (.json)")
    strategies, copies, seed = unit_args
    result = sensitivity(
        document,
        read_json(file) if document is None else None,
        file.parent,
        strategies=strategies,
        weeks=weeks,
        samples=samples,
        copies=copies,
        seed=seed,
        params=options.get("params"),
    )
    if plot is not None:
        plot_sobol(result, str(plot))
    if as_json:
        print_json(result)
        return
    for output, idx in result["indices"].items():
        table = Table(f"{output}", "S1 一阶", "ST 总效应")
        for name in result["parameters"]:
            table.add_row(name, f"{idx['S1'][name]:.2f}", f"{idx['ST'][name]:.2f}")
        out.print(table)
    if plot is not None:
        out.print(f"wrote {plot}", markup=False)


@user_errors
def demo_street_cmd(
    compounds: Annotated[int, typer.Option(help="Compounds of 24 units each")] = 8,
    seed: Annotated[int, typer.Option(help="Seed of the fictional street")] = 2026,
    database: DatabaseOption = None,
) -> None:
    """Seed a second demo street whose histories follow known parameter values."""
    from colift.services.demo_street import seed_demo_street

    if not 1 <= compounds <= 40:
        raise BadInput("--compounds must be 1–40")
    street, made = seed_demo_street(engine_for(database), compounds=compounds, seed=seed)
    out.print(f"{street}: {len(made)} compounds 个小区 seeded {' '.join(made)}", markup=False)
    out.print(f"calibrate: colift calibrate --street {street}", markup=False)


def register(app: typer.Typer) -> None:
    """Add these commands to the main `colift` app."""
    app.command("demo-street")(demo_street_cmd)
    app.command("calibrate")(calibrate_cmd)
    app.add_typer(params_app, name="params")
