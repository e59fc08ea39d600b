"""The two faces of the app are siblings: `colift.api` (JSON) and `colift.web` (pages) import
what they share from `colift.http` and `colift.services`, never each other, and `colift.http`
imports neither. Read from the source with `ast`, imports inside functions included, so a
late import cannot hide a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "colift"
FORBIDDEN = {
    "api": ("colift.web",),
    "web": ("colift.api",),
    "http": ("colift.api", "colift.web", "colift.app"),
}


def imported(path: Path, root: Path = SRC) -> list[tuple[int, str]]:
    """Every module `path` (under the package directory `root`) imports, anywhere in it, with
    the line; relative imports resolved."""
    package = ".".join(["colift", *path.relative_to(root).parts[:-1]])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _breaks(module: str, banned: tuple[str, ...]) -> bool:
    return any(module == b or module.startswith(b + ".") for b in banned)


@pytest.mark.parametrize("face", sorted(FORBIDDEN))
def test_a_face_does_not_import_its_sibling(face: str) -> None:
    files = sorted((SRC / face).rglob("*.py"))
    assert files
    wrong = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in files
        for line, module in imported(path)
        if _breaks(module, FORBIDDEN[face])
    ]
    assert not wrong, "\n".join(wrong)


def test_the_reader_sees_a_late_and_a_relative_import(tmp_path: Path) -> None:
    """The check itself: an import inside a function, and a relative one, are both found."""
    fake = tmp_path / "colift" / "web" / "late.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from colift.api import routes\n    from ..api import auth\n")
    modules = [module for _, module in imported(fake, tmp_path / "colift")]
    assert "colift.api.routes" in modules
    assert "colift.api.auth" in modules
    assert _breaks("colift.api.auth", FORBIDDEN["web"])
