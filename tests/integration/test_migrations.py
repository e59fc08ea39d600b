"""Migrations build exactly the schema of `tables.py`, on both backends, and can run again."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

from colift.store import (
    DEFAULT_URL,
    current_revision,
    database_url,
    head_revision,
    make_engine,
    migrate,
    normalize_url,
    sqlite_url,
)
from colift.store.engine import alembic_config
from colift.store.tables import metadata


def schema_diffs(engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_the_tables(engine: Engine) -> None:
    assert schema_diffs(engine) == []
    tables = set(inspect(engine).get_table_names())
    assert tables == set(metadata.tables) | {"alembic_version"}
    for name, table in metadata.tables.items():
        columns = {c["name"] for c in inspect(engine).get_columns(name)}
        assert columns == set(table.c.keys()), name


def test_migrate_twice_is_a_no_op(engine: Engine) -> None:
    assert current_revision(engine) == head_revision()
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == head_revision()
    assert schema_diffs(engine) == []


def test_migrate_by_url_from_an_empty_database(unmigrated_url: str) -> None:
    assert current_revision(unmigrated_url) is None
    migrate(unmigrated_url)
    migrate(unmigrated_url)
    assert current_revision(unmigrated_url) == head_revision()
    engine = make_engine(unmigrated_url)
    try:
        assert schema_diffs(engine) == []
    finally:
        engine.dispose()


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate(engine)
    assert schema_diffs(engine) == []


def test_foreign_keys_are_enforced(engine: Engine) -> None:
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO buildings (compound_id, number, storeys) VALUES (999, '1', 6)")
        )


def test_sqlite_engine_settings(tmp_path: Path) -> None:
    engine = make_engine(sqlite_url(tmp_path / "x.db"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_database_url_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLIFT_DATABASE_URL", raising=False)
    assert database_url() == DEFAULT_URL == "sqlite:///colift.db"
    monkeypatch.setenv("COLIFT_DATABASE_URL", "postgresql://u@db:5432/colift")
    assert database_url() == "postgresql://u@db:5432/colift"
    monkeypatch.setenv("COLIFT_DATABASE_URL", " ")
    assert database_url() == DEFAULT_URL


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg"),
        ("postgres://u@h/db", "postgresql+psycopg"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg"),
        ("sqlite:///colift.db", "sqlite"),
    ],
)
def test_postgres_urls_use_psycopg_3(url: str, driver: str) -> None:
    assert normalize_url(url).drivername == driver


def test_sqlite_url_of_a_path(tmp_path: Path) -> None:
    assert sqlite_url("data/colift.db") == "sqlite:///data/colift.db"
    assert sqlite_url(tmp_path / "a.db") == f"sqlite:///{tmp_path}/a.db"


def test_0004_marks_the_flat_carrying_each_owners_head(unmigrated_url: str) -> None:
    migrate(unmigrated_url, "0003")
    engine = make_engine(unmigrated_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO compounds (id, code, name, city, district, street, community,"
                    " consent_profile) VALUES (1, 'c', 'c', 'c', '', '', '', 'cn-civil-code-278')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO buildings (id, compound_id, number, storeys) VALUES (1, 1, '1', 6)"
                )
            )
            conn.execute(text("INSERT INTO units (id, building_id, number) VALUES (1, 1, '1')"))
            conn.execute(
                text(
                    "INSERT INTO owners (id, compound_id, name, kind, phone) VALUES"
                    " (1, 1, 'a', 'person', ''), (2, 1, 'dev', 'developer', ''), (3, 1, 'b', 'person', '')"
                )
            )
            flats = [
                (1, 1, "owner_occupied"),
                (2, 1, "rented"),
                (3, 2, "developer_unsold"),
                (4, 3, "developer_undelivered"),
                (5, 3, "owner_occupied"),
            ]
            for hid, owner, tenure in flats:
                conn.execute(
                    text(
                        "INSERT INTO households (id, unit_id, room, floor, area_cm2, area_source,"
                        " tenure, owner_id) VALUES (:id, 1, :room, 1, 500000, 'registered', :t, :o)"
                    ),
                    {"id": hid, "room": f"r{hid}", "t": tenure, "o": owner},
                )
        migrate(unmigrated_url)
        with engine.connect() as conn:
            heads = dict(conn.execute(text("SELECT id, owner_head FROM households")).all())
        # owner 1 once (flat 1), the developer once (flat 3, with flat 4), owner 3 (flat 5).
        assert heads == {1: 1, 2: 0, 3: 1, 4: 0, 5: 1}
    finally:
        engine.dispose()
