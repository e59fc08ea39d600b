"""Reading the data files users write (profiles, catalogues, scenarios): one way to refuse a typo."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from colift.errors import BadInput


def reject_unknown(raw: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """A field nobody reads is a typo that would silently change nothing: refuse it by name."""
    known = set(allowed)
    unknown = sorted(str(k) for k in raw if k not in known)
    if unknown:
        raise BadInput(
            f"{where}: unknown field{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(u) for u in unknown)}; "
            f"known fields are {', '.join(sorted(known))}"
        )


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict; an unreadable or malformed file is a BadInput naming it."""
    try:
        with Path(path).open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise BadInput(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{what} {Path(path).name}: not valid TOML ({exc})") from None
