"""The codebook: the path model (docs/path-model.md) as a hierarchical grounded-theory codebook.

The default codebook is data, `codebook.toml` beside this module: one core category
(`coproduction.path`), axial categories (heterogeneity, guidance, leadership, tools,
cooperation, outcome, analytic) and open codes under them. The governance-tool codes are
`tool.<tool id>`, one for each tool of `coproduction/tools.toml`.

A `Codebook` is immutable. Editing operations (`merge`, `split`, `move`, `rename`) are pure
functions that return a new codebook together with a `CodebookEdit` record: what changed, and
how codings of the old ids map to the new ones, for the caller to store as history.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cache
from importlib.resources import files
from pathlib import Path
from types import MappingProxyType
from typing import Any

from colift.datafiles import parse_toml, read_toml, reject_unknown
from colift.errors import BadInput, NotFound
from colift.evidence.model import Code, CodeLevel

CODEBOOK_FILE = "codebook.toml"
CORE_ID = "coproduction.path"
TOOL_PREFIX = "tool."
CONTRADICTS = "analytic.contradicts"
FAILURE = "outcome.failure"

# Cooperation level (path-model.md §6) of each cooperation code.
COOPERATION_LEVELS: Mapping[str, int] = MappingProxyType(
    {
        "cooperation.none": 0,
        "cooperation.informed": 1,
        "cooperation.consulted": 2,
        "cooperation.collaborating": 3,
        "cooperation.coproducing": 4,
    }
)

_CODE_FIELDS = (
    "id",
    "name",
    "name_en",
    "parent",
    "level",
    "definition",
    "include",
    "exclude",
    "examples",
    "triggers",
    "color",
)
_FILE_FIELDS = ("name", "version", "code")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


class Codebook:
    """Codes by id, in the order given (parents need not come first); validated on creation.

    Refused with `BadInput`: an empty or blank id, a duplicate id, a parent that is not in the
    codebook, a cycle of parents.
    """

    def __init__(self, codes: Iterable[Code], *, name: str = "", version: str = "") -> None:
        by_id: dict[str, Code] = {}
        for code in codes:
            if not code.id or code.id != code.id.strip() or any(c.isspace() for c in code.id):
                raise BadInput("code id {id} is empty or contains white space", id=repr(code.id))
            if code.id in by_id:
                raise BadInput("code {id} is listed twice in the codebook", id=repr(code.id))
            by_id[code.id] = code
        for code in by_id.values():
            if code.parent is not None and code.parent not in by_id:
                raise BadInput(
                    "code {id} names parent {parent}, which is not in the codebook",
                    id=repr(code.id),
                    parent=repr(code.parent),
                )
        _refuse_cycles(by_id)
        self.name = name
        self.version = version
        self._codes = by_id
        self.codes: Mapping[str, Code] = MappingProxyType(by_id)
        children: dict[str | None, list[str]] = {}
        for code in by_id.values():
            children.setdefault(code.parent, []).append(code.id)
        self._children = {k: tuple(v) for k, v in children.items()}

    # -- reading

    def __len__(self) -> int:
        return len(self._codes)

    def __iter__(self) -> Iterator[Code]:
        return iter(self._codes.values())

    def __contains__(self, code_id: object) -> bool:
        return code_id in self._codes

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Codebook):
            return NotImplemented
        return list(self) == list(other) and (self.name, self.version) == (
            other.name,
            other.version,
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Codebook({self.name or 'unnamed'!r}, {len(self)} codes)"

    def ids(self) -> list[str]:
        return list(self._codes)

    def get(self, code_id: str) -> Code:
        """The code with this id; an unknown id is a `NotFound` naming the nearest ids."""
        code = self._codes.get(code_id)
        if code is not None:
            return code
        raise NotFound(
            "no code {code_id} in the codebook: {near}",
            code_id=repr(code_id),
            near=self._near(code_id),
        )

    def roots(self) -> tuple[Code, ...]:
        """Codes without a parent (the core category in the default codebook)."""
        return tuple(self._codes[i] for i in self._children.get(None, ()))

    def children(self, code_id: str) -> tuple[Code, ...]:
        self.get(code_id)
        return tuple(self._codes[i] for i in self._children.get(code_id, ()))

    def descendants(self, code_id: str) -> tuple[Code, ...]:
        """Every code below `code_id`, depth first, in the codebook's order."""
        out: list[Code] = []
        for child in self.children(code_id):
            out.append(child)
            out.extend(self.descendants(child.id))
        return tuple(out)

    def ancestors(self, code_id: str) -> tuple[Code, ...]:
        """Parent first, then its parent, up to the root."""
        out: list[Code] = []
        parent = self.get(code_id).parent
        while parent is not None:
            code = self._codes[parent]
            out.append(code)
            parent = code.parent
        return tuple(out)

    def depth(self, code_id: str) -> int:
        return len(self.ancestors(code_id))

    def walk(self) -> Iterator[Code]:
        """Every code, each root followed by its subtree (depth first)."""
        for root in self.roots():
            yield root
            yield from self.descendants(root.id)

    def is_under(self, code_id: str, ancestor_id: str) -> bool:
        """True when `code_id` is `ancestor_id` or lies below it."""
        return code_id == ancestor_id or any(a.id == ancestor_id for a in self.ancestors(code_id))

    def tool_codes(self) -> tuple[Code, ...]:
        return tuple(c for c in self if c.id.startswith(TOOL_PREFIX))

    def triggers(self) -> dict[str, tuple[str, ...]]:
        """Code id -> its trigger words, for codes that have any."""
        return {c.id: c.triggers for c in self if c.triggers}

    def _near(self, code_id: str) -> str:
        import difflib

        key = code_id.strip().lower()
        by_name = [c.id for c in self if key and (key in c.name or key == c.name_en.lower())]
        close = difflib.get_close_matches(key, self.ids(), n=3, cutoff=0.6)
        near = list(dict.fromkeys([*by_name, *close]))[:3]
        if near:
            return "did you mean " + ", ".join(near) + "?"
        return f"the codebook has {len(self)} codes, e.g. " + ", ".join(self.ids()[:5])


def _refuse_cycles(by_id: Mapping[str, Code]) -> None:
    done: set[str] = set()
    for start in by_id:
        path: list[str] = []
        on_path: set[str] = set()
        node: str | None = start
        while node is not None and node not in done:
            if node in on_path:
                loop = [*path[path.index(node) :], node]
                raise BadInput("codes form a cycle of parents: " + " -> ".join(loop))
            path.append(node)
            on_path.add(node)
            node = by_id[node].parent
        done.update(path)


# ---------------------------------------------------------------- loading and saving


def default_codebook() -> Codebook:
    """The packaged codebook: the path model of the study (one shared, immutable object)."""
    return _packaged()


@cache
def _packaged() -> Codebook:
    text = (files("colift.evidence") / CODEBOOK_FILE).read_text(encoding="utf-8")
    return parse_codebook(text, origin=CODEBOOK_FILE)


def load_codebook(path: Path | str) -> Codebook:
    """A codebook from a TOML file in the shape of the packaged `codebook.toml`."""
    raw = read_toml(Path(path), "codebook")
    return codebook_from_dict(raw, origin=Path(path).name)


def parse_codebook(text: str, origin: str = "codebook") -> Codebook:
    """A codebook from TOML text."""
    return codebook_from_dict(parse_toml(text, origin, "codebook"), origin=origin)


def codebook_from_dict(raw: Mapping[str, Any], origin: str = "codebook") -> Codebook:
    """A codebook from the parsed TOML (or the same shape in JSON)."""
    reject_unknown(raw, _FILE_FIELDS, origin)
    entries = raw.get("code", [])
    if not isinstance(entries, list) or not entries:
        raise BadInput("{origin}: the codebook lists no [[code]]", origin=origin)
    codes = [_parse_code(entry, origin, i + 1) for i, entry in enumerate(entries)]
    return Codebook(codes, name=str(raw.get("name", "")), version=str(raw.get("version", "")))


def _parse_code(entry: object, origin: str, index: int) -> Code:
    if not isinstance(entry, Mapping):
        raise BadInput(
            "{origin}: [[code]] number {index} is not a table", origin=origin, index=index
        )
    where = f"{origin}: code {entry.get('id', f'number {index}')!r}"
    reject_unknown(entry, _CODE_FIELDS, where)
    for key in ("id", "name"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise BadInput("{where}: '{key}' must be a non-empty string", where=where, key=key)
    texts: dict[str, str] = {}
    for key in ("name_en", "definition", "include", "exclude"):
        value = entry.get(key, "")
        if not isinstance(value, str):
            raise BadInput("{where}: '{key}' must be a string", where=where, key=key)
        texts[key] = value
    parent = entry.get("parent")
    if parent is not None and (not isinstance(parent, str) or not parent.strip()):
        raise BadInput("{where}: 'parent' must be the id of another code", where=where)
    level_raw = entry.get("level", CodeLevel.OPEN.value)
    try:
        level = CodeLevel(level_raw)
    except ValueError:
        known = ", ".join(lv.value for lv in CodeLevel)
        raise BadInput(
            "{where}: unknown level {level_raw}: use one of {known}",
            where=where,
            level_raw=repr(level_raw),
            known=known,
        ) from None
    color = entry.get("color", "#888888")
    if not isinstance(color, str) or not _COLOR.match(color):
        raise BadInput(
            "{where}: 'color' must look like #RRGGBB, got {color}", where=where, color=repr(color)
        )
    return Code(
        id=entry["id"],
        name=entry["name"],
        name_en=texts["name_en"],
        parent=parent,
        level=level,
        definition=texts["definition"],
        include=texts["include"],
        exclude=texts["exclude"],
        examples=_strings(entry, "examples", where),
        triggers=_strings(entry, "triggers", where),
        color=color.upper(),
    )


def _strings(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise BadInput("{where}: '{key}' must be a list of non-empty strings", where=where, key=key)
    return tuple(value)


def codebook_to_dict(codebook: Codebook) -> dict[str, Any]:
    """The codebook as plain data, in the shape `codebook_from_dict` reads."""
    codes: list[dict[str, Any]] = []
    for c in codebook:
        row: dict[str, Any] = {"id": c.id, "name": c.name, "name_en": c.name_en}
        if c.parent is not None:
            row["parent"] = c.parent
        row["level"] = c.level.value
        for key in ("definition", "include", "exclude"):
            if getattr(c, key):
                row[key] = getattr(c, key)
        if c.examples:
            row["examples"] = list(c.examples)
        if c.triggers:
            row["triggers"] = list(c.triggers)
        row["color"] = c.color
        codes.append(row)
    return {"name": codebook.name, "version": codebook.version, "code": codes}


def codebook_to_toml(codebook: Codebook) -> str:
    """TOML text that `parse_codebook` reads back into an equal codebook."""
    data = codebook_to_dict(codebook)
    lines = [f"name = {_q(data['name'])}", f"version = {_q(data['version'])}"]
    for row in data["code"]:
        lines += ["", "[[code]]"]
        for key, value in row.items():
            if isinstance(value, list):
                lines.append(f"{key} = [" + ", ".join(_q(v) for v in value) + "]")
            else:
                lines.append(f"{key} = {_q(value)}")
    return "\n".join(lines) + "\n"


def _q(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes), kept readable for Chinese.
    return json.dumps(text, ensure_ascii=False)


# ---------------------------------------------------------------- editing


class EditOp(StrEnum):
    MERGE = "merge"
    SPLIT = "split"
    MOVE = "move"
    RENAME = "rename"


@dataclass(frozen=True)
class CodebookEdit:
    """One codebook edit, for the history.

    `remap` says which code ids were replaced by which: codings of a key now belong to its
    value (merge, renamed id). `recode` lists ids whose codings need a person to re-assign
    them (a split code that was removed).
    """

    op: EditOp
    code: str
    into: tuple[str, ...] = ()
    before: Mapping[str, str] = field(default_factory=dict)
    after: Mapping[str, str] = field(default_factory=dict)
    remap: Mapping[str, str] = field(default_factory=dict)
    recode: tuple[str, ...] = ()
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "op": self.op.value,
            "code": self.code,
            "into": list(self.into),
            "before": dict(self.before),
            "after": dict(self.after),
            "remap": dict(self.remap),
            "recode": list(self.recode),
            "note": self.note,
        }


def _rebuilt(codebook: Codebook, codes: Iterable[Code]) -> Codebook:
    return Codebook(codes, name=codebook.name, version=codebook.version)


def merge(
    codebook: Codebook, source: str, target: str, *, note: str = ""
) -> tuple[Codebook, CodebookEdit]:
    """Merge code `source` into `target`: `source` disappears, its codings belong to `target`.

    `target` gains `source`'s examples and triggers (without duplicates); `source`'s children
    move under `target` (were `target` one of them, it takes `source`'s parent).
    """
    a = codebook.get(source)
    b = codebook.get(target)
    if a.id == b.id:
        raise BadInput("cannot merge code {source} into itself", source=repr(source))
    merged_b = replace(
        b,
        examples=tuple(dict.fromkeys([*b.examples, *a.examples])),
        triggers=tuple(dict.fromkeys([*b.triggers, *a.triggers])),
        parent=a.parent if b.parent == a.id else b.parent,
    )
    out: list[Code] = []
    for code in codebook:
        if code.id == a.id:
            continue
        if code.id == b.id:
            out.append(merged_b)
        elif code.parent == a.id:
            out.append(replace(code, parent=b.id))
        else:
            out.append(code)
    edit = CodebookEdit(
        op=EditOp.MERGE,
        code=a.id,
        into=(b.id,),
        before={"parent": a.parent or "", "name": a.name},
        after={"merged_into": b.id},
        remap={a.id: b.id},
        note=note or f"merged {a.id} ({a.name}) into {b.id} ({b.name})",
    )
    return _rebuilt(codebook, out), edit


def split(
    codebook: Codebook,
    code_id: str,
    into: Sequence[Code],
    *,
    keep: bool = False,
    note: str = "",
) -> tuple[Codebook, CodebookEdit]:
    """Split `code_id` into the new codes `into`.

    A new code without a parent goes under the split code when it is kept (`keep=True`, the
    new codes become its sub-codes), else under the split code's parent. When the split code is
    removed its children move under the first new code, and its codings are listed in
    `recode`: only a person can tell which new code each belongs to.
    """
    old = codebook.get(code_id)
    if not into:
        raise BadInput("splitting {code_id} needs at least one new code", code_id=repr(code_id))
    new_ids = [c.id for c in into]
    for new_id in new_ids:
        if new_id in codebook and not (new_id == code_id and not keep):
            raise BadInput(
                "cannot split {code_id} into {new_id}: that id is already taken",
                code_id=repr(code_id),
                new_id=repr(new_id),
            )
    if len(set(new_ids)) != len(new_ids):
        raise BadInput("splitting {code_id}: the new codes repeat an id", code_id=repr(code_id))
    default_parent = old.id if keep else old.parent
    new_codes = [c if c.parent is not None else replace(c, parent=default_parent) for c in into]
    out: list[Code] = []
    for code in codebook:
        if code.id == old.id:
            if keep:
                out.append(code)
            out.extend(new_codes)
        elif not keep and code.parent == old.id:
            out.append(replace(code, parent=new_codes[0].id))
        else:
            out.append(code)
    edit = CodebookEdit(
        op=EditOp.SPLIT,
        code=old.id,
        into=tuple(new_ids),
        before={"parent": old.parent or "", "name": old.name},
        after={"kept": "yes" if keep else "no"},
        recode=() if keep else (old.id,),
        note=note or f"split {old.id} ({old.name}) into {', '.join(new_ids)}",
    )
    return _rebuilt(codebook, out), edit


def move(
    codebook: Codebook, code_id: str, new_parent: str | None, *, note: str = ""
) -> tuple[Codebook, CodebookEdit]:
    """Move `code_id` (with its subtree) under `new_parent` (None: make it a root)."""
    code = codebook.get(code_id)
    if new_parent is not None:
        codebook.get(new_parent)
        if codebook.is_under(new_parent, code_id):
            raise BadInput(
                "cannot move {code_id} under {new_parent}: {new_parent} lies inside {code_id}'s own subtree",
                code_id=repr(code_id),
                new_parent=repr(new_parent),
            )
    out = [replace(c, parent=new_parent) if c.id == code_id else c for c in codebook]
    edit = CodebookEdit(
        op=EditOp.MOVE,
        code=code_id,
        into=(new_parent,) if new_parent else (),
        before={"parent": code.parent or ""},
        after={"parent": new_parent or ""},
        note=note or f"moved {code_id} from {code.parent or '(top)'} to {new_parent or '(top)'}",
    )
    return _rebuilt(codebook, out), edit


def rename(
    codebook: Codebook,
    code_id: str,
    *,
    name: str | None = None,
    name_en: str | None = None,
    new_id: str | None = None,
    note: str = "",
) -> tuple[Codebook, CodebookEdit]:
    """Rename a code: its Chinese or English name, and/or its id (children follow the id)."""
    code = codebook.get(code_id)
    if name is None and name_en is None and new_id is None:
        raise BadInput(
            "renaming {code_id}: give a new name, English name or id", code_id=repr(code_id)
        )
    if name is not None and not name.strip():
        raise BadInput("renaming {code_id}: the new name is empty", code_id=repr(code_id))
    target_id = new_id if new_id is not None else code_id
    if target_id != code_id and target_id in codebook:
        raise BadInput(
            "cannot rename {code_id} to {target_id}: that id is already taken",
            code_id=repr(code_id),
            target_id=repr(target_id),
        )
    renamed = replace(
        code,
        id=target_id,
        name=name if name is not None else code.name,
        name_en=name_en if name_en is not None else code.name_en,
    )
    out: list[Code] = []
    for c in codebook:
        if c.id == code_id:
            out.append(renamed)
        elif c.parent == code_id:
            out.append(replace(c, parent=target_id))
        else:
            out.append(c)
    before = {"id": code.id, "name": code.name, "name_en": code.name_en}
    after = {"id": renamed.id, "name": renamed.name, "name_en": renamed.name_en}
    edit = CodebookEdit(
        op=EditOp.RENAME,
        code=code_id,
        into=(target_id,) if target_id != code_id else (),
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
        remap={code_id: target_id} if target_id != code_id else {},
        note=note or f"renamed {code_id}",
    )
    return _rebuilt(codebook, out), edit
