"""Backup and restore, online and consistent, on SQLite and PostgreSQL.

A backup is always one SQLite file at colift's schema: the same format whatever the database,
readable with any SQLite tool, restorable into either database (docs/reliability.md).

- From SQLite: the SQLite online backup API (`sqlite3.Connection.backup`) copies the file
  page by page in one read transaction; with WAL, writers go on meanwhile and the copy is the
  database as of its start.
- From PostgreSQL: every table is read inside one `REPEATABLE READ, READ ONLY` transaction (one
  snapshot: what was committed when it began) and written into a new SQLite file created by
  the migrations. `pg_dump` would also be consistent, but needs the client tools of the
  server's version on the machine and a PostgreSQL to restore into; this needs neither.

Restoring checks the file (a SQLite database at a schema colift knows; an older one is
migrated on a copy first), refuses to overwrite a database that holds data unless told to,
copies everything in one transaction, and verifies the ledger of what it restored.
The ledger key is not in the database and not in a backup: keep it separately.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, Table, func, insert, select, text

from colift.errors import BadInput
from colift.store import LedgerReport, current_revision, head_revision, make_engine, migrate
from colift.store.engine import create_private_file
from colift.store.ledger_verify import verify
from colift.store.tables import accounts, compounds, ledger, metadata

SQLITE_MAGIC = b"SQLite format 3\x00"
BATCH = 2_000


@dataclass(frozen=True)
class BackupReport:
    path: Path
    bytes: int
    revision: str
    rows: int
    ledger: LedgerReport  # the ledger as the copy holds it


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _sqlite_connection(conn: Connection) -> sqlite3.Connection:
    raw = conn.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def backup_database(engine: Engine, path: Path) -> BackupReport:
    """Write a consistent copy of the running database to the new SQLite file `path`."""
    path = Path(path)
    if path.exists():
        raise BadInput("{path} already exists: choose a new file for the backup", path=path)
    if not path.parent.exists():
        raise BadInput("the folder {folder} does not exist", folder=path.parent)
    revision = current_revision(engine)
    if revision != head_revision():
        raise BadInput("the database is not set up or is out of date: run `colift init` first")
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        if _is_sqlite(engine):
            with engine.connect() as conn:
                create_private_file(str(partial))  # 0600 from the first byte
                target = sqlite3.connect(partial)
                try:
                    _sqlite_connection(conn).backup(target)
                finally:
                    target.close()
        else:
            _snapshot_to_sqlite(engine, partial)
        os.chmod(partial, 0o600)
        report = _check_file(partial)
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
    return BackupReport(path, path.stat().st_size, revision, report[0], report[1])


def _snapshot_to_sqlite(engine: Engine, path: Path) -> None:
    target = make_engine(f"sqlite:///{path}")
    try:
        migrate(target)
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as source,
            target.begin() as sink,
        ):
            source.exec_driver_sql("SET TRANSACTION READ ONLY")
            _copy_all(source, sink)
            source.rollback()
    finally:
        target.dispose()


def _check_file(path: Path) -> tuple[int, LedgerReport]:
    """Rows and ledger of a backup file, verified (the key checks the seals if configured)."""
    copy = make_engine(f"sqlite:///{path}")
    try:
        with copy.connect() as conn:
            rows = sum(
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            )
            report = verify(conn)
    finally:
        copy.dispose()
    raw = sqlite3.connect(path)
    try:
        raw.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        raw.close()
    return rows, report


def _batches(conn: Connection, table: Table) -> Iterator[list[dict[str, Any]]]:
    pk = list(table.primary_key.columns)
    query = select(table).order_by(*pk).execution_options(yield_per=BATCH)
    tz_columns = [c.name for c in table.columns if isinstance(c.type, DateTime) and c.type.timezone]
    with conn.execute(query) as result:
        for partition in result.partitions(BATCH):
            rows = [dict(row._mapping) for row in partition]
            for row in rows:
                for name in tz_columns:
                    value = row[name]
                    if isinstance(value, datetime):
                        # SQLite keeps naive UTC; PostgreSQL wants the zone said.
                        row[name] = (
                            value.replace(tzinfo=UTC)
                            if value.tzinfo is None
                            else value.astimezone(UTC)
                        )
            yield rows


def _copy_all(source: Connection, sink: Connection) -> int:
    count = 0
    for table in metadata.sorted_tables:  # parents before children
        for rows in _batches(source, table):
            sink.execute(insert(table), rows)
            count += len(rows)
    return count


@dataclass(frozen=True)
class RestoreReport:
    rows: int
    revision: str
    migrated_from: str | None  # the backup's schema, when it was older
    ledger: LedgerReport


def backup_revision(path: Path) -> str | None:
    """The schema revision a backup file is at; BadInput if it is no colift backup."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            magic = f.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        raise BadInput("backup file not found: {path}", path=path) from None
    except OSError as exc:
        raise BadInput("cannot read {path}: {problem}", path=path, problem=exc.strerror) from None
    if magic != SQLITE_MAGIC:
        raise BadInput("{path} is not a colift backup (not a SQLite database)", path=path)
    try:
        return current_revision(f"sqlite:///{path}")
    except Exception as exc:  # a damaged file: say so rather than fail with a traceback
        raise BadInput(
            "{path} cannot be read as a colift backup: {problem}", path=path, problem=exc
        ) from None


def _holds_data(conn: Connection) -> bool:
    return any(
        conn.execute(select(t.c[next(iter(t.primary_key.columns)).name]).limit(1)).first()
        is not None
        for t in (compounds, ledger, accounts)
    )


def restore_database(engine: Engine, path: Path, *, replace: bool = False) -> RestoreReport:
    """Replace the database's content with the backup at `path`, in one transaction."""
    path = Path(path)
    revision = backup_revision(path)
    head = head_revision()
    if revision is None:
        raise BadInput("{path} is not a colift backup (it has no schema revision)", path=path)
    if revision > head:
        raise BadInput(
            "{path} was made by a newer colift (schema {revision}; this one knows {head}): "
            "restore it with that version",
            path=path,
            revision=revision,
            head=head,
        )
    migrate(engine)
    with engine.connect() as conn:
        if _holds_data(conn) and not replace:
            raise BadInput(
                "the database already holds data: restoring would replace all of it; say "
                "--replace to do so"
            )
    with tempfile.TemporaryDirectory() as tmp:
        source_path = path
        if revision != head:
            source_path = Path(tmp) / "backup.db"
            shutil.copyfile(path, source_path)
            migrate(f"sqlite:///{source_path}")
        source = make_engine(f"sqlite:///{source_path}")
        try:
            rows = _restore_from(source, engine)
        finally:
            source.dispose()
    with engine.connect() as conn:
        report = verify(conn)
    return RestoreReport(rows, head, None if revision == head else revision, report)


def _restore_from(source: Engine, engine: Engine) -> int:
    if _is_sqlite(engine):
        with source.connect() as src, engine.connect() as dst:
            # The backup API replaces every page of the target at once, under its write lock.
            _sqlite_connection(src).backup(_sqlite_connection(dst))
            dst.rollback()
        with engine.connect() as conn:
            return sum(
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in metadata.sorted_tables
            )
    with source.connect() as src, engine.begin() as dst:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        dst.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        count = _copy_all(src, dst)
        for table in metadata.sorted_tables:
            if "id" in table.c and table.c.id.primary_key and table.c.id.autoincrement:
                dst.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence(:t, 'id'), "
                        f'COALESCE((SELECT max(id) FROM "{table.name}"), 1), '
                        f'(SELECT max(id) FROM "{table.name}") IS NOT NULL) '
                        "WHERE pg_get_serial_sequence(:t, 'id') IS NOT NULL"
                    ),
                    {"t": table.name},
                )
        return count
