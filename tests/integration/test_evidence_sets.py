"""REFI-QDA Sets survive the store: import a MAXQDA-shaped project, read it back, export it."""

from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import Engine

from colift.evidence.refiqda import import_qdpx
from colift.services.evidence import export_project_qdpx, get_project, import_project_qdpx

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from test_refiqda_foreign import SHAPES, _project


def test_sets_are_stored_and_exported_again(engine: Engine) -> None:
    extra, sets, _, _ = SHAPES["MAXQDA 24"]
    made = import_project_qdpx(engine, _project("MAXQDA 24", extra), actor="t")
    stored = get_project(engine, made.project.name)
    assert stored.sets == made.project.sets
    assert {s.name: (len(s.codes), len(s.sources)) for s in stored.sets.values()} == sets
    again = import_qdpx(export_project_qdpx(engine, made.project.name))
    assert again.project.sets == stored.sets
