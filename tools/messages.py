"""Every user-facing string the code and the templates can show, found without running them.

- Templates: `{% trans %}` / `_()` strings in `src/colift/web/templates`, through Babel.
- Python: the first argument of `msg(...)`, `Message(...)` and of every `ColiftError` class
  (`BadInput(...)`, `RuleViolation(...)`, and their subclasses, found by reading the classes).
  A plain string is a catalog id; an f-string cannot be translated and is reported as such.

Used by `tools/zh_cn.py` (which writes the catalog) and by the test that refuses untranslated
messages.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from babel.messages.extract import extract_from_dir

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "colift"
LOCALE = SRC / "locale"
PO = LOCALE / "zh_CN" / "LC_MESSAGES" / "messages.po"
POT = LOCALE / "messages.pot"
LEGACY = ROOT / "tools" / "legacy_messages.txt"

_BASE_ERRORS = {"ColiftError"}
_MESSAGE_CALLS = {"msg", "Message"}


@dataclass(frozen=True)
class Found:
    text: str  # the template, or the f-string's source for an f-string
    translatable: bool  # False for an f-string
    path: str  # relative to the repository
    line: int


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _trees(src: Path) -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in sorted(src.rglob("*.py"))]


def error_classes(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """`ColiftError` and every class that derives from it, by name, to a fixpoint."""
    known = set(_BASE_ERRORS)
    changed = True
    while changed:
        changed = False
        for _, tree in trees:
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.ClassDef)
                    and node.name not in known
                    and any(_name(b) in known for b in node.bases)
                ):
                    known.add(node.name)
                    changed = True
    return known


def python_messages(src: Path = SRC) -> list[Found]:
    trees = _trees(src)
    callers = error_classes(trees) | _MESSAGE_CALLS
    found: list[Found] = []
    for path, tree in trees:
        source = path.read_text(encoding="utf-8")
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args and _name(node.func) in callers):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(Found(first.value, True, rel, node.lineno))
            elif isinstance(first, ast.JoinedStr):
                text = ast.get_source_segment(source, first) or ""
                found.append(Found(text, False, rel, node.lineno))
    return found


def template_messages(web: Path = SRC / "web") -> list[Found]:
    method_map = [("**/templates/**.html", "jinja2")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    found = []
    for filename, lineno, message, _, _ in extract_from_dir(
        str(web), method_map, options_map=options
    ):
        text = message if isinstance(message, str) else message[0]
        found.append(Found(str(text), True, str((web / filename).relative_to(ROOT)), lineno))
    return found


def legacy() -> set[str]:
    """Messages written before the catalog (English only, or "中文 / English" in one string).

    The list only shrinks: a message rewritten as a template leaves it, a new one never joins.
    """
    if not LEGACY.exists():
        return set()
    lines = LEGACY.read_text(encoding="utf-8").splitlines()
    return {line.replace("\\n", "\n") for line in lines if line and not line.startswith("#")}
