"""`colift backup` and `colift restore`: online, consistent, on both databases and across them.

A backup taken while votes go in is one consistent moment: its own ledger verifies against its
own tables (a torn copy would not). Restored into an empty SQLite file or PostgreSQL database,
it verifies again and holds exactly the backup's rows.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from colift.cli import app
from colift.errors import BadInput, RuleViolation
from colift.model import Vote
from colift.services.backup import backup_database, restore_database
from colift.services.consent import cast_vote, unit_by_label
from colift.services.ledger import verify_ledger
from colift.store import make_engine
from colift.store.tables import ledger, metadata
from conftest import PostgresServer
from demo_db import BACKENDS, DemoCopies, demo_copies

ACTOR = "居委会"


@pytest.fixture(scope="module", params=BACKENDS)
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoCopies]:
    with demo_copies(request, tmp_path_factory, str(request.param)) as copies:
        yield copies


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in metadata.sorted_tables
        }


def fresh_target(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Engine:
    if kind == "sqlite":
        return make_engine(f"sqlite:///{tmp_path / 'restored.db'}")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create()
    request.addfinalizer(lambda: server.drop(name))
    return make_engine(server.url(name))


@pytest.mark.parametrize("target", BACKENDS)
def test_a_backup_taken_while_votes_go_in_restores_and_verifies(
    demo: DemoCopies, target: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = demo.make_copy()
    unit = unit_by_label(source, demo.code, "2-1")
    stop = threading.Event()
    errors: list[BaseException] = []
    votes = 0

    def vote() -> None:
        nonlocal votes
        flats = ["101", "102", "201", "202", "301", "302"]
        try:
            while not stop.is_set():
                for room in flats:
                    choice = Vote.AGREE if votes % 2 else Vote.DISAGREE
                    cast_vote(source, unit.id, room, choice, actor=ACTOR)
                    votes += 1
        except RuleViolation:
            pass
        except BaseException as exc:
            errors.append(exc)

    writer = threading.Thread(target=vote)
    writer.start()
    try:
        file = tmp_path / "backup.db"
        report = backup_database(source, file)
    finally:
        stop.set()
        writer.join()
    assert errors == [] and votes > 0
    assert report.ledger.ok, report.ledger.message  # one moment: ledger and tables agree
    assert file.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(file) as raw:  # one self-contained SQLite file
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        in_file = raw.execute("SELECT count(*) FROM ledger").fetchone()[0]
    restored_into = fresh_target(target, tmp_path, request)
    try:
        restored = restore_database(restored_into, file)
        assert restored.ledger.ok, restored.ledger.message
        assert restored.ledger.count == report.ledger.count
        assert counts(restored_into)["ledger"] == in_file
        assert verify_ledger(restored_into).ok
        # The restored database goes on: a new vote lands after the restored record.
        cast_vote(restored_into, unit.id, "401", Vote.AGREE, actor=ACTOR)
        assert verify_ledger(restored_into).ok
        with pytest.raises(BadInput, match="already holds data"):
            restore_database(restored_into, file)
        again = restore_database(restored_into, file, replace=True)
        assert again.ledger.ok and counts(restored_into)["ledger"] == in_file
    finally:
        restored_into.dispose()


def test_restore_refuses_what_is_no_backup(tmp_path: Path) -> None:
    target = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    try:
        with pytest.raises(BadInput, match="backup file not found"):
            restore_database(target, tmp_path / "missing.db")
        text = tmp_path / "notes.txt"
        text.write_text("not a database")
        with pytest.raises(BadInput, match="not a colift backup"):
            restore_database(target, text)
        newer = tmp_path / "newer.db"
        with sqlite3.connect(newer) as raw:
            raw.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            raw.execute("INSERT INTO alembic_version VALUES ('9999')")
        with pytest.raises(BadInput, match="made by a newer colift"):
            restore_database(target, newer)
    finally:
        target.dispose()


def test_backup_and_restore_on_the_command_line(demo: DemoCopies, tmp_path: Path) -> None:
    if demo.backend != "sqlite":
        pytest.skip("the command is the same on both databases")
    source = demo.make_copy()
    url = source.url.render_as_string(hide_password=False)
    file = tmp_path / "colift-backup.db"
    runner = CliRunner()
    made = runner.invoke(app, ["backup", str(file), "-d", url])
    assert made.exit_code == 0, made.output
    assert "backup written" in made.stdout and "ledger of the copy intact" in made.stdout
    twice = runner.invoke(app, ["backup", str(file), "-d", url])
    assert twice.exit_code == 2 and "already exists" in twice.stderr
    target = f"sqlite:///{tmp_path / 'new.db'}"
    restored = runner.invoke(app, ["restore", str(file), "-d", target])
    assert restored.exit_code == 0, restored.output
    assert "restored" in restored.stdout
    refused = runner.invoke(app, ["restore", str(file), "-d", target])
    assert refused.exit_code == 2 and "--replace" in refused.stderr
    engine = make_engine(target)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ledger)).scalar_one() > 1000
    finally:
        engine.dispose()
