"""Reading the data files users write: one loader for every kind, one way to refuse a typo.

Consent and subsidy profiles, the tool catalogue, the codebook and simulation scenarios are
TOML files, packaged or the user's own. They are all read by `load_toml` (a path, a packaged
resource or text already in hand), which names the file in every error and returns the parsed
table with the SHA-256 of the exact bytes read, so a vote round can pin the content of the
rule it was counted under. Every reader then refuses the fields it does not know with
`reject_unknown`: a misspelt key would otherwise silently change nothing.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from colift.errors import BadInput


@dataclass(frozen=True)
class TomlText:
    """TOML already read into memory (a form field, a test), with a name for the errors."""

    text: str
    origin: str


@dataclass(frozen=True)
class DataDocument:
    """A parsed data file: its table, where it came from, and the SHA-256 of its bytes."""

    data: dict[str, Any]
    origin: str
    sha256: str


Source = Path | str | Traversable | TomlText


def load_toml(source: Source, what: str, *, exact_floats: bool = False) -> DataDocument:
    """Read and parse one TOML data file; an unreadable or malformed one is a BadInput naming it.

    `exact_floats` reads a float written in the file (0.4) as the `Decimal` of its text, for
    files whose numbers are money or legal ratios.
    """
    parse_float: Callable[[str], Any] = Decimal if exact_floats else float
    if isinstance(source, TomlText):
        raw = source.text.encode("utf-8")
        origin = source.origin
    else:
        origin = source.name if isinstance(source, Traversable | Path) else Path(source).name
        try:
            raw = (
                source.read_bytes()
                if isinstance(source, Traversable)
                else Path(source).read_bytes()
            )
        except FileNotFoundError:
            raise BadInput(
                "cannot read {what} {path}: file not found", what=what, path=str(source)
            ) from None
        except OSError as exc:
            raise BadInput(
                "cannot read {what} {path}: {reason}",
                what=what,
                path=str(source),
                reason=exc.strerror or str(exc),
            ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"), parse_float=parse_float)
    except UnicodeDecodeError:
        raise BadInput("{what} {origin}: not UTF-8 text", what=what, origin=origin) from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(
            "{what} {origin}: not valid TOML ({reason})", what=what, origin=origin, reason=str(exc)
        ) from None
    return DataDocument(data, origin, hashlib.sha256(raw).hexdigest())


def read_toml(path: Path | str, what: str) -> dict[str, Any]:
    """A TOML file's table: `load_toml` for callers that need neither origin nor hash."""
    return load_toml(Path(path), what).data


def parse_toml(text: str, origin: str, what: str = "file") -> dict[str, Any]:
    """TOML text's table, read by the same loader (errors name `origin`)."""
    return load_toml(TomlText(text, origin), what).data


def reject_unknown(raw: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """A field nobody reads is a typo that would silently change nothing: refuse it by name."""
    known = set(allowed)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        fields = ", ".join(repr(u) for u in unknown)
        names = ", ".join(sorted(known))
        if len(unknown) == 1:
            raise BadInput(
                "{where}: unknown field {fields}; known fields are {known}",
                where=where,
                fields=fields,
                known=names,
            )
        raise BadInput(
            "{where}: unknown fields {fields}; known fields are {known}",
            where=where,
            fields=fields,
            known=names,
        )
