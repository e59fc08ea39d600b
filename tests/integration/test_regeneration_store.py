"""Regeneration records through the service and the CLI, on the demo compound."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from colift.cli import app
from colift.coproduction.regeneration import RegenerationEvent, RegenerationKind
from colift.errors import BadInput
from colift.services.demo import seed_demo
from colift.services.regeneration import compound_regeneration, record_regeneration
from colift.store import make_engine, migrate, sqlite_url


def test_service_records_and_reads_the_outcome(engine: Engine) -> None:
    code, _ = seed_demo(engine)
    outcome = compound_regeneration(engine, code, date(2027, 6, 1))
    assert outcome.started, "the demo has a unit whose lift runs"
    since = outcome.lift_since
    assert since is not None
    record_regeneration(
        engine,
        code,
        RegenerationEvent(RegenerationKind.STAIRWELL_RENOVATION, since, 10, 12, "楼道粉刷"),
    )
    after = compound_regeneration(engine, code, date(2027, 6, 1))
    assert after.actions_after == outcome.actions_after + 1
    with pytest.raises(BadInput):
        record_regeneration(
            engine, code, RegenerationEvent(RegenerationKind.SHARED_FUND, since, 13, 12, "x")
        )


def test_cli_add_and_show(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "r.db")
    engine = make_engine(url)
    migrate(engine)
    code, _ = seed_demo(engine)
    engine.dispose()
    runner = CliRunner()
    db = ["--database", url]
    added = runner.invoke(
        app,
        [
            "regeneration",
            "add",
            code,
            "-k",
            "楼道改造",
            "-t",
            "楼道扶手",
            "--on",
            date.today().isoformat(),  # after the demo's lift ran; a future day is refused
            "--households",
            "8",
            "--of",
            "12",
            *db,
        ],
    )
    assert added.exit_code == 0, added.output
    assert "已记录 楼道改造：楼道扶手" in added.stdout
    shown = runner.invoke(app, ["regeneration", "show", code, "--on", "2027-06-01", *db])
    assert shown.exit_code == 0, shown.output
    assert "楼道扶手" in shown.stdout and "集体行动" in shown.stdout
    data = json.loads(
        runner.invoke(
            app, ["regeneration", "show", code, "--json", "--on", "2027-06-01", *db]
        ).stdout
    )
    assert data["actions_after"] >= 1
    bad = runner.invoke(app, ["regeneration", "add", code, "-k", "party", "-t", "x", *db])
    assert bad.exit_code == 2 and "stairwell_renovation" in bad.stderr


def test_many_compounds_read_at_once_give_what_each_gives_alone(engine: Engine) -> None:
    """The street page reads every compound's outcome in three queries; each must equal the
    outcome read for that compound alone (events, a running lift, or neither), in order."""
    from colift.errors import NotFound
    from colift.services.regeneration import compounds_regeneration
    from colift.store import UnitOfWork
    from factories import make_compound

    code, _ = seed_demo(engine)
    day = date(2027, 6, 1)
    since = compound_regeneration(engine, code, day).lift_since
    assert since is not None
    record_regeneration(
        engine,
        code,
        RegenerationEvent(RegenerationKind.STAIRWELL_RENOVATION, since, 10, 12, "楼道粉刷"),
    )
    with UnitOfWork(engine) as uow:
        make_compound(uow, "empty1")
        uow.commit()
    codes = ["empty1", code]
    assert compounds_regeneration(engine, codes, day) == [
        compound_regeneration(engine, c, day) for c in codes
    ]
    with pytest.raises(NotFound):
        compounds_regeneration(engine, [code, "nosuch"], day)
