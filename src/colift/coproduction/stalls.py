"""How long a unit may stay in a stage before it counts as stalled: one fact, written once.

The limits live in the packaged data file `stalls.toml`, each with its source and confidence.
The street office's overview (services.views) and the advisor (through the snapshot's
`stall_limit_days`) both read them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

from colift.datafiles import Source, load_toml, reject_unknown
from colift.errors import BadInput
from colift.model.coproduction import Stage

STALLS_FILE = "stalls.toml"
CONFIDENCES = ("confirmed", "secondary", "assumption")
_KEYS = frozenset({"days", "source", "confidence"})


@dataclass(frozen=True)
class StallLimit:
    """A unit in `stage` for more than `days` days is stalled."""

    stage: Stage
    days: int
    source: str
    confidence: str


def read_stall_limits(source: Source) -> dict[Stage, StallLimit]:
    """Every stage's limit from a stalls file, each checked: days, source, confidence."""
    doc = load_toml(source, "stall limits")
    stages = {s.value: s for s in Stage}
    out: dict[Stage, StallLimit] = {}
    for key, raw in doc.data.items():
        where = f"{doc.origin}: [{key}]"
        if key not in stages:
            raise BadInput(
                "{where}: {value} is not a stage; use {known}",
                where=where,
                value=key,
                known=", ".join(stages),
            )
        if not isinstance(raw, dict):
            raise BadInput("{where} must be a table", where=where)
        reject_unknown(raw, _KEYS, where)
        days = raw.get("days")
        if not isinstance(days, int) or isinstance(days, bool) or days < 1:
            raise BadInput("{where}: days must be a whole number of days, 1 or more", where=where)
        source_text, confidence = raw.get("source"), raw.get("confidence")
        if not isinstance(source_text, str) or not source_text.strip():
            raise BadInput("{where}: {key} must be non-empty text", where=where, key="source")
        if confidence not in CONFIDENCES:
            raise BadInput(
                "{where}: confidence {value} is not one of {known}",
                where=where,
                value=str(confidence),
                known=", ".join(CONFIDENCES),
            )
        out[stages[key]] = StallLimit(stages[key], days, source_text.strip(), str(confidence))
    return out


@cache
def stall_limits() -> Mapping[Stage, StallLimit]:
    """The packaged limits."""
    return MappingProxyType(read_stall_limits(files("colift.coproduction") / STALLS_FILE))


def stall_limit_days(stage: Stage) -> int | None:
    """Days a unit may stay in `stage` before it is stalled; None: the stage never stalls."""
    limit = stall_limits().get(stage)
    return None if limit is None else limit.days


# The limits as days, for the overview's filters: read from the data file, never written here.
STALLED_AFTER_DAYS: Mapping[Stage, int] = MappingProxyType(
    {stage: limit.days for stage, limit in stall_limits().items()}
)
