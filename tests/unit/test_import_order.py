"""Every adapter module imports on its own, first, in a fresh interpreter: the command line
imports `web.render` without the app (printing a ledger export), and a module-level import of a
page router from the app module once made that a circular import."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import colift.api
import colift.http
import colift.web

MODULES = sorted(
    [
        f"{package.__name__}.{info.name}"
        for package in (colift.api, colift.http, colift.web)
        for info in pkgutil.iter_modules(package.__path__)
    ]
    + ["colift.app", "colift.serving"]
)


@pytest.mark.parametrize("module", MODULES)
def test_the_module_imports_first(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
