"""The demo compound seeded once per backend and module, copied for each test that changes it.

Seeding is the slow part of a demo test; a copy is a file copy on SQLite and a
`CREATE DATABASE … TEMPLATE` on PostgreSQL (a tenth of the time).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine

from colift.services.demo import seed_demo
from colift.store import make_engine
from conftest import PostgresServer, sqlite_engine


@dataclass
class DemoCopies:
    backend: str
    code: str
    _copy: object
    engines: list[Engine] = field(default_factory=list)

    def make_copy(self) -> Engine:
        engine: Engine = self._copy()  # type: ignore[operator]
        self.engines.append(engine)
        return engine


@contextmanager
def demo_copies(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, backend: str
) -> Iterator[DemoCopies]:
    made: list[str] = []
    server: PostgresServer | None = None
    if backend == "sqlite":
        root = tmp_path_factory.mktemp("demo")
        original = root / "demo.db"
        engine = sqlite_engine(original)
    else:
        server = request.getfixturevalue("postgres_server")
        assert server is not None
        name = server.create(template=server.migrated_template())
        made.append(name)
        engine = make_engine(server.url(name))
    code, _ = seed_demo(engine)
    engine.dispose()  # a template must have no connections

    def copy() -> Engine:
        if server is None:
            target = root / f"copy{len(made)}.db"
            made.append(str(target))
            shutil.copyfile(original, target)
            return make_engine(f"sqlite:///{target}")
        copy_name = server.create(template=made[0])
        made.append(copy_name)
        return make_engine(server.url(copy_name))

    copies = DemoCopies(backend, code, copy)
    try:
        yield copies
    finally:
        for e in copies.engines:
            e.dispose()
        if server is not None:
            for name in reversed(made):
                server.drop(name)
        else:
            for path in made:
                Path(path).unlink(missing_ok=True)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
