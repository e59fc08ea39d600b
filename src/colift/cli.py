"""The command line: thin Typer adapters over `services/` and the pure rules.

Every `ColiftError` becomes one line on stderr and exit code 2; nothing prints a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from sqlalchemy import Engine

from colift.cli_common import (
    CompoundRef,
    DatabaseOption,
    UnitRef,
    engine_for,
    err,
    fail,
    out,
    print_json,
    read_json,
    ready_engine,
    unit_id_of,
    user_errors,
)
from colift.cli_evidence import evidence_app
from colift.errors import BadInput

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
app.add_typer(consent_app, name="consent")
app.add_typer(evidence_app, name="evidence")
account_app = typer.Typer(help="Web app accounts.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens for programs.", no_args_is_help=True)
app.add_typer(account_app, name="account")
app.add_typer(token_app, name="token")

# ---------------------------------------------------------------- consent


@consent_app.command("evaluate")
@user_errors
def consent_evaluate(
    file: Annotated[Path, typer.Argument(help="JSON file: rule, households, objections, occupied")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    on: Annotated[
        str | None,
        typer.Option("--on", help="Count under the rule in force on this day (default today)"),
    ] = None,
    profile_file: Annotated[
        Path | None,
        typer.Option("--profile", help="Count under a consent profile file you wrote (TOML)"),
    ] = None,
) -> None:
    """Tally one scope's votes under a consent rule and say whether it passes, and why.

    The file's "rule" is a place ("beijing": the rule in force on the day counted) or a dated
    id ("beijing-2020"); `colift consent profiles` lists them."""
    from colift.rules.consent import evaluate_request, load_profile_file

    day = _day_option(on, "--on")
    profile = load_profile_file(profile_file) if profile_file is not None else None
    result = evaluate_request(read_json(file), on=day, profile=profile)
    if as_json:
        print_json(result)
        return
    verdict = "[green]PASSED 通过[/]" if result["passed"] else "[red]NOT PASSED 未通过[/]"
    out.print(
        f"rule {result['rule']} {result['rule_name_zh']} ({result['scope']}, {result['on']}): "
        f"{verdict}",
        soft_wrap=True,
    )
    for warning in result["warnings"]:
        out.print(f"  ! {warning['zh']} / {warning['en']}", markup=False, soft_wrap=True)
    for line in result["explanation"]:
        out.print(f"  • {line}", markup=False, soft_wrap=True)
    for reason in result["reasons"]:
        out.print(f"  ✗ {reason}", markup=False, soft_wrap=True)


def _day_option(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadInput(
            "{option} {value} must be a date such as 2026-03-01", option=option, value=repr(text)
        ) from None


@consent_app.command("profiles")
@user_errors
def consent_profiles(
    as_json: Annotated[bool, typer.Option("--json", help="Print every profile as JSON")] = False,
    on: Annotated[
        str | None, typer.Option("--on", help="Mark the rules in force on this day (default today)")
    ] = None,
) -> None:
    """List the consent rules colift knows: every dated version, its title, issuer, dates,
    thresholds, conditions, notice, sources and confidence, in full."""
    from colift.rules.consent import all_profiles, profile_json

    day = _day_option(on, "--on") or date.today()
    profiles = [profile_json(p, day) for p in all_profiles()]
    if as_json:
        print_json({"on": day.isoformat(), "profiles": profiles})
        return
    for p in profiles:
        mark = "[green]in force[/]" if p["in_force_on_day"] else "[dim]not in force[/]"
        out.print(
            f"[bold]{p['id']}[/] ({p['key']}) {mark} · {p['name_zh']} · {p['name_en']}",
            soft_wrap=True,
        )
        lines = [
            f"{p['jurisdiction']} · {p['issuer'] or 'issuer not recorded'} · "
            f"{p['document_number'] or 'no document number read'}",
            f"in force {p['in_force_from'] or 'since an unknown day'} – "
            f"{p['in_force_until'] or 'now'} · confidence {p['confidence']}",
            f"quorum {p['quorum_text']} · approval {p['approval_text']} · scope {p['default_scope']}",
            f"conditions: {p['conditions_text']}",
            f"notice: {p['notice']['text_zh']} / {p['notice']['text_en']} "
            f"[{p['notice']['confidence']}] {p['notice']['source']}",
            f"workflow: {p['workflow_text']}",
        ]
        if p["laxer_than_civil_code"]:
            lines.append("laxer than Civil Code art. 278: " + "; ".join(p["laxer_than_civil_code"]))
        for src in p["sources"]:
            lines.append(
                f"source ({src['confidence']}): {src['title']}"
                + (f" {src['url']}" if src["url"] else "")
                + (f" — {src['note']}" if src["note"] else "")
            )
        for text in lines:
            out.print(f"    {text}", markup=False, soft_wrap=True)


# ---------------------------------------------------------------- cost sharing


@app.command("costshare")
@user_errors
def costshare(
    file: Annotated[Path, typer.Argument(help="JSON file: total_fen, subsidy, scheme, households")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
) -> None:
    """Split an elevator's cost between the households, to the fen, and say where each
    household's money comes from (now, later, and from which source)."""
    from colift.rules.costshare import (
        parse_households,
        parse_plan,
        reject_request_keys,
        result_to_json,
        split_plan,
    )

    data = read_json(file)
    reject_request_keys(data)
    households = parse_households(data.get("households"))
    result = split_plan(
        parse_plan({k: v for k, v in data.items() if k != "households"}), households
    )
    if as_json:
        print_json(result_to_json(result))
        return
    table = Table(
        "户 flat",
        "楼层 floor",
        "应付 pays ¥",
        "补偿 receives ¥",
        "现付 now ¥",
        "后付 later ¥",
        "其他来源 other sources",
        title=f"payable ¥{yuan(result.payable_fen)}",
    )
    for line in result.lines:
        funding = line.funding
        sources = (
            "、".join(f"{s.kind.value} ¥{yuan(s.fen)}" for s in funding.sources) if funding else ""
        )
        table.add_row(
            line.id,
            str(line.floor),
            yuan(line.fen),
            yuan(line.compensation_fen) if line.compensation_fen else "",
            yuan(funding.pays_now_fen) if funding else yuan(max(line.net_fen, 0)),
            yuan(funding.pays_later_fen) if funding and funding.pays_later_fen else "",
            sources,
        )
    out.print(table)
    for text in result.explanation:
        out.print(f"  • {text}", markup=False, soft_wrap=True)


@app.command("init")
@user_errors
def init(database: DatabaseOption = None) -> None:
    """Create the database (a SQLite file by default) or bring it to the current schema."""
    from colift.services.registry import init_database

    engine = engine_for(database)
    revision = init_database(engine)
    out.print(f"database ready at schema {revision}: {engine.url.render_as_string()}")
    _say_ledger_key()


def _say_ledger_key() -> None:
    """Where the key that seals the ledger is: it is in no backup, so it must be kept apart."""
    from colift.i18n import bilingual, msg
    from colift.store.ledger import sealing_key

    key = sealing_key()
    out.print(
        bilingual(
            msg(
                "ledger key {key_id} from {source}: keep a copy apart from the database's "
                "backups (docs/reliability.md)",
                key_id=key.key_id,
                source=key.source,
            )
        ),
        markup=False,
        soft_wrap=True,
    )


@app.command("migrate")
@user_errors
def migrate_cmd(database: DatabaseOption = None) -> None:
    """Apply pending schema migrations (the same as init on an existing database)."""
    init(database)


# ---------------------------------------------------------------- registry


@app.command("import")
@user_errors
def import_cmd(
    file: Annotated[
        Path, typer.Argument(help="Roster as .csv or .xlsx (楼栋, 单元, 楼层, 房号, 面积, 业主, …)")
    ],
    compound: Annotated[str, typer.Option("--compound", "-c", help="Compound code, e.g. hx-1994")],
    name: Annotated[str | None, typer.Option(help="Name of a new compound (小区名称)")] = None,
    city: Annotated[str | None, typer.Option(help="City of a new compound")] = None,
    district: Annotated[str, typer.Option(help="District of a new compound")] = "",
    street: Annotated[str, typer.Option(help="Street office of a new compound")] = "",
    rule: Annotated[str, typer.Option(help="Consent rule of a new compound")] = "cn-civil-code-278",
    subsidy: Annotated[str | None, typer.Option(help="Subsidy profile of a new compound")] = None,
    actor: Annotated[str, typer.Option(help="Who imports, for the ledger")] = "community worker",
    update: Annotated[
        bool,
        typer.Option(
            "--update", help="Update registered flats from the file (an export, corrected)"
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show what would change per flat; change nothing")
    ] = False,
    database: DatabaseOption = None,
) -> None:
    """Import a household roster: every row or none; a bad file lists every problem."""
    from colift.services.registry import CompoundDetails, import_roster

    if update or dry_run:
        from colift.cli_roster import update_roster

        if name or city:
            raise BadInput(
                "--update and --dry-run work on an existing compound: drop --name/--city"
            )
        update_roster(ready_engine(database), file, compound, actor=actor, dry_run=dry_run)
        return
    create = None
    if name or city:
        if not (name and city):
            raise BadInput("a new compound needs both --name and --city")
        create = CompoundDetails(
            name=name,
            city=city,
            district=district,
            street=street,
            consent_profile=rule,
            subsidy_profile=subsidy,
        )
    report = import_roster(ready_engine(database), file, compound, actor=actor, create=create)
    made = "created and " if report.compound_created else ""
    out.print(
        f"compound {compound} {made}imported: {report.households} flats, {report.owners} owners, "
        f"{report.persons} residents, {report.ballots} votes; new buildings {report.buildings_created}, "
        f"new units {report.units_created}"
    )


@app.command("export")
@user_errors
def export_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx")],
    compound: Annotated[str, typer.Option("--compound", "-c", help="Compound code")],
    database: DatabaseOption = None,
) -> None:
    """Export a compound's roster, with current votes, in the import format."""
    from colift.services.registry import export_roster

    n = export_roster(ready_engine(database), compound, file)
    out.print(f"wrote {n} flats to {file}")


@app.command("template")
@user_errors
def template_cmd(
    file: Annotated[Path, typer.Argument(help="Where to write: .csv or .xlsx")],
) -> None:
    """Write an empty roster with the expected columns and one example row."""
    from colift.io import write_template

    write_template(file)
    out.print(f"wrote a roster template to {file}")


# ---------------------------------------------------------------- reports


@consent_app.command("unit")
@user_errors
def consent_unit(
    compound: Annotated[str, typer.Option("--compound", "-c", help="Compound code")],
    unit: Annotated[str, typer.Argument(help="Unit as building-unit, e.g. 3-2 or 3栋2单元")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    database: DatabaseOption = None,
) -> None:
    """Where one unit's vote stands, flat by flat, under its consent rule."""
    from colift.services.consent import unit_by_label, unit_consent

    engine = ready_engine(database)
    state = unit_consent(engine, unit_by_label(engine, compound, unit).id)
    if as_json:
        print_json(state.result.to_json())
        return
    r = state.result
    table = Table(
        "房号", "楼层", "面积 m²", "表决 vote", title=f"{state.unit.label} · {r.profile.id}"
    )
    for row in state.input.rows:
        table.add_row(row.room, str(row.floor), str(row.area_m2), row.vote.value)
    out.print(table)
    out.print("[green]PASSED 通过[/]" if r.passed else "[red]NOT PASSED 未通过[/]")
    for line in r.explanation():
        out.print(f"  • {line}", markup=False, soft_wrap=True)
    for reason in r.reasons:
        out.print(f"  ✗ {reason}", markup=False, soft_wrap=True)


@app.command("demo")
@user_errors
def demo(
    database: DatabaseOption = None,
    seed: Annotated[int, typer.Option(help="Seed of the fictional compound")] = 1994,
    serve: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="Serve the web app afterwards"),
    ] = False,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
) -> None:
    """Seed the demo compound (红星机械厂家属院) and its demo logins, print them, optionally serve."""
    from colift.services.demo import seed_demo
    from colift.services.demo_accounts import seed_demo_accounts
    from colift.services.reports import compound_report

    engine = engine_for(database)
    code, created = seed_demo(engine, seed=seed)
    logins = seed_demo_accounts(engine, code)
    where = engine.url.render_as_string()
    out.print(f"demo compound {code} {'seeded into' if created else 'already in'} {where}")
    print_compound_report(compound_report(engine, code))
    table = Table(title="demo logins / 演示账号", show_lines=False)
    for column in ("username", "password", "role", "sees"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.username, login.password, login.role.value, login.what)
    out.print(table)
    if serve:
        run_server(engine, host, port)


def run_server(engine: Engine, host: str, port: int, workers: int = 1) -> None:
    from colift.serving import run

    out.print(f"serving on http://{host}:{port}/ with {workers} worker(s) (Ctrl+C stops)")
    run(engine.url.render_as_string(hide_password=False), host, port, workers)


@app.command("serve")
@user_errors
def serve_cmd(
    database: DatabaseOption = None,
    host: Annotated[str, typer.Option(help="Address to serve on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to serve on")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (docs/deploy.md)")
    ] = 1,
) -> None:
    """Serve the web app and the REST API (/api/v1, docs at /api/v1/docs) on the database.

    Overview lists read COLIFT_READ_DATABASE_URL (a replica) when it is set."""
    engine = ready_engine(database)
    run_server(engine, host, port, workers)


@account_app.command("create")
@user_errors
def account_create(
    username: str,
    role: Annotated[str, typer.Option(help="worker, unit_leader, resident, street_viewer, admin")],
    name: Annotated[str, typer.Option(help="Name shown in the app")] = "",
    compound: Annotated[str | None, typer.Option(help="Compound code")] = None,
    unit: Annotated[str | None, typer.Option(help="Unit, e.g. 3-2 or 3栋2单元")] = None,
    room: Annotated[str | None, typer.Option(help="Room of a resident's household")] = None,
    street: Annotated[str | None, typer.Option(help="Street a street-office viewer reads")] = None,
    database: DatabaseOption = None,
) -> None:
    """Create an account; the password is asked for (or read from COLIFT_PASSWORD)."""
    import os

    from colift.model.accounts import Account, AccountRole
    from colift.services.accounts import create_account
    from colift.services.consent import unit_by_label

    engine = ready_engine(database)
    try:
        kind = AccountRole(role)
    except ValueError:
        fail(f"unknown role {role!r}: use one of {', '.join(r.value for r in AccountRole)}")
        return
    unit_id = None
    if unit is not None:
        if compound is None:
            fail("--unit needs --compound")
            return
        unit_id = unit_by_label(engine, compound, unit).id
    password = os.environ.get("COLIFT_PASSWORD") or typer.prompt(
        "password", hide_input=True, confirmation_prompt=True
    )
    made = create_account(
        engine,
        Account(0, username, name or username, kind, compound, unit_id, room, street),
        password,
    )
    out.print(f"account {made.username} ({made.role.value}) created")


@token_app.command("create")
@user_errors
def token_create(
    username: str,
    label: Annotated[str, typer.Option(help="What the token is for")] = "",
    days: Annotated[int, typer.Option(help="How many days it lives (1-366)")] = 90,
    database: DatabaseOption = None,
) -> None:
    """Print a new API bearer token acting as USERNAME (shown once; only its digest is kept)."""
    from colift.services.accounts import create_api_token

    print(create_api_token(ready_engine(database), username, label, days=days))


@app.command("report")
@user_errors
def report_cmd(
    compound: Annotated[str, typer.Option("--compound", "-c", help="Compound code")],
    database: DatabaseOption = None,
) -> None:
    """Every unit of a compound: stage, consent, heterogeneity, cooperation, top share, next action."""
    from colift.services.reports import compound_report

    print_compound_report(compound_report(ready_engine(database), compound))


def print_compound_report(report: Any) -> None:
    from colift.coproduction.catalogue import load_catalogue
    from colift.model.coproduction import STAGE_NAMES_ZH
    from colift.model.roles import ROLE_NAMES_ZH

    catalogue = load_catalogue()
    c = report.compound
    rules = {u.consent.result.profile.id for u in report.units}
    table = Table(
        "单元",
        "阶段",
        "同意/参与/总户",
        "表决",
        "还差",
        "未决异议",
        "异质性",
        "合作水平",
        "顶层分摊¥",
        "下一步建议 next action",
        title=f"{c.name} · {c.city}{c.district} · "
        + (f"{c.built_year}年" if c.built_year else "建成年份未登记 year built not recorded")
        + f" · 规则 {', '.join(sorted(rules))}",
        caption=(
            "户 = owners counted per SPC arts. 8-9 · 异质性 0-1 with its main driver · "
            "合作水平 0 none … 4 co-producing · shares to the fen"
        ),
    )
    passed = 0
    for u in report.units:
        r = u.consent.result
        k = r.counts
        passed += r.passed
        margin = r.margin()
        gap = "" if r.passed else f"{margin['heads']}户/{margin['area_m2']}m²"
        if u.consent.input.round is None:
            result, gap = "[dim]未启动[/]", ""
        elif r.passed:
            result = "[green]通过[/]"
        elif r.approval_met and r.quorum_met is not False:
            result = "[yellow]受阻[/]"
        elif r.quorum_met is False:
            result = "[yellow]参与不足[/]"
        else:
            result = "[red]同意不足[/]"
        top = "—"
        if u.shares:
            by_floor = {line.floor: line.fen for line in u.shares.result.lines}
            top = yuan(by_floor[max(by_floor)])
        a = u.advice
        h = a.heterogeneity
        driver = {
            "interest": "利益",
            "demographic": "人口",
            "economic": "经济",
            "tenure": "产权",
            "trust_information": "信息",
            "technical": "技术",
        }.get(h.driver or "", "—")
        nxt = "—"
        if a.recommendations:
            first = a.recommendations[0]
            nxt = f"{ROLE_NAMES_ZH[first.role]}·{catalogue.get(first.tool).name_zh}"
        table.add_row(
            u.consent.unit.label,
            STAGE_NAMES_ZH[a.snapshot.stage],
            f"{k.agree_heads}/{k.participating_heads}/{k.total_heads}",
            result,
            gap,
            str(u.open_objections or ""),
            f"{h.index:.2f} {driver}",
            f"{a.cooperation.level} {a.cooperation.name_zh}",
            top,
            nxt,
        )
    out.print(table)
    out.print(f"{passed} of {len(report.units)} units have consent under their rule.")
    if getattr(report, "regeneration", None) is not None:
        out.print(f"社区更新：{report.regeneration.summary_zh()}", markup=False, soft_wrap=True)
    out.print("Details of one unit: colift advise --unit ID · colift consent unit 3-2 -c CODE")


@app.command("advise")
@user_errors
def advise_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(help="Unit file: households, persons, stances, objections, activities…"),
    ] = None,
    unit: UnitRef = None,
    compound: CompoundRef = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the advice as JSON")] = False,
    database: DatabaseOption = None,
    params: Annotated[
        str | None,
        typer.Option(
            "--params",
            help="Forecast following the advice under a stored parameter set (colift params "
            "list); the adopted set with --params adopted",
        ),
    ] = None,
    runs: Annotated[int, typer.Option("--runs", help="Simulated copies for the forecast")] = 200,
) -> None:
    """Diagnose a unit (heterogeneity, obstacles, cooperation level) and rank the next actions."""
    from colift.coproduction.advisor import advise
    from colift.coproduction.catalogue import load_catalogue

    if (file is None) == (unit is None):
        raise BadInput("give either a unit FILE or --unit ID")
    if file is not None:
        from colift.coproduction.unitfile import read_unit_file

        advice = advise(read_unit_file(read_json(file)), load_catalogue())
    else:
        from colift.services.advice import unit_advice

        assert unit is not None
        engine = ready_engine(database)
        advice = unit_advice(engine, unit_id_of(engine, unit, compound))
    evidence = []
    if unit is not None:
        from colift.services.calibration import evidence_links

        evidence = evidence_links(ready_engine(database))
    forecast = None
    if params is not None:
        from colift.services.advice import advice_forecast

        if not 1 <= runs <= 2000:
            raise BadInput("runs must be between 1 and 2000")
        engine = ready_engine(database)
        forecast = advice_forecast(
            engine,
            None if unit is None else unit_id_of(engine, unit, compound),
            None if params == "adopted" else params,
            snapshot=advice.snapshot if unit is None else None,
            runs=runs,
        )
    if as_json:
        data = advice.to_json()
        if forecast is not None:
            data["forecast"] = forecast
        print_json(data)
        return
    print_advice(advice, evidence)
    if forecast is not None:
        print_forecast(forecast)


def print_forecast(forecast: dict[str, Any]) -> None:
    """Following the advice, simulated under the parameter set and under the defaults."""
    from colift.services.calibration import provenance_line

    out.print("\n[bold]按建议推进的模拟预测[/]")
    out.print(f"  {provenance_line(forecast['param_set'])}", markup=False, soft_wrap=True)
    for key, label in (("with_params", "该参数集"), ("defaults", "默认参数")):
        f = forecast[key]
        lo, hi = f["success_ci95"]
        med = f["weeks_to_service"]["median"]
        weeks = f"，投用中位{med:.0f}周" if med is not None else ""
        out.print(
            f"  {label}：{forecast['weeks']}周内投用概率 {f['success_rate']:.0%}"
            f"（95%区间 {lo:.0%}–{hi:.0%}）{weeks}（{forecast['runs']}次模拟）",
            markup=False,
            soft_wrap=True,
        )


def _zh(text: str) -> str:
    """The Chinese side of a bilingual "中文 / English" message."""
    return text.split(" / ", 1)[0]


def print_advice(advice: Any, evidence: Sequence[Any] = ()) -> None:
    """The advice as a worker's checklist in Chinese: who, whom, why, how, what to record."""
    from colift.model.coproduction import STAGE_NAMES_ZH

    snap = advice.snapshot
    h = advice.heterogeneity
    c = advice.cooperation
    out.print(f"[bold]{snap.label}[/] · 阶段：{STAGE_NAMES_ZH[snap.stage]}", soft_wrap=True)
    names = {
        "interest": "利益",
        "demographic": "人口",
        "economic": "经济",
        "tenure": "产权",
        "trust_information": "信息与信任",
        "technical": "技术",
    }
    spread = f"（住户之间差异最大的是{names.get(h.driver, h.driver)}）" if h.driver else ""
    out.print(
        f"合作水平：{c.level}级 {c.name_zh} · 异质性 {h.index:.2f}{spread}",
        markup=False,
        soft_wrap=True,
    )
    if h.driver:
        out.print(
            f"  {names.get(h.driver, h.driver)}：{h.dimensions[h.driver].explanation_zh}",
            markup=False,
            soft_wrap=True,
        )
    out.print("\n[bold]当前障碍（卡住项目的是这些，按轻重排列）[/]")
    for f in advice.findings or ():
        out.print(f"  · {_zh(f.message)}", markup=False, soft_wrap=True)
    if not advice.findings:
        out.print("  未发现障碍")
    out.print("\n[bold]下一步（按先后）[/]")
    for n, r in enumerate(advice.recommendations, start=1):
        whom = "、".join(r.targets) if r.targets else "不针对具体住户（部门、单位之间）"
        lines = [
            f"{n}. {r.tool_zh} —— 对象：{whom}",
            f"   谁去做：{r.who_zh}",
            f"   为什么：{r.why_zh}",
            f"   怎么做：{r.how_zh}",
            f"   做完记录：{r.record_zh}",
        ]
        for line in lines:
            out.print(line, markup=False, soft_wrap=True)
        from colift.calibrate.evidence import for_tool

        seen = for_tool(evidence, r.tool)
        if seen is not None:  # what the coded interviews say about this tool
            out.print(f"   访谈证据：{seen.sentence_zh()}", markup=False, soft_wrap=True)
    if advice.leadership:
        out.print("\n[bold]领导力缺口[/]")
        for g in advice.leadership:
            cands = f"；可考虑：{'、'.join(g.candidates)}" if g.candidates else ""
            out.print(f"  · {_zh(g.message.split(';')[0])}{cands}", markup=False, soft_wrap=True)
    if advice.actors:
        out.print("\n[bold]多方合作（据活动记录）[/]")
        from colift.coproduction.catalogue import load_catalogue

        names = {t.id: t.name_zh for t in load_catalogue()}
        for link in advice.actors:
            tools = "、".join(names.get(t, t) for t in link.tools)
            out.print(
                f"  · {link.text_zh}：共同开展{link.times}次（{tools}）",
                markup=False,
                soft_wrap=True,
            )
    missing = c.missing_zh or c.missing
    if missing:
        out.print(f"\n要达到下一合作水平：{missing}", markup=False, soft_wrap=True)
    out.print("（工具编号、评分等细节：colift advise … --json）", markup=False)


# ---------------------------------------------------------------- simulation


@app.command("simulate")
@user_errors
def simulate_cmd(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Unit file (.json, as for advise), city (.toml with \\[city]) or unit scenario (.toml)"
        ),
    ] = None,
    unit: UnitRef = None,
    compound: CompoundRef = None,
    strategy: Annotated[
        list[str] | None,
        typer.Option(
            "--strategy",
            "-s",
            help="Strategy to compare; repeat it (default: informal_only, guided, advisor)",
        ),
    ] = None,
    runs: Annotated[
        int | None, typer.Option(help="Monte Carlo runs of the unit per strategy [default: 200]")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed [default: 0; a city: its file's seed]")
    ] = None,
    weeks: Annotated[
        int | None, typer.Option(help="Weeks to simulate (default: the scenario's)")
    ] = None,
    workers: Annotated[
        int, typer.Option(help="0 runs here; 1 or more starts a local Dask cluster of processes")
    ] = 0,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler, e.g. tcp://host:8786")
    ] = None,
    scenario_file: Annotated[
        Path | None,
        typer.Option(
            "--scenario", help="Scenario TOML for a unit FILE or --unit (rule, money, defaults)"
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON")] = False,
    plot: Annotated[Path | None, typer.Option(help="Save a figure: PATH.png or PATH.svg")] = None,
    params: Annotated[
        str | None, typer.Option("--params", help="A stored parameter set (colift params list)")
    ] = None,
    sensitivity: Annotated[
        bool, typer.Option(help="Sobol indices of the calibrated parameters (SALib)")
    ] = False,
    samples: Annotated[
        int, typer.Option(help="--sensitivity: Saltelli base samples (points = samples × 9)")
    ] = 8,
    database: DatabaseOption = None,
) -> None:
    """Simulate a unit under each strategy, or a whole city under a policy, week by week."""
    from colift.services.simulation import DEFAULT_STRATEGIES
    from colift.sim.city import is_city_file

    if (file is None) == (unit is None):
        raise BadInput("give either a FILE (unit .json, city or scenario .toml) or --unit ID")
    for name, value, least in (
        ("--runs", runs, 1),
        ("--weeks", weeks, 1),
        ("--workers", workers, 0),
    ):
        if value is not None and value < least:
            raise BadInput(
                "{name} must be at least {least}, got {value}", name=name, least=least, value=value
            )
    if seed is not None and seed < 0:
        raise BadInput("--seed must be 0 or more, got {seed}", seed=seed)
    if plot is not None:
        from colift.sim.plots import plot_path

        plot_path(plot)
    options: dict[str, Any] = {"scheduler": scheduler, "n_workers": workers}
    document = read_toml(file) if file is not None and file.suffix.lower() == ".toml" else None
    if document is not None and is_city_file(document):
        if strategy or runs is not None or scenario_file is not None:
            raise BadInput(
                "--strategy, --runs and --scenario are for a unit; a city sets guidance_share "
                "and its levers in the [city] table"
            )
        assert file is not None
        simulate_city(file, seed, weeks, as_json, plot, options)
        return
    if params is not None or unit is not None:
        from colift.services.calibration import param_set_used, param_values

        # The named set, else (for a stored unit) the adopted one; files alone need no database.
        options["params"] = param_values(ready_engine(database), params)
        used_set = param_set_used(ready_engine(database), params)
    unit_args = (list(strategy or DEFAULT_STRATEGIES), runs or 200, seed or 0)
    if sensitivity:
        from colift.cli_calibrate import sensitivity_cmd

        copies = runs or 30  # --runs: copies of the unit simulated at each point
        sensitivity_cmd(
            file,
            None if unit is None else unit_id_of(ready_engine(database), unit, compound),
            document,
            (unit_args[0], copies, unit_args[2]),
            weeks,
            samples,
            options,
            as_json,
            plot,
        )
        return
    with simulation_progress(as_json, "simulating") as progress:
        options["progress"] = progress
        unit_id = None
        if unit is not None:
            engine = ready_engine(database)
            unit_id = unit_id_of(engine, unit, compound)
        result = simulate_unit(
            file, unit_id, document, scenario_file, unit_args, weeks, database, options
        )
    if params is not None or unit is not None:
        result["param_set"] = used_set
    if as_json:
        print_json(result)
    else:
        print_unit_simulation(result)
    if plot is not None:
        from colift.sim.plots import plot_comparison

        plot_comparison(result["strategies"], plot)
        if not as_json:
            out.print(f"wrote {plot}", markup=False)


def read_toml(path: Path) -> dict[str, Any]:
    from colift.datafiles import read_toml as read_data

    return read_data(path, "simulation file")


def simulate_unit(
    file: Path | None,
    unit: int | None,
    document: dict[str, Any] | None,
    scenario_file: Path | None,
    args: tuple[list[str], int, int],
    weeks: int | None,
    database: str | None,
    options: dict[str, Any],
) -> dict[str, Any]:
    """A unit file, a stored unit or a unit-scenario document, simulated per strategy."""
    from colift.services import simulation as sim

    if document is not None:
        if scenario_file is not None:
            raise BadInput("a scenario .toml is the FILE itself; --scenario goes with a unit file")
        assert file is not None
        return sim.simulate_document(document, file.parent, *args, weeks=weeks, **options)
    scenario = None
    if scenario_file is not None:
        scenario = sim.scenario_of_document(read_toml(scenario_file))
    if file is not None:
        if file.suffix.lower() != ".json":
            raise BadInput(
                "{name}: give a unit file (.json) or a scenario or city (.toml)", name=file.name
            )
        return sim.simulate_unit_file(read_json(file), scenario, *args, weeks=weeks, **options)
    assert unit is not None
    engine = ready_engine(database)
    return sim.simulate_stored_unit(engine, unit, scenario, *args, weeks=weeks, **options)


def simulate_city(
    file: Path,
    seed: int | None,
    weeks: int | None,
    as_json: bool,
    plot: Path | None,
    options: dict[str, Any],
) -> None:
    from colift.sim.city import load_city, run_city

    city = load_city(file)
    if seed is not None:
        city = city.replace(seed=seed)
    if weeks is not None:
        city = city.replace(weeks=weeks)
    with simulation_progress(as_json, "simulating the city (weeks × chunks)") as progress:
        result = run_city(city, progress, **options)
    summary = result.summary()
    if as_json:
        print_json(summary)
    else:
        print_city_simulation(summary)
    if plot is not None:
        from colift.sim.plots import plot_city

        plot_city(summary, plot)
        if not as_json:
            out.print(f"wrote {plot}", markup=False)


@contextlib.contextmanager
def simulation_progress(
    quiet: bool, description: str
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr, so stdout holds only the report; none with --json or no terminal."""
    if quiet or not err.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], top: float, width: int = 27) -> str:
    """Values from 0 to `top` as block characters, `width` evenly spaced samples."""
    if not values:
        return ""
    step = max(1, -(-(len(values) - 1) // (width - 1)))
    picks = values[::step]
    return "".join(SPARK[min(len(SPARK) - 1, int(v / top * (len(SPARK) - 1) + 0.5))] for v in picks)


def _quartile_text(q: dict[str, Any]) -> str:
    if q.get("median") is None:
        return "—"
    return f"{q['median']:.0f} ({q['q1']:.0f}–{q['q3']:.0f})"


def print_unit_simulation(result: dict[str, Any]) -> None:
    sc = result["scenario"]
    out.print(
        f"[bold]{result['unit']}[/] · {result['households']} households · "
        f"{result['runs']} runs × {result['weeks']} weeks · seed {result['seed']}",
        highlight=False,
    )
    out.print(
        f"rule {sc['consent_profile']} · subsidy {sc['subsidy_profile'] or 'none'} · "
        f"cost ¥{yuan(sc['total_cost_fen'])} · compensation ¥{yuan(sc['compensation_fen'])} "
        "per 1F flat",
        markup=False,
        highlight=False,
    )
    if "param_set" in result:
        from colift.services.calibration import provenance_line

        out.print(provenance_line(result["param_set"]), markup=False, soft_wrap=True)
    strategies: dict[str, Any] = result["strategies"]
    table = Table(
        "strategy 策略",
        "P(service) 成功率",
        "95% CI",
        "weeks to consent 同意",
        "weeks to service 投用",
        "failed 失败",
        "still open 进行中",
        title="weeks: median (quartiles), over the runs that got there",
    )
    for name, s in strategies.items():
        lo, hi = s["success_ci95"]
        table.add_row(
            name,
            f"{s['success_rate']:.1%}",
            f"{lo:.1%}–{hi:.1%}",
            _quartile_text(s["weeks_to_consent"]),
            _quartile_text(s["weeks_to_service"]),
            str(s["failed"]),
            str(s["running"]),
        )
    out.print(table)
    causes = list(next(iter(strategies.values()))["failure_causes"]) if strategies else []
    mix = Table("strategy", *causes, title="failure causes 失败原因 (runs)")
    for name, s in strategies.items():
        mix.add_row(name, *(str(s["failure_causes"][c]) for c in causes))
    out.print(mix)
    weeks = result["weeks"]
    marks = list(range(0, weeks + 1, 13))
    coop = Table(
        "strategy",
        "0 → 4",
        *(f"w{w}" for w in marks),
        title="mean cooperation level 合作水平 (0–4)",
    )
    for name, s in strategies.items():
        series = [float(v) for v in s["mean_cooperation"]]
        coop.add_row(
            name,
            sparkline(series, 4.0),
            *(f"{series[w]:.1f}" if w < len(series) else "" for w in marks),
        )
    out.print(coop)


def print_city_simulation(s: dict[str, Any]) -> None:
    levers = s["levers"]
    out.print(
        f"[bold]{s['city']}[/] · {s['households']:,} households · {s['units']:,} units · "
        f"{s['compounds']:,} compounds · {s['weeks']} weeks · seed {s['seed']}",
        highlight=False,
    )
    lo, hi = levers["approval_weeks"]
    out.print(
        f"levers: subsidy {levers['subsidy_profile'] or 'none'} · compensation "
        f"¥{yuan(levers['compensation_fen'])} per 1F flat · approval {lo}–{hi} weeks · "
        f"guidance {levers['guidance_share']:.0%} of compounds · "
        f"{levers['start_share_per_year']:.1%} of units start a project each year",
        markup=False,
        highlight=False,
    )
    years = Table(
        "year 年", "lifts installed 加装", "government cost 政府补贴 ¥", title="installations"
    )
    for y, (n, fen) in enumerate(
        zip(s["installations_per_year"], s["government_cost_per_year_fen"], strict=True), start=1
    ):
        years.add_row(str(y), f"{n:,}", yuan(fen))
    years.add_row("total", f"{s['installed']:,}", yuan(s["government_cost_fen"]))
    out.print(years)
    out.print(
        f"{s['started']:,} units started a project; {s['installed']:,} in service "
        f"({s['success_rate']:.1%} of started, {s['installed_share_of_units']:.1%} of all units); "
        f"weeks to service {_quartile_text(s['weeks_to_service'])}; subsidy per lift "
        f"¥{yuan(s['government_cost_per_lift_fen'])}; residents paid ¥{yuan(s['residents_fen'])}",
        markup=False,
        highlight=False,
    )
    groups = list(s["by_guidance"])
    types = Table(
        "compound type 类型",
        "units",
        "started",
        "installed",
        "success (95% CI)",
        *groups,
        title="by compound type and guidance",
    )

    def rate(g: dict[str, Any]) -> str:
        lo, hi = g["success_ci95"]
        return f"{g['success_rate']:.0%} ({lo:.0%}–{hi:.0%})" if g["started"] else "—"

    for tid, t in s["by_type"].items():
        types.add_row(
            f"{tid} {t['name_zh']}",
            f"{t['units']:,}",
            f"{t['started']:,}",
            f"{t['installed']:,}",
            rate(t),
            *(rate(t["by_guidance"][g]) for g in groups),
        )
    types.add_row(
        "all",
        f"{s['units']:,}",
        f"{s['started']:,}",
        f"{s['installed']:,}",
        "",
        *(rate(s["by_guidance"][g]) for g in groups),
    )
    out.print(types)
    stalls = s["stalls"]
    failed = ", ".join(f"{k} {v:,}" for k, v in stalls["failed"].items() if v) or "none"
    running = ", ".join(f"{k} {v:,}" for k, v in stalls["running"].items() if v) or "none"
    out.print(f"stalls 卡点: not started {stalls['not_started']:,}", markup=False, highlight=False)
    out.print(f"  failed: {failed}", markup=False, highlight=False)
    out.print(f"  still open at the end, by phase: {running}", markup=False, highlight=False)


def yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100:,}.{fen % 100:02d}"


# ---------------------------------------------------------------- the record
# `ledger verify|head|export`, `round open|close|void|list`, `erase`, `backup`, `restore`
from colift.cli_ledger import register as register_record  # noqa: E402

register_record(app)
from colift.cli_calibrate import register as register_calibrate  # noqa: E402

register_calibrate(app)

# `regeneration add|show`: community regeneration after a lift runs
from colift.cli_regeneration import register as register_regeneration  # noqa: E402

register_regeneration(app)
from colift.cli_summary import register as register_summary  # noqa: E402

register_summary(app)
from colift.cli_accounts import register as register_accounts  # noqa: E402

register_accounts(account_app, token_app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
